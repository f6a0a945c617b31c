#include "apps/tickets/generation.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "auth/crypto.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "core/utf8.h"
#include "engine/job_table.h"

namespace herald::apps::tickets {
namespace {

namespace json = boost::json;
using engine::table::FromMicros;
using engine::table::RowTime;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "ticket_generations", R"sql(
CREATE TABLE ticket_generations (
  id           INTEGER PRIMARY KEY,
  event_id     INTEGER NOT NULL,
  purchase_id  INTEGER NOT NULL,
  status       TEXT NOT NULL,
  total        INTEGER NOT NULL,
  successful   INTEGER NOT NULL,
  failed       INTEGER NOT NULL,
  options      TEXT NOT NULL,
  job_ids      TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  started_at   INTEGER,
  finished_at  INTEGER
);
CREATE TABLE ticket_generation_items (
  generation_id INTEGER NOT NULL,
  position      INTEGER NOT NULL,
  ticket_id     INTEGER NOT NULL,
  status        TEXT NOT NULL,
  document_id   TEXT NOT NULL,
  error         TEXT NOT NULL,
  generated_at  INTEGER,
  PRIMARY KEY (generation_id, position)
) WITHOUT ROWID;
)sql"},
    {2, "ticket_generations_idempotency", R"sql(
ALTER TABLE ticket_generations ADD COLUMN idempotency_key TEXT;
ALTER TABLE ticket_generations ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX ticket_generations_key ON ticket_generations (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
)sql"},
    // What outside ticket generators report (seed 002 flow 4), kept as it came.
    {3, "ticket_outside_generations", R"sql(
CREATE TABLE ticket_outside_generations (
  id                INTEGER PRIMARY KEY,
  job_id            TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  status            TEXT NOT NULL,
  total             INTEGER NOT NULL,
  successful        INTEGER NOT NULL,
  failed            INTEGER NOT NULL,
  processing_ms     INTEGER,
  notification_sent INTEGER NOT NULL,
  recorded          TEXT NOT NULL,
  body              TEXT NOT NULL,
  received_at       INTEGER NOT NULL
);
CREATE INDEX ticket_outside_generations_job ON ticket_outside_generations (job_id, id);
)sql"},
};

constexpr std::string_view kOutsideColumns =
    "id, job_id, event_type, status, total, successful, failed, processing_ms, notification_sent,"
    " recorded, body, received_at";

constexpr std::string_view kGenerationColumns =
    "id, event_id, purchase_id, status, total, successful, failed, options, job_ids, created_by,"
    " created_at, started_at, finished_at";

constexpr std::string_view kTicketGeneratedEvent = "ticket.generated";
constexpr std::string_view kTicketCompletedEvent = "ticket.completed";

constexpr std::pair<std::string_view, QrFormat> kQrFormats[] = {
    {"base64", QrFormat::kBase64}, {"png", QrFormat::kPng}, {"svg", QrFormat::kSvg}};
constexpr std::pair<std::string_view, QrSize> kQrSizes[] = {
    {"small", QrSize::kSmall}, {"medium", QrSize::kMedium}, {"large", QrSize::kLarge}};
constexpr std::pair<std::string_view, int> kPriorities[] = {
    {"low", -10}, {"normal", 0}, {"medium", 0}, {"high", 10}, {"urgent", 20}};

template <typename T, size_t N>
Result<T> ParseName(const std::pair<std::string_view, T> (&table)[N], std::string_view field,
                    std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(ToAbsl(name));
  std::string names;
  for (const auto& [n, v] : table) {
    if (n == lower) return v;
    names += names.empty() ? std::string(n) : StrCat(", ", n);
  }
  return absl::InvalidArgumentError(StrCat(field, ": expected one of ", names));
}

template <typename T, size_t N>
std::string_view NameOf(const std::pair<std::string_view, T> (&table)[N], T value) {
  for (const auto& [n, v] : table) {
    if (v == value) return n;
  }
  return "";
}

// The priority's name, or its number when it has none.
json::value PriorityJson(int p) {
  const std::string_view name = NameOf(kPriorities, p);
  return name.empty() ? json::value(p) : json::value(name);
}

std::string DocumentUrl(std::string_view document_id) {
  return StrCat("/api/documents/", document_id);
}

// Why a ticket gets no file: cancelled, or still waiting for its payment.
Status CheckGeneratable(const Ticket& t) {
  if (t.status == TicketStatus::kCancelled || t.status == TicketStatus::kPending) {
    return absl::FailedPreconditionError(
        StrCat("ticket ", t.id, " is ", TicketStatusName(t.status)));
  }
  return absl::OkStatus();
}

Result<GenerationStatus> ParseGenerationStatus(std::string_view s) {
  for (GenerationStatus g :
       {GenerationStatus::kQueued, GenerationStatus::kProcessing, GenerationStatus::kCompleted,
        GenerationStatus::kFailed, GenerationStatus::kCancelled}) {
    if (GenerationStatusName(g) == s) return g;
  }
  return absl::DataLossError(StrCat("unknown generation status ", s));
}

Result<Generation> GenerationFromRow(const Row& r) {
  Generation g;
  g.id = r.Int(0);
  g.event_id = r.Int(1);
  g.purchase_id = r.Int(2);
  HERALD_ASSIGN_OR_RETURN(g.status, ParseGenerationStatus(r.Text(3)));
  g.total = r.Int(4);
  g.successful = r.Int(5);
  g.failed = r.Int(6);
  boost::system::error_code ec;
  const json::value options = json::parse(r.Text(7), ec);
  if (ec || !options.is_object()) return absl::DataLossError("generation options");
  HERALD_ASSIGN_OR_RETURN(g.options, ParseGenerationOptions(options.get_object()));
  const json::value jobs = json::parse(r.Text(8), ec);
  if (!ec && jobs.is_array()) {
    for (const json::value& j : jobs.get_array()) {
      if (j.is_string()) g.job_ids.emplace_back(j.get_string());
    }
  }
  g.created_by = std::string(r.Text(9));
  g.created_at = FromMicros(r.Int(10));
  g.started_at = RowTime(r, 11);
  g.finished_at = RowTime(r, 12);
  return g;
}

Result<OutsideGeneration> OutsideFromRow(const Row& r) {
  OutsideGeneration g;
  g.id = r.Int(0);
  g.job_id = std::string(r.Text(1));
  g.event_type = std::string(r.Text(2));
  g.status = std::string(r.Text(3));
  g.total = r.Int(4);
  g.successful = r.Int(5);
  g.failed = r.Int(6);
  if (!r.IsNull(7)) g.processing_ms = r.Int(7);
  g.notification_sent = r.Int(8) != 0;
  boost::system::error_code ec;
  const json::value recorded = json::parse(r.Text(9), ec);
  if (ec || !recorded.is_array()) return absl::DataLossError("outside generation: recorded");
  for (const json::value& t : recorded.get_array()) {
    if (!t.is_object()) continue;
    g.recorded.emplace_back(JsonInt(t.get_object(), "ticketId"),
                            JsonString(t.get_object(), "fileUrl"));
  }
  g.body = std::string(r.Text(10));
  g.received_at = FromMicros(r.Int(11));
  return g;
}

Result<std::optional<OutsideGeneration>> LoadOutsideGeneration(Txn& txn, int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kOutsideColumns, " FROM ticket_outside_generations WHERE id = ?");
  const Value p[] = {id};
  HERALD_ASSIGN_OR_RETURN(auto found,
                          store::QueryAll<OutsideGeneration>(txn, kSql, p, OutsideFromRow));
  if (found.empty()) return std::optional<OutsideGeneration>();
  return std::optional<OutsideGeneration>(std::move(found[0]));
}

// The tickets a report recorded, as ToJson and the report's row hold them.
json::array RecordedJson(const std::vector<std::pair<int64_t, std::string>>& recorded) {
  json::array out;
  for (const auto& [id, url] : recorded) {
    out.push_back(json::object{{"ticketId", id}, {"fileUrl", url}});
  }
  return out;
}

Result<std::optional<Generation>> LoadGeneration(Txn& txn, int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kGenerationColumns, " FROM ticket_generations WHERE id = ?");
  std::optional<Result<Generation>> found;
  HERALD_RETURN_IF_ERROR(txn.Query(kSql, {id}, [&](const Row& r) {
    found = GenerationFromRow(r);
    return false;
  }));
  if (!found) return std::optional<Generation>();
  HERALD_RETURN_IF_ERROR(found->status());
  return std::optional<Generation>(*std::move(*found));
}

// Reads the results of a generation's tickets, in request order, with the fields of their
// tickets; `first` and `count` select a range of positions.
Status LoadItems(Txn& txn, int64_t id, int64_t first, int64_t count,
                 std::vector<GeneratedTicket>& out) {
  return txn.Query(
      "SELECT i.ticket_id, t.ticket_code, i.status, i.document_id, t.ticket_file_url,"
      " t.ticket_file_path, t.qr_code_data, i.error, i.generated_at"
      " FROM ticket_generation_items i JOIN tickets t ON t.id = i.ticket_id"
      " WHERE i.generation_id = ? AND i.position >= ? AND i.position < ? ORDER BY i.position",
      {id, first, first + count}, [&](const Row& r) {
        GeneratedTicket& t = out.emplace_back();
        t.ticket_id = r.Int(0);
        t.ticket_code = std::string(r.Text(1));
        t.status = std::string(r.Text(2));
        t.document_id = std::string(r.Text(3));
        // The ticket's file is the latest generation's; this generation's result is its own.
        if (t.status == "generated" && !t.document_id.empty()) {
          t.file_url = DocumentUrl(t.document_id);
          t.file_path = std::string(r.Text(5));
        }
        t.qr_code_data = std::string(r.Text(6));
        t.error = std::string(r.Text(7));
        t.generated_at = RowTime(r, 8);
        return true;
      });
}

std::string QrUrl(int64_t ticket_id, const GenerationOptions& o) {
  return StrCat("/api/tickets/", ticket_id, "/qr?format=", QrFormatName(o.qr_format),
                "&size=", QrSizeName(o.qr_size));
}

json::object TicketResultJson(const GeneratedTicket& t, const GenerationOptions& o) {
  json::object j{{"ticketId", t.ticket_id},      {"ticketCode", t.ticket_code},
                 {"status", t.status},           {"success", t.status == "generated"},
                 {"qrCodeData", t.qr_code_data}, {"qrUrl", QrUrl(t.ticket_id, o)}};
  if (!t.document_id.empty()) j["documentId"] = t.document_id;
  if (!t.file_url.empty()) j["fileUrl"] = t.file_url;
  if (!t.file_path.empty()) j["filePath"] = t.file_path;
  if (t.generated_at) j["generatedAt"] = TimeText(*t.generated_at);
  if (!t.error.empty()) j["error"] = t.error;
  return j;
}

// What the PDF of one ticket is made from: the ticket enriched with its guest, event, type and
// template (seed 002 flow 1's transformation).
struct Enriched {
  Ticket ticket;
  std::string type_name;  // "" without a type
  docs::DocumentRequest request;
};

Result<Enriched> Enrich(Txn& txn, int64_t ticket_id, const GenerationOptions& options) {
  Enriched e;
  HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, ticket_id));
  if (!t) return absl::NotFoundError(StrCat("ticket ", ticket_id, " no longer exists"));
  HERALD_RETURN_IF_ERROR(CheckGeneratable(*t));
  e.ticket = *std::move(t);
  HERALD_ASSIGN_OR_RETURN(std::optional<Event> event, LoadEvent(txn, e.ticket.event_id));
  if (!event) return absl::NotFoundError(StrCat("event ", e.ticket.event_id));
  json::object guest;
  if (e.ticket.guest_id != 0) {
    HERALD_ASSIGN_OR_RETURN(std::optional<Guest> g, LoadGuest(txn, e.ticket.guest_id));
    // Seed 002's names (first_name...) beside the built-in ticket's (firstName...), for
    // custom layouts written after the seed.
    if (g) {
      guest = {{"firstName", g->first_name},  {"lastName", g->last_name},
               {"first_name", g->first_name}, {"last_name", g->last_name},
               {"email", g->email},           {"phone", g->phone}};
    }
  }
  json::object ticket{{"code", e.ticket.ticket_code},
                      {"seat", e.ticket.seat},
                      {"qrCodeData", e.ticket.qr_code_data}};
  if (e.ticket.ticket_type_id != 0) {
    HERALD_ASSIGN_OR_RETURN(std::optional<TicketType> type,
                            LoadTicketType(txn, e.ticket.ticket_type_id));
    if (type) {
      e.type_name = type->name;
      ticket["type"] = type->name;
      if (type->price > 0) {
        ticket["price"] = DecimalAmount(type->price);
        ticket["currency"] = event->currency;
      }
    }
  }
  e.request.type = docs::DocumentType::kTicket;
  e.request.audience = docs::Audience::kCustomer;
  e.request.locale = options.locale;
  e.request.include_logo = options.include_logo;
  e.request.reference = StrCat("tickets/", e.ticket.id);
  e.request.data = json::object{{"event",
                                 {{"id", event->id},
                                  {"title", event->title},
                                  {"date", TimeText(event->event_date)},
                                  {"event_date", TimeText(event->event_date)},
                                  {"location", event->location},
                                  {"timezone", event->timezone}}},
                                {"guest", std::move(guest)},
                                {"ticket", std::move(ticket)}};
  if (e.ticket.template_id != 0) {
    HERALD_ASSIGN_OR_RETURN(std::optional<TicketTemplate> tpl,
                            LoadTemplate(txn, e.ticket.template_id));
    if (tpl) {
      e.request.data.as_object()["template"] =
          json::object{{"id", tpl->id}, {"name", tpl->name}, {"design", tpl->design}};
    }
    if (tpl && !tpl->layout_json.empty()) {
      boost::system::error_code ec;
      json::value layout = json::parse(tpl->layout_json, ec);
      if (ec) return absl::InvalidArgumentError(StrCat("template ", tpl->id, ": not JSON"));
      e.request.custom_template = std::move(layout);
    }
  }
  return e;
}

json::object GeneratedEventJson(const Enriched& e, const docs::DocumentRecord& doc,
                                const GenerationOptions& o, int64_t generation_id, absl::Time at,
                                int64_t processing_ms) {
  json::object metadata{{"seat_number", e.ticket.seat}, {"generation_time_ms", processing_ms}};
  if (!e.type_name.empty()) metadata["access_type"] = e.type_name;
  return json::object{{"event_type", kTicketGeneratedEvent},
                      {"ticket_id", e.ticket.id},
                      {"ticket_code", e.ticket.ticket_code},
                      {"template_id", e.ticket.template_id},
                      {"guest_id", e.ticket.guest_id},
                      {"event_id", e.ticket.event_id},
                      {"generation_job_id", generation_id},
                      {"generation_data",
                       {{"format", "pdf"},
                        {"qr_code", true},
                        {"file_url", DocumentUrl(doc.id)},
                        {"qr_url", QrUrl(e.ticket.id, o)},
                        {"file_size", doc.size},
                        {"qr_size", QrSizeName(o.qr_size)}}},
                      {"generated_at", TimeText(at)},
                      {"processing_time_ms", processing_ms},
                      {"metadata", std::move(metadata)}};
}

}  // namespace

std::string_view QrFormatName(QrFormat f) { return NameOf(kQrFormats, f); }
std::string_view QrSizeName(QrSize s) { return NameOf(kQrSizes, s); }
Result<QrFormat> ParseQrFormat(std::string_view name) {
  return ParseName(kQrFormats, "qrFormat", name);
}
Result<QrSize> ParseQrSize(std::string_view name) { return ParseName(kQrSizes, "qrSize", name); }
int QrModulePixels(QrSize s) {
  switch (s) {
    case QrSize::kSmall:
      return 4;
    case QrSize::kMedium:
      return 8;
    case QrSize::kLarge:
      return 12;
  }
  return 8;
}

std::string_view GenerationStatusName(GenerationStatus s) {
  switch (s) {
    case GenerationStatus::kQueued:
      return "queued";
    case GenerationStatus::kProcessing:
      return "processing";
    case GenerationStatus::kCompleted:
      return "completed";
    case GenerationStatus::kFailed:
      return "failed";
    case GenerationStatus::kCancelled:
      return "cancelled";
  }
  return "";
}

int Generation::Progress() const {
  if (total == 0) return 100;
  return static_cast<int>((successful + failed) * 100 / total);
}

json::object OptionsToJson(const GenerationOptions& o) {
  json::object j{{"qrFormat", QrFormatName(o.qr_format)},
                 {"qrSize", QrSizeName(o.qr_size)},
                 {"pdfFormat", o.pdf},
                 {"includeLogo", o.include_logo},
                 {"priority", PriorityJson(o.priority)},
                 {"batch_processing", o.batch_processing},
                 {"notify", o.notify}};
  if (!o.locale.empty()) j["locale"] = o.locale;
  return j;
}

Result<GenerationOptions> ParseGenerationOptions(const json::object& o) {
  GenerationOptions out;
  auto text = [&](std::string_view key) -> Result<std::optional<std::string>> {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return std::optional<std::string>();
    if (!v->is_string()) return absl::InvalidArgumentError(StrCat(key, ": expected a string"));
    return std::optional<std::string>(std::string(v->get_string()));
  };
  auto flag = [&](std::string_view key, bool& into) -> Status {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return absl::OkStatus();
    if (!v->is_bool()) return absl::InvalidArgumentError(StrCat(key, ": expected true or false"));
    into = v->get_bool();
    return absl::OkStatus();
  };
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> format, text("qrFormat"));
  if (format) {
    HERALD_ASSIGN_OR_RETURN(out.qr_format, ParseQrFormat(*format));
  }
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> size, text("qrSize"));
  if (size) {
    HERALD_ASSIGN_OR_RETURN(out.qr_size, ParseQrSize(*size));
  }
  HERALD_RETURN_IF_ERROR(flag("pdfFormat", out.pdf));
  HERALD_RETURN_IF_ERROR(flag("includeLogo", out.include_logo));
  HERALD_RETURN_IF_ERROR(flag("batch_processing", out.batch_processing));
  HERALD_RETURN_IF_ERROR(flag("notify", out.notify));
  HERALD_RETURN_IF_ERROR(flag("send_notifications", out.notify));
  if (const json::value* p = o.if_contains("priority"); p != nullptr && p->is_int64()) {
    if (p->get_int64() < -100 || p->get_int64() > 100) {
      return absl::InvalidArgumentError("priority: between -100 and 100");
    }
    out.priority = static_cast<int>(p->get_int64());
  } else {
    HERALD_ASSIGN_OR_RETURN(std::optional<std::string> priority, text("priority"));
    if (priority) {
      HERALD_ASSIGN_OR_RETURN(out.priority, ParseName(kPriorities, "priority", *priority));
    }
  }
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> locale, text("locale"));
  if (locale) {
    if (*locale != "fr" && *locale != "en") {
      return absl::InvalidArgumentError("locale: expected fr or en");
    }
    out.locale = *locale;
  }
  return out;
}

json::object ToJson(const Generation& g) {
  json::object j{{"id", g.id},
                 {"jobId", g.id},
                 {"eventId", g.event_id},
                 {"status", GenerationStatusName(g.status)},
                 {"progress", g.Progress()},
                 {"total", g.total},
                 {"successful", g.successful},
                 {"failed", g.failed},
                 {"pending", g.total - g.successful - g.failed},
                 {"options", OptionsToJson(g.options)},
                 {"createdBy", g.created_by},
                 {"createdAt", TimeText(g.created_at)}};
  if (g.purchase_id != 0) j["purchaseId"] = g.purchase_id;
  if (g.started_at) j["startedAt"] = TimeText(*g.started_at);
  if (g.finished_at) {
    j["finishedAt"] = TimeText(*g.finished_at);
    j["processingTime"] = absl::ToInt64Milliseconds(*g.finished_at - g.created_at);
  }
  json::array jobs;
  for (const std::string& id : g.job_ids) jobs.emplace_back(id);
  j["engineJobs"] = std::move(jobs);
  if (!g.tickets.empty()) {
    json::array tickets;
    for (const GeneratedTicket& t : g.tickets) tickets.push_back(TicketResultJson(t, g.options));
    j["tickets"] = std::move(tickets);
  }
  return j;
}

json::object ToJson(const OutsideGeneration& g) {
  json::object summary{{"total", g.total}, {"successful", g.successful}, {"failed", g.failed}};
  summary["processingTime"] =
      g.processing_ms ? json::value(*g.processing_ms) : json::value(nullptr);
  boost::system::error_code ec;
  json::value body = json::parse(g.body, ec);
  if (ec) body = json::string(g.body);
  return json::object{{"id", g.id},
                      {"jobId", g.job_id.empty() ? json::value(nullptr) : json::value(g.job_id)},
                      {"eventType", g.event_type},
                      {"status", g.status},
                      {"summary", std::move(summary)},
                      {"notificationSent", g.notification_sent},
                      {"heraldNotifies", g.herald_notifies()},
                      {"recorded", RecordedJson(g.recorded)},
                      {"receivedAt", TimeText(g.received_at)},
                      {"body", std::move(body)}};
}

// ---- TicketGenerator

Status TicketGenerator::Migrate(store::Store& store) {
  return store.Migrate("tickets-generation", kMigrations);
}

TicketGenerator::TicketGenerator(store::Store& store, engine::Engine& engine, Ticketing& ticketing,
                                 docs::Documents& documents, webhooks::Dispatcher& dispatcher,
                                 notify::Notifier& notifier, const core::Clock& clock)
    : store_(store),
      engine_(engine),
      ticketing_(ticketing),
      documents_(documents),
      dispatcher_(dispatcher),
      notifier_(notifier),
      clock_(clock) {}

Result<std::unique_ptr<TicketGenerator>> TicketGenerator::Create(
    store::Store& store, engine::Engine& engine, Ticketing& ticketing, docs::Documents& documents,
    webhooks::Dispatcher& dispatcher, notify::Notifier& notifier, const core::Clock& clock) {
  std::unique_ptr<TicketGenerator> g(
      new TicketGenerator(store, engine, ticketing, documents, dispatcher, notifier, clock));
  TicketGenerator* self = g.get();
  engine.RegisterHandler(std::string(kGenerateJobType),
                         [self](engine::JobContext& job) { return self->HandleGenerate(job); });
  engine.RegisterHandler(std::string(kNotifyJobType),
                         [self](engine::JobContext& job) { return self->HandleNotify(job); });
  return g;
}

void TicketGenerator::ListenToOutsideGenerators(webhooks::Inbox& inbox) {
  for (const char* type : {"ticket.generated", "ticket.completed"}) {
    inbox.Subscribe(type, [this](Txn& txn, const webhooks::DomainEvent& e) {
      return OnOutsideGeneration(txn, e);
    });
  }
}

OutsideGeneration ParseOutsideReport(const json::object& body, std::vector<OutsideTicket>* made) {
  OutsideGeneration report;
  for (std::string_view key : {"jobId", "job_id"}) {
    if (!report.job_id.empty()) break;
    report.job_id = JsonString(body, key);
    if (report.job_id.empty() && JsonInt(body, key) != 0)
      report.job_id = StrCat(JsonInt(body, key));
  }
  report.job_id = core::ToValidUtf8(std::string_view(report.job_id).substr(0, 128));
  if (const json::value* sent = body.if_contains("notification_sent");
      sent != nullptr && sent->is_bool()) {
    report.notification_sent = sent->as_bool();
  }
  const auto processing = [&](const json::object& o, std::string_view key) {
    const json::value* t = o.if_contains(json::string_view(key.data(), key.size()));
    if (t != nullptr && (t->is_int64() || t->is_uint64())) report.processing_ms = JsonInt(o, key);
  };
  if (const json::value* data = body.if_contains("data"); data != nullptr && data->is_object()) {
    // Seed 003: status, data.tickets[{ticketId, ticketCode, fileUrl, filePath, success}] and
    // data.summary{total, successful, failed, processingTime}.
    report.status = JsonString(body, "status");
    const json::value* list = data->as_object().if_contains("tickets");
    if (list != nullptr && list->is_array()) {
      for (const json::value& t : list->as_array()) {
        if (!t.is_object()) continue;
        const json::object& o = t.as_object();
        ++report.total;
        const json::value* ok = o.if_contains("success");
        if (ok != nullptr && !(ok->is_bool() && ok->as_bool())) {
          ++report.failed;
          continue;
        }
        ++report.successful;
        OutsideTicket m{JsonInt(o, "ticketId"), JsonString(o, "ticketCode"),
                        JsonString(o, "fileUrl"), JsonString(o, "filePath")};
        if (m.id == 0 && m.code.empty()) m.code = JsonString(o, "ticketId");  // a code
        made->push_back(std::move(m));
      }
    }
    const json::value* summary = data->as_object().if_contains("summary");
    if (summary != nullptr && summary->is_object()) {
      const json::object& sum = summary->as_object();
      report.total = JsonInt(sum, "total");
      report.successful = JsonInt(sum, "successful");
      report.failed = JsonInt(sum, "failed");
      processing(sum, "processingTime");
    }
  } else if (const json::value* g = body.if_contains("generation_data");
             g != nullptr && g->is_object()) {
    // Seed 002: ticket_id (an id or a ticket code) and generation_data.file_url.
    report.status = "generated";
    report.total = report.successful = 1;
    processing(body, "processing_time_ms");
    const int64_t id = JsonInt(body, "ticket_id");
    made->push_back({id, id != 0 ? "" : JsonString(body, "ticket_id"),
                     JsonString(g->as_object(), "file_url"), ""});
  }
  report.status = core::ToValidUtf8(std::string_view(report.status).substr(0, 64));
  // What is recorded: an http(s) URL and a path of sane lengths, naming a ticket.
  std::erase_if(*made, [](const OutsideTicket& m) {
    const bool web = absl::StartsWith(m.url, "https://") || absl::StartsWith(m.url, "http://");
    return !web || m.url.size() > 2048 || m.path.size() > 1024 || (m.id == 0 && m.code.empty());
  });
  return report;
}

Status TicketGenerator::OnOutsideGeneration(Txn& txn, const webhooks::DomainEvent& e) {
  if (e.provider != webhooks::kTicketService) return absl::OkStatus();
  boost::system::error_code ec;
  const json::value v = json::parse(e.data_json, ec);
  if (ec || !v.is_object()) return absl::OkStatus();
  std::vector<OutsideTicket> made;
  OutsideGeneration report = ParseOutsideReport(v.as_object(), &made);
  report.event_type = e.type;
  report.body = e.data_json;
  report.received_at = clock_.Now();
  HERALD_ASSIGN_OR_RETURN(
      report.id,
      txn.Insert("INSERT INTO ticket_outside_generations (job_id, event_type, status, total,"
                 " successful, failed, processing_ms, notification_sent, recorded, body,"
                 " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)",
                 {report.job_id, report.event_type, report.status, report.total, report.successful,
                  report.failed, report.processing_ms ? Value(*report.processing_ms) : Value(),
                  int64_t{report.notification_sent}, report.body, ToMicros(report.received_at)}));
  for (const OutsideTicket& m : made) {
    int64_t id = 0;
    std::string code, status;
    HERALD_RETURN_IF_ERROR(
        txn.Query(m.id != 0 ? "SELECT id, ticket_code, status FROM tickets WHERE id = ?"
                            : "SELECT id, ticket_code, status FROM tickets WHERE ticket_code = ?",
                  {m.id != 0 ? Value(m.id) : Value(m.code)}, [&](const Row& r) {
                    id = r.Int(0);
                    code = std::string(r.Text(1));
                    status = std::string(r.Text(2));
                    return false;
                  }));
    if (id == 0 || (!m.code.empty() && m.code != code)) continue;
    // As Herald's own generation: no file for a ticket not paid yet, or cancelled.
    if (status == TicketStatusName(TicketStatus::kPending) ||
        status == TicketStatusName(TicketStatus::kCancelled)) {
      continue;
    }
    HERALD_RETURN_IF_ERROR(
        ticketing_.SetTicketFile(txn, id, "", m.url, m.path, StrCat("outside:", report.id)));
    report.recorded.emplace_back(id, m.url);
  }
  if (report.recorded.empty()) return absl::OkStatus();
  HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE ticket_outside_generations SET recorded = ? WHERE id = ?",
                                  {json::serialize(RecordedJson(report.recorded)), report.id})
                             .status());
  if (!report.herald_notifies()) return absl::OkStatus();
  engine::JobSpec spec;
  spec.queue = std::string(docs::kDocumentsQueue);
  spec.type = std::string(kNotifyJobType);
  spec.max_attempts = 5;
  spec.payload = json::serialize(json::object{{"outside", report.id}});
  return engine_.Enqueue(txn, spec).status();
}

Result<OutsideGeneration> TicketGenerator::GetOutsideGeneration(int64_t id) {
  std::optional<OutsideGeneration> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, LoadOutsideGeneration(txn, id));
    return absl::OkStatus();
  }));
  if (!out) return absl::NotFoundError(StrCat("no outside generation report ", id));
  return *std::move(out);
}

Result<std::vector<OutsideGeneration>> TicketGenerator::ListOutsideGenerations(
    std::string_view job_id, const PageFilter& f) {
  static const std::string kSql =
      StrCat("SELECT ", kOutsideColumns,
             " FROM ticket_outside_generations WHERE id > ?1 AND (?3 IS NULL OR job_id = ?3)"
             " ORDER BY id LIMIT ?2");
  std::vector<OutsideGeneration> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.after_id, int64_t{std::clamp(f.limit, 1, 1000)},
                       job_id.empty() ? Value() : Value(job_id)};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<OutsideGeneration>(txn, kSql, p, OutsideFromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<Generation> TicketGenerator::Start(const GenerationRequest& request) {
  Generation g;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(g, Start(txn, request));
    return absl::OkStatus();
  }));
  return g;
}

Result<Generation> TicketGenerator::Start(Txn& txn, const GenerationRequest& request) {
  const std::vector<int64_t>& ids = request.ticket_ids;
  if (ids.empty()) return absl::InvalidArgumentError("ticket_ids: at least one ticket");
  if (ids.size() > kMaxGenerationTickets) {
    return absl::InvalidArgumentError(
        StrCat("ticket_ids: at most ", kMaxGenerationTickets, " tickets in one job"));
  }
  std::string fingerprint;
  if (!request.idempotency_key.empty()) {
    if (!IsIdempotencyKey(request.idempotency_key)) {
      return absl::InvalidArgumentError(
          "Idempotency-Key: expected 1 to 255 visible ASCII characters");
    }
    std::string text;
    for (int64_t id : ids) StrAppend(&text, id, ",");
    StrAppend(&text, "|", json::serialize(OptionsToJson(request.options)));
    fingerprint = auth::Sha256Hex(text);
    HERALD_ASSIGN_OR_RETURN(
        const int64_t earlier,
        IdempotentReplay(txn,
                         "SELECT id, fingerprint FROM ticket_generations WHERE idempotency_key = ?",
                         request.idempotency_key, fingerprint, "generation job"));
    if (earlier != 0) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Generation> g, LoadGeneration(txn, earlier));
      if (!g) return absl::InternalError(StrCat("generation ", earlier, " vanished"));
      g->replayed = true;
      return *std::move(g);
    }
  }
  absl::flat_hash_set<int64_t> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second) {
      return absl::InvalidArgumentError(
          StrCat("ticket_ids[", i, "]: ticket ", ids[i], " is listed twice"));
    }
  }
  Generation g;
  g.options = request.options;
  g.purchase_id = request.purchase_id;
  g.created_by = request.created_by;
  g.created_at = clock_.Now();
  g.total = static_cast<int64_t>(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, ids[i]));
    if (!t) return absl::NotFoundError(StrCat("ticket_ids[", i, "]: no ticket ", ids[i]));
    if (g.event_id == 0) g.event_id = t->event_id;
    if (t->event_id != g.event_id) {
      return absl::InvalidArgumentError(StrCat("ticket_ids[", i, "]: ticket ", ids[i],
                                               " is of event ", t->event_id, ", not ", g.event_id,
                                               " (one event per job)"));
    }
    if (Status s = CheckGeneratable(*t); !s.ok()) {
      return Status(s.code(), StrCat("ticket_ids[", i, "]: ", s.message()));
    }
  }
  const int64_t now = ToMicros(g.created_at);
  HERALD_ASSIGN_OR_RETURN(
      g.id, txn.Insert(
                "INSERT INTO ticket_generations (event_id, purchase_id, status, total,"
                " successful, failed, options, job_ids, created_by, created_at, idempotency_key,"
                " fingerprint)"
                " VALUES (?, ?, 'queued', ?, 0, 0, ?, '[]', ?, ?, ?, ?)",
                {g.event_id, g.purchase_id, g.total, json::serialize(OptionsToJson(g.options)),
                 g.created_by, now,
                 request.idempotency_key.empty() ? Value()
                                                 : Value(std::string_view(request.idempotency_key)),
                 std::string_view(fingerprint)}));
  for (size_t i = 0; i < ids.size(); ++i) {
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO ticket_generation_items (generation_id, position, ticket_id,"
                 " status, document_id, error) VALUES (?, ?, ?, 'pending', '', '')",
                 {g.id, int64_t(i), ids[i]})
            .status());
  }
  const size_t chunk = g.options.batch_processing ? kGenerationChunk : 1;
  json::array job_ids;
  for (size_t first = 0; first < ids.size(); first += chunk) {
    engine::JobSpec spec;
    spec.queue = std::string(docs::kDocumentsQueue);
    spec.type = std::string(kGenerateJobType);
    spec.priority = g.options.priority;
    spec.max_attempts = 5;
    spec.timeout = absl::Minutes(10);
    spec.payload =
        json::serialize(json::object{{"generation", g.id},
                                     {"first", int64_t(first)},
                                     {"count", int64_t(std::min(chunk, ids.size() - first))}});
    HERALD_ASSIGN_OR_RETURN(engine::EnqueueResult job, engine_.Enqueue(txn, spec));
    g.job_ids.push_back(job.id.ToString());
    job_ids.emplace_back(g.job_ids.back());
  }
  HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE ticket_generations SET job_ids = ? WHERE id = ?",
                                  {json::serialize(job_ids), g.id})
                             .status());
  return g;
}

Result<Generation> TicketGenerator::Get(int64_t id) {
  std::optional<Generation> g;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(g, LoadGeneration(txn, id));
    if (!g) return absl::OkStatus();
    return LoadItems(txn, id, 0, g->total, g->tickets);
  }));
  if (!g) return absl::NotFoundError(StrCat("no ticket generation job ", id));
  return *std::move(g);
}

Result<Generation> TicketGenerator::Cancel(int64_t id) {
  std::vector<std::string> jobs;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<Generation> g, LoadGeneration(txn, id));
    if (!g) return absl::NotFoundError(StrCat("no ticket generation job ", id));
    jobs = g->job_ids;
    if (g->status == GenerationStatus::kCancelled) return absl::OkStatus();
    if (g->status != GenerationStatus::kQueued && g->status != GenerationStatus::kProcessing) {
      return absl::FailedPreconditionError(
          StrCat("generation job ", id, " is already ", GenerationStatusName(g->status)));
    }
    HERALD_ASSIGN_OR_RETURN(int64_t n, txn.Exec("UPDATE ticket_generation_items SET"
                                                " status = 'failed', error = 'cancelled'"
                                                " WHERE generation_id = ? AND status = 'pending'",
                                                {id}));
    HERALD_RETURN_IF_ERROR(
        txn.Exec("UPDATE ticket_generations SET failed = failed + ? WHERE id = ?", {n, id})
            .status());
    g->failed += n;
    g->status = GenerationStatus::kCancelled;
    return Finish(txn, *g);
  }));
  // The jobs still waiting go; one running finds nothing left to record.
  for (const std::string& job : jobs) {
    Result<core::Id> job_id = core::Id::Parse(job);
    if (job_id.ok()) engine_.Cancel(*job_id).IgnoreError();  // finished jobs refuse: fine
  }
  return Get(id);
}

Status TicketGenerator::HandleGenerate(engine::JobContext& job) {
  HERALD_ASSIGN_OR_RETURN(const json::object payload, PayloadObject(job.payload(), job.type()));
  const int64_t id = JsonInt(payload, "generation");
  const int64_t first = JsonInt(payload, "first");
  const int64_t count = JsonInt(payload, "count");
  const bool last = job.attempt() >= job.max_attempts();
  Status s = GenerateChunk(job, id, first, count, last);
  // A job that will not run again records what it left as failed, so the generation still
  // completes (events, emails) instead of staying "processing".
  if (!s.ok() && (last || engine::IsPermanent(s))) {
    Status failed = FailRemaining(id, first, count, ToStd(s.message()));
    if (!failed.ok()) return failed;
  }
  return s;
}

Status TicketGenerator::FailRemaining(int64_t id, int64_t first, int64_t count,
                                      std::string_view reason) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t n, txn.Exec("UPDATE ticket_generation_items SET status = 'failed', error = ?"
                            " WHERE generation_id = ? AND position >= ? AND position < ?"
                            " AND status = 'pending'",
                            {reason, id, first, first + count}));
    if (n == 0) return absl::OkStatus();
    HERALD_RETURN_IF_ERROR(
        txn.Exec("UPDATE ticket_generations SET failed = failed + ? WHERE id = ?", {n, id})
            .status());
    return Complete(txn, id);
  });
}

Status TicketGenerator::GenerateChunk(engine::JobContext& job, int64_t id, int64_t first,
                                      int64_t count, bool last) {
  const absl::Time started = clock_.Now();

  // Mark the generation started, and read what is left of this chunk (a retried job redoes
  // only the tickets not yet recorded) with everything their PDFs are made from.
  std::optional<Generation> g;
  std::vector<std::pair<int64_t, int64_t>> pending;  // position, ticket id
  std::vector<Result<Enriched>> enriched;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    pending.clear();
    enriched.clear();
    HERALD_ASSIGN_OR_RETURN(g, LoadGeneration(txn, id));
    if (!g) return absl::OkStatus();
    HERALD_RETURN_IF_ERROR(txn.Exec("UPDATE ticket_generations SET status = 'processing',"
                                    " started_at = ? WHERE id = ? AND status = 'queued'",
                                    {ToMicros(started), id})
                               .status());
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT position, ticket_id FROM ticket_generation_items WHERE generation_id = ?"
                  " AND position >= ? AND position < ? AND status = 'pending' ORDER BY position",
                  {id, first, first + count}, [&](const Row& r) {
                    pending.emplace_back(r.Int(0), r.Int(1));
                    return true;
                  }));
    for (const auto& [position, ticket] : pending) {
      enriched.push_back(Enrich(txn, ticket, g->options));
      // A ticket that cannot be made is recorded as failed; a store error retries the job
      // (or, on its last attempt, fails what is left).
      if (!enriched.back().ok() && !engine::IsPermanent(enriched.back().status())) {
        return enriched.back().status();
      }
    }
    return absl::OkStatus();
  }));
  if (!g) return absl::NotFoundError(StrCat("no ticket generation job ", id));

  // The PDFs, outside any transaction.
  std::vector<docs::DocumentRequest> requests;
  std::vector<std::string> doc_ids;
  std::vector<size_t> request_of(pending.size(), SIZE_MAX);
  if (g->options.pdf) {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!enriched[i].ok()) continue;
      request_of[i] = requests.size();
      requests.push_back(enriched[i]->request);
      doc_ids.push_back(StrCat("doc_tkt_", id, "_", pending[i].second));
    }
  }
  std::vector<Result<docs::DocumentRecord>> made;
  if (!requests.empty()) {
    HERALD_ASSIGN_OR_RETURN(
        made, documents_.GenerateEach(requests, doc_ids, g->created_by, StrCat("generation-", id)));
  }
  for (const Result<docs::DocumentRecord>& m : made) {
    // Retried, unless this is the last attempt: then that ticket fails alone.
    if (!m.ok() && !engine::IsPermanent(m.status()) && !last) return m.status();
  }
  if (job.cancelled()) return absl::CancelledError("cancelled");

  const absl::Time done = clock_.Now();
  const int64_t processing_ms = absl::ToInt64Milliseconds(done - started);
  return store_.Write([&](Txn& txn) -> Status {
    // Cancelled while these PDFs were made: nothing of them is recorded or announced.
    HERALD_ASSIGN_OR_RETURN(std::optional<Generation> now_g, LoadGeneration(txn, id));
    if (!now_g || now_g->status == GenerationStatus::kCancelled) return absl::OkStatus();
    int64_t ok = 0;
    int64_t failed = 0;
    for (size_t i = 0; i < pending.size(); ++i) {
      const auto [position, ticket_id] = pending[i];
      std::string error;
      std::string document_id;
      if (!enriched[i].ok()) {
        error = std::string(ToStd(enriched[i].status().message()));
      } else if (request_of[i] != SIZE_MAX && !made[request_of[i]].ok()) {
        error = std::string(ToStd(made[request_of[i]].status().message()));
      } else {
        // Recheck in this transaction: a ticket cancelled while its PDF was made gets none.
        HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> now, LoadTicket(txn, ticket_id));
        if (!now || now->status == TicketStatus::kCancelled) {
          error = StrCat("ticket ", ticket_id, " was cancelled");
        } else if (now->generation != enriched[i]->ticket.generation) {
          error = StrCat("ticket ", ticket_id, " was reissued meanwhile: generate it again");
        } else if (request_of[i] != SIZE_MAX) {
          const docs::DocumentRecord& doc = *made[request_of[i]];
          document_id = doc.id;
          HERALD_RETURN_IF_ERROR(
              ticketing_.SetTicketFile(txn, ticket_id, doc.id, DocumentUrl(doc.id),
                                       docs::Documents::StorageKey(doc), StrCat(id)));
          webhooks::OutboundEvent event;
          event.type = std::string(kTicketGeneratedEvent);
          event.payload_json = json::serialize(
              GeneratedEventJson(*enriched[i], doc, g->options, id, done, processing_ms));
          HERALD_RETURN_IF_ERROR(dispatcher_.Publish(txn, event).status());
        } else {
          // No PDF asked for: the ticket's QR code is all there is to make.
          HERALD_RETURN_IF_ERROR(
              txn.Exec("UPDATE tickets SET generation_job_id = ?, updated_at = ? WHERE id = ?",
                       {StrCat(id), ToMicros(done), ticket_id})
                  .status());
        }
      }
      HERALD_ASSIGN_OR_RETURN(
          int64_t changed,
          txn.Exec("UPDATE ticket_generation_items SET status = ?, document_id = ?, error = ?,"
                   " generated_at = ? WHERE generation_id = ? AND position = ?"
                   " AND status = 'pending'",
                   {error.empty() ? "generated" : "failed", document_id, error,
                    error.empty() ? Value(ToMicros(done)) : Value(), id, position}));
      if (changed == 0) continue;  // recorded by an earlier attempt
      (error.empty() ? ok : failed) += 1;
    }
    HERALD_RETURN_IF_ERROR(
        txn.Exec("UPDATE ticket_generations SET successful = successful + ?, failed = failed + ?"
                 " WHERE id = ?",
                 {ok, failed, id})
            .status());
    job.SetResult(
        json::serialize(json::object{{"generation", id}, {"successful", ok}, {"failed", failed}}));
    job.SetProgress(100);
    return Complete(txn, id);
  });
}

// Completes the generation once every ticket is recorded; in the transaction that records the
// last one, so exactly once.
Status TicketGenerator::Complete(Txn& txn, int64_t id) {
  HERALD_ASSIGN_OR_RETURN(std::optional<Generation> g, LoadGeneration(txn, id));
  if (!g || g->successful + g->failed < g->total) return absl::OkStatus();
  if (g->status != GenerationStatus::kQueued && g->status != GenerationStatus::kProcessing) {
    return absl::OkStatus();
  }
  g->status = g->successful > 0 ? GenerationStatus::kCompleted : GenerationStatus::kFailed;
  HERALD_RETURN_IF_ERROR(Finish(txn, *g));
  if (g->options.notify && g->successful > 0) {
    engine::JobSpec spec;
    spec.queue = std::string(docs::kDocumentsQueue);
    spec.type = std::string(kNotifyJobType);
    spec.priority = g->options.priority;
    spec.max_attempts = 5;
    spec.payload = json::serialize(json::object{{"generation", id}});
    HERALD_RETURN_IF_ERROR(engine_.Enqueue(txn, spec).status());
  }
  return absl::OkStatus();
}

Status TicketGenerator::Finish(Txn& txn, Generation& g) {
  const int64_t id = g.id;
  const absl::Time now = clock_.Now();
  g.finished_at = now;
  HERALD_RETURN_IF_ERROR(
      txn.Exec("UPDATE ticket_generations SET status = ?, finished_at = ?,"
               " started_at = COALESCE(started_at, ?) WHERE id = ?",
               {GenerationStatusName(g.status), ToMicros(now), ToMicros(now), id})
          .status());
  // Seed 003's generation webhook. The ticket list stops before the event would pass the
  // dispatcher's 256 KiB (about 500 tickets): GET /api/tickets/generation-jobs/{id} has them
  // all. An entry takes more than 128 bytes, so no more than 1,536 are read.
  constexpr size_t kMaxListedBytes = 192 * 1024;
  constexpr int64_t kMaxListed = kMaxListedBytes / 128;
  HERALD_RETURN_IF_ERROR(LoadItems(txn, id, 0, std::min(g.total, kMaxListed), g.tickets));
  json::array tickets;
  size_t listed_bytes = 0;
  for (const GeneratedTicket& t : g.tickets) {
    json::object entry = TicketResultJson(t, g.options);
    listed_bytes += json::serialize(entry).size() + 1;
    if (listed_bytes > kMaxListedBytes) break;
    tickets.push_back(std::move(entry));
  }
  const bool truncated = static_cast<int64_t>(tickets.size()) < g.total;
  json::object data{{"tickets", std::move(tickets)},
                    {"summary",
                     {{"total", g.total},
                      {"successful", g.successful},
                      {"failed", g.failed},
                      {"processingTime", absl::ToInt64Milliseconds(now - g.created_at)}}}};
  if (truncated) data["truncated"] = true;
  webhooks::OutboundEvent event;
  event.type = std::string(kTicketCompletedEvent);
  event.payload_json = json::serialize(json::object{{"eventType", kTicketCompletedEvent},
                                                    {"jobId", id},
                                                    {"eventId", g.event_id},
                                                    {"status", GenerationStatusName(g.status)},
                                                    {"timestamp", TimeText(now)},
                                                    {"data", std::move(data)}});
  HERALD_RETURN_IF_ERROR(dispatcher_.Publish(txn, event).status());
  return absl::OkStatus();
}

// The guests to tell that their tickets are made (the "tickets.notify" job), and how.
struct TicketGenerator::Notices {
  struct Recipient {
    Guest guest;
    std::vector<std::string> document_ids;  // PDFs to attach (Herald's own)
    std::vector<std::string> codes;
    std::vector<std::string> urls;  // files to link to (an outside generator's)
  };
  std::string key;  // of the idempotency keys: "tickets/generation/<id>"
  std::string locale;
  std::string created_by;
  bool high_priority = false;
  json::object metadata;  // with each guest's eventId and guestId
  json::object result;    // the job's result, with the counts added
  std::map<int64_t, Recipient> guests;
  std::map<int64_t, Event> events;  // the guests' events

  // Adds a ticket made for `guest_id` (a guest that no longer exists is skipped).
  Status Add(Txn& txn, int64_t guest_id, std::string document_id, std::string code,
             std::string url) {
    auto [it, added] = guests.try_emplace(guest_id);
    if (added) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Guest> g, LoadGuest(txn, guest_id));
      if (!g) {
        guests.erase(it);
        return absl::OkStatus();
      }
      if (!events.contains(g->event_id)) {
        HERALD_ASSIGN_OR_RETURN(std::optional<Event> e, LoadEvent(txn, g->event_id));
        if (!e) {
          guests.erase(it);
          return absl::OkStatus();
        }
        events.emplace(g->event_id, *std::move(e));
      }
      it->second.guest = *std::move(g);
    }
    if (!document_id.empty()) it->second.document_ids.push_back(std::move(document_id));
    if (!url.empty()) it->second.urls.push_back(std::move(url));
    it->second.codes.push_back(std::move(code));
    return absl::OkStatus();
  }
};

Status TicketGenerator::HandleNotify(engine::JobContext& job) {
  HERALD_ASSIGN_OR_RETURN(const json::object payload, PayloadObject(job.payload(), job.type()));
  Notices notices;
  if (const int64_t outside = JsonInt(payload, "outside"); outside != 0) {
    // An outside generator's report: links to the files it made.
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(std::optional<OutsideGeneration> report,
                              LoadOutsideGeneration(txn, outside));
      if (!report) return absl::OkStatus();
      for (const auto& [ticket_id, url] : report->recorded) {
        HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, ticket_id));
        // The file must still be the ticket's: a ticket changed (reissued) since is not.
        if (!t || t->guest_id == 0 || t->status != TicketStatus::kIssued ||
            t->ticket_file_url != url) {
          continue;
        }
        HERALD_RETURN_IF_ERROR(notices.Add(txn, t->guest_id, "", t->ticket_code, url));
      }
      return absl::OkStatus();
    }));
    notices.key = StrCat("tickets/outside/", outside);
    notices.created_by = "ticket-generator";
    notices.metadata = {{"outsideGenerationId", outside}};
    notices.result = {{"outside", outside}};
  } else {
    // Herald's generation: each guest's tickets it made, with their PDFs.
    const int64_t id = JsonInt(payload, "generation");
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(std::optional<Generation> g, LoadGeneration(txn, id));
      if (!g) return absl::OkStatus();  // deleted meanwhile: nothing to tell
      notices.locale = g->options.locale;
      notices.high_priority = g->options.priority > 0;
      notices.created_by = g->created_by;
      struct Made {
        int64_t guest_id;
        std::string document_id, code;
      };
      std::vector<Made> made;
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT t.guest_id, i.document_id, t.ticket_code FROM ticket_generation_items i"
                    " JOIN tickets t ON t.id = i.ticket_id WHERE i.generation_id = ?"
                    " AND i.status = 'generated' AND t.guest_id <> 0 AND t.status <> 'cancelled'"
                    " AND (i.document_id = '' OR t.document_id = i.document_id)"  // not since
                                                                                  // reissued
                    " ORDER BY i.position",
                    {id}, [&](const Row& r) {
                      made.push_back({r.Int(0), std::string(r.Text(1)), std::string(r.Text(2))});
                      return true;
                    }));
      for (Made& m : made) {
        HERALD_RETURN_IF_ERROR(
            notices.Add(txn, m.guest_id, std::move(m.document_id), std::move(m.code), ""));
      }
      return absl::OkStatus();
    }));
    notices.key = StrCat("tickets/generation/", id);
    notices.metadata = {{"generationJobId", id}};
    notices.result = {{"generation", id}};
  }
  return SendNotices(job, notices);
}

Status TicketGenerator::SendNotices(engine::JobContext& job, const Notices& notices) {
  // Every PDF's record, in one read.
  std::vector<std::string> document_ids;
  for (const auto& [guest_id, gt] : notices.guests) {
    document_ids.insert(document_ids.end(), gt.document_ids.begin(), gt.document_ids.end());
  }
  HERALD_ASSIGN_OR_RETURN(std::vector<std::optional<docs::DocumentRecord>> found,
                          documents_.Find(document_ids));
  std::map<std::string_view, const docs::DocumentRecord*> records;
  for (size_t i = 0; i < found.size(); ++i) {
    if (!found[i]) return absl::NotFoundError(StrCat("no document ", document_ids[i]));
    records[document_ids[i]] = &*found[i];
  }

  int64_t sent = 0;
  int64_t skipped = 0;
  json::array errors;
  for (const auto& [guest_id, gt] : notices.guests) {
    if (job.cancelled()) return absl::CancelledError("cancelled");
    const Guest& guest = gt.guest;
    const Event& event = notices.events.at(guest.event_id);
    notify::SendRequest r;
    r.template_id = "ticket_generated";
    r.locale = notices.locale;
    r.high_priority = notices.high_priority;
    r.idempotency_key = StrCat(notices.key, "/guest/", guest_id);
    r.created_by = notices.created_by;
    r.metadata = notices.metadata;
    r.metadata["eventId"] = event.id;
    r.metadata["guestId"] = guest_id;
    std::string name = std::string(
        ToStd(absl::StripAsciiWhitespace(StrCat(guest.first_name, " ", guest.last_name))));
    json::array codes;
    for (const std::string& c : gt.codes) codes.emplace_back(c);
    r.data = {{"guest_name", name},
              {"first_name", guest.first_name},
              {"event_title", event.title},
              {"event_date", TimeText(event.event_date)},
              {"event_location", event.location},
              {"ticket_count", static_cast<int64_t>(gt.codes.size())},
              {"ticket_codes", std::move(codes)}};
    // Links to files made elsewhere: one is `ticket_url`; several are `ticket_links`.
    if (gt.urls.size() == 1) r.data["ticket_url"] = gt.urls[0];
    if (gt.urls.size() > 1) {
      json::array links;
      for (size_t i = 0; i < gt.urls.size(); ++i) {
        links.push_back(json::object{{"code", gt.codes[i]}, {"url", gt.urls[i]}});
      }
      r.data["ticket_links"] = std::move(links);
    }
    // A guest the notifier refuses (no provider for the channel...) is reported in the job's
    // result; the others are still told.
    auto submit = [&](const notify::SendRequest& request) -> Status {
      Result<notify::SubmitResult> submitted = notifier_.Submit(request);
      if (submitted.ok()) {
        ++sent;
        return absl::OkStatus();
      }
      if (!engine::IsPermanent(submitted.status())) return submitted.status();
      errors.push_back(json::object{{"guestId", guest_id},
                                    {"error", std::string(ToStd(submitted.status().message()))}});
      return absl::OkStatus();
    };
    if (!guest.email.empty()) {
      r.channel = notify::Channel::kEmail;
      r.to = guest.email;
      // The PDFs in as many emails as the notifier's attachment limit needs (about 270
      // tickets each); the first keeps the plain key, so one email is the common case.
      std::vector<std::vector<const docs::DocumentRecord*>> parts(1);
      size_t bytes = 0;
      for (const std::string& doc_id : gt.document_ids) {
        const docs::DocumentRecord* record = records.at(doc_id);
        const size_t size = static_cast<size_t>(record->size);
        if (!parts.back().empty() && bytes + size > notify::kMaxAttachmentBytes) {
          parts.emplace_back();
          bytes = 0;
        }
        bytes += size;
        parts.back().push_back(record);
      }
      for (size_t n = 0; n < parts.size(); ++n) {
        notify::SendRequest part = r;
        if (n > 0) part.idempotency_key = StrCat(r.idempotency_key, "/part-", n + 1);
        part.data["part"] = static_cast<int64_t>(n + 1);
        part.data["parts"] = static_cast<int64_t>(parts.size());
        for (const docs::DocumentRecord* record : parts[n]) {
          HERALD_ASSIGN_OR_RETURN(std::string pdf, documents_.ReadContent(*record));
          part.attachments.push_back({record->filename, record->content_type, std::move(pdf)});
        }
        HERALD_RETURN_IF_ERROR(submit(part));
      }
    } else if (!guest.phone.empty()) {
      r.channel = notify::Channel::kSms;
      r.to = guest.phone;
      HERALD_RETURN_IF_ERROR(submit(r));
    } else {
      ++skipped;  // no address to send to
    }
  }
  json::object result = notices.result;
  result["notified"] = sent;
  result["skipped"] = skipped;
  result["errors"] = std::move(errors);
  job.SetResult(json::serialize(result));
  return absl::OkStatus();
}

}  // namespace herald::apps::tickets
