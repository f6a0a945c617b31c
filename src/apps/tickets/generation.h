#pragma once
// TicketGenerator: makes the tickets' PDF files (seed 002 flow 1, seed 003 flow 3).
//
// Start records a generation (its tickets in order and its options) and enqueues the engine
// jobs that make it ("tickets.generate" on queue "documents": at most 50 tickets each, or one
// each without batch processing), all in one transaction. A job enriches its tickets as seed
// 002 shows (guest, event, ticket type, template), makes their PDFs (docs::Documents, with
// document ids derived from the generation and the ticket, so a retried job stores each
// once), then in one transaction records each ticket's file (Ticketing::SetTicketFile), its
// result and the generation's counters, and publishes `ticket.generated` (seed 002 flow 4's
// body) per ticket made. The transaction that records a generation's last ticket completes it:
// status and finish time, the `ticket.completed` event (seed 003's body: the tickets and
// summary.total, successful, failed, processingTime), and, unless asked not to, the
// "tickets.notify" job, which sends each guest one `ticket_generated` email with their PDFs
// attached (more than one when they pass the notifier's 10 MiB of attachments), or an SMS to a
// guest with only a phone. Its idempotency key is per generation and guest (and part), so a
// retried job sends nothing twice. The same job tells the guests of tickets an outside
// generator made, with links to its files (ListenToOutsideGenerators).
//
// A ticket that cannot be made (its template is broken, it was cancelled or reissued meanwhile)
// is recorded as failed with the reason and the others go on; an error of the machine (the
// disk is full) fails the job, which the engine retries. A job's last attempt records what it
// could not make as failed, so a generation always completes.
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "apps/tickets/ticketing.h"
#include "boost/json/object.hpp"
#include "core/clock.h"
#include "core/status.h"
#include "docs/documents.h"
#include "engine/engine.h"
#include "notify/notifier.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"
#include "webhooks/inbox.h"

namespace herald::apps::tickets {

inline constexpr std::string_view kGenerateJobType = "tickets.generate";
inline constexpr std::string_view kNotifyJobType = "tickets.notify";
inline constexpr size_t kMaxGenerationTickets = 10'000;
inline constexpr size_t kGenerationChunk = 50;

enum class QrFormat { kBase64, kPng, kSvg };
enum class QrSize { kSmall, kMedium, kLarge };
std::string_view QrFormatName(QrFormat f);  // "base64", "png", "svg"
std::string_view QrSizeName(QrSize s);      // "small", "medium", "large"
Result<QrFormat> ParseQrFormat(std::string_view name);
Result<QrSize> ParseQrSize(std::string_view name);
int QrModulePixels(QrSize s);  // 4, 8, 12

// Seed 002's options. The QR format and size say how `qrUrl` in the results draws the code
// (GET /api/tickets/{id}/qr); the PDF always carries its own QR code.
struct GenerationOptions {
  QrFormat qr_format = QrFormat::kBase64;
  QrSize qr_size = QrSize::kMedium;
  bool pdf = true;           // false: no PDF, only the QR code (nothing is attached)
  bool include_logo = true;  // the configured logo on the PDF
  int priority = 0;          // the engine jobs' priority: low -10, normal 0, high 10
  bool batch_processing = true;
  bool notify = true;  // send each guest their tickets when done
  std::string locale;  // of the PDFs and messages; empty: the default
};

struct GenerationRequest {
  std::vector<int64_t> ticket_ids;  // 1 to 10,000, distinct, all of one event
  GenerationOptions options;
  int64_t purchase_id = 0;  // the paid purchase that asked for it, if any
  std::string created_by;
  // The client's Idempotency-Key: 1 to 255 visible ASCII characters, or empty. A key seen
  // before with the same tickets and options returns that generation (replayed).
  std::string idempotency_key;
};

enum class GenerationStatus { kQueued, kProcessing, kCompleted, kFailed, kCancelled };
// "queued", "processing", "completed" (at least one ticket made), "failed" (none),
// "cancelled" (Cancel: the tickets not yet made were not made).
std::string_view GenerationStatusName(GenerationStatus s);

struct GeneratedTicket {
  int64_t ticket_id = 0;
  std::string ticket_code;
  std::string status;  // "pending", "generated", "failed"
  std::string document_id;
  std::string file_url;   // "/api/documents/<id>"
  std::string file_path;  // where the PDF is kept
  std::string qr_code_data;
  std::string error;
  std::optional<absl::Time> generated_at;
};

struct Generation {
  int64_t id = 0;
  int64_t event_id = 0;
  int64_t purchase_id = 0;
  GenerationStatus status = GenerationStatus::kQueued;
  int64_t total = 0;
  int64_t successful = 0;
  int64_t failed = 0;
  GenerationOptions options;
  std::string created_by;
  absl::Time created_at;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> finished_at;
  std::vector<std::string> job_ids;      // the engine jobs
  std::vector<GeneratedTicket> tickets;  // in request order (Get only)
  bool replayed = false;                 // Start: the idempotency key was seen before

  int Progress() const;  // percent of tickets done, made or failed
};

// What an outside ticket generator reported in one webhook (seed 002 flow 4: "mise à jour statut
// job génération", "archivage métadonnées génération"), kept as it came.
struct OutsideGeneration {
  int64_t id = 0;
  std::string job_id;      // the generator's job ("jobId"); empty when it names none (seed 002)
  std::string event_type;  // "ticket.generated", "ticket.completed"
  std::string status;      // the generator's: "completed", "failed"...; seed 002: "generated"
  // The generator's summary (seed 003's data.summary), or else counts of the tickets listed.
  int64_t total = 0;
  int64_t successful = 0;
  int64_t failed = 0;
  std::optional<int64_t> processing_ms;  // processingTime, processing_time_ms
  bool notification_sent = false;        // the generator told the guests itself
  // The tickets whose file was recorded from this report, with the file's URL.
  std::vector<std::pair<int64_t, std::string>> recorded;
  std::string body;  // the webhook's JSON body
  absl::Time received_at;
  // Herald tells the guests of the recorded tickets (the generator did not).
  bool herald_notifies() const { return !notification_sent && !recorded.empty(); }
};

// A ticket an outside generator says it made: its id or else its code, and its file.
struct OutsideTicket {
  int64_t id = 0;
  std::string code;  // the code it should have, when the report names it
  std::string url;   // http(s), at most 2048 bytes
  std::string path;  // at most 1024 bytes
};
// Reads an outside generator's webhook body (seed 002 flow 4's or seed 003 flow 3's): the
// report's job, status, summary and notification flag, and into `made` the tickets it made
// that could be recorded (an http(s) URL and a ticket named). Never fails: what the body lacks
// stays empty. The caller sets event_type, body and received_at.
OutsideGeneration ParseOutsideReport(const boost::json::object& body,
                                     std::vector<OutsideTicket>* made);

boost::json::object ToJson(const Generation& g);
boost::json::object ToJson(const OutsideGeneration& g);
boost::json::object OptionsToJson(const GenerationOptions& o);
// Seed 002's "options" object; InvalidArgument naming the field.
Result<GenerationOptions> ParseGenerationOptions(const boost::json::object& o);

class TicketGenerator {
 public:
  static Status Migrate(store::Store& store);
  // Registers the job handlers with `engine` (before it starts). Everything must outlive this.
  static Result<std::unique_ptr<TicketGenerator>> Create(
      store::Store& store, engine::Engine& engine, Ticketing& ticketing, docs::Documents& documents,
      webhooks::Dispatcher& dispatcher, notify::Notifier& notifier, const core::Clock& clock);

  // InvalidArgument for a bad request (no tickets, too many, duplicates, tickets of several
  // events); NotFound naming a ticket that does not exist; FailedPrecondition for a cancelled
  // ticket or one still waiting for its payment.
  Result<Generation> Start(const GenerationRequest& request);
  // The same inside the caller's transaction (a paid purchase): nothing exists unless it
  // commits.
  Result<Generation> Start(store::Txn& txn, const GenerationRequest& request);
  // With its tickets' results. NotFound.
  Result<Generation> Get(int64_t id);
  // Stops a generation still queued or processing: the tickets not yet made are recorded as
  // failed ("cancelled"), its engine jobs are cancelled, and `ticket.completed` is published
  // with status "cancelled"; nobody is notified. A ticket whose PDF is being made at that
  // moment is not recorded. Cancelling a cancelled generation changes nothing; NotFound;
  // FailedPrecondition for one that already completed or failed.
  Result<Generation> Cancel(int64_t id);

  // Handles what an outside ticket generator reports, from its webhooks through `inbox` (seed
  // 002 flow 4's `ticket.generated`, seed 003 flow 3's `ticket.completed`), in the
  // transaction of the inbox's job that handles the event:
  //  - records the file URL and path of each ticket it made on the ticket, whose
  //    generation_job_id becomes "outside:<report id>";
  //  - keeps the report (OutsideGeneration): the generator's job, status, summary and the body
  //    as it came, so a job's status is its latest report;
  //  - unless the report says `notification_sent: true`, queues the `ticket_generated`
  //    notification to each guest of the recorded tickets, with links to their files (Herald
  //    never fetches them: they are the generator's).
  // Herald makes its own files; this serves a deployment whose PDFs come from elsewhere. A
  // ticket that does not exist, or whose code differs from the one the event names, or an
  // entry without an http(s) URL, is not recorded (the report and the inbox keep it).
  void ListenToOutsideGenerators(webhooks::Inbox& inbox);
  // Reports in the order they came (by id): all, or one generator job's. NotFound for Get.
  Result<OutsideGeneration> GetOutsideGeneration(int64_t id);
  Result<std::vector<OutsideGeneration>> ListOutsideGenerations(std::string_view job_id,
                                                                const PageFilter& filter);

 private:
  Status OnOutsideGeneration(store::Txn& txn, const webhooks::DomainEvent& event);

  TicketGenerator(store::Store& store, engine::Engine& engine, Ticketing& ticketing,
                  docs::Documents& documents, webhooks::Dispatcher& dispatcher,
                  notify::Notifier& notifier, const core::Clock& clock);
  Status HandleGenerate(engine::JobContext& job);
  Status GenerateChunk(engine::JobContext& job, int64_t id, int64_t first, int64_t count,
                       bool last);
  // Records the chunk's tickets still pending as failed with `reason`, and completes.
  Status FailRemaining(int64_t id, int64_t first, int64_t count, std::string_view reason);
  Status HandleNotify(engine::JobContext& job);
  struct Notices;
  Status SendNotices(engine::JobContext& job, const Notices& notices);
  Status Complete(store::Txn& txn, int64_t id);
  // Sets the generation's final status and publishes `ticket.completed`.
  Status Finish(store::Txn& txn, Generation& g);

  store::Store& store_;
  engine::Engine& engine_;
  Ticketing& ticketing_;
  docs::Documents& documents_;
  webhooks::Dispatcher& dispatcher_;
  notify::Notifier& notifier_;
  const core::Clock& clock_;
};

}  // namespace herald::apps::tickets
