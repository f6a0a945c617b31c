#include "apps/tickets/generation.h"

#include <filesystem>
#include <fstream>

#include "apps/tickets/scanner.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "docs/testing/pdf_checks.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "notify/log_provider.h"
#include "notify/template_store.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::apps::tickets {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class GenerationTest : public ::testing::Test {
 protected:
  GenerationTest() {
    store::SqliteOptions so;
    so.path = dir_.File("herald.db");
    store_ = std::move(store::SqliteStore::Open(so)).value();
    EXPECT_TRUE(engine::Engine::Migrate(*store_).ok());
    EXPECT_TRUE(notify::Notifier::Migrate(*store_).ok());
    EXPECT_TRUE(webhooks::Dispatcher::Migrate(*store_).ok());
    EXPECT_TRUE(docs::Documents::Migrate(*store_).ok());
    EXPECT_TRUE(Ticketing::Migrate(*store_).ok());
    EXPECT_TRUE(TicketGenerator::Migrate(*store_).ok());
    engine_ = std::move(engine::Engine::Create(*store_, clock_, core::Config::Engine{})).value();
    templates_ = std::move(notify::TemplateStore::Create(*store_, clock_, "fr")).value();
    std::map<notify::Channel, std::vector<std::unique_ptr<notify::Provider>>> providers;
    for (notify::Channel c : {notify::Channel::kEmail, notify::Channel::kSms}) {
      providers[c].push_back(std::make_unique<notify::LogProvider>(c, *store_, clock_));
    }
    notifier_ = std::move(notify::Notifier::Create(*store_, *engine_, *templates_, clock_,
                                                   core::Config::Notify{}, std::move(providers)))
                    .value();
    webhooks::DispatcherOptions wo;
    wo.allow_private_addresses = true;
    dispatcher_ = std::move(webhooks::Dispatcher::Create(*store_, *engine_, clock_, wo)).value();
    docs::DocumentsOptions doc_options;
    doc_options.root = dir_.path() / "documents";
    documents_ =
        std::move(docs::Documents::Create(*store_, *engine_, clock_, std::move(doc_options)))
            .value();
    TicketingOptions options;
    options.master_key.fill(7);
    ticketing_ = std::move(Ticketing::Create(*store_, clock_, options)).value();
    generator_ = std::move(TicketGenerator::Create(*store_, *engine_, *ticketing_, *documents_,
                                                   *dispatcher_, *notifier_, clock_))
                     .value();
    scanner_ = std::make_unique<Scanner>(*store_, clock_);
    EXPECT_TRUE(engine_->Start(/*threads=*/false).ok());

    Event e;
    e.title = "Tech Conference 2026";
    e.location = "Paris Expo";
    e.event_date = clock_.Now() + absl::Hours(2);
    event_ = ticketing_->CreateEvent(e).value();
    TicketType vip;
    vip.event_id = event_.id;
    vip.name = "VIP";
    vip.price = 4999;
    vip_ = ticketing_->CreateTicketType(vip).value();
    Guest jean;
    jean.event_id = event_.id;
    jean.first_name = "Jean";
    jean.last_name = "Dupont";
    jean.email = "jean.dupont@example.com";
    jean_ = ticketing_->CreateGuest(jean).value();
    Guest marie;
    marie.event_id = event_.id;
    marie.first_name = "Marie";
    marie.phone = "+33612345678";
    marie_ = ticketing_->CreateGuest(marie).value();
  }
  ~GenerationTest() override { engine_->Stop(absl::ZeroDuration()); }

  std::vector<int64_t> Issue(int64_t guest_id, int n, int64_t event_id = 0) {
    std::vector<IssueRequest> reqs(n);
    for (IssueRequest& r : reqs) {
      r.guest_id = guest_id;
      r.ticket_type_id = event_id == 0 ? vip_.id : 0;
    }
    const std::vector<Ticket> issued =
        ticketing_->IssueTickets(event_id == 0 ? event_.id : event_id, reqs).value();
    std::vector<int64_t> ids;
    for (const Ticket& t : issued) ids.push_back(t.id);
    return ids;
  }

  // The outbound events published so far of `type`, oldest first.
  std::vector<json::object> Published(std::string_view type) {
    std::vector<json::object> out;
    EXPECT_TRUE(store_
                    ->Read([&](store::Txn& txn) -> Status {
                      return txn.Query(
                          "SELECT payload FROM webhook_messages WHERE event_type = ?"
                          " ORDER BY created_at, id",
                          {type}, [&](const store::Row& r) {
                            out.push_back(json::parse(r.Text(0)).as_object());
                            return true;
                          });
                    })
                    .ok());
    return out;
  }

  int64_t Count(std::string_view sql) {
    int64_t n = -1;
    EXPECT_TRUE(store_
                    ->Read([&](store::Txn& txn) -> Status {
                      return txn.Query(sql, {}, [&](const store::Row& r) {
                        n = r.Int(0);
                        return false;
                      });
                    })
                    .ok());
    return n;
  }

  herald::testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<notify::TemplateStore> templates_;
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<webhooks::Dispatcher> dispatcher_;
  std::unique_ptr<docs::Documents> documents_;
  std::unique_ptr<Ticketing> ticketing_;
  std::unique_ptr<TicketGenerator> generator_;
  std::unique_ptr<Scanner> scanner_;
  Event event_;
  TicketType vip_;
  Guest jean_;
  Guest marie_;
  docs::testing::PdfChecks pdf_;
};

TEST_F(GenerationTest, MakesEachTicketsPdfPublishesAndTellsEachGuestOnce) {
  std::vector<int64_t> ids = Issue(jean_.id, 2);
  const std::vector<int64_t> hers = Issue(marie_.id, 1);
  const std::vector<int64_t> anonymous = Issue(0, 1);
  ids.insert(ids.end(), hers.begin(), hers.end());
  ids.insert(ids.end(), anonymous.begin(), anonymous.end());

  GenerationRequest r;
  r.ticket_ids = ids;
  r.created_by = "organizer@example.com";
  Generation g = generator_->Start(r).value();
  EXPECT_EQ(g.status, GenerationStatus::kQueued);
  EXPECT_EQ(g.event_id, event_.id);
  EXPECT_EQ(g.total, 4);
  ASSERT_EQ(g.job_ids.size(), 1u);  // one batch of at most 50
  EXPECT_EQ(generator_->Get(g.id).value().Progress(), 0);

  clock_.Advance(absl::Milliseconds(1500));
  engine_->RunDue();
  Generation done = generator_->Get(g.id).value();
  EXPECT_EQ(done.status, GenerationStatus::kCompleted);
  EXPECT_EQ(done.successful, 4);
  EXPECT_EQ(done.failed, 0);
  EXPECT_EQ(done.Progress(), 100);
  ASSERT_TRUE(done.finished_at.has_value());
  ASSERT_EQ(done.tickets.size(), 4u);
  for (size_t i = 0; i < ids.size(); ++i) {
    const GeneratedTicket& t = done.tickets[i];
    EXPECT_EQ(t.ticket_id, ids[i]);  // request order
    EXPECT_EQ(t.status, "generated");
    Ticket ticket = ticketing_->GetTicket(ids[i]).value();
    EXPECT_EQ(ticket.document_id, t.document_id);
    EXPECT_EQ(ticket.generation_job_id, StrCat(g.id));
    EXPECT_EQ(ticket.ticket_file_url, StrCat("/api/documents/", t.document_id));
    // The file's key in the document store, not a path of the server.
    EXPECT_EQ(ticket.ticket_file_path,
              docs::Documents::StorageKey(documents_->Get(t.document_id).value()));
    EXPECT_NE(ticket.ticket_file_path.front(), '/');
    EXPECT_TRUE(std::filesystem::exists(documents_->root() / ticket.ticket_file_path))
        << ticket.ticket_file_path;
    EXPECT_EQ(t.qr_code_data, ticket.qr_code_data);
  }

  // The PDF: its text names the event, the guest and the number; its QR code is the signed
  // code, which the door accepts.
  docs::DocumentRecord doc = documents_->Get(done.tickets[0].document_id).value();
  const std::string pdf = documents_->ReadContent(doc).value();
  pdf_.ExpectQpdfClean(pdf);
  const std::string text = pdf_.Text(pdf);
  EXPECT_THAT(text, HasSubstr("Tech Conference 2026"));
  EXPECT_THAT(text, HasSubstr("Jean Dupont"));
  EXPECT_THAT(text, HasSubstr(done.tickets[0].ticket_code));
  EXPECT_THAT(text, HasSubstr("VIP"));
  const std::string qr = pdf_.DecodeQr(pdf);
  EXPECT_EQ(qr, done.tickets[0].qr_code_data);
  ScanRequest scan;
  scan.code = qr;
  scan.event_id = event_.id;
  scan.scanner_id = "door-1";
  ScanResult admitted = scanner_->Validate(scan).value();
  EXPECT_TRUE(admitted.valid) << admitted.reason;
  EXPECT_EQ(admitted.ticket_id, ids[0]);

  // One ticket.generated per ticket (seed 002 flow 4) and one ticket.completed (seed 003).
  std::vector<json::object> generated = Published("ticket.generated");
  ASSERT_EQ(generated.size(), 4u);
  EXPECT_EQ(generated[0].at("ticket_id").as_int64(), ids[0]);
  EXPECT_EQ(generated[0].at("event_id").as_int64(), event_.id);
  EXPECT_EQ(generated[0].at("guest_id").as_int64(), jean_.id);
  EXPECT_EQ(generated[0].at("generation_data").at("format").as_string(), "pdf");
  EXPECT_EQ(generated[0].at("generation_data").at("file_size").as_int64(), doc.size);
  EXPECT_EQ(generated[0].at("metadata").at("access_type").as_string(), "VIP");
  std::vector<json::object> completed = Published("ticket.completed");
  ASSERT_EQ(completed.size(), 1u);
  const json::object& c = completed[0];
  EXPECT_EQ(c.at("eventType").as_string(), "ticket.completed");
  EXPECT_EQ(c.at("jobId").as_int64(), g.id);
  EXPECT_EQ(c.at("status").as_string(), "completed");
  const json::object& summary = c.at("data").at("summary").as_object();
  EXPECT_EQ(summary.at("total").as_int64(), 4);
  EXPECT_EQ(summary.at("successful").as_int64(), 4);
  EXPECT_EQ(summary.at("failed").as_int64(), 0);
  EXPECT_EQ(summary.at("processingTime").as_int64(), 1500);
  const json::array& listed = c.at("data").at("tickets").as_array();
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[0].at("ticketCode").as_string(), done.tickets[0].ticket_code);
  EXPECT_EQ(listed[0].at("success").as_bool(), true);
  EXPECT_EQ(listed[0].at("fileUrl").as_string(), StrCat("/api/documents/", doc.id));

  // Jean gets one email with his two PDFs; Marie (a phone only) an SMS; nobody else.
  notify::HistoryFilter f;
  std::vector<notify::Notification> sent = notifier_->History(f).value();
  ASSERT_EQ(sent.size(), 2u);
  int emails = 0;
  for (const notify::Notification& n : sent) {
    EXPECT_EQ(n.template_id, "ticket_generated");
    if (n.channel == notify::Channel::kEmail) {
      ++emails;
      EXPECT_EQ(n.recipient, "jean.dupont@example.com");
    } else {
      EXPECT_EQ(n.recipient, "+33612345678");
    }
  }
  EXPECT_EQ(emails, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_attachments"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_attachments WHERE filename LIKE"
                  " 'ticket-TKT-%.pdf'"),
            2);
}

// A ticket with a template: its layout draws the PDF from seed 002's enriched data (the guest's
// email and phone, the template's name and design); includeLogo false leaves the logo out.
TEST_F(GenerationTest, ATemplatesLayoutDrawsTheSeedsEnrichedData) {
  TicketTemplate tpl;
  tpl.name = "Premium Template";
  tpl.design = "modern";
  tpl.layout_json = R"json({"page": "ticket", "blocks": [
      {"type": "heading", "text": "{{event.title}} ({{template.name}}, {{template.design}})"},
      {"type": "text", "text": "{{guest.first_name}} {{guest.last_name}} {{guest.email}}"},
      {"type": "text", "text": "Event {{event.id}} on {{event.event_date}}"},
      {"type": "qr", "value": "{{ticket.qr}}", "size": 110}]})json";
  tpl = ticketing_->CreateTemplate(tpl).value();
  IssueRequest req;
  req.guest_id = jean_.id;
  req.template_id = tpl.id;
  const Ticket t = ticketing_->IssueTickets(event_.id, {&req, 1}).value()[0];
  GenerationRequest r;
  r.ticket_ids = {t.id};
  r.options.include_logo = false;
  const Generation g = generator_->Start(r).value();
  engine_->RunDue();
  const Generation done = generator_->Get(g.id).value();
  ASSERT_EQ(done.successful, 1) << done.tickets[0].error;
  const std::string pdf =
      documents_->ReadContent(documents_->Get(done.tickets[0].document_id).value()).value();
  const std::string text = pdf_.Text(pdf);
  EXPECT_THAT(text, HasSubstr("Tech Conference 2026 (Premium Template,"));
  EXPECT_THAT(text, HasSubstr("modern)"));
  EXPECT_THAT(text, HasSubstr("Jean Dupont jean.dupont@example.com"));
  EXPECT_THAT(text, HasSubstr(StrCat("Event ", event_.id, " on ")));
  EXPECT_EQ(pdf_.DecodeQr(pdf), t.qr_code_data);
  EXPECT_EQ(pdf.find("/Subtype /Image"), std::string::npos);  // no logo, and the QR is vector
}

TEST_F(GenerationTest, BatchesOfFiftyOrOneTicketEach) {
  const std::vector<int64_t> ids = Issue(jean_.id, 120);
  GenerationRequest r;
  r.ticket_ids = ids;
  r.options.notify = false;
  r.options.pdf = false;  // only the codes: fast
  Generation g = generator_->Start(r).value();
  EXPECT_EQ(g.job_ids.size(), 3u);  // 50 + 50 + 20
  EXPECT_EQ(engine_->RunDue(1), 1);
  Generation partway = generator_->Get(g.id).value();
  EXPECT_EQ(partway.status, GenerationStatus::kProcessing);
  EXPECT_EQ(partway.successful, 50);
  EXPECT_EQ(partway.Progress(), 41);
  EXPECT_TRUE(Published("ticket.completed").empty());
  engine_->RunDue();
  Generation done = generator_->Get(g.id).value();
  EXPECT_EQ(done.status, GenerationStatus::kCompleted);
  EXPECT_EQ(done.successful, 120);
  EXPECT_EQ(Published("ticket.completed").size(), 1u);
  EXPECT_TRUE(Published("ticket.generated").empty());   // no PDF, no file to announce
  EXPECT_TRUE(notifier_->History({}).value().empty());  // notify: false
  EXPECT_EQ(ticketing_->GetTicket(ids[7]).value().generation_job_id, StrCat(g.id));
  EXPECT_TRUE(ticketing_->GetTicket(ids[7]).value().document_id.empty());

  GenerationRequest one;
  one.ticket_ids = {ids[0], ids[1], ids[2]};
  one.options.notify = false;
  one.options.batch_processing = false;
  one.options.pdf = false;
  EXPECT_EQ(generator_->Start(one).value().job_ids.size(), 3u);
}

TEST_F(GenerationTest, ACancelledGenerationMakesNothingMoreAndSaysSo) {
  const std::vector<int64_t> ids = Issue(jean_.id, 120);
  GenerationRequest r;
  r.ticket_ids = ids;
  r.options.pdf = false;
  Generation g = generator_->Start(r).value();
  EXPECT_EQ(engine_->RunDue(1), 1);  // the first 50
  Generation cancelled = generator_->Cancel(g.id).value();
  EXPECT_EQ(cancelled.status, GenerationStatus::kCancelled);
  EXPECT_EQ(cancelled.successful, 50);
  EXPECT_EQ(cancelled.failed, 70);
  EXPECT_TRUE(cancelled.finished_at.has_value());
  EXPECT_EQ(cancelled.tickets[50].status, "failed");
  EXPECT_EQ(cancelled.tickets[50].error, "cancelled");
  engine_->RunDue();
  Generation after = generator_->Get(g.id).value();
  EXPECT_EQ(after.status, GenerationStatus::kCancelled);
  EXPECT_EQ(after.successful, 50);
  EXPECT_TRUE(ticketing_->GetTicket(ids[60]).value().generation_job_id.empty());
  std::vector<json::object> completed = Published("ticket.completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].at("status").as_string(), "cancelled");
  EXPECT_EQ(completed[0].at("data").at("summary").at("failed").as_int64(), 70);
  EXPECT_TRUE(notifier_->History({}).value().empty());  // nobody is told of half a job
  // Again: nothing changes. A finished generation cannot be cancelled.
  EXPECT_EQ(generator_->Cancel(g.id).value().status, GenerationStatus::kCancelled);
  EXPECT_EQ(Published("ticket.completed").size(), 1u);
  GenerationRequest small;
  small.ticket_ids = {ids[0]};
  small.options.pdf = false;
  small.options.notify = false;
  Generation done = generator_->Start(small).value();
  engine_->RunDue();
  EXPECT_EQ(generator_->Cancel(done.id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(generator_->Cancel(done.id + 100).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GenerationTest, AnIdempotencyKeyStartsOneGeneration) {
  const std::vector<int64_t> ids = Issue(jean_.id, 3);
  GenerationRequest r;
  r.ticket_ids = ids;
  r.options.pdf = false;
  r.idempotency_key = "gen-2026-12-03-1";
  Generation first = generator_->Start(r).value();
  EXPECT_FALSE(first.replayed);
  Generation again = generator_->Start(r).value();
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.job_ids, first.job_ids);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ticket_generations"), 1);
  r.options.qr_size = QrSize::kLarge;  // the same key for another request
  EXPECT_EQ(generator_->Start(r).status().code(), absl::StatusCode::kAlreadyExists);
  r.idempotency_key = "bad key";
  EXPECT_EQ(generator_->Start(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.idempotency_key.clear();
  EXPECT_NE(generator_->Start(r).value().id, first.id);  // no key: a new one each time
}

TEST_F(GenerationTest, TheCompletionEventOfABigJobStaysUnderTheWebhookLimit) {
  // With their PDFs, 500 ticket results are about 330 KiB of JSON.
  const std::vector<int64_t> ids = Issue(jean_.id, 600);
  GenerationRequest r;
  r.ticket_ids = ids;
  r.options.notify = false;
  Generation g = generator_->Start(r).value();
  engine_->RunDue();
  EXPECT_EQ(generator_->Get(g.id).value().status, GenerationStatus::kCompleted);
  std::vector<json::object> completed = Published("ticket.completed");
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_LT(json::serialize(completed[0]).size(), 256u * 1024);
  const json::object& data = completed[0].at("data").as_object();
  EXPECT_TRUE(data.at("truncated").as_bool());
  EXPECT_GT(data.at("tickets").as_array().size(), 300u);
  EXPECT_LT(data.at("tickets").as_array().size(), 600u);
  EXPECT_EQ(data.at("summary").at("total").as_int64(), 600);
}

TEST_F(GenerationTest, AGuestWithManyTicketsGetsThemInEmailsUnderTheAttachmentLimit) {
  // About 38 KB each: 290 PDFs pass the notifier's 10 MiB, so they take two emails.
  GenerationRequest r;
  r.ticket_ids = Issue(jean_.id, 290);
  generator_->Start(r).value();
  engine_->RunDue();
  std::vector<notify::Notification> sent = notifier_->History({}).value();
  ASSERT_EQ(sent.size(), 2u);
  for (const notify::Notification& n : sent) {
    EXPECT_EQ(n.recipient, "jean.dupont@example.com");
    EXPECT_EQ(n.status, notify::NotificationStatus::kSent) << n.error;
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM notification_attachments"), 290);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT notification_id) FROM notification_attachments"), 2);
}

TEST_F(GenerationTest, AJobOutOfAttemptsFailsWhatIsLeftAndTheGenerationStillCompletes) {
  const std::vector<int64_t> ids = Issue(jean_.id, 3);
  // The documents folder cannot be made (a file is in its way): every attempt fails to keep
  // the PDFs, a machine error the engine retries.
  std::filesystem::remove_all(dir_.path() / "documents");
  { std::ofstream(dir_.path() / "documents") << "in the way"; }
  GenerationRequest r;
  r.ticket_ids = ids;
  Generation g = generator_->Start(r).value();
  for (int i = 0; i < 6; ++i) {
    engine_->RunDue();
    clock_.Advance(absl::Hours(1));
  }
  Generation done = generator_->Get(g.id).value();
  EXPECT_EQ(done.status, GenerationStatus::kFailed);
  EXPECT_EQ(done.failed, 3);
  EXPECT_FALSE(done.tickets[0].error.empty());
  ASSERT_EQ(Published("ticket.completed").size(), 1u);
  EXPECT_EQ(Published("ticket.completed")[0].at("status").as_string(), "failed");
  EXPECT_TRUE(notifier_->History({}).value().empty());  // nothing made, nothing sent
}

TEST_F(GenerationTest, ATicketCancelledMeanwhileFailsAloneAndAllFailedIsFailed) {
  const std::vector<int64_t> ids = Issue(jean_.id, 3);
  GenerationRequest r;
  r.ticket_ids = ids;
  Generation g = generator_->Start(r).value();
  ASSERT_TRUE(ticketing_->CancelTicket(ids[1]).ok());
  engine_->RunDue();
  Generation done = generator_->Get(g.id).value();
  EXPECT_EQ(done.status, GenerationStatus::kCompleted);
  EXPECT_EQ(done.successful, 2);
  EXPECT_EQ(done.failed, 1);
  EXPECT_EQ(done.tickets[1].status, "failed");
  EXPECT_THAT(done.tickets[1].error, HasSubstr("cancelled"));
  EXPECT_TRUE(ticketing_->GetTicket(ids[1]).value().document_id.empty());
  EXPECT_EQ(Published("ticket.completed")[0].at("data").at("summary").at("failed").as_int64(), 1);

  GenerationRequest alone;
  alone.ticket_ids = {ids[2]};
  Generation lone = generator_->Start(alone).value();
  ASSERT_TRUE(ticketing_->CancelTicket(ids[2]).ok());
  engine_->RunDue();
  EXPECT_EQ(generator_->Get(lone.id).value().status, GenerationStatus::kFailed);
  // Jean is told once, of the tickets the first generation made.
  ASSERT_EQ(notifier_->History({}).value().size(), 1u);
}

TEST_F(GenerationTest, BadRequestsCreateNothing) {
  const std::vector<int64_t> ids = Issue(jean_.id, 2);
  Event other;
  other.title = "Other";
  other.event_date = clock_.Now() + absl::Hours(5);
  const int64_t other_id = ticketing_->CreateEvent(other).value().id;
  const std::vector<int64_t> theirs = Issue(0, 1, other_id);
  std::vector<IssueRequest> pending(1);
  pending[0].status = TicketStatus::kPending;
  const std::vector<Ticket> unpaid_tickets = ticketing_->IssueTickets(event_.id, pending).value();
  const int64_t unpaid = unpaid_tickets[0].id;
  const int64_t cancelled = Issue(0, 1)[0];
  ASSERT_TRUE(ticketing_->CancelTicket(cancelled).ok());

  struct Case {
    std::vector<int64_t> ids;
    absl::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {{}, absl::StatusCode::kInvalidArgument, "at least one"},
      {{ids[0], ids[1], ids[0]}, absl::StatusCode::kInvalidArgument, "ticket_ids[2]"},
      {{ids[0], 999999}, absl::StatusCode::kNotFound, "no ticket 999999"},
      {{ids[0], theirs[0]}, absl::StatusCode::kInvalidArgument, "one event per job"},
      {{ids[0], unpaid}, absl::StatusCode::kFailedPrecondition, "pending"},
      {{cancelled}, absl::StatusCode::kFailedPrecondition, "cancelled"},
      {std::vector<int64_t>(kMaxGenerationTickets + 1, ids[0]), absl::StatusCode::kInvalidArgument,
       "at most 10000"},
  };
  for (const Case& c : cases) {
    GenerationRequest r;
    r.ticket_ids = c.ids;
    Result<Generation> g = generator_->Start(r);
    EXPECT_EQ(g.status().code(), c.code) << c.message;
    EXPECT_THAT(g.status().message(), HasSubstr(c.message));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ticket_generations"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM ticket_generation_items"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 0);
}

TEST_F(GenerationTest, OptionsParseFromSeed002AndRefuseNonsense) {
  json::object seed = json::parse(R"({"qrFormat": "base64", "qrSize": "medium",
      "pdfFormat": true, "includeLogo": false, "priority": "high",
      "batch_processing": true})")
                          .as_object();
  GenerationOptions o = ParseGenerationOptions(seed).value();
  EXPECT_EQ(o.qr_format, QrFormat::kBase64);
  EXPECT_EQ(o.qr_size, QrSize::kMedium);
  EXPECT_TRUE(o.pdf);
  EXPECT_FALSE(o.include_logo);
  EXPECT_EQ(o.priority, 10);
  EXPECT_TRUE(o.batch_processing);
  EXPECT_EQ(json::serialize(OptionsToJson(ParseGenerationOptions(OptionsToJson(o)).value())),
            json::serialize(OptionsToJson(o)));
  GenerationOptions five;
  five.priority = 5;  // no name: kept as a number
  EXPECT_EQ(ParseGenerationOptions(OptionsToJson(five)).value().priority, 5);
  for (const char* bad :
       {R"({"qrFormat": "gif"})", R"({"qrSize": 3})", R"({"pdfFormat": "yes"})",
        R"({"priority": "whenever"})", R"({"priority": 1000})", R"({"locale": "de"})"}) {
    EXPECT_EQ(ParseGenerationOptions(json::parse(bad).as_object()).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace herald::apps::tickets
