#include "http/ticket_routes.h"

#include <charconv>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "apps/tickets/guest_csv.h"
#include "auth/crypto.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "docs/qr.h"
#include "http/json_fields.h"
#include "http/json_writer.h"

namespace herald::http {
namespace {

namespace json = boost::json;
namespace tk = apps::tickets;

constexpr int64_t kMaxId = int64_t{1} << 53;  // exact in every JSON client

json::object Ok(json::value data) {
  return json::object{{"success", true}, {"data", std::move(data)}};
}

json::value OptInt(const std::optional<int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::value IdOrNull(int64_t id) { return id == 0 ? json::value(nullptr) : json::value(id); }

Result<int64_t> ParseId(std::string_view field, std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > kMaxId) {
    return absl::InvalidArgumentError(StrCat(field, ": expected a positive integer id"));
  }
  return v;
}

Result<int64_t> PathId(const Request& req, std::string_view name = "id") {
  return ParseId(name, req.params.at(std::string(name)));
}

// An id the seeds' clients send as a JSON integer or a numeric string.
Result<std::optional<int64_t>> IdField(const Fields& f, std::string_view name) {
  const json::value* v = f.Get(name);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_string()) {
    HERALD_ASSIGN_OR_RETURN(
        int64_t id,
        ParseId(f.Name(name), std::string_view(v->as_string().data(), v->as_string().size())));
    return std::optional<int64_t>(id);
  }
  return f.Int(name, 1, kMaxId);
}

// An array of ids (JSON integers), if present.
Status IdArrayInto(const Fields& f, std::string_view name, std::vector<int64_t>& dest) {
  const json::value* ids = f.Get(name);
  if (ids == nullptr) return absl::OkStatus();
  if (!ids->is_array())
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected an array"));
  for (size_t i = 0; i < ids->as_array().size(); ++i) {
    const json::value& v = ids->as_array()[i];
    if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > kMaxId) {
      return absl::InvalidArgumentError(
          StrCat(f.Name(name), "[", i, "]: expected a positive integer"));
    }
    dest.push_back(v.as_int64());
  }
  return absl::OkStatus();
}

// A free identifier sent as a string or an integer ("operator-123" or 123).
Status TextOrIntInto(const Fields& f, std::string_view name, std::string& dest) {
  const json::value* v = f.Get(name);
  if (v == nullptr) return absl::OkStatus();
  if (v->is_int64() || v->is_uint64()) {
    dest = json::serialize(*v);
    return absl::OkStatus();
  }
  return f.StringInto(name, dest);
}

Result<tk::PageFilter> ParsePage(const Request& req) {
  tk::PageFilter f;
  if (auto c = req.Query("cursor"); c && !c->empty()) {
    HERALD_ASSIGN_OR_RETURN(f.after_id, ParseId("cursor", *c));
  }
  HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
  if (limit) f.limit = static_cast<int>(*limit);
  return f;
}

template <typename T, typename ToJson>
json::object Page(const std::vector<T>& list, int limit, ToJson to_json) {
  json::array data;
  for (const T& x : list) data.push_back(to_json(x));
  json::value next = nullptr;
  if (static_cast<int>(list.size()) == limit && !list.empty()) next = list.back().id;
  return json::object{{"success", true}, {"data", std::move(data)}, {"next_cursor", next}};
}

std::string Lang(const Request& req) {
  std::string_view al = req.Header("accept-language");
  return al.size() >= 2 && absl::AsciiStrToLower(ToAbsl(al.substr(0, 2))) == "fr" ? "fr" : "en";
}

// The JSON object a field holds, serialised (device details are stored as given).
Result<std::string> ObjectText(const Fields& f, std::string_view name) {
  const json::value* v = f.Get(name);
  if (v == nullptr) return std::string();
  if (!v->is_object())
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected an object"));
  return json::serialize(*v);
}

// ---- JSON of the entities

json::object EventJson(const tk::Event& e) {
  return json::object{{"id", e.id},
                      {"title", e.title},
                      {"description", e.description},
                      {"event_date", Rfc3339(e.event_date)},
                      {"end_date", Rfc3339OrNull(e.end_date)},
                      {"location", e.location},
                      {"timezone", e.timezone},
                      {"max_attendees", OptInt(e.max_attendees)},
                      {"status", tk::EventStatusName(e.status)},
                      {"code_mode", tk::CodeModeName(e.code_mode)},
                      {"reentry", e.reentry},
                      {"doors_open", Rfc3339(e.ValidFrom())},
                      {"doors_close", Rfc3339(e.ValidUntil())},
                      {"currency", e.currency},
                      {"created_at", Rfc3339(e.created_at)},
                      {"updated_at", Rfc3339(e.updated_at)}};
}

// A VAT rate in hundredths of a percent as the percentage the API speaks (2000: 20, 550: 5.5).
json::value VatPercent(int64_t hundredths) {
  if (hundredths % 100 == 0) return hundredths / 100;
  return static_cast<double>(hundredths) / 100.0;
}

json::object TypeJson(const tk::TicketType& t) {
  return json::object{{"id", t.id},
                      {"event_id", t.event_id},
                      {"name", t.name},
                      {"price", t.price},
                      {"vat_rate", VatPercent(t.vat_rate)},
                      {"quantity", OptInt(t.quantity)},
                      {"description", t.description},
                      {"created_at", Rfc3339(t.created_at)}};
}

json::object TemplateJson(const tk::TicketTemplate& t) {
  json::value layout = nullptr;
  if (!t.layout_json.empty()) {
    boost::system::error_code ec;
    layout = json::parse(t.layout_json, ec);
    if (ec) layout = nullptr;
  }
  return json::object{{"id", t.id},
                      {"name", t.name},
                      {"design", t.design},
                      {"layout", std::move(layout)},
                      {"price", t.price},
                      {"currency", t.currency},
                      {"vat_rate", VatPercent(t.vat_rate)},
                      {"premium", t.premium()},
                      {"created_at", Rfc3339(t.created_at)},
                      {"updated_at", Rfc3339(t.updated_at)}};
}

json::object GuestJson(const tk::Guest& g) {
  return json::object{{"id", g.id},
                      {"event_id", g.event_id},
                      {"first_name", g.first_name},
                      {"last_name", g.last_name},
                      {"email", g.email},
                      {"phone", g.phone},
                      {"created_at", Rfc3339(g.created_at)},
                      {"updated_at", Rfc3339(g.updated_at)}};
}

json::object TicketJson(const tk::Ticket& t) {
  return json::object{{"id", t.id},
                      {"event_id", t.event_id},
                      {"ticket_type_id", IdOrNull(t.ticket_type_id)},
                      {"guest_id", IdOrNull(t.guest_id)},
                      {"purchase_id", IdOrNull(t.purchase_id)},
                      {"template_id", IdOrNull(t.template_id)},
                      {"ticket_code", t.ticket_code},
                      {"seat", t.seat},
                      {"status", tk::TicketStatusName(t.status)},
                      {"generation", t.generation},
                      {"key_id", IdOrNull(t.key_id)},
                      {"qr_code_data", t.qr_code_data},
                      {"ticket_file_url", t.ticket_file_url},
                      {"ticket_file_path", t.ticket_file_path},
                      {"document_id", t.document_id},
                      {"generation_job_id", t.generation_job_id},
                      {"is_validated", t.is_validated},
                      {"validated_at", Rfc3339OrNull(t.validated_at)},
                      {"created_at", Rfc3339(t.created_at)},
                      {"updated_at", Rfc3339(t.updated_at)}};
}

json::object OperatorJson(const tk::Operator& op) {
  json::array gates;
  for (const std::string& g : op.gates) gates.push_back(json::value(g));
  return json::object{{"event_id", op.event_id},   {"operator_id", op.operator_id},
                      {"user_id", op.user_id},     {"name", op.name},
                      {"gates", std::move(gates)}, {"created_at", Rfc3339(op.created_at)}};
}

json::object GateJson(const tk::Gate& g) {
  return json::object{{"event_id", g.event_id},
                      {"gate_id", g.gate_id},
                      {"name", g.name},
                      {"kind", tk::GateKindName(g.kind)}};
}

json::object KeyJson(const tk::EventKey& k) {
  return json::object{
      {"key_id", k.key_id},
      {"algorithm", "Ed25519"},
      {"public_key", auth::Base64Encode(std::string_view(
                         reinterpret_cast<const char*>(k.public_key.data()), k.public_key.size()))},
      {"created_at", Rfc3339(k.created_at)},
      {"retired_at", Rfc3339OrNull(k.retired_at)},
      {"revoked_at", Rfc3339OrNull(k.revoked_at)}};
}

json::object ScanRecordJson(const tk::ScanRecord& s) {
  boost::system::error_code ec;
  json::value metadata = json::parse(s.metadata_json, ec);
  if (ec) metadata = json::object();
  return json::object{{"id", s.id},
                      {"event_id", IdOrNull(s.event_id)},
                      {"ticket_id", IdOrNull(s.ticket_id)},
                      {"scanner_id", s.scanner_id},
                      {"operator_id", s.operator_id},
                      {"gate", s.gate},
                      {"direction", s.direction},
                      {"result", s.result},
                      {"admitted", s.admitted},
                      {"source", s.source},
                      {"nonce", s.nonce.empty() ? json::value(nullptr) : json::value(s.nonce)},
                      {"device_time", Rfc3339OrNull(s.device_time)},
                      {"server_time", Rfc3339(s.server_time)},
                      {"conflict", s.conflict},
                      {"repeat_of", IdOrNull(s.repeat_of)},
                      {"metadata", std::move(metadata)}};
}

// ---- bodies

// "vat_rate": a percentage with at most two decimals (20, 5.5, 2.1), kept in hundredths of
// a percent; left as it is when absent.
Status VatRateInto(const Fields& f, int64_t& hundredths_out) {
  const json::value* v = f.Get("vat_rate");
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  const double percent = v->is_double()   ? v->as_double()
                         : v->is_int64()  ? static_cast<double>(v->as_int64())
                         : v->is_uint64() ? static_cast<double>(v->as_uint64())
                                          : -1;
  const double hundredths = percent * 100;
  if (!(percent >= 0 && percent <= 100) || std::fabs(hundredths - std::round(hundredths)) > 1e-6) {
    return absl::InvalidArgumentError(
        StrCat(f.Name("vat_rate"), ": expected a percentage from 0 to 100 (20, 5.5)"));
  }
  hundredths_out = std::llround(hundredths);
  return absl::OkStatus();
}

Result<tk::TicketType> ParseTicketType(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"name", "price", "vat_rate", "quantity", "description"}));
  tk::TicketType t;
  HERALD_RETURN_IF_ERROR(f.StringInto("name", t.name));
  HERALD_ASSIGN_OR_RETURN(auto price, f.Int("price", 0, int64_t{10'000'000'000}));
  t.price = price.value_or(0);
  HERALD_RETURN_IF_ERROR(VatRateInto(f, t.vat_rate));
  HERALD_ASSIGN_OR_RETURN(t.quantity, f.Int("quantity", 0, 10'000'000));
  HERALD_RETURN_IF_ERROR(f.StringInto("description", t.description));
  return t;
}

// A template from `body`. Its terms of sale (price, currency, VAT rate) are `terms`' where the
// body leaves them out: a replacement that only edits the design keeps the price.
Result<tk::TicketTemplate> ParseTemplate(const json::object& body,
                                         const tk::TicketTemplate& terms = {}) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"id", "name", "design", "layout", "price", "currency", "vat_rate"}));
  tk::TicketTemplate t;
  t.price = terms.price;
  t.currency = terms.currency;
  t.vat_rate = terms.vat_rate;
  HERALD_RETURN_IF_ERROR(f.StringInto("name", t.name));
  HERALD_RETURN_IF_ERROR(f.StringInto("design", t.design));
  HERALD_ASSIGN_OR_RETURN(auto price, f.Int("price", 0, int64_t{10'000'000'000}));
  if (price) t.price = *price;
  HERALD_RETURN_IF_ERROR(f.StringInto("currency", t.currency));
  t.currency = absl::AsciiStrToUpper(t.currency);
  HERALD_RETURN_IF_ERROR(VatRateInto(f, t.vat_rate));
  HERALD_ASSIGN_OR_RETURN(t.layout_json, ObjectText(f, "layout"));
  return t;
}

// Who may set a template's terms of sale: whoever sells templates (payments:update; the
// organiser, who buys them, may not make a premium template free).
Status MaySetTerms(const Request& req, const tk::TicketTemplate& before,
                   const tk::TicketTemplate& after) {
  if (after.price == before.price && after.currency == before.currency &&
      after.vat_rate == before.vat_rate) {
    return absl::OkStatus();
  }
  if (req.principal && req.principal->Can("payments:update")) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "permission 'payments:update' required to set a template's price, currency or vat_rate");
}

Result<tk::Guest> ParseGuest(const json::object& body, const std::string& prefix = "") {
  Fields f(body, prefix);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"first_name", "last_name", "name", "email", "phone"}));
  tk::Guest g;
  HERALD_RETURN_IF_ERROR(f.StringInto("first_name", g.first_name));
  HERALD_RETURN_IF_ERROR(f.StringInto("last_name", g.last_name));
  // Seed 002's complete flow sends one "name": split at its last space.
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> name, f.String("name"));
  if (name && g.first_name.empty() && g.last_name.empty()) {
    const size_t space = name->rfind(' ');
    if (space == std::string::npos) {
      g.last_name = *name;
    } else {
      g.first_name = name->substr(0, space);
      g.last_name = name->substr(space + 1);
    }
  }
  HERALD_RETURN_IF_ERROR(f.StringInto("email", g.email));
  HERALD_RETURN_IF_ERROR(f.StringInto("phone", g.phone));
  return g;
}

Result<tk::IssueRequest> ParseIssue(const json::object& body, const std::string& prefix) {
  Fields f(body, prefix);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"ticket_code", "guest_id", "ticket_type_id", "seat",
                                       "seat_number", "template_id", "status"}));
  tk::IssueRequest r;
  HERALD_RETURN_IF_ERROR(f.StringInto("ticket_code", r.ticket_code));
  HERALD_ASSIGN_OR_RETURN(auto guest, IdField(f, "guest_id"));
  HERALD_ASSIGN_OR_RETURN(auto type, IdField(f, "ticket_type_id"));
  HERALD_ASSIGN_OR_RETURN(auto tmpl, IdField(f, "template_id"));
  r.guest_id = guest.value_or(0);
  r.ticket_type_id = type.value_or(0);
  r.template_id = tmpl.value_or(0);
  HERALD_RETURN_IF_ERROR(f.StringInto("seat_number", r.seat));
  HERALD_RETURN_IF_ERROR(f.StringInto("seat", r.seat));
  HERALD_ASSIGN_OR_RETURN(auto status, f.String("status"));
  if (status) {
    HERALD_ASSIGN_OR_RETURN(r.status, tk::ParseTicketStatus(*status));
  }
  return r;
}

// PATCH /api/tickets/{id}: the fields it has change; "guest_id": null takes the guest away.
Result<tk::Ticketing::TicketChange> ParseTicketChange(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"guest_id", "seat", "seat_number"}));
  if (body.empty()) return absl::InvalidArgumentError("expected guest_id or seat");
  tk::Ticketing::TicketChange c;
  HERALD_ASSIGN_OR_RETURN(c.guest_id, IdField(f, "guest_id"));
  if (const json::value* g = body.if_contains("guest_id"); g != nullptr && g->is_null()) {
    c.guest_id = 0;
  }
  HERALD_ASSIGN_OR_RETURN(c.seat, f.String("seat_number"));
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> seat, f.String("seat"));
  if (seat) c.seat = std::move(seat);
  return c;
}

Result<tk::Operator> ParseOperator(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"user_id", "name", "gates"}));
  tk::Operator op;
  HERALD_RETURN_IF_ERROR(f.StringInto("user_id", op.user_id));
  HERALD_RETURN_IF_ERROR(f.StringInto("name", op.name));
  if (const json::value* gates = f.Get("gates")) {
    if (!gates->is_array())
      return absl::InvalidArgumentError("gates: expected an array of gate ids");
    for (const json::value& g : gates->as_array()) {
      if (!g.is_string()) return absl::InvalidArgumentError("gates: expected an array of gate ids");
      op.gates.emplace_back(g.as_string());
    }
  }
  return op;
}

Result<tk::Gate> ParseGate(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"name", "kind"}));
  tk::Gate g;
  HERALD_RETURN_IF_ERROR(f.StringInto("name", g.name));
  HERALD_ASSIGN_OR_RETURN(auto kind, f.String("kind"));
  if (kind) {
    HERALD_ASSIGN_OR_RETURN(g.kind, tk::ParseGateKind(*kind));
  }
  return g;
}

// A list body ({"<key>": [...]}) or a single object: the objects to read.
Result<std::vector<const json::object*>> OneOrMany(const json::object& body, std::string_view key,
                                                   size_t max) {
  std::vector<const json::object*> out;
  const json::value* list = body.if_contains(json::string_view(key.data(), key.size()));
  if (list == nullptr) {
    out.push_back(&body);
    return out;
  }
  if (body.size() != 1) {
    return absl::InvalidArgumentError(StrCat("send either one object or {\"", key, "\": [...]}"));
  }
  if (!list->is_array() || list->as_array().empty() || list->as_array().size() > max) {
    return absl::InvalidArgumentError(StrCat(key, ": expected 1 to ", max, " objects"));
  }
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    if (!list->as_array()[i].is_object()) {
      return absl::InvalidArgumentError(StrCat(key, "[", i, "]: expected an object"));
    }
    out.push_back(&list->as_array()[i].as_object());
  }
  return out;
}

Status Direction(const Fields& f, tk::ScanRequest& r) {
  std::string dir = "entry";
  HERALD_RETURN_IF_ERROR(f.StringInto("direction", dir));
  if (dir == "entry") return absl::OkStatus();
  if (dir == "exit") {
    r.exit = true;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(StrCat(f.Name("direction"), ": expected entry or exit"));
}

// A scan's location: a gate name ("Entrée principale") or seed 002's {gate, section,
// coordinates}; the whole object also goes to the scan's metadata.
Status LocationInto(const Fields& f, std::string_view name, tk::ScanRequest& r,
                    json::object& metadata) {
  const json::value* loc = f.Get(name);
  if (loc == nullptr) return absl::OkStatus();
  if (loc->is_string()) {
    r.gate = std::string(loc->as_string());
    return absl::OkStatus();
  }
  if (!loc->is_object()) {
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected a string or an object"));
  }
  Fields lf(loc->as_object(), StrCat(f.Name(name), "."));
  HERALD_RETURN_IF_ERROR(lf.CheckKnown({"gate", "section", "coordinates", "checkpoint"}));
  HERALD_RETURN_IF_ERROR(lf.StringInto("gate", r.gate));
  metadata["location"] = *loc;
  return absl::OkStatus();
}

// ---- scope of operators

bool IsOperator(const Request& req) {
  return req.principal && req.principal->kind == auth::Principal::Kind::kUser &&
         req.principal->role == auth::Role::kOperator;
}

// Callers with the operator role act only on events where they are door staff.
Status CheckOperatorScope(tk::Ticketing& t, const Request& req, int64_t event_id) {
  if (!IsOperator(req)) return absl::OkStatus();
  HERALD_ASSIGN_OR_RETURN(std::vector<tk::Operator> ops, t.ListOperators(event_id));
  for (const tk::Operator& op : ops) {
    if (op.user_id == req.principal->id) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(StrCat("you are not door staff of event ", event_id));
}

// The ticket type {type} of event `event_id` (NotFound when it is another event's).
Result<tk::TicketType> EventsTicketType(tk::Ticketing& t, const Request& req, int64_t event_id) {
  HERALD_ASSIGN_OR_RETURN(int64_t type_id, PathId(req, "type"));
  Result<tk::TicketType> x = t.GetTicketType(type_id);
  if (x.ok() && x->event_id != event_id) {
    return absl::NotFoundError(StrCat("event ", event_id, " has no ticket type ", type_id));
  }
  return x;
}

void ScopeScan(const Request& req, tk::ScanRequest& r) {
  if (IsOperator(req)) r.user_id = req.principal->id;
}

json::object StatsJson(const tk::ScanStats& st) {
  json::object reasons;
  for (const auto& [reason, n] : st.by_reason) reasons[reason] = n;
  json::array gates;
  for (const tk::GateCount& g : st.by_gate) {
    gates.push_back(json::object{
        {"gate", g.gate}, {"entries", g.entries}, {"exits", g.exits}, {"refused", g.refused}});
  }
  return json::object{{"event_id", st.event_id},         {"tickets", st.tickets},
                      {"admitted", st.admitted},         {"inside", st.inside},
                      {"capacity", OptInt(st.capacity)}, {"scans", st.scans},
                      {"conflicts", st.conflicts},       {"by_reason", std::move(reasons)},
                      {"by_gate", std::move(gates)}};
}

}  // namespace

std::vector<Status> ParseTicketingBodies(const json::object& body) {
  return {ParseTicketType(body).status(),  ParseTemplate(body).status(), ParseGuest(body).status(),
          ParseIssue(body, "").status(),   ParseOperator(body).status(), ParseGate(body).status(),
          ParseTicketChange(body).status()};
}

// ---- public parsers

Result<tk::Event> ParseEvent(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"id", "event_id", "title", "description", "event_date", "date", "end_date",
                    "location", "timezone", "max_attendees", "status", "code_mode", "reentry",
                    "doors_open", "doors_close", "currency"}));
  tk::Event e;
  HERALD_ASSIGN_OR_RETURN(auto id, IdField(f, "id"));
  HERALD_ASSIGN_OR_RETURN(auto event_id, IdField(f, "event_id"));
  e.id = id.value_or(event_id.value_or(0));
  HERALD_RETURN_IF_ERROR(f.StringInto("title", e.title));
  HERALD_RETURN_IF_ERROR(f.StringInto("description", e.description));
  HERALD_ASSIGN_OR_RETURN(auto date, f.Time("event_date"));
  if (!date) {
    HERALD_ASSIGN_OR_RETURN(date, f.Time("date"));
  }
  if (!date) return absl::InvalidArgumentError("event_date: required (RFC 3339)");
  e.event_date = *date;
  HERALD_ASSIGN_OR_RETURN(e.end_date, f.Time("end_date"));
  HERALD_RETURN_IF_ERROR(f.StringInto("location", e.location));
  HERALD_RETURN_IF_ERROR(f.StringInto("timezone", e.timezone));
  HERALD_ASSIGN_OR_RETURN(e.max_attendees, f.Int("max_attendees", 1, 10'000'000));
  HERALD_ASSIGN_OR_RETURN(auto status, f.String("status"));
  if (status) {
    // "published" is what several planners call an event on sale.
    HERALD_ASSIGN_OR_RETURN(e.status,
                            tk::ParseEventStatus(*status == "published" ? "active" : *status));
  }
  HERALD_ASSIGN_OR_RETURN(auto mode, f.String("code_mode"));
  if (mode) {
    HERALD_ASSIGN_OR_RETURN(e.code_mode, tk::ParseCodeMode(*mode));
  }
  HERALD_ASSIGN_OR_RETURN(auto reentry, f.Bool("reentry"));
  e.reentry = reentry.value_or(false);
  HERALD_ASSIGN_OR_RETURN(e.doors_open, f.Time("doors_open"));
  HERALD_ASSIGN_OR_RETURN(e.doors_close, f.Time("doors_close"));
  HERALD_RETURN_IF_ERROR(f.StringInto("currency", e.currency));
  return e;
}

Result<tk::ScanRequest> ParseScan(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"ticket_code", "qrCodeData", "event_id", "eventId", "scanner_id",
                    "validation_result", "scan_location", "location", "scan_metadata", "timestamp",
                    "operator_id", "operatorId", "nonce", "direction", "gate", "admitted"}));
  tk::ScanRequest r;
  HERALD_RETURN_IF_ERROR(f.StringInto("ticket_code", r.code));
  HERALD_RETURN_IF_ERROR(f.StringInto("qrCodeData", r.code));
  if (r.code.empty()) return absl::InvalidArgumentError("ticket_code: required (or qrCodeData)");
  HERALD_ASSIGN_OR_RETURN(auto event, IdField(f, "event_id"));
  if (!event) {
    HERALD_ASSIGN_OR_RETURN(event, IdField(f, "eventId"));
  }
  r.event_id = event.value_or(0);
  HERALD_RETURN_IF_ERROR(f.StringInto("scanner_id", r.scanner_id));
  HERALD_RETURN_IF_ERROR(TextOrIntInto(f, "operator_id", r.operator_id));
  HERALD_RETURN_IF_ERROR(TextOrIntInto(f, "operatorId", r.operator_id));
  json::object metadata;
  HERALD_RETURN_IF_ERROR(LocationInto(f, "scan_location", r, metadata));
  HERALD_RETURN_IF_ERROR(LocationInto(f, "location", r, metadata));
  HERALD_RETURN_IF_ERROR(f.StringInto("gate", r.gate));
  if (const json::value* m = f.Get("scan_metadata")) {
    if (!m->is_object()) return absl::InvalidArgumentError("scan_metadata: expected an object");
    metadata["device"] = *m;
  }
  // What the client believed: kept for the record, never trusted.
  HERALD_ASSIGN_OR_RETURN(auto claimed, f.String("validation_result"));
  if (claimed) metadata["client_result"] = *claimed;
  HERALD_ASSIGN_OR_RETURN(r.device_time, f.Time("timestamp"));
  HERALD_RETURN_IF_ERROR(f.StringInto("nonce", r.nonce));
  HERALD_RETURN_IF_ERROR(Direction(f, r));
  HERALD_ASSIGN_OR_RETURN(auto admitted, f.Bool("admitted"));
  r.device_admitted = admitted.value_or(false);
  if (!metadata.empty()) r.metadata_json = json::serialize(metadata);
  return r;
}

Result<tk::ScanRequest> ParseInternalScan(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"ticketId", "eventId", "ticketType", "userId", "scanContext",
                    "validationMetadata", "qrCodeData", "operatorId", "location"}));
  tk::ScanRequest r;
  r.source = tk::ScanSource::kInternal;
  HERALD_ASSIGN_OR_RETURN(auto ticket, IdField(f, "ticketId"));
  r.ticket_id = ticket.value_or(0);
  HERALD_RETURN_IF_ERROR(f.StringInto("qrCodeData", r.code));
  if (r.ticket_id == 0 && r.code.empty()) {
    return absl::InvalidArgumentError("ticketId: required (or qrCodeData)");
  }
  HERALD_ASSIGN_OR_RETURN(auto event, IdField(f, "eventId"));
  r.event_id = event.value_or(0);
  HERALD_RETURN_IF_ERROR(TextOrIntInto(f, "operatorId", r.operator_id));
  json::object metadata;
  HERALD_RETURN_IF_ERROR(LocationInto(f, "location", r, metadata));
  if (const json::value* ctx = f.Get("scanContext")) {
    if (!ctx->is_object()) return absl::InvalidArgumentError("scanContext: expected an object");
    Fields c(ctx->as_object(), "scanContext.");
    HERALD_RETURN_IF_ERROR(c.CheckKnown({"operatorId", "location", "deviceId", "checkpointId"}));
    HERALD_RETURN_IF_ERROR(TextOrIntInto(c, "operatorId", r.operator_id));
    HERALD_RETURN_IF_ERROR(LocationInto(c, "location", r, metadata));
    HERALD_RETURN_IF_ERROR(c.StringInto("deviceId", r.scanner_id));
    std::string checkpoint;
    HERALD_RETURN_IF_ERROR(c.StringInto("checkpointId", checkpoint));
    if (!checkpoint.empty()) metadata["checkpoint"] = checkpoint;
  }
  if (const json::value* vm = f.Get("validationMetadata")) {
    if (!vm->is_object()) {
      return absl::InvalidArgumentError("validationMetadata: expected an object");
    }
    metadata["validation"] = *vm;
  }
  std::string type, user;
  HERALD_RETURN_IF_ERROR(f.StringInto("ticketType", type));
  HERALD_RETURN_IF_ERROR(TextOrIntInto(f, "userId", user));
  if (!type.empty()) metadata["ticket_type"] = type;
  if (!user.empty()) metadata["user_id"] = user;
  if (!metadata.empty()) r.metadata_json = json::serialize(metadata);
  return r;
}

Result<tk::ScanRequest> ParseScanConfirmation(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"ticketId", "scanId", "status", "operatorId", "location", "scannedAt"}));
  tk::ScanRequest r;
  r.source = tk::ScanSource::kInternal;
  HERALD_ASSIGN_OR_RETURN(auto ticket, IdField(f, "ticketId"));
  if (!ticket) return absl::InvalidArgumentError("ticketId: required");
  r.ticket_id = *ticket;
  HERALD_RETURN_IF_ERROR(TextOrIntInto(f, "scanId", r.nonce));
  if (r.nonce.empty()) return absl::InvalidArgumentError("scanId: required");
  HERALD_ASSIGN_OR_RETURN(auto status, f.String("status"));
  if (status && *status != "validated") {
    return absl::InvalidArgumentError("status: expected validated");
  }
  HERALD_RETURN_IF_ERROR(TextOrIntInto(f, "operatorId", r.operator_id));
  json::object metadata;
  HERALD_RETURN_IF_ERROR(LocationInto(f, "location", r, metadata));
  HERALD_ASSIGN_OR_RETURN(r.device_time, f.Time("scannedAt"));
  if (!metadata.empty()) r.metadata_json = json::serialize(metadata);
  return r;
}

Result<tk::PurchaseRequest> ParsePurchase(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(
      f.CheckKnown({"amount", "currency", "description", "customerEmail", "customerName",
                    "returnUrl", "preferredGateways", "metadata", "eventId", "items"}));
  tk::PurchaseRequest r;
  if (const json::value* amount = f.Get("amount")) {
    if (!amount->is_number()) return absl::InvalidArgumentError("amount: expected a number");
    const double units = amount->to_number<double>();
    if (!(units >= 0 && units < 1e12)) return absl::InvalidArgumentError("amount: out of range");
    r.client_amount = static_cast<int64_t>(units * 100 + 0.5);
  }
  HERALD_RETURN_IF_ERROR(f.StringInto("currency", r.currency));
  HERALD_RETURN_IF_ERROR(f.StringInto("description", r.description));
  HERALD_RETURN_IF_ERROR(f.StringInto("customerEmail", r.customer_email));
  HERALD_RETURN_IF_ERROR(f.StringInto("customerName", r.customer_name));
  HERALD_RETURN_IF_ERROR(f.StringInto("returnUrl", r.return_url));
  if (const json::value* g = f.Get("preferredGateways"); g != nullptr && !g->is_array()) {
    return absl::InvalidArgumentError("preferredGateways: expected an array");
  }
  HERALD_ASSIGN_OR_RETURN(auto event, IdField(f, "eventId"));
  if (const json::value* md = f.Get("metadata")) {
    if (!md->is_object()) return absl::InvalidArgumentError("metadata: expected an object");
    Fields m(md->as_object(), "metadata.");
    HERALD_RETURN_IF_ERROR(m.CheckKnown({"eventId", "ticketIds", "source"}));
    if (!event) {
      HERALD_ASSIGN_OR_RETURN(event, IdField(m, "eventId"));
    }
    HERALD_RETURN_IF_ERROR(IdArrayInto(m, "ticketIds", r.ticket_ids));
  }
  r.event_id = event.value_or(0);
  if (const json::value* items = f.Get("items")) {
    if (!items->is_array()) return absl::InvalidArgumentError("items: expected an array");
    for (size_t i = 0; i < items->as_array().size(); ++i) {
      const json::value& v = items->as_array()[i];
      if (!v.is_object())
        return absl::InvalidArgumentError(StrCat("items[", i, "]: expected an object"));
      Fields it(v.as_object(), StrCat("items[", i, "]."));
      HERALD_RETURN_IF_ERROR(it.CheckKnown({"ticketTypeId", "quantity"}));
      tk::PurchaseLine line;
      HERALD_ASSIGN_OR_RETURN(auto type, IdField(it, "ticketTypeId"));
      line.ticket_type_id = type.value_or(0);
      HERALD_ASSIGN_OR_RETURN(auto quantity, it.Int("quantity", 1, 100));
      line.quantity = quantity.value_or(1);
      r.lines.push_back(line);
    }
  }
  return r;
}

// A scan's answer as JSON text, written without a tree: the door-scan route's hot path.
std::string ScanResultText(const tk::ScanResult& r, std::string_view lang) {
  auto time_or_null = [](const std::optional<absl::Time>& t) {
    return t ? std::optional<std::string>(Rfc3339(*t)) : std::nullopt;
  };
  JsonWriter j;
  j.BeginObject()
      .Bool("valid", r.valid)
      .String("reason", r.reason)
      .String("message", tk::Message(r.reason, lang, r.exit))
      .BeginObject("messages")
      .String("fr", tk::Message(r.reason, "fr", r.exit))
      .String("en", tk::Message(r.reason, "en", r.exit))
      .EndObject()
      .IdOrNull("scanId", r.scan_id)
      .Bool("repeat", r.repeat)
      .Bool("conflict", r.conflict)
      .Bool("reentry", r.reentry)
      .String("direction", r.exit ? "exit" : "entry")
      .IdOrNull("eventId", r.event_id)
      .IdOrNull("ticketId", r.ticket_id)
      .IdOrNull("guestId", r.guest_id)
      .String("ticketCode", r.ticket_code)
      .String("ticketType", r.ticket_type)
      .String("seat", r.seat)
      .String("guestName", r.guest_name)
      .Int("scanCount", r.scan_count)
      .StringOrNull("lastScanAt", time_or_null(r.last_scan_at));
  if (r.first) {
    j.BeginObject("firstScan")
        .Int("scanId", r.first->scan_id)
        .String("at", Rfc3339(r.first->at))
        .String("gate", r.first->gate)
        .String("operatorId", r.first->operator_id)
        .String("scannerId", r.first->scanner_id)
        .EndObject();
  } else {
    j.Null("firstScan");
  }
  return j.String("serverTime", Rfc3339(r.server_time)).EndObject().Take();
}

// The same answer as a tree, for the routes that put it inside another.
json::object ScanResultJson(const tk::ScanResult& r, std::string_view lang) {
  json::parse_options text;
  text.allow_invalid_utf8 = true;  // as written: a name from an import may not be UTF-8
  return json::parse(ScanResultText(r, lang), {}, text).as_object();
}

void AddTicketRoutes(Router& router, tk::Ticketing& t, tk::Scanner& scanner) {
  const std::string tag = "tickets";

  // ---- events
  router.Add({"GET", "/api/events", "events:read", "Events by id; cursor, limit",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter f, ParsePage(req));
                // Door staff see the events they work at, no other.
                HERALD_ASSIGN_OR_RETURN(auto list,
                                        t.ListEvents(f, IsOperator(req) ? req.principal->id : ""));
                return Response::Json(200, Page(list, f.limit, EventJson));
              },
              200, tag, PageQuery()});
  router.Add({"POST", "/api/events", "events:create",
              "Create an event (title, event_date, location, max_attendees, status, code_mode...)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::Event e, ParseEvent(body));
                HERALD_ASSIGN_OR_RETURN(tk::Event created, t.CreateEvent(std::move(e)));
                return Response::Json(201, Ok(EventJson(created)));
              },
              201, tag});
  router.Add({"GET", "/api/events/{id}", "events:read", "An event",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(tk::Event e, t.GetEvent(id));
                return Response::Json(200, Ok(EventJson(e)));
              },
              200, tag});
  router.Add({"PUT", "/api/events/{id}", "events:update", "Replace an event's fields",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::Event e, ParseEvent(body));
                if (e.id != 0 && e.id != id) {
                  return absl::InvalidArgumentError("id: differs from the path");
                }
                e.id = id;
                HERALD_ASSIGN_OR_RETURN(tk::Event updated, t.UpdateEvent(e));
                return Response::Json(200, Ok(EventJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", "/api/events/{id}", "events:delete",
              "Delete an event without tickets (cancel it otherwise)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(t.DeleteEvent(id));
                return Response::Json(200, Ok(json::object{{"deleted", id}}));
              },
              200, tag});

  // ---- ticket types
  router.Add({"GET", "/api/events/{id}/ticket-types", "events:read", "An event's ticket types",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListTicketTypes(id));
                json::array data;
                for (const tk::TicketType& x : list) data.push_back(TypeJson(x));
                return Response::Json(200, Ok(std::move(data)));
              },
              200, tag});
  router.Add({"POST", "/api/events/{id}/ticket-types", "events:update",
              "Add a ticket type (name, price in cents, quantity)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::TicketType x, ParseTicketType(body));
                x.event_id = id;
                HERALD_ASSIGN_OR_RETURN(tk::TicketType created, t.CreateTicketType(std::move(x)));
                return Response::Json(201, Ok(TypeJson(created)));
              },
              201, tag});
  router.Add({"GET", "/api/events/{id}/ticket-types/{type}", "events:read", "A ticket type",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(tk::TicketType x, EventsTicketType(t, req, id));
                return Response::Json(200, Ok(TypeJson(x)));
              },
              200, tag});
  router.Add({"PUT", "/api/events/{id}/ticket-types/{type}", "events:update",
              "Replace a ticket type's fields; its price and VAT rate only while it has no ticket",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::TicketType x, ParseTicketType(body));
                HERALD_ASSIGN_OR_RETURN(tk::TicketType old, EventsTicketType(t, req, id));
                x.id = old.id;
                HERALD_ASSIGN_OR_RETURN(tk::TicketType updated, t.UpdateTicketType(x));
                return Response::Json(200, Ok(TypeJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", "/api/events/{id}/ticket-types/{type}", "events:update",
              "Delete a ticket type no ticket has",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::TicketType x, EventsTicketType(t, req, id));
                HERALD_RETURN_IF_ERROR(t.DeleteTicketType(x.id));
                return Response::Json(200, Ok(json::object{{"deleted", x.id}}));
              },
              200, tag});

  // ---- guests
  router.Add({"GET", "/api/events/{id}/guests", "guests:read", "An event's guests; cursor, limit",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter f, ParsePage(req));
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListGuests(id, f));
                return Response::Json(200, Page(list, f.limit, GuestJson));
              },
              200, tag, PageQuery()});
  router.Add({"POST", "/api/events/{id}/guests", "guests:create",
              "Add one guest, or {\"guests\": [...]} all or none",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(auto objects, OneOrMany(body, "guests", 10000));
                const bool many = body.contains("guests");
                std::vector<tk::Guest> guests;
                for (size_t i = 0; i < objects.size(); ++i) {
                  HERALD_ASSIGN_OR_RETURN(
                      tk::Guest g, ParseGuest(*objects[i], many ? StrCat("guests[", i, "].") : ""));
                  g.event_id = id;
                  guests.push_back(std::move(g));
                }
                HERALD_ASSIGN_OR_RETURN(auto created, t.CreateGuests(std::move(guests)));
                if (!many) return Response::Json(201, Ok(GuestJson(created[0])));
                json::array data;
                for (const tk::Guest& g : created) data.push_back(GuestJson(g));
                return Response::Json(201, Ok(std::move(data)));
              },
              201, tag});
  router.Add(
      {"POST",
       "/api/events/{id}/guests/import",
       "guests:create",
       "Import guests from CSV (Excel/Sheets export); bad rows reported by line; ?dry_run=true",
       [&t](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
         HERALD_RETURN_IF_ERROR(t.GetEvent(id).status());
         const bool dry_run = req.Query("dry_run").value_or("") == "true";
         HERALD_ASSIGN_OR_RETURN(tk::GuestCsv csv, tk::ParseGuestCsv(req.body));
         // Rows whose email another guest of the event already has are errors too.
         absl::flat_hash_set<std::string> taken;
         for (tk::PageFilter page{0, 1000};;) {
           HERALD_ASSIGN_OR_RETURN(auto batch, t.ListGuests(id, page));
           for (const tk::Guest& g : batch) {
             if (!g.email.empty()) taken.insert(g.email);
           }
           if (batch.size() < 1000) break;
           page.after_id = batch.back().id;
         }
         std::vector<tk::Guest> guests;
         json::array errors;
         for (const tk::RowError& e : csv.errors) {
           errors.push_back(
               json::object{{"line", e.line}, {"field", e.field}, {"message", e.message}});
         }
         for (const tk::GuestRow& row : csv.rows) {
           tk::Guest g;
           g.event_id = id;
           g.first_name = row.first_name;
           g.last_name = row.last_name;
           g.email = row.email;
           g.phone = row.phone;
           // The store's own rules, so a row it would refuse is reported, not the whole file.
           if (Status v = tk::ValidateGuest(g); !v.ok()) {
             std::string_view m = ToStd(v.message());
             const size_t colon = m.find(':');
             errors.push_back(
                 json::object{{"line", row.line},
                              {"field", colon == std::string_view::npos ? "" : m.substr(0, colon)},
                              {"message", m}});
             continue;
           }
           if (!g.email.empty() && !taken.insert(g.email).second) {
             errors.push_back(json::object{
                 {"line", row.line},
                 {"field", "email"},
                 {"message", StrCat("a guest of event ", id, " already has ", g.email)}});
             continue;
           }
           guests.push_back(std::move(g));
         }
         json::array imported;
         if (!dry_run && !guests.empty()) {
           HERALD_ASSIGN_OR_RETURN(auto created, t.CreateGuests(std::move(guests)));
           for (const tk::Guest& g : created) imported.push_back(GuestJson(g));
         }
         json::array ignored;
         for (const std::string& c : csv.ignored_columns) ignored.push_back(json::value(c));
         const int64_t valid = static_cast<int64_t>(dry_run ? guests.size() : imported.size());
         return Response::Json(200,
                               Ok(json::object{{"records", csv.records},
                                               {"imported", dry_run ? 0 : valid},
                                               {"valid", valid},
                                               {"rejected", static_cast<int64_t>(errors.size())},
                                               {"dry_run", dry_run},
                                               {"errors", std::move(errors)},
                                               {"ignored_columns", std::move(ignored)},
                                               {"guests", std::move(imported)}}));
       },
       200,
       tag,
       {{"dry_run", "true: check the file, import nothing", "boolean"}}});
  router.Add({"GET", "/api/guests/{id}", "guests:read", "A guest",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Guest g, t.GetGuest(id));
                return Response::Json(200, Ok(GuestJson(g)));
              },
              200, tag});
  router.Add({"PUT", "/api/guests/{id}", "guests:update", "Replace a guest's fields",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::Guest g, ParseGuest(body));
                g.id = id;
                HERALD_ASSIGN_OR_RETURN(tk::Guest updated, t.UpdateGuest(g));
                return Response::Json(200, Ok(GuestJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", "/api/guests/{id}", "guests:delete", "Delete a guest without tickets",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(t.DeleteGuest(id));
                return Response::Json(200, Ok(json::object{{"deleted", id}}));
              },
              200, tag});

  // ---- gates and operators
  router.Add({"GET", "/api/events/{id}/gates", "events:read", "An event's gates",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListGates(id));
                json::array data;
                for (const tk::Gate& g : list) data.push_back(GateJson(g));
                return Response::Json(200, Ok(std::move(data)));
              },
              200, tag});
  router.Add({"PUT", "/api/events/{id}/gates/{gate}", "events:update",
              "Create or replace a gate (name, kind entry|exit|both)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::Gate g, ParseGate(body));
                g.event_id = id;
                g.gate_id = req.params.at("gate");
                HERALD_ASSIGN_OR_RETURN(tk::Gate saved, t.PutGate(std::move(g)));
                return Response::Json(200, Ok(GateJson(saved)));
              },
              200, tag});
  router.Add({"DELETE", "/api/events/{id}/gates/{gate}", "events:update",
              "Delete a gate no operator is assigned to",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(t.DeleteGate(id, req.params.at("gate")));
                return Response::Json(200, Ok(json::object{{"deleted", req.params.at("gate")}}));
              },
              200, tag});
  router.Add({"GET", "/api/events/{id}/operators", "events:read", "An event's door staff",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListOperators(id));
                json::array data;
                for (const tk::Operator& op : list) data.push_back(OperatorJson(op));
                return Response::Json(200, Ok(std::move(data)));
              },
              200, tag});
  router.Add({"PUT", "/api/events/{id}/operators/{operator}", "events:update",
              "Make someone door staff of the event (user_id, name, gates)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::Operator op, ParseOperator(body));
                op.event_id = id;
                op.operator_id = req.params.at("operator");
                HERALD_ASSIGN_OR_RETURN(tk::Operator saved, t.PutOperator(std::move(op)));
                return Response::Json(200, Ok(OperatorJson(saved)));
              },
              200, tag});
  router.Add(
      {"DELETE", "/api/events/{id}/operators/{operator}", "events:update",
       "Remove someone from the event's door staff",
       [&t](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
         HERALD_RETURN_IF_ERROR(t.DeleteOperator(id, req.params.at("operator")));
         return Response::Json(200, Ok(json::object{{"deleted", req.params.at("operator")}}));
       },
       200, tag});

  // ---- keys
  router.Add({"GET", "/api/events/{id}/keys", "events:read",
              "An event's signing keys (public halves)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListKeys(id));
                json::array data;
                for (const tk::EventKey& k : list) data.push_back(KeyJson(k));
                return Response::Json(200, Ok(std::move(data)));
              },
              200, tag});
  router.Add({"POST", "/api/events/{id}/keys/rotate", "events:update",
              "A new signing key for the event's next tickets",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::EventKey k, t.RotateKey(id));
                return Response::Json(201, Ok(KeyJson(k)));
              },
              201, tag});
  router.Add({"POST", "/api/events/{id}/keys/{key}/revoke", "events:update",
              "Revoke a signing key: every code it signed is refused",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(int64_t key, PathId(req, "key"));
                HERALD_ASSIGN_OR_RETURN(tk::EventKey k, t.RevokeKey(id, key));
                return Response::Json(200, Ok(KeyJson(k)));
              },
              200, tag});

  // ---- templates
  router.Add({"GET", "/api/ticket-templates", "tickets:read", "Ticket templates; cursor, limit",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter f, ParsePage(req));
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListTemplates(f));
                return Response::Json(200, Page(list, f.limit, TemplateJson));
              },
              200, tag, PageQuery()});
  router.Add({"POST", "/api/ticket-templates", "tickets:create",
              "Create a ticket template (name, design, optional document layout)",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::TicketTemplate x, ParseTemplate(body));
                HERALD_RETURN_IF_ERROR(MaySetTerms(req, {}, x));
                HERALD_ASSIGN_OR_RETURN(tk::TicketTemplate created, t.CreateTemplate(std::move(x)));
                return Response::Json(201, Ok(TemplateJson(created)));
              },
              201, tag});
  router.Add({"GET", "/api/ticket-templates/{id}", "tickets:read", "A ticket template",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::TicketTemplate x, t.GetTemplate(id));
                return Response::Json(200, Ok(TemplateJson(x)));
              },
              200, tag});
  router.Add({"GET", "/api/ticket-templates/{id}/licences/{event}", "tickets:read",
              "A premium template's licence for an event: tickets bought (template purchases),"
              " used and left",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(int64_t event_id, PathId(req, "event"));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, event_id));
                HERALD_ASSIGN_OR_RETURN(tk::Ticketing::TemplateUse use,
                                        t.TemplateUseOf(id, event_id));
                json::value remaining = nullptr;  // a free template has no limit
                if (use.premium) remaining = use.remaining();
                return Response::Json(200, Ok(json::object{{"template_id", id},
                                                           {"event_id", event_id},
                                                           {"premium", use.premium},
                                                           {"licensed", use.licensed},
                                                           {"used", use.used},
                                                           {"remaining", std::move(remaining)}}));
              },
              200, tag});
  router.Add({"PUT", "/api/ticket-templates/{id}", "tickets:update", "Replace a ticket template",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(
                    tk::TicketTemplate updated,
                    t.UpdateTemplate(
                        id, [&](const tk::TicketTemplate& stored) -> Result<tk::TicketTemplate> {
                          HERALD_ASSIGN_OR_RETURN(tk::TicketTemplate x,
                                                  ParseTemplate(body, stored));
                          HERALD_RETURN_IF_ERROR(MaySetTerms(req, stored, x));
                          return x;
                        }));
                return Response::Json(200, Ok(TemplateJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", "/api/ticket-templates/{id}", "tickets:delete",
              "Delete a ticket template no ticket uses",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(t.DeleteTemplate(id));
                return Response::Json(200, Ok(json::object{{"deleted", id}}));
              },
              200, tag});

  // ---- tickets
  router.Add({"GET", "/api/events/{id}/tickets", "tickets:read",
              "An event's tickets; status, guest_id, cursor, limit",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(t.GetEvent(id).status());
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter page, ParsePage(req));
                tk::TicketFilter f;
                f.event_id = id;
                f.after_id = page.after_id;
                f.limit = page.limit;
                if (auto s = req.Query("status"); s && !s->empty()) {
                  HERALD_ASSIGN_OR_RETURN(f.status, tk::ParseTicketStatus(*s));
                }
                if (auto g = req.Query("guest_id"); g && !g->empty()) {
                  HERALD_ASSIGN_OR_RETURN(f.guest_id, ParseId("guest_id", *g));
                }
                HERALD_ASSIGN_OR_RETURN(auto list, t.ListTickets(f));
                return Response::Json(200, Page(list, f.limit, TicketJson));
              },
              200, tag,
              PageQuery({{"status", "pending, issued, used or cancelled"},
                         {"guest_id", "only this guest's tickets", "integer"}})});
  router.Add({"POST", "/api/events/{id}/tickets", "tickets:create",
              "Issue tickets: one, or {\"tickets\": [...]} all or none",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(auto objects, OneOrMany(body, "tickets", 10000));
                const bool many = body.contains("tickets");
                std::vector<tk::IssueRequest> reqs;
                for (size_t i = 0; i < objects.size(); ++i) {
                  HERALD_ASSIGN_OR_RETURN(
                      tk::IssueRequest r,
                      ParseIssue(*objects[i], many ? StrCat("tickets[", i, "].") : ""));
                  reqs.push_back(std::move(r));
                }
                HERALD_ASSIGN_OR_RETURN(auto issued, t.IssueTickets(id, reqs));
                if (!many) return Response::Json(201, Ok(TicketJson(issued[0])));
                json::array data;
                for (const tk::Ticket& x : issued) data.push_back(TicketJson(x));
                return Response::Json(201, Ok(std::move(data)));
              },
              201, tag});
  router.Add({"GET", "/api/tickets/{id}", "tickets:read", "A ticket",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Ticket x, t.GetTicket(id));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, x.event_id));
                return Response::Json(200, Ok(TicketJson(x)));
              },
              200, tag});
  router.Add({"PATCH", "/api/tickets/{id}", "tickets:update",
              "Give a ticket another holder (guest_id, null for none) or seat; its file is"
              " forgotten",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::Ticketing::TicketChange change,
                                        ParseTicketChange(body));
                HERALD_ASSIGN_OR_RETURN(tk::Ticket x, t.UpdateTicket(id, change));
                return Response::Json(200, Ok(TicketJson(x)));
              },
              200, tag});
  router.Add({"POST", "/api/tickets/{id}/cancel", "tickets:update",
              "Cancel a ticket: its code is revoked for good",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Ticket x, t.CancelTicket(id));
                return Response::Json(200, Ok(TicketJson(x)));
              },
              200, tag});
  router.Add({"POST", "/api/tickets/{id}/reissue", "tickets:update",
              "New number and code for a lost or leaked ticket; the old ones are revoked",
              [&t](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Ticket x, t.ReissueTicket(id));
                return Response::Json(200, Ok(TicketJson(x)));
              },
              200, tag});

  // ---- scanning
  const std::string scans = "scans";
  Route validate{
      "POST",         "/api/scans/validate",
      "scans:create", "Validate a scanned ticket and admit it (seed 002 or seed 003 body)",
      nullptr,        200,
      scans};
  // Answers from the commit callback, like the enqueue route: scans from many gates share one
  // group commit and no connection thread waits.
  validate.async = [&scanner](Request& req, Respond respond) {
    auto body = req.JsonBody();
    if (!body.ok()) return respond(body.status());
    auto scan = ParseScan(*body);
    if (!scan.ok()) return respond(scan.status());
    ScopeScan(req, *scan);
    scanner.ValidateAsync(*std::move(scan), [respond = std::move(respond),
                                             lang = Lang(req)](Result<tk::ScanResult> r) {
      if (!r.ok()) return respond(r.status());
      respond.Later([r = *std::move(r), lang] {
        return Response::Text(200, ScanResultText(r, lang), "application/json");
      });
    });
  };
  router.Add(std::move(validate));
  router.Add({"POST", "/api/scans/offline", "scans:create",
              "Upload scans made offline: {scanner_id, scans: [{ticket_code, event_id, timestamp,"
              " nonce, admitted, ...}]}",
              [&scanner](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                Fields f(body);
                HERALD_RETURN_IF_ERROR(f.CheckKnown({"scanner_id", "scans"}));
                std::string scanner_id;
                HERALD_RETURN_IF_ERROR(f.StringInto("scanner_id", scanner_id));
                const json::value* list = f.Get("scans");
                if (list == nullptr || !list->is_array() || list->as_array().empty() ||
                    list->as_array().size() > 1000) {
                  return absl::InvalidArgumentError("scans: expected 1 to 1000 scans");
                }
                std::vector<tk::ScanRequest> reqs;
                for (size_t i = 0; i < list->as_array().size(); ++i) {
                  const json::value& item = list->as_array()[i];
                  if (!item.is_object()) {
                    return absl::InvalidArgumentError(StrCat("scans[", i, "]: expected an object"));
                  }
                  Result<tk::ScanRequest> r = ParseScan(item.as_object());
                  if (!r.ok()) {
                    return absl::InvalidArgumentError(
                        StrCat("scans[", i, "].", r.status().message()));
                  }
                  if (r->scanner_id.empty()) r->scanner_id = scanner_id;
                  ScopeScan(req, *r);
                  reqs.push_back(*std::move(r));
                }
                HERALD_ASSIGN_OR_RETURN(auto results, scanner.Upload(std::move(reqs)));
                json::array data;
                int64_t conflicts = 0;
                for (const tk::ScanResult& r : results) {
                  conflicts += r.conflict;
                  data.push_back(ScanResultJson(r, Lang(req)));
                }
                return Response::Json(
                    200, Ok(json::object{{"recorded", static_cast<int64_t>(results.size())},
                                         {"conflicts", conflicts},
                                         {"results", std::move(data)}}));
              },
              200, scans});
  router.Add({"POST", "/api/internal/scan-validation", "scans:create",
              "Scan-validation service: business checks and admission of a decoded ticket"
              " (seed 002)",
              [&scanner](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::ScanRequest r, ParseInternalScan(body));
                ScopeScan(req, r);
                HERALD_ASSIGN_OR_RETURN(tk::ScanResult out, scanner.Validate(r));
                return Response::Json(200, ScanResultJson(out, Lang(req)));
              },
              200, scans});
  router.Add({"POST", "/api/internal/validation/validate-ticket", "scans:create",
              "Scan-validation service: the business checks only, nothing recorded (seed 003)",
              [&scanner](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::ScanRequest r, ParseInternalScan(body));
                ScopeScan(req, r);
                HERALD_ASSIGN_OR_RETURN(tk::ScanResult out, scanner.Check(r));
                return Response::Json(200, ScanResultJson(out, Lang(req)));
              },
              200, scans});
  router.Add({"POST", "/api/internal/scan-confirmation", "scans:create",
              "Scan-validation service: record the admission of a validated scan (seed 003);"
              " idempotent on scanId",
              [&scanner](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::ScanRequest r, ParseScanConfirmation(body));
                r.scanner_id = req.principal ? req.principal->name : "scan-validation-service";
                ScopeScan(req, r);
                HERALD_ASSIGN_OR_RETURN(tk::ScanResult out, scanner.Validate(r));
                json::object data = ScanResultJson(out, Lang(req));
                data["status"] = out.valid ? "validated" : "refused";
                return Response::Json(200, data);
              },
              200, scans});
  router.Add({"GET", "/api/scans", "scans:read",
              "The scan log, newest first: event_id, ticket_id, result, conflicts, cursor, limit",
              [&t, &scanner](Request& req) -> Result<Response> {
                tk::ScanFilter f;
                if (auto v = req.Query("event_id"); v && !v->empty()) {
                  HERALD_ASSIGN_OR_RETURN(f.event_id, ParseId("event_id", *v));
                }
                if (IsOperator(req)) {
                  if (f.event_id == 0) {
                    return absl::InvalidArgumentError("event_id: required for door staff");
                  }
                  HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, f.event_id));
                }
                if (auto v = req.Query("ticket_id"); v && !v->empty()) {
                  HERALD_ASSIGN_OR_RETURN(f.ticket_id, ParseId("ticket_id", *v));
                }
                if (auto v = req.Query("cursor"); v && !v->empty()) {
                  HERALD_ASSIGN_OR_RETURN(f.before_id, ParseId("cursor", *v));
                }
                if (auto v = req.Query("result")) f.result = std::string(*v);
                f.conflicts_only = req.Query("conflicts").value_or("") == "true";
                HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
                if (limit) f.limit = static_cast<int>(*limit);
                HERALD_ASSIGN_OR_RETURN(auto list, scanner.ListScans(f));
                return Response::Json(200, Page(list, f.limit, ScanRecordJson));
              },
              200, scans,
              PageQuery({{"event_id", "only this event's scans", "integer"},
                         {"ticket_id", "only this ticket's scans", "integer"},
                         {"result", "only scans with this reason (ok, already_used...)"},
                         {"conflicts", "true: only offline conflicts", "boolean"}})});
  router.Add(
      {"GET",
       "/api/events/{id}/scan-bundle",
       "scans:create",
       "Offline scanning: the event's public keys, revocations since a cursor, and rules",
       [&t](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
         HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
         int64_t since = 0;
         if (auto v = req.Query("since"); v && !v->empty() && *v != "0") {
           HERALD_ASSIGN_OR_RETURN(since, ParseId("since", *v));
         }
         HERALD_ASSIGN_OR_RETURN(tk::Event e, t.GetEvent(id));
         HERALD_ASSIGN_OR_RETURN(auto keys, t.ListKeys(id));
         constexpr int kPage = 10000;
         HERALD_ASSIGN_OR_RETURN(auto revs, t.ListRevocations(id, since, kPage));
         HERALD_ASSIGN_OR_RETURN(auto gates, t.ListGates(id));
         HERALD_ASSIGN_OR_RETURN(auto staff, t.ListOperators(id));
         HERALD_ASSIGN_OR_RETURN(auto unpaid, t.ListUnpaid(id));
         json::array key_list, rev_list, gate_list, staff_list, unpaid_list;
         for (const tk::Operator& op : staff) staff_list.push_back(OperatorJson(op));
         for (int64_t ticket : unpaid) unpaid_list.push_back(ticket);
         for (const tk::EventKey& k : keys) key_list.push_back(KeyJson(k));
         for (const tk::Revocation& r : revs) {
           rev_list.push_back(json::object{{"seq", r.seq},
                                           {"ticket_id", r.ticket_id},
                                           {"generation", r.generation},
                                           {"reason", r.reason},
                                           {"revoked_at", Rfc3339(r.revoked_at)}});
         }
         for (const tk::Gate& g : gates) gate_list.push_back(GateJson(g));
         const int64_t cursor = revs.empty() ? since : revs.back().seq;
         return Response::Json(
             200, Ok(json::object{
                      {"event_id", e.id},
                      {"code_mode", tk::CodeModeName(e.code_mode)},
                      {"code_format",
                       "base32 (RFC 4648, no padding) of: 0x01, LEB128 key_id, event_id, ticket_id,"
                       " ticket_type_id, generation, valid_from+1, valid_until+1 (Unix seconds, 0 ="
                       " none), then an Ed25519 signature over \"herald-ticket-v1\" + those bytes"},
                      {"keys", std::move(key_list)},
                      {"revoked", std::move(rev_list)},
                      {"revoked_cursor", cursor},
                      {"revoked_complete", static_cast<int>(revs.size()) < kPage},
                      // Signed codes of tickets not paid yet: refused ("unpaid") until a
                      // later bundle leaves them out.
                      {"unpaid", std::move(unpaid_list)},
                      {"rules", json::object{{"valid_from", Rfc3339(e.ValidFrom())},
                                             {"valid_until", Rfc3339(e.ValidUntil())},
                                             {"reentry", e.reentry},
                                             {"max_attendees", OptInt(e.max_attendees)},
                                             {"status", tk::EventStatusName(e.status)},
                                             {"gates", std::move(gate_list)},
                                             // When not empty, only these people scan, at
                                             // their gates (all gates if none listed).
                                             {"door_staff", std::move(staff_list)}}},
                      {"generated_at", Rfc3339(t.clock().Now())}}));
       },
       200,
       scans,
       {{"since", "the revocations after this sequence number (the last bundle's)", "integer"}}});
  router.Add({"GET", "/api/events/{id}/scan-stats", "scans:read",
              "Live counts of an event: admitted, inside, per reason and per gate",
              [&t, &scanner](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(t, req, id));
                HERALD_ASSIGN_OR_RETURN(tk::ScanStats st, scanner.Stats(id));
                return Response::Json(200, Ok(StatsJson(st)));
              },
              200, scans});
}

namespace {

json::object PurchaseJson(const tk::Purchase& p) {
  json::array tickets;
  for (int64_t id : p.ticket_ids) tickets.push_back(id);
  return json::object{{"id", p.id},
                      {"event_id", p.event_id},
                      {"guest_id", p.guest_id},
                      {"customer_email", p.customer_email},
                      {"customer_name", p.customer_name},
                      {"amount", p.amount},
                      {"currency", p.currency},
                      {"status", tk::PurchaseStatusName(p.status)},
                      {"payment_gateway", p.gateway},
                      {"payment_intent_id", p.payment_intent_id},
                      {"amount_refunded", p.amount_refunded},
                      {"client_amount", OptInt(p.client_amount)},
                      {"last_error", p.last_error},
                      {"ticket_ids", std::move(tickets)},
                      {"paid_at", Rfc3339OrNull(p.paid_at)},
                      {"created_at", Rfc3339(p.created_at)},
                      {"updated_at", Rfc3339(p.updated_at)}};
}

json::object TemplatePurchaseJson(const tk::TemplatePurchase& t) {
  return json::object{{"id", t.id},
                      {"payment_id", t.payment_key},
                      {"template_id", t.template_id},
                      {"event_id", IdOrNull(t.event_id)},
                      {"user_id", t.user_id},
                      {"ticket_count", t.ticket_count},
                      {"amount", t.amount},
                      {"currency", t.currency},
                      {"customer_email", t.customer_email},
                      {"customer_name", t.customer_name},
                      {"active", t.active},
                      {"last_error", t.last_error},
                      {"paid_at", Rfc3339(t.paid_at)}};
}

}  // namespace

void AddPurchaseRoutes(Router& router, tk::Purchases& purchases) {
  const std::string tag = "payments";
  router.Add(
      {"POST", "/api/payments/process", "payments:create",
       "Buy tickets: a purchase and its payment intent (seed 003); the amount is computed here",
       [&purchases](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
         HERALD_ASSIGN_OR_RETURN(tk::PurchaseRequest r, ParsePurchase(body));
         r.idempotency_key = std::string(req.Header("idempotency-key"));
         HERALD_ASSIGN_OR_RETURN(tk::ProcessResult out, purchases.Process(r));
         json::array tickets;
         for (int64_t id : out.purchase.ticket_ids) tickets.push_back(id);
         return Response::Json(
             out.replayed ? 200 : 201,
             Ok(json::object{{"purchaseId", out.purchase.id},
                             {"paymentIntentId", out.purchase.payment_intent_id},
                             {"clientSecret", out.client_secret},
                             {"amount", static_cast<double>(out.purchase.amount) / 100},
                             {"amountMinor", out.purchase.amount},
                             {"currency", out.purchase.currency},
                             {"status", tk::PurchaseStatusName(out.purchase.status)},
                             {"gateway", out.purchase.gateway},
                             {"ticketIds", std::move(tickets)},
                             {"replayed", out.replayed}}));
       },
       201, tag});
  router.Add({"GET", "/api/purchases/{id}", "payments:read", "A purchase and its tickets",
              [&purchases](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Purchase p, purchases.Get(id));
                return Response::Json(200, Ok(PurchaseJson(p)));
              },
              200, tag});
  router.Add({"GET", "/api/events/{id}/purchases", "payments:read",
              "An event's purchases; cursor, limit",
              [&purchases](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter f, ParsePage(req));
                HERALD_ASSIGN_OR_RETURN(auto list, purchases.List(id, f));
                return Response::Json(200, Page(list, f.limit, PurchaseJson));
              },
              200, tag, PageQuery()});
  router.Add({"GET", "/api/ticket-templates/{id}/purchases", "payments:read",
              "Who bought a ticket template through the payment service (seed 002 flow 2), "
              "active until refunded; user_id, cursor, limit",
              [&purchases](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter f, ParsePage(req));
                const std::string_view user = req.Query("user_id").value_or("");
                if (user.size() > 128) {
                  return absl::InvalidArgumentError("user_id: at most 128 bytes");
                }
                HERALD_ASSIGN_OR_RETURN(auto list, purchases.TemplatePurchases(id, user, f));
                return Response::Json(200, Page(list, f.limit, TemplatePurchaseJson));
              },
              200, tag, PageQuery({{"user_id", "only this user's purchases"}})});
}

Result<tk::GenerationRequest> ParseGenerationRequest(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"ticket_ids", "options"}));
  tk::GenerationRequest r;
  if (f.Get("ticket_ids") == nullptr) return absl::InvalidArgumentError("ticket_ids: required");
  HERALD_RETURN_IF_ERROR(IdArrayInto(f, "ticket_ids", r.ticket_ids));
  if (const json::value* o = f.Get("options")) {
    if (!o->is_object()) return absl::InvalidArgumentError("options: expected an object");
    Fields of(o->as_object(), "options.");
    HERALD_RETURN_IF_ERROR(
        of.CheckKnown({"qrFormat", "qrSize", "pdfFormat", "includeLogo", "priority",
                       "batch_processing", "notify", "send_notifications", "locale"}));
    Result<tk::GenerationOptions> options = tk::ParseGenerationOptions(o->as_object());
    if (!options.ok()) {
      return absl::InvalidArgumentError(StrCat("options.", options.status().message()));
    }
    r.options = *std::move(options);
  }
  return r;
}

void AddGenerationRoutes(Router& router, tk::TicketGenerator& generator, tk::Ticketing& ticketing) {
  const std::string tag = "tickets";
  router.Add({"POST", "/api/tickets/generation-jobs", "tickets:update",
              "Make the tickets' PDFs (seed 002 flow 1): {ticket_ids, options}; 202 and the job",
              [&generator](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(tk::GenerationRequest r, ParseGenerationRequest(body));
                if (req.principal) r.created_by = req.principal->name;
                r.idempotency_key = std::string(req.Header("idempotency-key"));
                HERALD_ASSIGN_OR_RETURN(tk::Generation g, generator.Start(r));
                json::object data = tk::ToJson(g);
                if (g.replayed) data["replayed"] = true;
                // A replay (same Idempotency-Key, same request) answers the job it started.
                Response out = Response::Json(g.replayed ? 200 : 202, Ok(std::move(data)));
                out.headers.emplace_back("Location", StrCat("/api/tickets/generation-jobs/", g.id));
                return out;
              },
              202, tag});
  router.Add({"DELETE", "/api/tickets/generation-jobs/{id}", "tickets:update",
              "Cancel a ticket generation job: the tickets not yet made are not made; 409 once "
              "it has finished",
              [&generator](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Generation g, generator.Cancel(id));
                return Response::Json(200, Ok(tk::ToJson(g)));
              },
              200, tag});
  // Before generation-jobs/{id}, which the list's path would match too.
  // documents:read: the reports belong to no event, so door staff (events' tickets:read) may
  // not read them.
  router.Add({"GET", "/api/tickets/generation-jobs/outside", "documents:read",
              "Outside generators' reports (seed 002 flow 4) as they came: ?job_id, cursor, limit",
              [&generator](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(tk::PageFilter f, ParsePage(req));
                std::string job;
                if (auto j = req.Query("job_id")) job = std::string(*j);
                HERALD_ASSIGN_OR_RETURN(auto list, generator.ListOutsideGenerations(job, f));
                return Response::Json(
                    200, Page(list, f.limit, [](const auto& g) { return tk::ToJson(g); }));
              },
              200, tag, PageQuery({{"job_id", "only this generator job's reports"}})});
  router.Add({"GET", "/api/tickets/generation-jobs/outside/{id}", "documents:read",
              "One outside generator's report: its job, status, summary, the tickets recorded",
              [&generator](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::OutsideGeneration g,
                                        generator.GetOutsideGeneration(id));
                return Response::Json(200, Ok(tk::ToJson(g)));
              },
              200, tag});
  router.Add({"GET", "/api/tickets/generation-jobs/{id}", "tickets:read",
              "A ticket generation job: status, progress and each ticket's result",
              [&generator, &ticketing](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
                HERALD_ASSIGN_OR_RETURN(tk::Generation g, generator.Get(id));
                HERALD_RETURN_IF_ERROR(CheckOperatorScope(ticketing, req, g.event_id));
                return Response::Json(200, Ok(tk::ToJson(g)));
              },
              200, tag});
  router.Add(
      {"GET",
       "/api/tickets/{id}/qr",
       "tickets:read",
       "A ticket's QR code: ?format=png|svg|base64 (a PNG as base64 text), "
       "&size=small|medium|large",
       [&ticketing](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(int64_t id, PathId(req));
         tk::QrFormat format = tk::QrFormat::kPng;
         tk::QrSize size = tk::QrSize::kMedium;
         if (auto f = req.Query("format"); f && !f->empty()) {
           HERALD_ASSIGN_OR_RETURN(format, tk::ParseQrFormat(*f));
         }
         if (auto s = req.Query("size"); s && !s->empty()) {
           HERALD_ASSIGN_OR_RETURN(size, tk::ParseQrSize(*s));
         }
         HERALD_ASSIGN_OR_RETURN(tk::Ticket x, ticketing.GetTicket(id));
         HERALD_RETURN_IF_ERROR(CheckOperatorScope(ticketing, req, x.event_id));
         if (x.status == tk::TicketStatus::kCancelled) {
           return absl::FailedPreconditionError(StrCat("ticket ", id, " is cancelled"));
         }
         HERALD_ASSIGN_OR_RETURN(docs::QrCode code, docs::QrCode::Encode(x.qr_code_data));
         docs::QrRenderOptions options;
         options.module_px = tk::QrModulePixels(size);
         if (format == tk::QrFormat::kSvg) {
           HERALD_ASSIGN_OR_RETURN(std::string svg, docs::RenderSvg(code, options));
           return Response::Text(200, std::move(svg), "image/svg+xml");
         }
         HERALD_ASSIGN_OR_RETURN(std::string png, docs::RenderPng(code, options));
         if (format == tk::QrFormat::kBase64) {
           return Response::Text(200, auth::Base64Encode(png), "text/plain; charset=utf-8");
         }
         return Response::Text(200, std::move(png), "image/png");
       },
       200,
       tag,
       {{"format", "png (default), svg or base64"}, {"size", "small, medium (default) or large"}}});
}

}  // namespace herald::http
