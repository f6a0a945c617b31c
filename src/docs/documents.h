#pragma once
// Documents: makes documents (kinds.h) and keeps them. A document's bytes live in a file under
// the storage root named by its SHA-256 (root/ab/abcdef….pdf: identical bytes share one file,
// a name never changes meaning); its metadata is a row in `documents`. A file is written and
// made durable (written to a temporary name, synced, renamed) before its row commits, so a row
// never points at a missing or partial file.
//
// A few documents are made on the caller's thread (Generate). A batch is engine jobs
// ("documents.generate" on queue "documents"). Either way documents are made in order, their
// files synced together, and their rows inserted in one transaction; a job's rows take ids
// derived from the job id, so a job retried after a crash stores each document once. The job's
// result lists each document's id or its error; its progress counts documents made.
//
// Thread-safe.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "boost/json/value.hpp"
#include "core/clock.h"
#include "core/id.h"
#include "core/status.h"
#include "docs/kinds.h"
#include "docs/layout.h"
#include "docs/pdf.h"
#include "engine/engine.h"
#include "store/store.h"

namespace herald::docs {

inline constexpr std::string_view kDocumentsQueue = "documents";
inline constexpr std::string_view kGenerateJobType = "documents.generate";
inline constexpr size_t kMaxBatchDocuments = 10'000;

struct DocumentsOptions {
  std::filesystem::path root = "data/documents";
  // A PNG drawn by templates that name the image "logo" (empty: none).
  std::string logo_png;
  std::string default_locale = "fr";
  PdfEngineOptions pdf;
};

// What to make: a kind for an audience from data, with the built-in template or a custom one
// (a DocTemplate description).
struct DocumentRequest {
  DocumentType type = DocumentType::kTicket;
  Audience audience = Audience::kInternalStaff;
  boost::json::value data;
  std::string locale;     // empty: the default
  std::string reference;  // free grouping key ("bookings/BK-42"), searchable
  std::optional<boost::json::value> custom_template;
  bool include_logo = true;  // false: templates draw no "logo" image
};

struct DocumentRecord {
  std::string id;
  DocumentType type = DocumentType::kTicket;
  Audience audience = Audience::kInternalStaff;
  std::string filename;
  std::string content_type = "application/pdf";
  int64_t size = 0;
  std::string sha256;  // hex
  std::string reference;
  std::string job_id;  // the batch job that made it, if any
  std::string created_by;
  absl::Time created_at;
};

boost::json::object ToJson(const DocumentRecord& record);
// A request from its JSON form {"type", "target", "data", "locale", "reference", "template"};
// `defaults` supplies fields the item leaves out (a batch's shared target, locale ...).
// InvalidArgument naming the field, prefixed by `where`.
Result<DocumentRequest> ParseDocumentRequest(const boost::json::object& item,
                                             const boost::json::object& defaults,
                                             std::string_view where);

class Documents {
 public:
  static Status Migrate(store::Store& store);
  // Registers the batch job handler with `engine` (before it starts).
  static Result<std::unique_ptr<Documents>> Create(store::Store& store, engine::Engine& engine,
                                                   const core::Clock& clock,
                                                   DocumentsOptions options);
  ~Documents();

  // Checks a request without making anything: what Generate and EnqueueBatch would refuse.
  Status Validate(const DocumentRequest& request) const;

  // Makes and stores documents at once, all or none: the first that cannot be made is
  // returned (prefixed "documents[i]." when there are several) and nothing is stored.
  Result<std::vector<DocumentRecord>> Generate(std::span<const DocumentRequest> requests,
                                               std::string_view created_by);
  // Makes each request and keeps those that could be made, under the caller's ids (one per
  // request) and job id. An id already kept is not made again: its stored record is returned,
  // so a retry gets the same documents. Per request: its record, or why it could not be made.
  // Failing to store them fails the whole call.
  Result<std::vector<Result<DocumentRecord>>> GenerateEach(
      std::span<const DocumentRequest> requests, std::span<const std::string> ids,
      std::string_view created_by, std::string_view job_id);
  // Checks every request, then enqueues the jobs that make them all (one per chunk of at most
  // 200 documents); returns their ids. InvalidArgument (naming the index) and nothing enqueued
  // if any request is wrong.
  Result<std::vector<std::string>> EnqueueBatch(const std::vector<DocumentRequest>& requests,
                                                std::string_view created_by, int priority = 0);

  // Makes the PDF only (no storage): for benchmarks and previews.
  Result<std::string> Render(const DocumentRequest& request) const;

  Result<DocumentRecord> Get(std::string_view id);
  // The documents with these ids, in order (nullopt: no such document), in one read.
  Result<std::vector<std::optional<DocumentRecord>>> Find(std::span<const std::string> ids);
  Result<std::string> ReadContent(const DocumentRecord& record) const;
  // Newest first; `reference` empty: all. `before_id`: the cursor of the previous page.
  Result<std::vector<DocumentRecord>> List(std::string_view reference, std::string_view before_id,
                                           int limit);

  const std::filesystem::path& root() const { return options_.root; }
  // Where a document's bytes are kept.
  std::filesystem::path FilePath(const DocumentRecord& record) const {
    return options_.root / StorageKey(record);
  }
  // The file's name within the storage root ("ab/abcdef….pdf"): what may be shown to clients,
  // which never learn the server's directories.
  static std::string StorageKey(const DocumentRecord& record);

  // The handler of documents.generate jobs (Create registers it with the engine).
  Status HandleJob(engine::JobContext& job);

 private:
  struct Made {
    DocumentRecord record;
    std::string bytes;
  };

  Documents(store::Store& store, const core::Clock& clock, DocumentsOptions options,
            std::unique_ptr<PdfEngine> pdf);
  Result<PreparedDocument> Prepare(const DocumentRequest& request) const;
  // Parses the request's own template (if any), prepares the data into `prepared`, renders.
  Result<std::string> Render(const DocumentRequest& request, PreparedDocument& prepared) const;
  Result<Made> Make(const DocumentRequest& request, std::string_view id,
                    std::string_view created_by) const;
  // Writes the files, syncs them, then inserts the rows (ignoring ids already stored).
  Status Keep(std::vector<Made*> made);

  store::Store& store_;
  const core::Clock& clock_;
  const DocumentsOptions options_;
  const ImageSet images_;
  std::unique_ptr<PdfEngine> pdf_;
  engine::Engine* engine_ = nullptr;
  core::IdGenerator ids_;
};

}  // namespace herald::docs
