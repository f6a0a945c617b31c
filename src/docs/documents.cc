#include "docs/documents.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "auth/crypto.h"
#include "boost/json.hpp"
#include "core/rfc3339.h"
#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::docs {
namespace {

namespace json = boost::json;
using engine::table::FromMicros;
using engine::table::ToMicros;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "documents", R"sql(
CREATE TABLE documents (
  id            TEXT PRIMARY KEY,
  type          TEXT NOT NULL,
  audience      TEXT NOT NULL,
  filename      TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  size          INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  reference     TEXT NOT NULL,
  job_id        TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);
CREATE INDEX documents_by_reference ON documents (reference, id);
)sql"},
};

// A batch job carries at most this much JSON; larger batches become several jobs (which the
// engine's workers then run in parallel).
constexpr size_t kMaxJobPayload = 512 * 1024;
constexpr size_t kMaxJobDocuments = 200;

constexpr char kColumns[] =
    "id, type, audience, filename, content_type, size, sha256, reference, job_id, created_by,"
    " created_at";

Result<DocumentRecord> FromRow(const store::Row& row) {
  DocumentRecord r;
  r.id = std::string(row.Text(0));
  HERALD_ASSIGN_OR_RETURN(r.type, ParseDocumentType(row.Text(1)));
  HERALD_ASSIGN_OR_RETURN(r.audience, ParseAudience(row.Text(2)));
  r.filename = std::string(row.Text(3));
  r.content_type = std::string(row.Text(4));
  r.size = row.Int(5);
  r.sha256 = std::string(row.Text(6));
  r.reference = std::string(row.Text(7));
  r.job_id = std::string(row.Text(8));
  r.created_by = std::string(row.Text(9));
  r.created_at = FromMicros(row.Int(10));
  return r;
}

// Writes `bytes` to `path` (not yet synced).
Status WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InternalError(StrCat("cannot write ", path.string(), ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return absl::InternalError(StrCat("cannot write ", path.string(), ": ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return absl::InternalError(StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// Makes every file written so far on the file system of `dir` durable: one syncfs for a whole
// batch instead of one fdatasync per file.
Status SyncFileSystem(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(StrCat("cannot open ", dir.string()));
  const bool ok = ::syncfs(fd) == 0;
  ::close(fd);
  return ok ? absl::OkStatus() : absl::InternalError(StrCat("cannot sync ", dir.string()));
}

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(StrCat("cannot open ", dir.string()));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? absl::OkStatus() : absl::InternalError(StrCat("cannot sync ", dir.string()));
}

// The request's own template, parsed, if it has one.
Result<std::optional<DocTemplate>> CustomTemplate(const DocumentRequest& request) {
  if (!request.custom_template) return std::optional<DocTemplate>();
  Result<DocTemplate> t = DocTemplate::Parse(*request.custom_template);
  if (!t.ok()) return absl::InvalidArgumentError(StrCat("template.", t.status().message()));
  return std::optional<DocTemplate>(*std::move(t));
}

json::object RequestToJson(const DocumentRequest& r) {
  json::object o;
  o["type"] = DocumentTypeName(r.type);
  o["target"] = AudienceName(r.audience);
  o["data"] = r.data;
  if (!r.locale.empty()) o["locale"] = r.locale;
  if (!r.reference.empty()) o["reference"] = r.reference;
  if (r.custom_template) o["template"] = *r.custom_template;
  return o;
}

}  // namespace

json::object ToJson(const DocumentRecord& r) {
  return json::object{{"id", r.id},
                      {"type", DocumentTypeName(r.type)},
                      {"target", AudienceName(r.audience)},
                      {"filename", r.filename},
                      {"contentType", r.content_type},
                      {"size", r.size},
                      {"sha256", r.sha256},
                      {"reference", r.reference},
                      {"jobId", r.job_id.empty() ? json::value(nullptr) : json::value(r.job_id)},
                      {"createdBy", r.created_by},
                      {"createdAt", core::FormatRfc3339(r.created_at)},
                      {"url", StrCat("/api/documents/", r.id)}};
}

Result<DocumentRequest> ParseDocumentRequest(const json::object& item, const json::object& defaults,
                                             std::string_view where) {
  const auto field = [&](std::string_view key) -> const json::value* {
    const json::value* v = item.if_contains(key);
    return v != nullptr ? v : defaults.if_contains(key);
  };
  const auto error = [&](std::string_view key, std::string_view message) {
    return absl::InvalidArgumentError(StrCat(where, key, ": ", message));
  };
  for (const auto& [key, value] : item) {
    static const std::string_view kKnown[] = {"type",   "target",    "data",
                                              "locale", "reference", "template"};
    if (std::find(std::begin(kKnown), std::end(kKnown), std::string_view(key)) ==
        std::end(kKnown)) {
      return error(key, "unknown field");
    }
  }
  DocumentRequest r;
  const json::value* type = field("type");
  if (type == nullptr || !type->is_string()) return error("type", "required string");
  Result<DocumentType> t = ParseDocumentType(type->get_string());
  if (!t.ok()) return error("type", ToStd(t.status().message()));
  r.type = *t;
  const json::value* target = field("target");
  if (target == nullptr || !target->is_string()) return error("target", "required string");
  Result<Audience> a = ParseAudience(target->get_string());
  if (!a.ok()) return error("target", ToStd(a.status().message()));
  r.audience = *a;
  const json::value* data = field("data");
  if (data == nullptr || !data->is_object()) return error("data", "required object");
  r.data = *data;
  for (auto [key, dest] : {std::pair<std::string_view, std::string*>{"locale", &r.locale},
                           {"reference", &r.reference}}) {
    const json::value* v = field(key);
    if (v == nullptr) continue;
    if (!v->is_string()) return error(key, "expected a string");
    *dest = std::string(v->get_string());
  }
  if (r.reference.size() > 200) return error("reference", "at most 200 bytes");
  if (const json::value* custom = item.if_contains("template")) {
    if (!custom->is_object()) return error("template", "expected a template description");
    r.custom_template = *custom;
  }
  return r;
}

Status Documents::Migrate(store::Store& store) { return store.Migrate("documents", kMigrations); }

Result<std::unique_ptr<Documents>> Documents::Create(store::Store& store, engine::Engine& engine,
                                                     const core::Clock& clock,
                                                     DocumentsOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(options.root, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        StrCat("cannot create the documents folder ", options.root.string(), ": ", ec.message()));
  }
  HERALD_ASSIGN_OR_RETURN(std::unique_ptr<PdfEngine> pdf, PdfEngine::Create(options.pdf));
  auto docs =
      std::unique_ptr<Documents>(new Documents(store, clock, std::move(options), std::move(pdf)));
  docs->engine_ = &engine;
  Documents* self = docs.get();
  engine.RegisterHandler(std::string(kGenerateJobType),
                         [self](engine::JobContext& job) { return self->HandleJob(job); });
  return docs;
}

Documents::Documents(store::Store& store, const core::Clock& clock, DocumentsOptions options,
                     std::unique_ptr<PdfEngine> pdf)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      images_(options_.logo_png.empty() ? ImageSet{} : ImageSet{{"logo", options_.logo_png}}),
      pdf_(std::move(pdf)),
      ids_(clock) {}

Documents::~Documents() = default;

std::string Documents::StorageKey(const DocumentRecord& record) {
  return StrCat(record.sha256.substr(0, 2), "/", record.sha256, ".pdf");
}

Result<PreparedDocument> Documents::Prepare(const DocumentRequest& request) const {
  const std::string& locale = request.locale.empty() ? options_.default_locale : request.locale;
  return PrepareDocument(request.type, request.audience, request.data, locale);
}

Status Documents::Validate(const DocumentRequest& request) const {
  HERALD_RETURN_IF_ERROR(CustomTemplate(request).status());
  return Prepare(request).status();
}

Result<std::string> Documents::Render(const DocumentRequest& request) const {
  PreparedDocument prepared;
  return Render(request, prepared);
}

Result<std::string> Documents::Render(const DocumentRequest& request,
                                      PreparedDocument& prepared) const {
  HERALD_ASSIGN_OR_RETURN(std::optional<DocTemplate> custom, CustomTemplate(request));
  HERALD_ASSIGN_OR_RETURN(prepared, Prepare(request));
  const PdfInfo info{.title = prepared.title,
                     .subject = std::string(DocumentTypeName(request.type)),
                     .created = clock_.Now()};
  const DocTemplate& t = custom ? *custom : BuiltinTemplate(request.type);
  static const ImageSet kNoImages;
  return t.Render(*pdf_, prepared.data, info, request.include_logo ? images_ : kNoImages);
}

Result<Documents::Made> Documents::Make(const DocumentRequest& request, std::string_view id,
                                        std::string_view created_by) const {
  Made m;
  PreparedDocument prepared;
  HERALD_ASSIGN_OR_RETURN(m.bytes, Render(request, prepared));
  m.record.id = std::string(id);
  m.record.type = request.type;
  m.record.audience = request.audience;
  m.record.filename = prepared.filename;
  m.record.size = static_cast<int64_t>(m.bytes.size());
  m.record.sha256 = auth::Sha256Hex(m.bytes);
  m.record.reference = request.reference;
  m.record.created_by = std::string(created_by);
  m.record.created_at = clock_.Now();
  return m;
}

Status Documents::Keep(std::vector<Made*> made) {
  if (made.empty()) return absl::OkStatus();
  // Files first, under temporary names; one sync; then the renames and their folders; only
  // then the rows. A crash before the rows leaves at most unreferenced files.
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> renames;
  for (Made* m : made) {
    const std::filesystem::path path = FilePath(m->record);
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) continue;  // the same bytes are already kept
    if (std::any_of(renames.begin(), renames.end(),
                    [&](const auto& r) { return r.second == path; })) {
      continue;  // twice in this batch
    }
    std::filesystem::create_directories(path.parent_path(), ec);
    const std::filesystem::path tmp = path.string() + ".tmp";
    HERALD_RETURN_IF_ERROR(WriteFile(tmp, m->bytes));
    renames.emplace_back(tmp, path);
  }
  if (!renames.empty()) {
    HERALD_RETURN_IF_ERROR(SyncFileSystem(options_.root));
    std::vector<std::filesystem::path> dirs;
    for (const auto& [tmp, path] : renames) {
      std::error_code ec;
      std::filesystem::rename(tmp, path, ec);
      if (ec)
        return absl::InternalError(StrCat("cannot rename ", tmp.string(), ": ", ec.message()));
      if (std::find(dirs.begin(), dirs.end(), path.parent_path()) == dirs.end()) {
        dirs.push_back(path.parent_path());
      }
    }
    for (const auto& dir : dirs) HERALD_RETURN_IF_ERROR(SyncDirectory(dir));
  }
  return store_.Write([&](Txn& txn) -> Status {
    for (Made* m : made) {
      const DocumentRecord& r = m->record;
      const std::string_view type = DocumentTypeName(r.type);
      const std::string_view audience = AudienceName(r.audience);
      const Value p[] = {
          r.id,     type,        audience, r.filename,   r.content_type,        r.size,
          r.sha256, r.reference, r.job_id, r.created_by, ToMicros(r.created_at)};
      HERALD_RETURN_IF_ERROR(txn.Exec(StrCat("INSERT INTO documents (", kColumns,
                                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                             " ON CONFLICT (id) DO NOTHING"),
                                      p)
                                 .status());
    }
    return absl::OkStatus();
  });
}

Result<std::vector<DocumentRecord>> Documents::Generate(std::span<const DocumentRequest> requests,
                                                        std::string_view created_by) {
  std::vector<Made> made(requests.size());
  std::vector<Made*> keep;
  for (size_t i = 0; i < requests.size(); ++i) {
    Result<Made> m = Make(requests[i], StrCat("doc_", ids_.Next().ToString()), created_by);
    if (!m.ok()) {
      if (requests.size() == 1) return m.status();
      return Status(m.status().code(), StrCat("documents[", i, "].", m.status().message()));
    }
    made[i] = *std::move(m);
    keep.push_back(&made[i]);
  }
  HERALD_RETURN_IF_ERROR(Keep(std::move(keep)));
  std::vector<DocumentRecord> records;
  for (Made& m : made) records.push_back(std::move(m.record));
  return records;
}

Result<std::vector<Result<DocumentRecord>>> Documents::GenerateEach(
    std::span<const DocumentRequest> requests, std::span<const std::string> ids,
    std::string_view created_by, std::string_view job_id) {
  if (ids.size() != requests.size()) return absl::InvalidArgumentError("one id per document");
  std::vector<Made> made(requests.size());
  std::vector<Made*> keep;
  std::vector<Status> errors(requests.size());
  // Kept by an earlier call (a retried job): those stand, with their own bytes.
  HERALD_ASSIGN_OR_RETURN(std::vector<std::optional<DocumentRecord>> kept, Find(ids));
  for (size_t i = 0; i < requests.size(); ++i) {
    if (kept[i]) {
      made[i].record = *std::move(kept[i]);
      continue;
    }
    Result<Made> m = Make(requests[i], ids[i], created_by);
    if (!m.ok()) {
      errors[i] = m.status();
      continue;
    }
    made[i] = *std::move(m);
    made[i].record.job_id = std::string(job_id);
    keep.push_back(&made[i]);
  }
  HERALD_RETURN_IF_ERROR(Keep(keep));
  std::vector<Result<DocumentRecord>> out;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (errors[i].ok()) {
      out.emplace_back(std::move(made[i].record));
    } else {
      out.emplace_back(errors[i]);
    }
  }
  return out;
}

Result<std::vector<std::string>> Documents::EnqueueBatch(
    const std::vector<DocumentRequest>& requests, std::string_view created_by, int priority) {
  if (requests.empty()) return absl::InvalidArgumentError("documents: at least one");
  if (requests.size() > kMaxBatchDocuments) {
    return absl::InvalidArgumentError(
        StrCat("documents: at most ", kMaxBatchDocuments, " in one batch"));
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (Status s = Validate(requests[i]); !s.ok()) {
      return absl::InvalidArgumentError(StrCat("documents[", i, "].", s.message()));
    }
    items.push_back(json::serialize(RequestToJson(requests[i])));
    if (items.back().size() > kMaxJobPayload - 1024) {
      return absl::InvalidArgumentError(
          StrCat("documents[", i, "]: larger than ", kMaxJobPayload / 1024, " KiB"));
    }
  }
  // Chunks of at most kMaxJobDocuments documents and kMaxJobPayload bytes, enqueued together.
  std::vector<engine::JobSpec> specs;
  size_t start = 0;
  while (start < items.size()) {
    std::string payload =
        StrCat("{\"first\":", start, ",\"createdBy\":", json::serialize(json::value(created_by)),
               ",\"documents\":[");
    size_t i = start;
    for (; i < items.size() && i - start < kMaxJobDocuments; ++i) {
      if (i > start && payload.size() + items[i].size() + 2 > kMaxJobPayload) break;
      if (i > start) payload += ',';
      payload += items[i];
    }
    payload += "]}";
    engine::JobSpec spec;
    spec.queue = std::string(kDocumentsQueue);
    spec.type = std::string(kGenerateJobType);
    spec.payload = std::move(payload);
    spec.priority = priority;
    specs.push_back(std::move(spec));
    start = i;
  }
  HERALD_ASSIGN_OR_RETURN(std::vector<engine::EnqueueResult> enqueued,
                          engine_->EnqueueBatch(specs));
  std::vector<std::string> ids;
  for (const engine::EnqueueResult& e : enqueued) ids.push_back(e.id.ToString());
  return ids;
}

Status Documents::HandleJob(engine::JobContext& job) {
  boost::system::error_code ec;
  const json::value payload = json::parse(job.payload(), ec);
  const json::object* o = ec ? nullptr : payload.if_object();
  const json::value* items = o == nullptr ? nullptr : o->if_contains("documents");
  if (items == nullptr || !items->is_array()) {
    return absl::InvalidArgumentError("documents.generate: payload without documents");
  }
  const json::value* created_by = o->if_contains("createdBy");
  const std::string by = created_by != nullptr && created_by->is_string()
                             ? std::string(created_by->get_string())
                             : std::string("job");
  const json::value* first = o->if_contains("first");
  const int64_t offset = first != nullptr && first->is_int64() ? first->get_int64() : 0;
  const std::string job_id = job.id().ToString();

  const json::array& list = items->get_array();
  std::vector<Made> made(list.size());
  std::vector<Made*> ok;
  json::array results;
  size_t failed = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (job.cancelled()) return absl::CancelledError("cancelled");
    const int64_t index = offset + static_cast<int64_t>(i);
    json::object result{{"index", index}};
    Result<DocumentRequest> request = list[i].is_object()
                                          ? ParseDocumentRequest(list[i].get_object(), {}, "")
                                          : absl::InvalidArgumentError("expected an object");
    // The id depends only on the job and the position: a retried job stores each one once.
    const std::string id = StrCat("doc_", job_id, "_", i);
    Result<Made> m = request.ok() ? Make(*request, id, by) : request.status();
    if (m.ok()) {
      made[i] = *std::move(m);
      made[i].record.job_id = job_id;
      ok.push_back(&made[i]);
      result["id"] = id;
      result["filename"] = made[i].record.filename;
      result["size"] = made[i].record.size;
      result["sha256"] = made[i].record.sha256;
    } else if (engine::IsPermanent(m.status())) {
      ++failed;
      result["error"] = std::string(ToStd(m.status().message()));
    } else {
      return m.status();  // retried
    }
    results.push_back(std::move(result));
    job.SetProgress(static_cast<int>((i + 1) * 100 / list.size()));
  }
  HERALD_RETURN_IF_ERROR(Keep(std::move(ok)));
  job.SetResult(json::serialize(json::object{
      {"succeeded", list.size() - failed}, {"failed", failed}, {"documents", std::move(results)}}));
  return absl::OkStatus();
}

Result<DocumentRecord> Documents::Get(std::string_view id) {
  const std::string ids[] = {std::string(id)};
  HERALD_ASSIGN_OR_RETURN(std::vector<std::optional<DocumentRecord>> found, Find(ids));
  if (!found[0]) return absl::NotFoundError(StrCat("no document ", id.substr(0, 128)));
  return *std::move(found[0]);
}

Result<std::vector<std::optional<DocumentRecord>>> Documents::Find(
    std::span<const std::string> ids) {
  static const std::string kSql = StrCat("SELECT ", kColumns, " FROM documents WHERE id = ?");
  std::vector<std::optional<DocumentRecord>> found(ids.size());
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    for (size_t i = 0; i < ids.size(); ++i) {
      Status row_error;
      HERALD_RETURN_IF_ERROR(txn.Query(kSql, {ids[i]}, [&](const store::Row& row) {
        Result<DocumentRecord> r = FromRow(row);
        if (r.ok()) {
          found[i] = *std::move(r);
        } else {
          row_error = r.status();
        }
        return false;
      }));
      HERALD_RETURN_IF_ERROR(row_error);
    }
    return absl::OkStatus();
  }));
  return found;
}

Result<std::string> Documents::ReadContent(const DocumentRecord& record) const {
  std::ifstream in(FilePath(record), std::ios::binary);
  if (!in) return absl::DataLossError(StrCat("the file of document ", record.id, " is missing"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (static_cast<int64_t>(bytes.size()) != record.size ||
      auth::Sha256Hex(bytes) != record.sha256) {
    return absl::DataLossError(StrCat("the file of document ", record.id, " is damaged"));
  }
  return bytes;
}

Result<std::vector<DocumentRecord>> Documents::List(std::string_view reference,
                                                    std::string_view before_id, int limit) {
  std::vector<DocumentRecord> out;
  Status row_error;
  std::string sql = StrCat("SELECT ", kColumns, " FROM documents WHERE 1 = 1");
  std::vector<Value> params;
  if (!reference.empty()) {
    sql += " AND reference = ?";
    params.push_back(reference);
  }
  if (!before_id.empty()) {
    sql += " AND id < ?";
    params.push_back(before_id);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.push_back(static_cast<int64_t>(limit));
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    return txn.Query(sql, params, [&](const store::Row& row) {
      Result<DocumentRecord> r = FromRow(row);
      if (!r.ok()) {
        row_error = r.status();
        return false;
      }
      out.push_back(*std::move(r));
      return true;
    });
  }));
  HERALD_RETURN_IF_ERROR(row_error);
  return out;
}

}  // namespace herald::docs
