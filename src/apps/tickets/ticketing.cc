#include "apps/tickets/ticketing.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "apps/tickets/ticket_code.h"
#include "auth/crypto.h"
#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "core/strings.h"
#include "core/utf8.h"
#include "engine/job_table.h"
#include "notify/sms_providers.h"

namespace herald::apps::tickets {
namespace {

using engine::table::FromMicros;
using engine::table::OptTime;
using engine::table::RowTime;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

// ticket_revocations holds every code that was valid once and no longer is: a ticket's code
// and number hashes (so a scan of an old code says "revoked", not "unknown") and, for the
// offline bundle, (ticket_id, generation). ticket_counts holds the live counts per event, kept
// in the transaction of every admission (a COUNT per scan would not scale).
constexpr store::Migration kMigrations[] = {
    {1, "tickets", R"sql(
CREATE TABLE ticket_events (
  id            INTEGER PRIMARY KEY,
  title         TEXT NOT NULL,
  description   TEXT NOT NULL,
  event_date    INTEGER NOT NULL,
  end_date      INTEGER,
  location      TEXT NOT NULL,
  timezone      TEXT NOT NULL,
  max_attendees INTEGER,
  status        TEXT NOT NULL,
  code_mode     TEXT NOT NULL,
  reentry       INTEGER NOT NULL,
  doors_open    INTEGER,
  doors_close   INTEGER,
  currency      TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE TABLE ticket_types (
  id          INTEGER PRIMARY KEY,
  event_id    INTEGER NOT NULL,
  name        TEXT NOT NULL,
  price       INTEGER NOT NULL,
  quantity    INTEGER,
  description TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (event_id, name)
);
CREATE TABLE ticket_templates (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  design      TEXT NOT NULL,
  layout_json TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE TABLE ticket_guests (
  id         INTEGER PRIMARY KEY,
  event_id   INTEGER NOT NULL,
  first_name TEXT NOT NULL,
  last_name  TEXT NOT NULL,
  email      TEXT NOT NULL,
  phone      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX ticket_guests_event ON ticket_guests (event_id, id);
CREATE UNIQUE INDEX ticket_guests_email ON ticket_guests (event_id, email) WHERE email <> '';
CREATE TABLE tickets (
  id                INTEGER PRIMARY KEY,
  event_id          INTEGER NOT NULL,
  ticket_type_id    INTEGER NOT NULL,
  guest_id          INTEGER NOT NULL,
  purchase_id       INTEGER NOT NULL,
  template_id       INTEGER NOT NULL,
  ticket_code       TEXT NOT NULL UNIQUE,
  seat              TEXT NOT NULL,
  status            TEXT NOT NULL,
  generation        INTEGER NOT NULL,
  key_id            INTEGER NOT NULL,
  qr_code_data      TEXT NOT NULL UNIQUE,
  ticket_file_url   TEXT NOT NULL,
  ticket_file_path  TEXT NOT NULL,
  document_id       TEXT NOT NULL,
  generation_job_id TEXT NOT NULL,
  is_validated      INTEGER NOT NULL,
  validated_at      INTEGER,
  inside            INTEGER NOT NULL,
  entries           INTEGER NOT NULL,
  last_entry_at     INTEGER,
  first_scan_id     INTEGER,
  first_gate        TEXT NOT NULL,
  first_operator    TEXT NOT NULL,
  first_scanner     TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX tickets_event ON tickets (event_id, id);
CREATE INDEX tickets_guest ON tickets (guest_id);
CREATE INDEX tickets_type ON tickets (ticket_type_id);
CREATE INDEX tickets_purchase ON tickets (purchase_id);
CREATE TABLE ticket_operators (
  event_id    INTEGER NOT NULL,
  operator_id TEXT NOT NULL,
  user_id     TEXT NOT NULL,
  name        TEXT NOT NULL,
  gates       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (event_id, operator_id)
);
CREATE INDEX ticket_operators_user ON ticket_operators (user_id) WHERE user_id <> '';
CREATE TABLE ticket_gates (
  event_id INTEGER NOT NULL,
  gate_id  TEXT NOT NULL,
  name     TEXT NOT NULL,
  kind     TEXT NOT NULL,
  PRIMARY KEY (event_id, gate_id)
);
CREATE TABLE ticket_keys (
  event_id      INTEGER NOT NULL,
  key_id        INTEGER NOT NULL,
  public_key    TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  retired_at    INTEGER,
  revoked_at    INTEGER,
  PRIMARY KEY (event_id, key_id)
);
CREATE TABLE ticket_revocations (
  seq         INTEGER PRIMARY KEY,
  event_id    INTEGER NOT NULL,
  ticket_id   INTEGER NOT NULL,
  generation  INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  code_hash   TEXT NOT NULL,
  number_hash TEXT NOT NULL,
  revoked_at  INTEGER NOT NULL
);
CREATE INDEX ticket_revocations_event ON ticket_revocations (event_id, seq);
CREATE INDEX ticket_revocations_code ON ticket_revocations (code_hash);
CREATE INDEX ticket_revocations_number ON ticket_revocations (number_hash);
CREATE TABLE ticket_counts (
  event_id INTEGER PRIMARY KEY,
  admitted INTEGER NOT NULL,
  inside   INTEGER NOT NULL
);
CREATE TABLE ticket_scans (
  id          INTEGER PRIMARY KEY,
  event_id    INTEGER NOT NULL,
  ticket_id   INTEGER NOT NULL,
  code_hash   TEXT NOT NULL,
  scanner_id  TEXT NOT NULL,
  operator_id TEXT NOT NULL,
  gate        TEXT NOT NULL,
  direction   TEXT NOT NULL,
  result      TEXT NOT NULL,
  admitted    INTEGER NOT NULL,
  source      TEXT NOT NULL,
  nonce       TEXT,
  device_time INTEGER,
  server_time INTEGER NOT NULL,
  conflict    INTEGER NOT NULL,
  repeat_of   INTEGER,
  metadata    TEXT NOT NULL
);
CREATE INDEX ticket_scans_event ON ticket_scans (event_id, id);
CREATE INDEX ticket_scans_ticket ON ticket_scans (ticket_id, id);
CREATE UNIQUE INDEX ticket_scans_nonce ON ticket_scans (scanner_id, nonce) WHERE nonce IS NOT NULL;
)sql"},
    // Premium templates and their licences per event; VAT rates of ticket types.
    {2, "template_licences_vat", R"sql(
ALTER TABLE ticket_templates ADD COLUMN price INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ticket_templates ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';
ALTER TABLE ticket_templates ADD COLUMN vat_rate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ticket_types ADD COLUMN vat_rate INTEGER NOT NULL DEFAULT 0;
CREATE TABLE ticket_template_licences (
  template_id INTEGER NOT NULL,
  event_id    INTEGER NOT NULL,
  tickets     INTEGER NOT NULL,
  PRIMARY KEY (template_id, event_id)
);
CREATE INDEX tickets_template ON tickets (event_id, template_id) WHERE template_id <> 0;
-- Ticket files are named by their key in the document store ("ab/" + 64 hex + ".pdf", 71
-- characters), never by a path of the server: older rows keep their last 71 characters.
UPDATE tickets SET ticket_file_path = substr(ticket_file_path, -71)
  WHERE length(ticket_file_path) > 71;
)sql"},
    // What a scan reads of its event (the event, its keys, door staff and gates) is cached by
    // the scanner under the event's config_version. Every change to them gives the event a
    // new random version in the change's own transaction, so a version names one content
    // forever: a rolled-back change's version is never seen again.
    {3, "scan_config_version", R"sql(
ALTER TABLE ticket_events ADD COLUMN config_version INTEGER NOT NULL DEFAULT 0;
UPDATE ticket_events SET config_version = random();
CREATE TRIGGER ticket_events_config_insert AFTER INSERT ON ticket_events BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = NEW.id;
END;
CREATE TRIGGER ticket_events_config_update AFTER UPDATE ON ticket_events
  WHEN NEW.config_version IS OLD.config_version BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = NEW.id;
END;
CREATE TRIGGER ticket_keys_config_insert AFTER INSERT ON ticket_keys BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = NEW.event_id;
END;
CREATE TRIGGER ticket_keys_config_update AFTER UPDATE ON ticket_keys BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id IN (OLD.event_id, NEW.event_id);
END;
CREATE TRIGGER ticket_keys_config_delete AFTER DELETE ON ticket_keys BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = OLD.event_id;
END;
CREATE TRIGGER ticket_operators_config_insert AFTER INSERT ON ticket_operators BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = NEW.event_id;
END;
CREATE TRIGGER ticket_operators_config_update AFTER UPDATE ON ticket_operators BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id IN (OLD.event_id, NEW.event_id);
END;
CREATE TRIGGER ticket_operators_config_delete AFTER DELETE ON ticket_operators BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = OLD.event_id;
END;
CREATE TRIGGER ticket_gates_config_insert AFTER INSERT ON ticket_gates BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = NEW.event_id;
END;
CREATE TRIGGER ticket_gates_config_update AFTER UPDATE ON ticket_gates BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id IN (OLD.event_id, NEW.event_id);
END;
CREATE TRIGGER ticket_gates_config_delete AFTER DELETE ON ticket_gates BEGIN
  UPDATE ticket_events SET config_version = random() WHERE id = OLD.event_id;
END;
)sql"},
};

constexpr std::string_view kEventStatusNames[] = {"draft", "active", "cancelled", "completed"};
constexpr std::string_view kCodeModeNames[] = {"signed", "random"};
constexpr std::string_view kTicketStatusNames[] = {"pending", "issued", "used", "cancelled"};
constexpr std::string_view kGateKindNames[] = {"entry", "exit", "both"};

template <typename E, size_t N>
Result<E> ParseName(const std::string_view (&names)[N], std::string_view field,
                    std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  std::string expected;
  for (size_t i = 0; i < N; ++i) expected += StrCat(i == 0 ? "" : ", ", names[i]);
  return absl::InvalidArgumentError(StrCat(field, ": expected one of ", expected));
}

constexpr std::string_view kEventColumns =
    "id, title, description, event_date, end_date, location, timezone, max_attendees, status,"
    " code_mode, reentry, doors_open, doors_close, currency, created_at, updated_at";
constexpr std::string_view kTypeColumns =
    "id, event_id, name, price, quantity, description, created_at, vat_rate";
constexpr std::string_view kTemplateColumns =
    "id, name, design, layout_json, created_at, updated_at, price, currency, vat_rate";
constexpr std::string_view kGuestColumns =
    "id, event_id, first_name, last_name, email, phone, created_at, updated_at";
constexpr std::string_view kTicketColumns =
    "id, event_id, ticket_type_id, guest_id, purchase_id, template_id, ticket_code, seat, status,"
    " generation, key_id, qr_code_data, ticket_file_url, ticket_file_path, document_id,"
    " generation_job_id, is_validated, validated_at, created_at, updated_at";
constexpr std::string_view kKeyColumns =
    "event_id, key_id, public_key, created_at, retired_at, revoked_at";

std::optional<int64_t> OptInt(const Row& r, int col) {
  if (r.IsNull(col)) return std::nullopt;
  return r.Int(col);
}

Value OptIntValue(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); }

Result<Event> EventFromRow(const Row& r) {
  Event e;
  e.id = r.Int(0);
  e.title = r.Text(1);
  e.description = r.Text(2);
  e.event_date = FromMicros(r.Int(3));
  e.end_date = RowTime(r, 4);
  e.location = r.Text(5);
  e.timezone = r.Text(6);
  e.max_attendees = OptInt(r, 7);
  HERALD_ASSIGN_OR_RETURN(e.status, ParseEventStatus(r.Text(8)));
  HERALD_ASSIGN_OR_RETURN(e.code_mode, ParseCodeMode(r.Text(9)));
  e.reentry = r.Int(10) != 0;
  e.doors_open = RowTime(r, 11);
  e.doors_close = RowTime(r, 12);
  e.currency = r.Text(13);
  e.created_at = FromMicros(r.Int(14));
  e.updated_at = FromMicros(r.Int(15));
  return e;
}

Result<TicketType> TypeFromRow(const Row& r) {
  TicketType t;
  t.id = r.Int(0);
  t.event_id = r.Int(1);
  t.name = r.Text(2);
  t.price = r.Int(3);
  t.quantity = OptInt(r, 4);
  t.description = r.Text(5);
  t.created_at = FromMicros(r.Int(6));
  t.vat_rate = r.Int(7);
  return t;
}

Result<TicketTemplate> TemplateFromRow(const Row& r) {
  TicketTemplate t;
  t.id = r.Int(0);
  t.name = r.Text(1);
  t.design = r.Text(2);
  t.layout_json = r.Text(3);
  t.created_at = FromMicros(r.Int(4));
  t.updated_at = FromMicros(r.Int(5));
  t.price = r.Int(6);
  t.currency = r.Text(7);
  t.vat_rate = r.Int(8);
  return t;
}

Result<Guest> GuestFromRow(const Row& r) {
  Guest g;
  g.id = r.Int(0);
  g.event_id = r.Int(1);
  g.first_name = r.Text(2);
  g.last_name = r.Text(3);
  g.email = r.Text(4);
  g.phone = r.Text(5);
  g.created_at = FromMicros(r.Int(6));
  g.updated_at = FromMicros(r.Int(7));
  return g;
}

Result<Ticket> TicketFromRow(const Row& r) {
  Ticket t;
  t.id = r.Int(0);
  t.event_id = r.Int(1);
  t.ticket_type_id = r.Int(2);
  t.guest_id = r.Int(3);
  t.purchase_id = r.Int(4);
  t.template_id = r.Int(5);
  t.ticket_code = r.Text(6);
  t.seat = r.Text(7);
  HERALD_ASSIGN_OR_RETURN(t.status, ParseTicketStatus(r.Text(8)));
  t.generation = r.Int(9);
  t.key_id = r.Int(10);
  t.qr_code_data = r.Text(11);
  t.ticket_file_url = r.Text(12);
  t.ticket_file_path = r.Text(13);
  t.document_id = r.Text(14);
  t.generation_job_id = r.Text(15);
  t.is_validated = r.Int(16) != 0;
  t.validated_at = RowTime(r, 17);
  t.created_at = FromMicros(r.Int(18));
  t.updated_at = FromMicros(r.Int(19));
  return t;
}

Result<EventKey> KeyFromRow(const Row& r) {
  EventKey k;
  k.event_id = r.Int(0);
  k.key_id = r.Int(1);
  std::optional<std::string> pk = auth::Base64Decode(r.Text(2));
  if (!pk || pk->size() != k.public_key.size()) {
    return absl::DataLossError(StrCat("event ", k.event_id, " key ", k.key_id, " is damaged"));
  }
  std::copy(pk->begin(), pk->end(), k.public_key.begin());
  k.created_at = FromMicros(r.Int(3));
  k.retired_at = RowTime(r, 4);
  k.revoked_at = RowTime(r, 5);
  return k;
}

template <typename T, typename FromRow>
Result<std::optional<T>> LoadOne(Txn& txn, std::string_view sql, std::span<const Value> params,
                                 FromRow from_row) {
  std::optional<T> out;
  HERALD_RETURN_IF_ERROR(store::QueryEach(txn, sql, params, from_row, [&](T&& v) {
    out = std::move(v);
    return false;
  }));
  return out;
}

// The first column of the first row as an integer (0 for none or NULL).
Result<int64_t> QueryInt(Txn& txn, std::string_view sql, std::initializer_list<Value> params) {
  int64_t out = 0;
  HERALD_RETURN_IF_ERROR(txn.Query(sql, params, [&](const Row& r) {
    out = r.IsNull(0) ? 0 : r.Int(0);
    return false;
  }));
  return out;
}

// ---- validation

Status CheckText(std::string_view field, std::string_view value, size_t max, bool required) {
  if (required && value.empty()) return absl::InvalidArgumentError(StrCat(field, ": required"));
  if (value.size() > max) {
    return absl::InvalidArgumentError(StrCat(field, ": at most ", max, " bytes"));
  }
  size_t n = 0;
  if (!core::CountUtf8(value, n)) {
    return absl::InvalidArgumentError(StrCat(field, ": not valid UTF-8"));
  }
  for (unsigned char c : value) {
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      return absl::InvalidArgumentError(StrCat(field, ": control characters are not allowed"));
    }
  }
  return absl::OkStatus();
}

Status CheckCurrency(std::string_view c) {
  if (c.size() != 3 ||
      !std::all_of(c.begin(), c.end(), [](char x) { return x >= 'A' && x <= 'Z'; })) {
    return absl::InvalidArgumentError("currency: expected an ISO 4217 code such as EUR");
  }
  return absl::OkStatus();
}

Status CheckPrice(int64_t minor) {
  if (minor < 0 || minor > 100'000'000'00) {
    return absl::InvalidArgumentError("price: expected 0 to 10000000000 (minor units)");
  }
  return absl::OkStatus();
}

Status CheckVatRate(int64_t hundredths) {
  if (hundredths < 0 || hundredths > 10'000) {
    return absl::InvalidArgumentError("vat_rate: expected a percentage from 0 to 100");
  }
  return absl::OkStatus();
}

Status ValidateEvent(const Event& e) {
  HERALD_RETURN_IF_ERROR(CheckText("title", e.title, 200, true));
  HERALD_RETURN_IF_ERROR(CheckText("description", e.description, 10000, false));
  HERALD_RETURN_IF_ERROR(CheckText("location", e.location, 200, false));
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(e.timezone, &tz)) {
    return absl::InvalidArgumentError(
        StrCat("timezone: '", e.timezone.substr(0, 64), "' is not an IANA zone (Europe/Paris)"));
  }
  if (e.end_date && *e.end_date < e.event_date) {
    return absl::InvalidArgumentError("end_date: before event_date");
  }
  if (e.max_attendees && (*e.max_attendees < 1 || *e.max_attendees > 10'000'000)) {
    return absl::InvalidArgumentError("max_attendees: expected 1 to 10000000");
  }
  if (e.ValidUntil() <= e.ValidFrom()) {
    return absl::InvalidArgumentError("doors_close: must be after doors_open");
  }
  return CheckCurrency(e.currency);
}

// Lower-cases an email and checks its shape (one '@', a dotted domain, no spaces).
Result<std::string> NormalizeEmail(std::string_view field, std::string_view email) {
  std::string out = absl::AsciiStrToLower(ToAbsl(email));
  if (out.empty()) return out;
  const size_t at = out.find('@');
  const bool ok = out.size() <= 254 && at != std::string::npos && at > 0 && at <= 64 &&
                  out.find('@', at + 1) == std::string::npos &&
                  out.find('.', at + 2) != std::string::npos && out.back() != '.' &&
                  std::none_of(out.begin(), out.end(), [](unsigned char c) {
                    return c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(
        StrCat(field, ": '", email.substr(0, 64), "' is not an email address"));
  }
  return out;
}

bool IsGateList(const std::vector<std::string>& gates) {
  return std::all_of(gates.begin(), gates.end(),
                     [](const std::string& g) { return IsValidName(g); });
}

bool IsImportedNumber(std::string_view s) {
  return s.size() >= 4 && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                  c == '-';
         });
}

std::string JoinGates(const std::vector<std::string>& gates) {
  std::string out;
  for (const std::string& g : gates) out += StrCat(out.empty() ? "" : ",", g);
  return out;
}

std::vector<std::string> SplitGates(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

Result<Event> MustEvent(Txn& txn, int64_t id) {
  HERALD_ASSIGN_OR_RETURN(std::optional<Event> e, LoadEvent(txn, id));
  if (!e) return absl::NotFoundError(StrCat("no event ", id));
  return *std::move(e);
}

// The values of an event's row, in the order of the insert's and the update's columns.
std::array<Value, 16> EventValues(const Event& e) {
  return {e.title,
          e.description,
          ToMicros(e.event_date),
          OptTime(e.end_date),
          e.location,
          e.timezone,
          OptIntValue(e.max_attendees),
          EventStatusName(e.status),
          CodeModeName(e.code_mode),
          int64_t{e.reentry},
          OptTime(e.doors_open),
          OptTime(e.doors_close),
          e.currency,
          ToMicros(e.created_at),
          ToMicros(e.updated_at),
          e.id};
}

std::string KeyContext(int64_t event_id, int64_t key_id) {
  return StrCat("event:", event_id, ":key:", key_id);
}

// Inserts the event's key `key_id` (a fresh key pair) and retires the previous ones.
Result<EventKey> AddKey(Txn& txn, const std::array<uint8_t, 32>& master, int64_t event_id,
                        int64_t key_id, absl::Time now) {
  SigningKey sk = GenerateSigningKey();
  EventKey k;
  k.event_id = event_id;
  k.key_id = key_id;
  k.public_key = sk.public_key;
  k.created_at = now;
  std::string pk = auth::Base64Encode(
      std::string_view(reinterpret_cast<const char*>(sk.public_key.data()), sk.public_key.size()));
  std::string sealed = SealSecretKey(master, sk, KeyContext(event_id, key_id));
  HERALD_RETURN_IF_ERROR(
      txn.Exec("UPDATE ticket_keys SET retired_at = ? WHERE event_id = ? AND retired_at IS NULL",
               {ToMicros(now), event_id})
          .status());
  HERALD_RETURN_IF_ERROR(txn.Exec("INSERT INTO ticket_keys (event_id, key_id, public_key,"
                                  " sealed_secret, created_at) VALUES (?, ?, ?, ?, ?)",
                                  {event_id, key_id, pk, sealed, ToMicros(now)})
                             .status());
  return k;
}

// The event's signing key (the newest unretired, unrevoked one), created on first use.
Result<std::pair<int64_t, SigningKey>> ActiveKey(Txn& txn, const std::array<uint8_t, 32>& master,
                                                 int64_t event_id, absl::Time now) {
  int64_t key_id = 0;
  std::string sealed;
  HERALD_RETURN_IF_ERROR(txn.Query(
      "SELECT key_id, sealed_secret FROM ticket_keys WHERE event_id = ? AND retired_at IS NULL"
      " AND revoked_at IS NULL ORDER BY key_id DESC LIMIT 1",
      {event_id}, [&](const Row& r) {
        key_id = r.Int(0);
        sealed = r.Text(1);
        return false;
      }));
  if (key_id == 0) {
    HERALD_ASSIGN_OR_RETURN(
        int64_t last,
        QueryInt(txn, "SELECT MAX(key_id) FROM ticket_keys WHERE event_id = ?", {event_id}));
    HERALD_RETURN_IF_ERROR(AddKey(txn, master, event_id, last + 1, now).status());
    return ActiveKey(txn, master, event_id, now);
  }
  HERALD_ASSIGN_OR_RETURN(SigningKey sk,
                          OpenSecretKey(master, sealed, KeyContext(event_id, key_id)));
  return std::make_pair(key_id, std::move(sk));
}

using ActiveSigningKey = std::optional<std::pair<int64_t, SigningKey>>;

// A fresh number and code for `t` (generation and key set by the caller's event). `key` holds
// the event's signing key across calls: it is read and unsealed once per transaction.
Status NewCodes(Txn& txn, const std::array<uint8_t, 32>& master, const Event& e, Ticket& t,
                absl::Time now, ActiveSigningKey& key) {
  t.ticket_code = NewTicketNumber(e.id);
  if (e.code_mode == CodeMode::kRandom) {
    t.key_id = 0;
    t.qr_code_data = RandomCode();
    return absl::OkStatus();
  }
  if (!key) {
    HERALD_ASSIGN_OR_RETURN(key, ActiveKey(txn, master, e.id, now));
  }
  TicketClaims c;
  c.key_id = static_cast<uint32_t>(key->first);
  c.event_id = e.id;
  c.ticket_id = t.id;
  c.ticket_type_id = t.ticket_type_id;
  c.generation = t.generation;
  c.valid_from = absl::FromUnixSeconds(absl::ToUnixSeconds(e.ValidFrom()));
  c.valid_until = absl::FromUnixSeconds(absl::ToUnixSeconds(e.ValidUntil()));
  HERALD_ASSIGN_OR_RETURN(t.qr_code_data, EncodeSignedCode(c, key->second));
  t.key_id = key->first;
  return absl::OkStatus();
}

Status Revoke(Txn& txn, const Ticket& t, std::string_view reason, absl::Time now) {
  return txn
      .Exec(
          "INSERT INTO ticket_revocations (event_id, ticket_id, generation, reason, code_hash,"
          " number_hash, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {t.event_id, t.id, t.generation, reason, auth::Sha256Hex(t.qr_code_data),
           auth::Sha256Hex(absl::AsciiStrToUpper(ToAbsl(t.ticket_code))), ToMicros(now)})
      .status();
}

Status WriteTicketCodes(Txn& txn, const Ticket& t) {
  return txn
      .Exec(
          "UPDATE tickets SET ticket_code = ?, qr_code_data = ?, generation = ?, key_id = ?,"
          " status = ?, ticket_file_url = '', ticket_file_path = '', document_id = '',"
          " generation_job_id = '', updated_at = ? WHERE id = ?",
          {t.ticket_code, t.qr_code_data, t.generation, t.key_id, TicketStatusName(t.status),
           ToMicros(t.updated_at), t.id})
      .status();
}

// Gives `t` (issued, not scanned in) a new number and code, generation + 1, and revokes the old
// ones; its file, which carried them, is forgotten.
Status Reissue(Txn& txn, const std::array<uint8_t, 32>& master_key, Ticket& t, absl::Time now) {
  HERALD_ASSIGN_OR_RETURN(Event e, MustEvent(txn, t.event_id));
  HERALD_RETURN_IF_ERROR(Revoke(txn, t, "reissued", now));
  t.generation += 1;
  t.updated_at = now;
  ActiveSigningKey key;
  HERALD_RETURN_IF_ERROR(NewCodes(txn, master_key, e, t, now, key));
  return WriteTicketCodes(txn, t);
}

}  // namespace

Status ValidateGuest(Guest& g) {
  HERALD_RETURN_IF_ERROR(CheckText("first_name", g.first_name, 100, false));
  HERALD_RETURN_IF_ERROR(CheckText("last_name", g.last_name, 100, false));
  if (g.first_name.empty() && g.last_name.empty()) {
    return absl::InvalidArgumentError("first_name: a first or last name is required");
  }
  HERALD_ASSIGN_OR_RETURN(g.email, NormalizeEmail("email", g.email));
  if (!g.phone.empty() && !notify::IsE164(g.phone)) {
    return absl::InvalidArgumentError(
        StrCat("phone: '", g.phone.substr(0, 32), "' is not an E.164 number (+33612345678)"));
  }
  return absl::OkStatus();
}

// ---- names

std::string_view EventStatusName(EventStatus s) { return kEventStatusNames[static_cast<int>(s)]; }
Result<EventStatus> ParseEventStatus(std::string_view name) {
  return ParseName<EventStatus>(kEventStatusNames, "status", name);
}
std::string_view CodeModeName(CodeMode m) { return kCodeModeNames[static_cast<int>(m)]; }
Result<CodeMode> ParseCodeMode(std::string_view name) {
  return ParseName<CodeMode>(kCodeModeNames, "code_mode", name);
}
std::string_view TicketStatusName(TicketStatus s) {
  return kTicketStatusNames[static_cast<int>(s)];
}
Result<TicketStatus> ParseTicketStatus(std::string_view name) {
  return ParseName<TicketStatus>(kTicketStatusNames, "status", name);
}
std::string_view GateKindName(GateKind k) { return kGateKindNames[static_cast<int>(k)]; }
Result<GateKind> ParseGateKind(std::string_view name) {
  return ParseName<GateKind>(kGateKindNames, "kind", name);
}

absl::Time Event::ValidFrom() const {
  return doors_open ? *doors_open : event_date - absl::Hours(12);
}
absl::Time Event::ValidUntil() const {
  return doors_close ? *doors_close : end_date.value_or(event_date) + absl::Hours(12);
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string JsonString(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t JsonInt(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(boost::json::string_view(key.data(), key.size()));
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->as_uint64());
  }
  if (v->is_string()) {
    int64_t n = 0;
    for (char c : v->as_string()) {
      if (c < '0' || c > '9' || n > INT64_MAX / 10 - 10) return 0;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return 0;
}

Result<boost::json::object> PayloadObject(std::string_view payload, std::string_view job_type) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(payload, ec);
  if (ec || !v.is_object()) {
    return absl::InvalidArgumentError(StrCat(job_type, ": the payload is not a JSON object"));
  }
  return std::move(v.as_object());
}

std::string DecimalAmount(int64_t minor) {
  const uint64_t abs = minor < 0 ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  const uint64_t cents = abs % 100;
  return StrCat(minor < 0 ? "-" : "", abs / 100, ".", cents < 10 ? "0" : "", cents);
}

// ---- loads in the caller's transaction

Result<std::optional<Event>> LoadEvent(Txn& txn, int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kEventColumns, " FROM ticket_events WHERE id = ?");
  const Value p[] = {id};
  return LoadOne<Event>(txn, kSql, p, EventFromRow);
}

Result<std::optional<Ticket>> LoadTicket(Txn& txn, int64_t id) {
  static const std::string kSql = StrCat("SELECT ", kTicketColumns, " FROM tickets WHERE id = ?");
  const Value p[] = {id};
  return LoadOne<Ticket>(txn, kSql, p, TicketFromRow);
}

Result<std::optional<Guest>> LoadGuest(Txn& txn, int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kGuestColumns, " FROM ticket_guests WHERE id = ?");
  const Value p[] = {id};
  return LoadOne<Guest>(txn, kSql, p, GuestFromRow);
}

Result<std::optional<TicketType>> LoadTicketType(Txn& txn, int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kTypeColumns, " FROM ticket_types WHERE id = ?");
  const Value p[] = {id};
  return LoadOne<TicketType>(txn, kSql, p, TypeFromRow);
}

Result<std::optional<TicketTemplate>> LoadTemplate(Txn& txn, int64_t id) {
  static const std::string kSql =
      StrCat("SELECT ", kTemplateColumns, " FROM ticket_templates WHERE id = ?");
  const Value p[] = {id};
  return LoadOne<TicketTemplate>(txn, kSql, p, TemplateFromRow);
}

namespace {
Result<Ticketing::TemplateUse> LoadTemplateUse(Txn& txn, int64_t template_id, int64_t event_id) {
  Ticketing::TemplateUse use;
  HERALD_ASSIGN_OR_RETURN(use.licensed, QueryInt(txn,
                                                 "SELECT tickets FROM ticket_template_licences"
                                                 " WHERE template_id = ? AND event_id = ?",
                                                 {template_id, event_id}));
  HERALD_ASSIGN_OR_RETURN(use.used, QueryInt(txn,
                                             "SELECT COUNT(*) FROM tickets WHERE event_id = ?"
                                             " AND template_id = ? AND status <> 'cancelled'"
                                             // lets SQLite use the partial index
                                             " AND template_id <> 0",
                                             {event_id, template_id}));
  return use;
}
}  // namespace

Result<std::optional<EventKey>> LoadKey(Txn& txn, int64_t event_id, int64_t key_id) {
  static const std::string kSql =
      StrCat("SELECT ", kKeyColumns, " FROM ticket_keys WHERE event_id = ? AND key_id = ?");
  const Value p[] = {event_id, key_id};
  return LoadOne<EventKey>(txn, kSql, p, KeyFromRow);
}

bool IsIdempotencyKey(std::string_view k) {
  return !k.empty() && k.size() <= 255 &&
         std::all_of(k.begin(), k.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Result<int64_t> IdempotentReplay(Txn& txn, std::string_view sql, std::string_view key,
                                 std::string_view fingerprint, std::string_view what) {
  int64_t id = 0;
  std::string seen;
  HERALD_RETURN_IF_ERROR(txn.Query(sql, {key}, [&](const Row& r) {
    id = r.Int(0);
    seen = r.Text(1);
    return false;
  }));
  if (id != 0 && seen != fingerprint) {
    return absl::AlreadyExistsError(
        StrCat("Idempotency-Key: ", what, " ", id, " was made with this key for another request"));
  }
  return id;
}

// ---- Ticketing

Status Ticketing::Migrate(store::Store& store) { return store.Migrate("tickets", kMigrations); }

Ticketing::Ticketing(store::Store& store, const core::Clock& clock, TicketingOptions options)
    : store_(store), clock_(clock), options_(options) {}

Result<std::unique_ptr<Ticketing>> Ticketing::Create(store::Store& store, const core::Clock& clock,
                                                     TicketingOptions options) {
  if (std::all_of(options.master_key.begin(), options.master_key.end(),
                  [](uint8_t b) { return b == 0; })) {
    return absl::InvalidArgumentError("tickets: the master key is not set");
  }
  return std::unique_ptr<Ticketing>(new Ticketing(store, clock, options));
}

// ---- events

Result<Event> Ticketing::CreateEvent(Event e) {
  HERALD_RETURN_IF_ERROR(ValidateEvent(e));
  if (e.id < 0) return absl::InvalidArgumentError("id: expected a positive integer");
  e.created_at = e.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    if (e.id != 0) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Event> taken, LoadEvent(txn, e.id));
      if (taken) return absl::AlreadyExistsError(StrCat("an event ", e.id, " already exists"));
    }
    const auto values = EventValues(e);
    HERALD_ASSIGN_OR_RETURN(
        e.id, txn.Insert("INSERT INTO ticket_events (title, description, event_date, end_date,"
                         " location, timezone, max_attendees, status, code_mode, reentry,"
                         " doors_open, doors_close, currency, created_at, updated_at, id)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0))",
                         values));
    return txn
        .Exec("INSERT INTO ticket_counts (event_id, admitted, inside) VALUES (?, 0, 0)", {e.id})
        .status();
  }));
  return e;
}

Result<Event> Ticketing::UpdateEvent(const Event& in) {
  Event e = in;
  HERALD_RETURN_IF_ERROR(ValidateEvent(e));
  e.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(Event old, MustEvent(txn, e.id));
    e.created_at = old.created_at;
    if (old.code_mode != e.code_mode) {
      HERALD_ASSIGN_OR_RETURN(
          int64_t n, QueryInt(txn, "SELECT COUNT(*) FROM tickets WHERE event_id = ?", {e.id}));
      if (n > 0) {
        return absl::FailedPreconditionError("code_mode: cannot change once the event has tickets");
      }
    }
    const auto values = EventValues(e);
    return txn
        .Exec(
            "UPDATE ticket_events SET title = ?, description = ?, event_date = ?,"
            " end_date = ?, location = ?, timezone = ?, max_attendees = ?, status = ?,"
            " code_mode = ?, reentry = ?, doors_open = ?, doors_close = ?, currency = ?,"
            " created_at = ?, updated_at = ? WHERE id = ?",
            values)
        .status();
  }));
  return e;
}

Status Ticketing::DeleteEvent(int64_t id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, id).status());
    HERALD_ASSIGN_OR_RETURN(int64_t n,
                            QueryInt(txn, "SELECT COUNT(*) FROM tickets WHERE event_id = ?", {id}));
    if (n > 0) {
      return absl::FailedPreconditionError(
          StrCat("event ", id, " has ", n, " ticket(s): cancel the event instead"));
    }
    for (std::string_view sql : {"DELETE FROM ticket_types WHERE event_id = ?",
                                 "DELETE FROM ticket_guests WHERE event_id = ?",
                                 "DELETE FROM ticket_operators WHERE event_id = ?",
                                 "DELETE FROM ticket_gates WHERE event_id = ?",
                                 "DELETE FROM ticket_keys WHERE event_id = ?",
                                 "DELETE FROM ticket_counts WHERE event_id = ?",
                                 "DELETE FROM ticket_events WHERE id = ?"}) {
      HERALD_RETURN_IF_ERROR(txn.Exec(sql, {id}).status());
    }
    return absl::OkStatus();
  });
}

Result<Event> Ticketing::GetEvent(int64_t id) {
  std::optional<Event> e;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(e, LoadEvent(txn, id));
    return absl::OkStatus();
  }));
  if (!e) return absl::NotFoundError(StrCat("no event ", id));
  return *std::move(e);
}

Result<std::vector<Event>> Ticketing::ListEvents(const PageFilter& f,
                                                 std::string_view door_staff_user) {
  static const std::string kSql =
      StrCat("SELECT ", kEventColumns,
             " FROM ticket_events WHERE id > ?1 AND (?3 IS NULL OR id IN"
             " (SELECT event_id FROM ticket_operators WHERE user_id = ?3)) ORDER BY id LIMIT ?2");
  std::vector<Event> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.after_id, int64_t{std::clamp(f.limit, 1, 1000)},
                       door_staff_user.empty() ? Value() : Value(door_staff_user)};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Event>(txn, kSql, p, EventFromRow));
    return absl::OkStatus();
  }));
  return out;
}

// ---- ticket types

namespace {
Status ValidateTicketType(const TicketType& t) {
  HERALD_RETURN_IF_ERROR(CheckText("name", t.name, 64, true));
  HERALD_RETURN_IF_ERROR(CheckText("description", t.description, 1000, false));
  HERALD_RETURN_IF_ERROR(CheckPrice(t.price));
  if (t.quantity && (*t.quantity < 0 || *t.quantity > 10'000'000)) {
    return absl::InvalidArgumentError("quantity: expected 0 to 10000000");
  }
  return CheckVatRate(t.vat_rate);
}

// AlreadyExists when another type of the event has t.name.
Status CheckTypeNameFree(Txn& txn, const TicketType& t) {
  HERALD_ASSIGN_OR_RETURN(
      int64_t taken,
      QueryInt(txn, "SELECT COUNT(*) FROM ticket_types WHERE event_id = ? AND name = ? AND id <> ?",
               {t.event_id, t.name, t.id}));
  if (taken == 0) return absl::OkStatus();
  return absl::AlreadyExistsError(
      StrCat("event ", t.event_id, " already has a ticket type named '", t.name, "'"));
}
}  // namespace

Result<TicketType> Ticketing::CreateTicketType(TicketType t) {
  HERALD_RETURN_IF_ERROR(ValidateTicketType(t));
  t.id = 0;
  t.created_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, t.event_id).status());
    HERALD_RETURN_IF_ERROR(CheckTypeNameFree(txn, t));
    HERALD_ASSIGN_OR_RETURN(t.id, txn.Insert("INSERT INTO ticket_types (event_id, name, price,"
                                             " quantity, description, created_at, vat_rate)"
                                             " VALUES (?, ?, ?, ?, ?, ?, ?)",
                                             {t.event_id, t.name, t.price, OptIntValue(t.quantity),
                                              t.description, ToMicros(t.created_at), t.vat_rate}));
    return absl::OkStatus();
  }));
  return t;
}

Result<TicketType> Ticketing::UpdateTicketType(const TicketType& in) {
  TicketType t = in;
  HERALD_RETURN_IF_ERROR(ValidateTicketType(t));
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<TicketType> old, LoadTicketType(txn, t.id));
    if (!old) return absl::NotFoundError(StrCat("no ticket type ", t.id));
    t.event_id = old->event_id;
    t.created_at = old->created_at;
    HERALD_RETURN_IF_ERROR(CheckTypeNameFree(txn, t));
    if (t.price != old->price || t.vat_rate != old->vat_rate) {
      // Invoices and tickets read the type's price: it stays what its tickets were sold at.
      HERALD_ASSIGN_OR_RETURN(
          int64_t made,
          QueryInt(txn, "SELECT COUNT(*) FROM tickets WHERE ticket_type_id = ?", {t.id}));
      if (made > 0) {
        return absl::FailedPreconditionError(
            StrCat("ticket type '", old->name, "' has ", made,
                   " ticket(s), sold at its price and VAT rate: add another type for a new "
                   "price"));
      }
    }
    if (t.quantity) {
      HERALD_ASSIGN_OR_RETURN(
          int64_t sold,
          QueryInt(
              txn,
              "SELECT COUNT(*) FROM tickets WHERE ticket_type_id = ? AND status <> 'cancelled'",
              {t.id}));
      if (sold > *t.quantity) {
        return absl::FailedPreconditionError(StrCat("quantity: ticket type '", old->name,
                                                    "' already has ", sold,
                                                    " tickets; cancel some first"));
      }
    }
    return txn
        .Exec(
            "UPDATE ticket_types SET name = ?, price = ?, quantity = ?, description = ?,"
            " vat_rate = ? WHERE id = ?",
            {t.name, t.price, OptIntValue(t.quantity), t.description, t.vat_rate, t.id})
        .status();
  }));
  return t;
}

Status Ticketing::DeleteTicketType(int64_t id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t n, QueryInt(txn, "SELECT COUNT(*) FROM tickets WHERE ticket_type_id = ?", {id}));
    if (n > 0) {
      return absl::FailedPreconditionError(
          StrCat("ticket type ", id, " has ", n, " ticket(s), which keep it"));
    }
    HERALD_ASSIGN_OR_RETURN(int64_t deleted,
                            txn.Exec("DELETE FROM ticket_types WHERE id = ?", {id}));
    if (deleted == 0) return absl::NotFoundError(StrCat("no ticket type ", id));
    return absl::OkStatus();
  });
}

Result<std::vector<TicketType>> Ticketing::ListTicketTypes(int64_t event_id) {
  static const std::string kSql =
      StrCat("SELECT ", kTypeColumns, " FROM ticket_types WHERE event_id = ? ORDER BY id");
  std::vector<TicketType> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    const Value p[] = {event_id};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<TicketType>(txn, kSql, p, TypeFromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<TicketType> Ticketing::GetTicketType(int64_t id) {
  std::optional<TicketType> t;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(t, LoadTicketType(txn, id));
    return absl::OkStatus();
  }));
  if (!t) return absl::NotFoundError(StrCat("no ticket type ", id));
  return *std::move(t);
}

// ---- templates

namespace {
Status ValidateTemplate(const TicketTemplate& t) {
  HERALD_RETURN_IF_ERROR(CheckText("name", t.name, 200, true));
  HERALD_RETURN_IF_ERROR(CheckText("design", t.design, 64, false));
  HERALD_RETURN_IF_ERROR(CheckPrice(t.price));
  HERALD_RETURN_IF_ERROR(CheckCurrency(t.currency));
  HERALD_RETURN_IF_ERROR(CheckVatRate(t.vat_rate));
  return CheckText("layout", t.layout_json, 256 * 1024, false);
}
}  // namespace

Result<TicketTemplate> Ticketing::CreateTemplate(TicketTemplate t) {
  HERALD_RETURN_IF_ERROR(ValidateTemplate(t));
  t.created_at = t.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        t.id, txn.Insert(
                  "INSERT INTO ticket_templates (name, design, layout_json, created_at, updated_at,"
                  " price, currency, vat_rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  {t.name, t.design, t.layout_json, ToMicros(t.created_at), ToMicros(t.updated_at),
                   t.price, t.currency, t.vat_rate}));
    return absl::OkStatus();
  }));
  return t;
}

Result<TicketTemplate> Ticketing::UpdateTemplate(int64_t id, const TemplateChange& change) {
  TicketTemplate t;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<TicketTemplate> stored, LoadTemplate(txn, id));
    if (!stored) return absl::NotFoundError(StrCat("no ticket template ", id));
    HERALD_ASSIGN_OR_RETURN(t, change(*stored));
    t.id = id;
    t.created_at = stored->created_at;
    t.updated_at = clock_.Now();
    HERALD_RETURN_IF_ERROR(ValidateTemplate(t));
    return txn
        .Exec(
            "UPDATE ticket_templates SET name = ?, design = ?, layout_json = ?, updated_at = ?,"
            " price = ?, currency = ?, vat_rate = ? WHERE id = ?",
            {t.name, t.design, t.layout_json, ToMicros(t.updated_at), t.price, t.currency,
             t.vat_rate, t.id})
        .status();
  }));
  return t;
}

Status Ticketing::DeleteTemplate(int64_t id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t used, QueryInt(txn, "SELECT COUNT(*) FROM tickets WHERE template_id = ?", {id}));
    if (used > 0) {
      return absl::FailedPreconditionError(
          StrCat("ticket template ", id, " is used by ", used, " ticket(s)"));
    }
    HERALD_ASSIGN_OR_RETURN(
        int64_t licensed,
        QueryInt(txn,
                 "SELECT COUNT(*) FROM ticket_template_licences WHERE template_id = ?"
                 " AND tickets > 0",
                 {id}));
    if (licensed > 0) {
      return absl::FailedPreconditionError(
          StrCat("ticket template ", id, " was bought for ", licensed, " event(s)"));
    }
    HERALD_ASSIGN_OR_RETURN(int64_t n, txn.Exec("DELETE FROM ticket_templates WHERE id = ?", {id}));
    if (n == 0) return absl::NotFoundError(StrCat("no ticket template ", id));
    return absl::OkStatus();
  });
}

Result<TicketTemplate> Ticketing::GetTemplate(int64_t id) {
  std::optional<TicketTemplate> t;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(t, LoadTemplate(txn, id));
    return absl::OkStatus();
  }));
  if (!t) return absl::NotFoundError(StrCat("no ticket template ", id));
  return *std::move(t);
}

Result<std::vector<TicketTemplate>> Ticketing::ListTemplates(const PageFilter& f) {
  static const std::string kSql = StrCat("SELECT ", kTemplateColumns,
                                         " FROM ticket_templates WHERE id > ? ORDER BY id LIMIT ?");
  std::vector<TicketTemplate> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.after_id, int64_t{std::clamp(f.limit, 1, 1000)}};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<TicketTemplate>(txn, kSql, p, TemplateFromRow));
    return absl::OkStatus();
  }));
  return out;
}

// ---- guests

Status Ticketing::AddTemplateLicence(Txn& txn, int64_t template_id, int64_t event_id,
                                     int64_t tickets) {
  return txn
      .Exec(
          "INSERT INTO ticket_template_licences (template_id, event_id, tickets)"
          " VALUES (?1, ?2, max(?3, 0)) ON CONFLICT (template_id, event_id) DO UPDATE SET"
          " tickets = max(tickets + ?3, 0)",
          {template_id, event_id, tickets})
      .status();
}

Result<Ticketing::TemplateUse> Ticketing::TemplateUseOf(int64_t template_id, int64_t event_id) {
  TemplateUse use;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<TicketTemplate> t, LoadTemplate(txn, template_id));
    if (!t) return absl::NotFoundError(StrCat("no ticket template ", template_id));
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    HERALD_ASSIGN_OR_RETURN(use, LoadTemplateUse(txn, template_id, event_id));
    use.premium = t->premium();
    return absl::OkStatus();
  }));
  return use;
}

namespace {
Status CheckGuestEmailFree(Txn& txn, const Guest& g) {
  if (g.email.empty()) return absl::OkStatus();
  HERALD_ASSIGN_OR_RETURN(
      int64_t other,
      QueryInt(txn, "SELECT id FROM ticket_guests WHERE event_id = ? AND email = ? AND id <> ?",
               {g.event_id, g.email, g.id}));
  if (other != 0) {
    return absl::AlreadyExistsError(
        StrCat("email: guest ", other, " of event ", g.event_id, " already has ", g.email));
  }
  return absl::OkStatus();
}

Status InsertGuest(Txn& txn, Guest& g) {
  HERALD_RETURN_IF_ERROR(MustEvent(txn, g.event_id).status());
  HERALD_RETURN_IF_ERROR(CheckGuestEmailFree(txn, g));
  HERALD_ASSIGN_OR_RETURN(g.id, txn.Insert("INSERT INTO ticket_guests (event_id, first_name,"
                                           " last_name, email, phone, created_at, updated_at)"
                                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                                           {g.event_id, g.first_name, g.last_name, g.email, g.phone,
                                            ToMicros(g.created_at), ToMicros(g.updated_at)}));
  return absl::OkStatus();
}
}  // namespace

Result<Guest> Ticketing::CreateGuest(Guest g) {
  HERALD_ASSIGN_OR_RETURN(std::vector<Guest> out, CreateGuests({std::move(g)}));
  return std::move(out[0]);
}

Result<std::vector<Guest>> Ticketing::CreateGuests(std::vector<Guest> guests) {
  const absl::Time now = clock_.Now();
  for (Guest& g : guests) {
    g.id = 0;
    HERALD_RETURN_IF_ERROR(ValidateGuest(g));
    g.created_at = g.updated_at = now;
  }
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    for (Guest& g : guests) HERALD_RETURN_IF_ERROR(InsertGuest(txn, g));
    return absl::OkStatus();
  }));
  return guests;
}

Result<Guest> Ticketing::EnsureGuest(Txn& txn, Guest g) {
  g.id = 0;
  HERALD_RETURN_IF_ERROR(ValidateGuest(g));
  if (!g.email.empty()) {
    static const std::string kSql =
        StrCat("SELECT ", kGuestColumns, " FROM ticket_guests WHERE event_id = ? AND email = ?");
    const Value p[] = {g.event_id, g.email};
    HERALD_ASSIGN_OR_RETURN(std::optional<Guest> found, LoadOne<Guest>(txn, kSql, p, GuestFromRow));
    if (found) return *std::move(found);
  }
  g.created_at = g.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(InsertGuest(txn, g));
  return g;
}

Result<Guest> Ticketing::UpdateGuest(const Guest& in) {
  Guest g = in;
  HERALD_RETURN_IF_ERROR(ValidateGuest(g));
  g.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<Guest> old, LoadGuest(txn, g.id));
    if (!old) return absl::NotFoundError(StrCat("no guest ", g.id));
    g.event_id = old->event_id;
    g.created_at = old->created_at;
    HERALD_RETURN_IF_ERROR(CheckGuestEmailFree(txn, g));
    return txn
        .Exec(
            "UPDATE ticket_guests SET first_name = ?, last_name = ?, email = ?, phone = ?,"
            " updated_at = ? WHERE id = ?",
            {g.first_name, g.last_name, g.email, g.phone, ToMicros(g.updated_at), g.id})
        .status();
  }));
  return g;
}

Status Ticketing::DeleteGuest(int64_t id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(int64_t n,
                            QueryInt(txn, "SELECT COUNT(*) FROM tickets WHERE guest_id = ?", {id}));
    if (n > 0) {
      return absl::FailedPreconditionError(
          StrCat("guest ", id, " holds ", n, " ticket(s): cancel them first"));
    }
    HERALD_ASSIGN_OR_RETURN(int64_t deleted,
                            txn.Exec("DELETE FROM ticket_guests WHERE id = ?", {id}));
    if (deleted == 0) return absl::NotFoundError(StrCat("no guest ", id));
    return absl::OkStatus();
  });
}

Result<Guest> Ticketing::GetGuest(int64_t id) {
  std::optional<Guest> g;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(g, LoadGuest(txn, id));
    return absl::OkStatus();
  }));
  if (!g) return absl::NotFoundError(StrCat("no guest ", id));
  return *std::move(g);
}

Result<std::vector<Guest>> Ticketing::ListGuests(int64_t event_id, const PageFilter& f) {
  static const std::string kSql =
      StrCat("SELECT ", kGuestColumns,
             " FROM ticket_guests WHERE event_id = ? AND id > ? ORDER BY id LIMIT ?");
  std::vector<Guest> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    const Value p[] = {event_id, f.after_id, int64_t{std::clamp(f.limit, 1, 1000)}};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Guest>(txn, kSql, p, GuestFromRow));
    return absl::OkStatus();
  }));
  return out;
}

// ---- tickets

Result<std::vector<Ticket>> Ticketing::IssueTickets(int64_t event_id,
                                                    std::span<const IssueRequest> reqs) {
  std::vector<Ticket> out;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, IssueTickets(txn, event_id, reqs));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<Ticket>> Ticketing::IssueTickets(Txn& txn, int64_t event_id,
                                                    std::span<const IssueRequest> reqs) {
  if (reqs.empty() || reqs.size() > 10000) {
    return absl::InvalidArgumentError("tickets: expected 1 to 10000 tickets");
  }
  HERALD_ASSIGN_OR_RETURN(Event e, MustEvent(txn, event_id));
  if (e.status == EventStatus::kCancelled || e.status == EventStatus::kCompleted) {
    return absl::FailedPreconditionError(
        StrCat("event ", e.id, " is ", EventStatusName(e.status), ": no new tickets"));
  }
  const absl::Time now = clock_.Now();
  absl::flat_hash_map<int64_t, int64_t> per_type;      // tickets requested per type
  absl::flat_hash_map<int64_t, int64_t> licence_left;  // per template
  ActiveSigningKey key;
  std::vector<Ticket> out;
  out.reserve(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    const IssueRequest& r = reqs[i];
    const std::string at = reqs.size() > 1 ? StrCat("tickets[", i, "].") : "";
    if (r.status != TicketStatus::kPending && r.status != TicketStatus::kIssued) {
      return absl::InvalidArgumentError(StrCat(at, "status: expected pending or issued"));
    }
    HERALD_RETURN_IF_ERROR(CheckText(StrCat(at, "seat"), r.seat, 32, false));
    if (r.guest_id != 0) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Guest> g, LoadGuest(txn, r.guest_id));
      if (!g || g->event_id != event_id) {
        return absl::InvalidArgumentError(
            StrCat(at, "guest_id: no guest ", r.guest_id, " in event ", event_id));
      }
    }
    if (r.ticket_type_id != 0) {
      HERALD_ASSIGN_OR_RETURN(std::optional<TicketType> t, LoadTicketType(txn, r.ticket_type_id));
      if (!t || t->event_id != event_id) {
        return absl::InvalidArgumentError(StrCat(at, "ticket_type_id: no ticket type ",
                                                 r.ticket_type_id, " in event ", event_id));
      }
      if (t->quantity && ++per_type[t->id] == 1) {
        HERALD_ASSIGN_OR_RETURN(
            int64_t sold,
            QueryInt(
                txn,
                "SELECT COUNT(*) FROM tickets WHERE ticket_type_id = ? AND status <> 'cancelled'",
                {t->id}));
        per_type[t->id] = sold + 1;
      }
      if (t->quantity && per_type[t->id] > *t->quantity) {
        return absl::FailedPreconditionError(
            StrCat("ticket type '", t->name, "' is sold out (", *t->quantity, " tickets)"));
      }
    }
    std::string number = absl::AsciiStrToUpper(ToAbsl(r.ticket_code));
    if (!number.empty()) {
      if (!IsImportedNumber(number)) {
        return absl::InvalidArgumentError(
            StrCat(at, "ticket_code: expected 4 to 64 of A-Z a-z 0-9 _ . -"));
      }
      HERALD_ASSIGN_OR_RETURN(
          int64_t taken, QueryInt(txn, "SELECT id FROM tickets WHERE ticket_code = ?", {number}));
      if (taken != 0) {
        return absl::AlreadyExistsError(
            StrCat(at, "ticket_code: ticket ", taken, " already has ", number));
      }
    }
    if (r.template_id != 0) {
      // Tickets the template may still have in this event (free: no limit).
      auto [left, first] =
          licence_left.try_emplace(r.template_id, std::numeric_limits<int64_t>::max());
      if (first) {
        HERALD_ASSIGN_OR_RETURN(std::optional<TicketTemplate> tmpl,
                                LoadTemplate(txn, r.template_id));
        if (!tmpl) {
          return absl::InvalidArgumentError(
              StrCat(at, "template_id: no ticket template ", r.template_id));
        }
        if (tmpl->premium()) {
          HERALD_ASSIGN_OR_RETURN(TemplateUse use, LoadTemplateUse(txn, r.template_id, event_id));
          left->second = use.remaining();
        }
      }
      if (left->second-- <= 0) {
        return absl::FailedPreconditionError(StrCat(
            at, "template_id: ticket template ", r.template_id, " is premium: event ", event_id,
            "'s licence has no tickets left; buy more (a payment with metadata"
            " template_id, event_id and ticket_count)"));
      }
    }
    Ticket t;
    t.event_id = event_id;
    t.ticket_type_id = r.ticket_type_id;
    t.guest_id = r.guest_id;
    t.purchase_id = r.purchase_id;
    t.template_id = r.template_id;
    t.seat = r.seat;
    t.status = r.status;
    t.created_at = t.updated_at = now;
    // The row first (its id goes into the signed code), then its codes.
    HERALD_ASSIGN_OR_RETURN(
        t.id,
        txn.Insert(
            "INSERT INTO tickets (event_id, ticket_type_id, guest_id, purchase_id, template_id,"
            " ticket_code, seat, status, generation, key_id, qr_code_data, ticket_file_url,"
            " ticket_file_path, document_id, generation_job_id, is_validated, inside, entries,"
            " first_gate, first_operator, first_scanner, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, '#' || ?, ?, ?, 0, 0, '#' || ?, '', '', '', '', 0, 0, 0,"
            " '', '', '', ?, ?)",
            {event_id, t.ticket_type_id, t.guest_id, t.purchase_id, t.template_id, int64_t(i),
             t.seat, TicketStatusName(t.status), int64_t(i), ToMicros(now), ToMicros(now)}));
    HERALD_RETURN_IF_ERROR(NewCodes(txn, options_.master_key, e, t, now, key));
    if (!number.empty()) t.ticket_code = std::move(number);
    HERALD_RETURN_IF_ERROR(WriteTicketCodes(txn, t));
    out.push_back(std::move(t));
  }
  return out;
}

Result<Ticket> Ticketing::GetTicket(int64_t id) {
  HERALD_ASSIGN_OR_RETURN(std::vector<Ticket> t, GetTickets({&id, 1}));
  if (t.empty()) return absl::NotFoundError(StrCat("no ticket ", id));
  return std::move(t[0]);
}

Result<std::vector<Ticket>> Ticketing::GetTickets(std::span<const int64_t> ids) {
  std::vector<Ticket> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    for (int64_t id : ids) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, id));
      if (t) out.push_back(*std::move(t));
    }
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<Ticket>> Ticketing::ListTickets(const TicketFilter& f) {
  static const std::string kSql =
      StrCat("SELECT ", kTicketColumns,
             " FROM tickets WHERE (?1 = 0 OR event_id = ?1) AND (?2 IS NULL OR status = ?2)"
             " AND (?3 = 0 OR guest_id = ?3) AND id > ?4 ORDER BY id LIMIT ?5");
  std::vector<Ticket> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.event_id, f.status ? Value(TicketStatusName(*f.status)) : Value(),
                       f.guest_id, f.after_id, int64_t{std::clamp(f.limit, 1, 1000)}};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Ticket>(txn, kSql, p, TicketFromRow));
    return absl::OkStatus();
  }));
  return out;
}

Status Ticketing::MarkIssued(Txn& txn, int64_t ticket_id) {
  return txn
      .Exec(
          "UPDATE tickets SET status = 'issued', updated_at = ? WHERE id = ? AND status = "
          "'pending'",
          {ToMicros(clock_.Now()), ticket_id})
      .status();
}

Status Ticketing::CancelTicket(Txn& txn, int64_t id, std::string_view reason) {
  HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, id));
  if (!t) return absl::NotFoundError(StrCat("no ticket ", id));
  if (t->status == TicketStatus::kCancelled) return absl::OkStatus();
  if (t->status == TicketStatus::kUsed) {
    return absl::FailedPreconditionError(StrCat("ticket ", id, " was already used"));
  }
  const absl::Time now = clock_.Now();
  HERALD_RETURN_IF_ERROR(Revoke(txn, *t, reason, now));
  return txn
      .Exec("UPDATE tickets SET status = 'cancelled', updated_at = ? WHERE id = ?",
            {ToMicros(now), id})
      .status();
}

Result<Ticket> Ticketing::UpdateTicket(int64_t id, const TicketChange& change) {
  if (change.seat) HERALD_RETURN_IF_ERROR(CheckText("seat", *change.seat, 32, false));
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, id));
    if (!t) return absl::NotFoundError(StrCat("no ticket ", id));
    if (t->status == TicketStatus::kPending) {
      return absl::FailedPreconditionError(
          StrCat("ticket ", id, " waits for its payment: its purchase decides its holder"));
    }
    if (t->status != TicketStatus::kIssued || t->is_validated) {
      return absl::FailedPreconditionError(StrCat(
          "ticket ", id, " is ", t->is_validated ? "scanned in" : TicketStatusName(t->status),
          ": it cannot change"));
    }
    const int64_t guest = change.guest_id.value_or(t->guest_id);
    const std::string seat = change.seat.value_or(t->seat);
    if (guest == t->guest_id && seat == t->seat) return absl::OkStatus();
    if (guest != 0 && guest != t->guest_id) {
      HERALD_ASSIGN_OR_RETURN(std::optional<Guest> g, LoadGuest(txn, guest));
      if (!g || g->event_id != t->event_id) {
        return absl::InvalidArgumentError(
            StrCat("guest_id: no guest ", guest, " in event ", t->event_id));
      }
    }
    HERALD_RETURN_IF_ERROR(
        txn.Exec("UPDATE tickets SET guest_id = ?, seat = ? WHERE id = ?", {guest, seat, id})
            .status());
    // The old holder keeps a file with the old code and seat: the code must not admit them.
    return Reissue(txn, options_.master_key, *t, clock_.Now());
  }));
  return GetTicket(id);
}

Result<Ticket> Ticketing::CancelTicket(int64_t id, std::string_view reason) {
  HERALD_RETURN_IF_ERROR(
      store_.Write([&](Txn& txn) -> Status { return CancelTicket(txn, id, reason); }));
  return GetTicket(id);
}

Result<Ticket> Ticketing::ReissueTicket(int64_t id) {
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<Ticket> t, LoadTicket(txn, id));
    if (!t) return absl::NotFoundError(StrCat("no ticket ", id));
    if (t->status == TicketStatus::kCancelled || t->status == TicketStatus::kUsed) {
      return absl::FailedPreconditionError(
          StrCat("ticket ", id, " is ", TicketStatusName(t->status), ": it cannot be reissued"));
    }
    return Reissue(txn, options_.master_key, *t, clock_.Now());
  }));
  return GetTicket(id);
}

Status Ticketing::SetTicketFile(Txn& txn, int64_t ticket_id, std::string_view document_id,
                                std::string_view url, std::string_view path,
                                std::string_view job_id) {
  return txn
      .Exec(
          "UPDATE tickets SET document_id = ?, ticket_file_url = ?, ticket_file_path = ?,"
          " generation_job_id = ?, updated_at = ? WHERE id = ?",
          {document_id, url, path, job_id, ToMicros(clock_.Now()), ticket_id})
      .status();
}

// ---- operators and gates

Result<Operator> Ticketing::PutOperator(Operator op) {
  if (!IsValidName(op.operator_id)) {
    return absl::InvalidArgumentError(
        "operator_id: expected 1 to 128 characters of A-Z a-z 0-9 _ . : -");
  }
  HERALD_RETURN_IF_ERROR(CheckText("user_id", op.user_id, 128, false));
  HERALD_RETURN_IF_ERROR(CheckText("name", op.name, 200, false));
  if (!IsGateList(op.gates) || op.gates.size() > 100) {
    return absl::InvalidArgumentError("gates: expected up to 100 gate ids");
  }
  op.created_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, op.event_id).status());
    for (const std::string& g : op.gates) {
      HERALD_ASSIGN_OR_RETURN(
          int64_t found,
          QueryInt(txn, "SELECT COUNT(*) FROM ticket_gates WHERE event_id = ? AND gate_id = ?",
                   {op.event_id, g}));
      if (found == 0) {
        return absl::InvalidArgumentError(
            StrCat("gates: event ", op.event_id, " has no gate '", g, "'"));
      }
    }
    return txn
        .Exec(
            "INSERT INTO ticket_operators (event_id, operator_id, user_id, name, gates, created_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_id, operator_id) DO UPDATE SET"
            " user_id = ?3, name = ?4, gates = ?5",
            {op.event_id, op.operator_id, op.user_id, op.name, JoinGates(op.gates),
             ToMicros(op.created_at)})
        .status();
  }));
  return op;
}

Status Ticketing::DeleteOperator(int64_t event_id, std::string_view operator_id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t n, txn.Exec("DELETE FROM ticket_operators WHERE event_id = ? AND operator_id = ?",
                            {event_id, operator_id}));
    if (n == 0) {
      return absl::NotFoundError(
          StrCat("event ", event_id, " has no operator ", operator_id.substr(0, 128)));
    }
    return absl::OkStatus();
  });
}

Result<std::vector<Operator>> Ticketing::ListOperators(int64_t event_id) {
  std::vector<Operator> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    return txn.Query(
        "SELECT operator_id, user_id, name, gates, created_at FROM ticket_operators"
        " WHERE event_id = ? ORDER BY operator_id",
        {event_id}, [&](const Row& r) {
          Operator op;
          op.event_id = event_id;
          op.operator_id = r.Text(0);
          op.user_id = r.Text(1);
          op.name = r.Text(2);
          op.gates = SplitGates(r.Text(3));
          op.created_at = FromMicros(r.Int(4));
          out.push_back(std::move(op));
          return true;
        });
  }));
  return out;
}

Result<Gate> Ticketing::PutGate(Gate gate) {
  if (!IsValidName(gate.gate_id)) {
    return absl::InvalidArgumentError(
        "gate_id: expected 1 to 128 characters of A-Z a-z 0-9 _ . : -");
  }
  HERALD_RETURN_IF_ERROR(CheckText("name", gate.name, 200, false));
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, gate.event_id).status());
    return txn
        .Exec(
            "INSERT INTO ticket_gates (event_id, gate_id, name, kind) VALUES (?1, ?2, ?3, ?4)"
            " ON CONFLICT (event_id, gate_id) DO UPDATE SET name = ?3, kind = ?4",
            {gate.event_id, gate.gate_id, gate.name, GateKindName(gate.kind)})
        .status();
  }));
  return gate;
}

Status Ticketing::DeleteGate(int64_t event_id, std::string_view gate_id) {
  return store_.Write([&](Txn& txn) -> Status {
    bool used = false;
    HERALD_RETURN_IF_ERROR(txn.Query("SELECT gates FROM ticket_operators WHERE event_id = ?",
                                     {event_id}, [&](const Row& r) {
                                       for (const std::string& g : SplitGates(r.Text(0))) {
                                         used = used || g == gate_id;
                                       }
                                       return !used;
                                     }));
    if (used) {
      return absl::FailedPreconditionError(
          StrCat("gate ", gate_id.substr(0, 128), " is assigned to operators"));
    }
    HERALD_ASSIGN_OR_RETURN(int64_t n,
                            txn.Exec("DELETE FROM ticket_gates WHERE event_id = ? AND gate_id = ?",
                                     {event_id, gate_id}));
    if (n == 0) {
      return absl::NotFoundError(
          StrCat("event ", event_id, " has no gate ", gate_id.substr(0, 128)));
    }
    return absl::OkStatus();
  });
}

Result<std::vector<Gate>> Ticketing::ListGates(int64_t event_id) {
  std::vector<Gate> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    Status bad;
    HERALD_RETURN_IF_ERROR(txn.Query(
        "SELECT gate_id, name, kind FROM ticket_gates WHERE event_id = ? ORDER BY gate_id",
        {event_id}, [&](const Row& r) {
          Gate g;
          g.event_id = event_id;
          g.gate_id = r.Text(0);
          g.name = r.Text(1);
          Result<GateKind> kind = ParseGateKind(r.Text(2));
          if (!kind.ok()) {
            bad = kind.status();
            return false;
          }
          g.kind = *kind;
          out.push_back(std::move(g));
          return true;
        }));
    return bad;
  }));
  return out;
}

// ---- keys

Result<EventKey> Ticketing::RotateKey(int64_t event_id) {
  std::optional<EventKey> key;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    HERALD_ASSIGN_OR_RETURN(
        int64_t last,
        QueryInt(txn, "SELECT MAX(key_id) FROM ticket_keys WHERE event_id = ?", {event_id}));
    if (last >= 65535) {
      return absl::FailedPreconditionError("the event has used all 65535 key ids");
    }
    HERALD_ASSIGN_OR_RETURN(key,
                            AddKey(txn, options_.master_key, event_id, last + 1, clock_.Now()));
    return absl::OkStatus();
  }));
  return *std::move(key);
}

Result<EventKey> Ticketing::RevokeKey(int64_t event_id, int64_t key_id) {
  std::optional<EventKey> key;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    const int64_t now = ToMicros(clock_.Now());
    HERALD_ASSIGN_OR_RETURN(
        int64_t n,
        txn.Exec("UPDATE ticket_keys SET revoked_at = coalesce(revoked_at, ?),"
                 " retired_at = coalesce(retired_at, ?) WHERE event_id = ? AND key_id = ?",
                 {now, now, event_id, key_id}));
    if (n == 0) return absl::NotFoundError(StrCat("event ", event_id, " has no key ", key_id));
    HERALD_ASSIGN_OR_RETURN(key, LoadKey(txn, event_id, key_id));
    return absl::OkStatus();
  }));
  return *std::move(key);
}

Result<std::vector<EventKey>> Ticketing::ListKeys(int64_t event_id) {
  static const std::string kSql =
      StrCat("SELECT ", kKeyColumns, " FROM ticket_keys WHERE event_id = ? ORDER BY key_id");
  std::vector<EventKey> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    const Value p[] = {event_id};
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<EventKey>(txn, kSql, p, KeyFromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<int64_t>> Ticketing::ListUnpaid(int64_t event_id) {
  std::vector<int64_t> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    return txn.Query("SELECT id FROM tickets WHERE event_id = ? AND status = 'pending' ORDER BY id",
                     {event_id}, [&](const Row& r) {
                       out.push_back(r.Int(0));
                       return true;
                     });
  }));
  return out;
}

Result<std::vector<Revocation>> Ticketing::ListRevocations(int64_t event_id, int64_t since,
                                                           int limit) {
  std::vector<Revocation> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(MustEvent(txn, event_id).status());
    return txn.Query(
        "SELECT seq, ticket_id, generation, reason, revoked_at FROM ticket_revocations"
        " WHERE event_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        {event_id, since, int64_t{std::clamp(limit, 1, 10000)}}, [&](const Row& r) {
          Revocation v;
          v.seq = r.Int(0);
          v.event_id = event_id;
          v.ticket_id = r.Int(1);
          v.generation = r.Int(2);
          v.reason = r.Text(3);
          v.revoked_at = FromMicros(r.Int(4));
          out.push_back(std::move(v));
          return true;
        });
  }));
  return out;
}

}  // namespace herald::apps::tickets
