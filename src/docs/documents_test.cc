#include "docs/documents.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "boost/json.hpp"
#include "core/clock.h"
#include "core/strings.h"
#include "core/testing/run_tool.h"
#include "core/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::docs {
namespace {

using ::herald::testing::RunTool;
using ::herald::testing::TempDir;
using ::testing::HasSubstr;

// A JobContext for calling the handler directly, as the engine would on each attempt.
class FakeJob : public engine::JobContext {
 public:
  FakeJob(core::Id id, std::string payload) : id_(id), payload_(std::move(payload)) {}
  const core::Id& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  const std::string& queue() const override { return queue_; }
  const std::string& payload() const override { return payload_; }
  int attempt() const override { return 1; }
  int max_attempts() const override { return 3; }
  bool cancelled() const override { return false; }
  void SetProgress(int percent) override { progress = percent; }
  void SetResult(std::string json) override { result = std::move(json); }
  int progress = 0;
  std::string result;

 private:
  core::Id id_;
  std::string type_ = std::string(kGenerateJobType);
  std::string queue_ = std::string(kDocumentsQueue);
  std::string payload_;
};

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions so;
    so.path = dir_.File("herald.db");
    store_ = std::move(store::SqliteStore::Open(so)).value();
    ASSERT_TRUE(engine::Engine::Migrate(*store_).ok());
    ASSERT_TRUE(Documents::Migrate(*store_).ok());
    engine_ = std::move(engine::Engine::Create(*store_, clock_, {})).value();
    DocumentsOptions options;
    options.root = dir_.path() / "docs";
    auto docs = Documents::Create(*store_, *engine_, clock_, options);
    ASSERT_TRUE(docs.ok()) << docs.status();
    docs_ = std::move(*docs);
    ASSERT_TRUE(engine_->Start(/*threads=*/false).ok());
  }

  static DocumentRequest Ticket(int i) {
    DocumentRequest r;
    r.type = DocumentType::kTicket;
    r.audience = Audience::kCustomer;
    r.reference = "events/gala";
    r.data =
        boost::json::parse(StrCat(R"({"event":{"title":"Gala d'hiver"},"guest":{"name":"Zoé"},)",
                                  R"("ticket":{"code":"TKT-)", i, R"("}})"));
    return r;
  }

  TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<Documents> docs_;
};

TEST_F(DocumentsTest, GenerateKeepsTheFileUnderItsHashAndTheRow) {
  auto generated = docs_->Generate(std::vector<DocumentRequest>{Ticket(1)}, "alice");
  ASSERT_TRUE(generated.ok()) << generated.status();
  ASSERT_EQ(generated->size(), 1u);
  const DocumentRecord* record = &generated->front();
  EXPECT_EQ(record->filename, "ticket-TKT-1.pdf");
  EXPECT_EQ(record->created_by, "alice");
  EXPECT_EQ(record->created_at, clock_.Now());
  const auto path = dir_.path() / "docs" / record->sha256.substr(0, 2) / (record->sha256 + ".pdf");
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(path)), record->size);
  auto again = docs_->Get(record->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sha256, record->sha256);
  auto bytes = docs_->ReadContent(*again);
  ASSERT_TRUE(bytes.ok());
  auto text = RunTool({"pdftotext", path.string(), "-"});
  EXPECT_THAT(text.out, HasSubstr("Gala d'hiver"));
  // No temporary file is left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "docs")) {
    EXPECT_EQ(e.path().extension(), e.is_directory() ? "" : ".pdf") << e.path();
  }
  // A damaged file is reported, never served.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "%PDF-garbage";
  EXPECT_EQ(docs_->ReadContent(*again).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(docs_->Get("doc_none").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DocumentsTest, ABatchJobRunTwiceStoresEachDocumentOnce) {
  std::vector<DocumentRequest> requests;
  for (int i = 0; i < 5; ++i) requests.push_back(Ticket(i));
  auto ids = docs_->EnqueueBatch(requests, "bob");
  ASSERT_TRUE(ids.ok()) << ids.status();
  auto jobs = engine_->List({});
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  const engine::Job& job = jobs->front();
  ASSERT_EQ(ids->size(), 1u);
  EXPECT_EQ(job.id.ToString(), ids->front());
  // Two attempts of the same job (the first crashed after storing, before completing).
  for (int attempt = 0; attempt < 2; ++attempt) {
    FakeJob fake(job.id, job.payload);
    ASSERT_TRUE(docs_->HandleJob(fake).ok());
    EXPECT_EQ(fake.progress, 100);
    EXPECT_THAT(fake.result, HasSubstr(R"("succeeded":5,"failed":0)"));
    EXPECT_THAT(fake.result, HasSubstr(StrCat(R"("id":"doc_)", job.id.ToString(), "_4")));
  }
  auto list = docs_->List("events/gala", "", 100);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 5u);
  for (const auto& d : *list) EXPECT_EQ(d.job_id, job.id.ToString());
  // Paging: newest first, the cursor is the last id seen.
  auto first = docs_->List("", "", 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  auto rest = docs_->List("", first->back().id, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), 3u);
}

TEST_F(DocumentsTest, GenerateEachKeepsTheCallersIdsAndARetryGetsTheSameDocuments) {
  std::vector<DocumentRequest> requests = {Ticket(1), Ticket(2)};
  requests[1].data.as_object()["event"].as_object().erase("title");  // required: refused
  const std::vector<std::string> ids = {"doc_a", "doc_b"};
  auto first = docs_->GenerateEach(requests, ids, "carol", "job-1").value();
  ASSERT_EQ(first.size(), 2u);
  ASSERT_TRUE(first[0].ok()) << first[0].status();
  EXPECT_EQ(first[0]->id, "doc_a");
  EXPECT_EQ(first[0]->job_id, "job-1");
  EXPECT_EQ(first[1].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(docs_->Get("doc_b").status().code(), absl::StatusCode::kNotFound);
  // Later (another creation date in the PDF), the same ids: the kept document is returned, not
  // a new rendering whose bytes the row does not describe.
  clock_.Advance(absl::Hours(1));
  auto again = docs_->GenerateEach(requests, ids, "carol", "job-1").value();
  ASSERT_TRUE(again[0].ok());
  EXPECT_EQ(again[0]->sha256, first[0]->sha256);
  EXPECT_EQ(again[0]->created_at, first[0]->created_at);
  EXPECT_TRUE(docs_->ReadContent(*again[0]).ok());
  EXPECT_EQ(docs_->List("events/gala", "", 100)->size(), 1u);
  EXPECT_EQ(docs_->GenerateEach(requests, {ids.data(), 1}, "carol", "job-1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DocumentsTest, ABatchRefusesAnyBadDocumentAndAJobReportsOneThatTurnsBad) {
  std::vector<DocumentRequest> requests = {Ticket(1), Ticket(2)};
  requests[1].data.as_object().erase("event");
  auto refused = docs_->EnqueueBatch(requests, "bob");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("documents[1].data.event.title"));
  auto jobs = engine_->List({});
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());

  // A job whose payload holds a bad document (written by an older version, say): the others
  // are made, the bad one is reported.
  const std::string payload =
      R"({"createdBy":"x","documents":[{"type":"TICKET","target":"CUSTOMER","data":)"
      R"({"event":{"title":"A"},"ticket":{"code":"T1"}}},{"type":"TICKET","target":"CUSTOMER",)"
      R"("data":{}}]})";
  core::Id id;
  id.bytes[15] = 10;
  FakeJob fake(id, payload);
  ASSERT_TRUE(docs_->HandleJob(fake).ok());
  EXPECT_THAT(fake.result, HasSubstr(R"("succeeded":1,"failed":1)"));
  EXPECT_THAT(fake.result, HasSubstr("data.event.title: required"));
  FakeJob broken(core::Id(), "[]");
  EXPECT_EQ(docs_->HandleJob(broken).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(DocumentsTest, LargeBatchesAreSplitIntoSeveralJobs) {
  std::vector<DocumentRequest> requests;
  for (int i = 0; i < 450; ++i) requests.push_back(Ticket(i));
  auto ids = docs_->EnqueueBatch(requests, "bob");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->size(), 3u);  // 200 + 200 + 50
  std::vector<DocumentRequest> too_many(kMaxBatchDocuments + 1, Ticket(1));
  EXPECT_EQ(docs_->EnqueueBatch(too_many, "bob").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace herald::docs
