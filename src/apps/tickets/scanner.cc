#include "apps/tickets/scanner.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "apps/tickets/ticket_code.h"
#include "auth/crypto.h"
#include "boost/json/parse.hpp"
#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::apps::tickets {

// What scans read of an event's configuration, by (event id, config_version): the event, its
// keys, and the door-staff and gate check's answers. A version names one content forever
// (migration 3 in ticketing.cc gives the event a new random one with every change, in the
// change's transaction), so an entry serves any transaction that reads its version, and a
// newer version replaces it. Bounded: past kMaxEvents events, or kMaxKeys keys or
// kMaxAnswers answers of an event, that part starts over. Version 0 (no event) is never
// cached.
class ScanConfigCache {
 public:
  struct Answer {
    std::string reason;       // "" when the scan may go on
    std::string operator_id;  // the operator id the scan records
  };

  std::shared_ptr<const Event> FindEvent(int64_t id, int64_t version) {
    absl::MutexLock l(&mu_);
    Entry* e = Find(id, version);
    return e != nullptr ? e->event : nullptr;
  }
  void PutEvent(int64_t version, std::shared_ptr<const Event> event) {
    absl::MutexLock l(&mu_);
    if (Entry* e = Slot(event->id, version)) e->event = std::move(event);
  }

  // The outer optional is the cache's answer; the inner one a key the event does not have.
  std::optional<std::optional<EventKey>> FindKey(int64_t event_id, int64_t version,
                                                 int64_t key_id) {
    return Find(event_id, version, &Entry::keys, key_id);
  }
  void PutKey(int64_t event_id, int64_t version, int64_t key_id,
              const std::optional<EventKey>& key) {
    Put(event_id, version, &Entry::keys, key_id, key, kMaxKeys);
  }

  std::optional<Answer> FindAnswer(int64_t event_id, int64_t version, const std::string& question) {
    return Find(event_id, version, &Entry::answers, question);
  }
  void PutAnswer(int64_t event_id, int64_t version, std::string question, Answer answer) {
    Put(event_id, version, &Entry::answers, std::move(question), std::move(answer), kMaxAnswers);
  }

 private:
  static constexpr size_t kMaxEvents = 64;
  static constexpr size_t kMaxKeys = 64;
  static constexpr size_t kMaxAnswers = 256;

  struct Entry {
    int64_t version = 0;
    std::shared_ptr<const Event> event;
    absl::flat_hash_map<int64_t, std::optional<EventKey>> keys;
    absl::flat_hash_map<std::string, Answer> answers;
  };

  template <typename K, typename V>
  using Map = absl::flat_hash_map<K, V> Entry::*;

  Entry* Find(int64_t id, int64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (version == 0) return nullptr;
    auto it = entries_.find(id);
    return it != entries_.end() && it->second.version == version ? &it->second : nullptr;
  }
  template <typename K, typename V>
  std::optional<V> Find(int64_t id, int64_t version, Map<K, V> map, const K& key) {
    absl::MutexLock l(&mu_);
    Entry* e = Find(id, version);
    if (e == nullptr) return std::nullopt;
    auto it = (e->*map).find(key);
    if (it == (e->*map).end()) return std::nullopt;
    return it->second;
  }
  template <typename K, typename V>
  void Put(int64_t id, int64_t version, Map<K, V> map, K key, V value, size_t max) {
    absl::MutexLock l(&mu_);
    Entry* e = Slot(id, version);
    if (e == nullptr) return;
    auto& m = e->*map;
    if (m.size() >= max) m.clear();  // made-up gates or operator ids must not fill it for good
    m.emplace(std::move(key), std::move(value));
  }
  // The entry of `version`, emptied first if it described another; null for version 0.
  Entry* Slot(int64_t id, int64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (version == 0) return nullptr;
    if (!entries_.contains(id) && entries_.size() >= kMaxEvents) entries_.clear();
    Entry& e = entries_[id];
    if (e.version != version) e = Entry{version};
    return &e;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

namespace {

using engine::table::FromMicros;
using engine::table::OptTime;
using engine::table::RowTime;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

struct ReasonText {
  std::string_view code, fr, en;
};

constexpr ReasonText kReasons[] = {
    {"invalid_code", "Code inconnu ou illisible", "Unknown or unreadable code"},
    {"invalid_signature", "Signature du billet invalide : billet falsifié",
     "Invalid ticket signature: forged ticket"},
    {"key_revoked", "Billet signé par une clé révoquée", "Ticket signed by a revoked key"},
    {"revoked", "Billet révoqué (remplacé ou annulé)", "Ticket revoked (replaced or cancelled)"},
    {"wrong_event", "Billet d'un autre événement", "Ticket for another event"},
    {"cancelled", "Billet annulé", "Ticket cancelled"},
    {"unpaid", "Billet non payé", "Ticket not paid"},
    {"event_not_active", "L'événement n'est pas ouvert", "The event is not open"},
    {"not_yet_valid", "Billet pas encore valable (portes pas ouvertes)",
     "Ticket not valid yet (doors not open)"},
    {"expired", "Billet expiré", "Ticket expired"},
    {"operator_not_allowed", "Opérateur non autorisé pour cet événement",
     "Operator not allowed for this event"},
    {"gate_not_allowed", "Entrée non autorisée à cette porte", "Not allowed at this gate"},
    {"exit_not_allowed", "Sortie non prévue ici", "Exit not allowed here"},
    {"not_inside", "Ce billet n'est pas à l'intérieur", "This ticket is not inside"},
    {"already_used", "Billet déjà utilisé", "Ticket already used"},
    {"capacity_reached", "Capacité maximale atteinte", "Maximum capacity reached"},
    {"nonce_reused", "Ce scanner a déjà utilisé ce nonce pour un autre billet",
     "This scanner already used this nonce for another ticket"},
    {"ok", "Billet valide : entrée autorisée", "Valid ticket: entry allowed"},
};

constexpr std::string_view kReasonCodes[] = {
    "invalid_code",     "invalid_signature",    "key_revoked",
    "revoked",          "wrong_event",          "cancelled",
    "unpaid",           "event_not_active",     "not_yet_valid",
    "expired",          "operator_not_allowed", "gate_not_allowed",
    "exit_not_allowed", "not_inside",           "already_used",
    "capacity_reached", "nonce_reused",         "ok"};

constexpr std::string_view kSourceNames[] = {"online", "offline", "internal"};

constexpr size_t kMaxField = 128;
constexpr size_t kMaxCode = 512;
constexpr size_t kMaxMetadata = 8 * 1024;

Status CheckField(std::string_view name, std::string_view value, size_t max) {
  if (value.size() > max) {
    return absl::InvalidArgumentError(StrCat(name, ": at most ", max, " bytes"));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(StrCat(name, ": control characters are not allowed"));
    }
  }
  return absl::OkStatus();
}

Status ValidateRequest(const ScanRequest& r) {
  if (r.code.empty() && r.ticket_id <= 0) {
    return absl::InvalidArgumentError("ticket_code: required (or a ticket id)");
  }
  HERALD_RETURN_IF_ERROR(CheckField("ticket_code", r.code, kMaxCode));
  HERALD_RETURN_IF_ERROR(CheckField("scanner_id", r.scanner_id, kMaxField));
  HERALD_RETURN_IF_ERROR(CheckField("operator_id", r.operator_id, kMaxField));
  HERALD_RETURN_IF_ERROR(CheckField("gate", r.gate, kMaxField));
  HERALD_RETURN_IF_ERROR(CheckField("nonce", r.nonce, kMaxField));
  if (r.metadata_json.size() > kMaxMetadata) {
    return absl::InvalidArgumentError(StrCat("scan_metadata: at most ", kMaxMetadata, " bytes"));
  }
  if (r.source == ScanSource::kOffline && !r.device_time) {
    return absl::InvalidArgumentError("timestamp: required for an offline scan");
  }
  if (r.source == ScanSource::kOffline && r.nonce.empty()) {
    // Without it, a batch uploaded twice (a retry after a lost answer) would be recorded
    // twice, and the device's own admissions flagged as conflicts.
    return absl::InvalidArgumentError("nonce: required for an offline scan");
  }
  return absl::OkStatus();
}

// What the checks and the answer need of a ticket: one indexed read in the scan's
// transaction, with its guest's name and its type's name.
struct TicketState {
  Ticket ticket;  // id, event, type, guest, number, seat, status, key_id only
  bool inside = false;
  int64_t entries = 0;
  std::optional<absl::Time> last_entry_at;
  std::optional<FirstAdmission> first;
  std::string guest_name;
  std::string type_name;
  int64_t config_version = 0;  // of the ticket's event; 0 if there is none
};

constexpr std::string_view kStateSelect =
    "SELECT t.id, t.event_id, t.ticket_type_id, t.guest_id, t.ticket_code, t.seat, t.status,"
    " t.key_id, t.inside, t.entries, t.last_entry_at, t.first_scan_id, t.validated_at,"
    " t.first_gate, t.first_operator, t.first_scanner, coalesce(g.first_name, ''),"
    " coalesce(g.last_name, ''), coalesce(y.name, ''), coalesce(e.config_version, 0)"
    " FROM tickets t LEFT JOIN ticket_guests g ON g.id = t.guest_id"
    " LEFT JOIN ticket_types y ON y.id = t.ticket_type_id"
    " LEFT JOIN ticket_events e ON e.id = t.event_id WHERE ";

// The ticket by `where`: "id", "code" (its QR code), "number", or "signed": by `key`, the
// ticket id a signed code names, and `code`, the code itself. A signed code always names its
// own ticket (it is signed with the ticket's id), so the row is found by its primary key
// rather than by a seek in the index of long codes.
Result<std::optional<TicketState>> LoadState(Txn& txn, std::string_view where, Value key,
                                             Value code = Value()) {
  // One statement per lookup, each prepared once.
  static const std::string kByCode = StrCat(kStateSelect, "t.qr_code_data = ?");
  static const std::string kByNumber = StrCat(kStateSelect, "t.ticket_code = ?");
  static const std::string kById = StrCat(kStateSelect, "t.id = ?");
  static const std::string kBySigned = StrCat(kStateSelect, "t.id = ? AND t.qr_code_data = ?");
  const bool is_signed = where == "signed";
  const std::string& sql = is_signed           ? kBySigned
                           : where == "code"   ? kByCode
                           : where == "number" ? kByNumber
                                               : kById;
  std::optional<TicketState> out;
  Status bad;
  const Value p[] = {key, code};
  HERALD_RETURN_IF_ERROR(txn.Query(sql, std::span(p, is_signed ? 2 : 1), [&](const Row& r) {
    TicketState s;
    Ticket& t = s.ticket;
    t.id = r.Int(0);
    t.event_id = r.Int(1);
    t.ticket_type_id = r.Int(2);
    t.guest_id = r.Int(3);
    t.ticket_code = r.Text(4);
    t.seat = r.Text(5);
    Result<TicketStatus> status = ParseTicketStatus(r.Text(6));
    if (!status.ok()) {
      bad = status.status();
      return false;
    }
    t.status = *status;
    t.key_id = r.Int(7);
    s.inside = r.Int(8) != 0;
    s.entries = r.Int(9);
    s.last_entry_at = RowTime(r, 10);
    if (!r.IsNull(11) && !r.IsNull(12)) {
      s.first = FirstAdmission{r.Int(11), FromMicros(r.Int(12)), std::string(r.Text(13)),
                               std::string(r.Text(14)), std::string(r.Text(15))};
    }
    s.guest_name = r.Text(16);
    std::string_view last = r.Text(17);
    if (!last.empty()) s.guest_name += StrCat(s.guest_name.empty() ? "" : " ", last);
    s.type_name = r.Text(18);
    s.config_version = r.Int(19);
    out = std::move(s);
    return false;
  }));
  HERALD_RETURN_IF_ERROR(bad);
  return out;
}

Result<bool> RevokedCode(Txn& txn, std::string_view column, std::string_view hash) {
  static const std::string kCode = "SELECT 1 FROM ticket_revocations WHERE code_hash = ? LIMIT 1";
  static const std::string kNumber =
      "SELECT 1 FROM ticket_revocations WHERE number_hash = ? LIMIT 1";
  bool found = false;
  const Value p[] = {hash};
  HERALD_RETURN_IF_ERROR(txn.Query(column == "code" ? kCode : kNumber, p, [&](const Row&) {
    found = true;
    return false;
  }));
  return found;
}

// What a scan needs of its code, derived before the scan's transaction (so not on the
// store's writer thread).
struct ScanCode {
  explicit ScanCode(const ScanRequest& r)
      : upper(absl::AsciiStrToUpper(ToAbsl(r.code))), kind(ClassifyCode(r.code)) {
    if (!r.code.empty()) sha256 = auth::Sha256Hex(upper);
    // 128 bits of SHA-256 tell codes apart in the log (nonce replays) without storing them.
    log_hash = r.code.empty() ? StrCat("#", r.ticket_id) : sha256.substr(0, 32);
    if (kind == CodeKind::kSigned && r.ticket_id <= 0) {
      Result<SignedCode> p = ParseSignedCode(r.code);
      if (p.ok()) parsed = *std::move(p);
    }
  }

  std::string upper;     // the code in upper case
  std::string sha256;    // of `upper`, in hex: how revocations name codes
  std::string log_hash;  // how the scan log names the code
  CodeKind kind;
  std::optional<SignedCode> parsed;  // a signed code that decodes
};

struct Resolved {
  std::optional<TicketState> state;
  std::string reason;  // set when the code alone decides (invalid, revoked...)
};

// An event's key, through the cache when `version` (the event's config_version) is known.
Result<std::optional<EventKey>> KeyOf(Txn& txn, ScanConfigCache& config, int64_t event_id,
                                      int64_t key_id, int64_t version) {
  if (std::optional<std::optional<EventKey>> cached = config.FindKey(event_id, version, key_id)) {
    return *cached;
  }
  HERALD_ASSIGN_OR_RETURN(std::optional<EventKey> key, LoadKey(txn, event_id, key_id));
  config.PutKey(event_id, version, key_id, key);
  return key;
}

// Finds the ticket a request designates, or the reason it designates none.
Result<Resolved> Resolve(Txn& txn, ScanConfigCache& config, const ScanRequest& r,
                         const ScanCode& sc) {
  Resolved out;
  if (r.ticket_id > 0) {
    HERALD_ASSIGN_OR_RETURN(out.state, LoadState(txn, "id", r.ticket_id));
    if (!out.state) out.reason = "invalid_code";
    return out;
  }
  const std::string& code = sc.upper;
  switch (sc.kind) {
    case CodeKind::kSigned: {
      const std::optional<SignedCode>& parsed = sc.parsed;
      if (!parsed) {
        out.reason = "invalid_code";
        return out;
      }
      const TicketClaims& c = parsed->claims;
      HERALD_ASSIGN_OR_RETURN(out.state,
                              LoadState(txn, "signed", c.ticket_id, std::string_view(code)));
      // The version of the key's event is known when the code's ticket was found.
      const int64_t version =
          out.state && out.state->ticket.event_id == c.event_id ? out.state->config_version : 0;
      HERALD_ASSIGN_OR_RETURN(std::optional<EventKey> key,
                              KeyOf(txn, config, c.event_id, c.key_id, version));
      if (!out.state) {
        // Not a current code: tell a forgery from a replaced or cancelled ticket.
        if (!key || !VerifySignedCode(*parsed, key->public_key)) {
          out.reason = "invalid_signature";
        } else if (key->revoked_at) {
          out.reason = "key_revoked";
        } else {
          HERALD_ASSIGN_OR_RETURN(bool revoked, RevokedCode(txn, "code", sc.sha256));
          out.reason = revoked ? "revoked" : "invalid_code";
        }
        return out;
      }
      // The code is the one stored for this ticket, so it was issued here; its key may have
      // been revoked since.
      if (key && key->revoked_at) out.reason = "key_revoked";
      return out;
    }
    case CodeKind::kRandom: {
      HERALD_ASSIGN_OR_RETURN(out.state, LoadState(txn, "code", std::string_view(code)));
      if (!out.state) {
        HERALD_ASSIGN_OR_RETURN(bool revoked, RevokedCode(txn, "code", sc.sha256));
        out.reason = revoked ? "revoked" : "invalid_code";
      }
      return out;
    }
    case CodeKind::kTicketNumber:
    case CodeKind::kUnknown: {
      // A number typed at the door, or one brought from another system.
      HERALD_ASSIGN_OR_RETURN(out.state, LoadState(txn, "number", std::string_view(code)));
      if (!out.state) {
        HERALD_ASSIGN_OR_RETURN(bool revoked, RevokedCode(txn, "number", sc.sha256));
        out.reason = revoked ? "revoked" : "invalid_code";
      }
      return out;
    }
  }
  out.reason = "invalid_code";
  return out;
}

// The operator and gate checks: "" when allowed, else the reason. A logged-in operator's
// operator id is the one of their operator row (`operator_id`). One statement.
Result<std::string> CheckOperator(Txn& txn, const Event& e, const ScanRequest& r,
                                  std::string& operator_id) {
  static const std::string kSql =
      "SELECT o.operator_id, o.gates, EXISTS (SELECT 1 FROM ticket_operators WHERE event_id = ?1),"
      " (SELECT kind FROM ticket_gates WHERE event_id = ?1 AND gate_id = ?4),"
      " EXISTS (SELECT 1 FROM ticket_gates WHERE event_id = ?1)"
      " FROM (SELECT 1) LEFT JOIN ticket_operators o ON o.event_id = ?1 AND"
      " ((?2 <> '' AND o.user_id = ?2) OR (?2 = '' AND o.operator_id = ?3)) LIMIT 1";
  std::optional<std::string> op_id, op_gates, kind;
  bool any_operator = false, any_gate = false;
  const Value p[] = {e.id, r.user_id, r.operator_id, r.gate};
  HERALD_RETURN_IF_ERROR(txn.Query(kSql, p, [&](const Row& row) {
    if (!row.IsNull(0)) {
      op_id = std::string(row.Text(0));
      op_gates = std::string(row.Text(1));
    }
    any_operator = row.Int(2) != 0;
    if (!row.IsNull(3)) kind = std::string(row.Text(3));
    any_gate = row.Int(4) != 0;
    return false;
  }));
  if (!r.user_id.empty()) {
    if (!op_id) return std::string("operator_not_allowed");
    operator_id = *op_id;
  } else if (!op_id && any_operator) {
    // An event with door staff accepts only them; one without accepts any operator the
    // caller names.
    return std::string("operator_not_allowed");
  }
  const bool restricted = op_gates && !op_gates->empty();
  if (r.gate.empty()) return std::string(restricted || any_gate ? "gate_not_allowed" : "");
  if (any_gate && !kind) return std::string("gate_not_allowed");
  if (restricted) {
    bool listed = false;
    std::string_view gates = *op_gates;
    while (!gates.empty() && !listed) {
      const size_t comma = gates.find(',');
      listed = gates.substr(0, comma) == r.gate;
      gates = comma == std::string_view::npos ? "" : gates.substr(comma + 1);
    }
    if (!listed) return std::string("gate_not_allowed");
  }
  if (kind && r.exit && *kind == "entry") return std::string("exit_not_allowed");
  if (kind && !r.exit && *kind == "exit") return std::string("gate_not_allowed");
  return std::string();
}

// The ticket's details for the answer.
void Describe(const TicketState& s, ScanResult& out) {
  const Ticket& t = s.ticket;
  out.ticket_id = t.id;
  out.event_id = t.event_id;
  out.guest_id = t.guest_id;
  out.ticket_code = t.ticket_code;
  out.seat = t.seat;
  out.guest_name = s.guest_name;
  out.ticket_type = s.type_name;
  out.scan_count = s.entries;
  out.last_scan_at = s.last_entry_at;
  out.first = s.first;
}

// The checks that do not depend on the ticket's admission state: "" when they pass.
std::string StaticChecks(const Resolved& res, const Event& e, const ScanRequest& r, absl::Time at) {
  const Ticket& t = res.state->ticket;
  if (!res.reason.empty()) return res.reason;  // key_revoked
  if (r.event_id != 0 && r.event_id != t.event_id) return "wrong_event";
  if (t.status == TicketStatus::kCancelled) return "cancelled";
  if (t.status == TicketStatus::kPending) return "unpaid";
  if (e.status != EventStatus::kActive) return "event_not_active";
  if (at < e.ValidFrom()) return "not_yet_valid";
  if (at > e.ValidUntil()) return "expired";
  return "";
}

ScanRecord RecordFromRow(const Row& r) {
  ScanRecord s;
  s.id = r.Int(0);
  s.event_id = r.Int(1);
  s.ticket_id = r.Int(2);
  s.scanner_id = r.Text(3);
  s.operator_id = r.Text(4);
  s.gate = r.Text(5);
  s.direction = r.Text(6);
  s.result = r.Text(7);
  s.admitted = r.Int(8) != 0;
  s.source = r.Text(9);
  if (!r.IsNull(10)) s.nonce = r.Text(10);
  s.device_time = RowTime(r, 11);
  s.server_time = FromMicros(r.Int(12));
  s.conflict = r.Int(13) != 0;
  s.repeat_of = r.IsNull(14) ? 0 : r.Int(14);
  s.metadata_json = r.Text(15);
  return s;
}

constexpr std::string_view kScanColumns =
    "id, event_id, ticket_id, scanner_id, operator_id, gate, direction, result, admitted, source,"
    " nonce, device_time, server_time, conflict, repeat_of, metadata";

// One scan, start to end, in the caller's write transaction (or a read one when `record` is
// false: Check).
class ScanTxn {
 public:
  ScanTxn(Txn& txn, ScanConfigCache& config, const ScanRequest& r, const ScanCode& code,
          absl::Time now, const ScannerOptions& options, bool record)
      : txn_(txn),
        config_(config),
        r_(r),
        code_(code),
        now_(now),
        options_(options),
        record_(record),
        operator_id_(r.operator_id) {}

  Result<ScanResult> Run() {
    ScanResult out;
    out.server_time = now_;
    out.exit = r_.exit;
    if (record_) {
      HERALD_ASSIGN_OR_RETURN(bool replayed, ReplayNonce(out));
      if (replayed) return out;
    }
    HERALD_ASSIGN_OR_RETURN(Resolved res, Resolve(txn_, config_, r_, code_));
    out.event_id = r_.event_id;
    if (!res.state) {
      out.reason = res.reason;
      HERALD_RETURN_IF_ERROR(Log(out, 0, false));
      return out;
    }
    TicketState& s = *res.state;
    HERALD_ASSIGN_OR_RETURN(std::shared_ptr<const Event> event, EventOf(s));
    if (!event) return absl::DataLossError(StrCat("ticket ", s.ticket.id, " has no event"));
    const bool offline = r_.source == ScanSource::kOffline;
    const absl::Time at = offline ? *r_.device_time : now_;
    std::string reason = StaticChecks(res, *event, r_, at);
    if (reason.empty()) {
      HERALD_ASSIGN_OR_RETURN(reason, CheckOperatorOf(*event, s.config_version));
    }
    // Who holds the ticket is told only to the event's own door staff.
    if (reason != "operator_not_allowed" && reason != "wrong_event") Describe(s, out);
    if (r_.event_id != 0) out.event_id = r_.event_id;
    if (reason.empty() && record_) {
      HERALD_ASSIGN_OR_RETURN(bool repeated, RepeatRecent(s, out));
      if (repeated) return out;
    }
    if (reason.empty()) {
      HERALD_ASSIGN_OR_RETURN(reason, r_.exit ? ExitCheck(*event, s) : EntryCheck(*event, s, out));
    }
    out.reason = reason.empty() ? "ok" : reason;
    out.valid = reason.empty();
    if (offline) {
      // The device's verdict happened; the server's reason is kept beside it.
      out.conflict = r_.device_admitted && !out.valid;
      out.valid = r_.device_admitted;
    }
    if (!record_) return out;
    // A device that let someone in offline used the ticket, whatever the server thinks of it
    // now: a ticket it admitted first is marked used, so no copy of it gets in later.
    const bool admits =
        offline ? r_.device_admitted &&
                      (reason.empty() || (!r_.exit && s.ticket.status == TicketStatus::kIssued))
                : reason.empty();
    HERALD_RETURN_IF_ERROR(Log(out, s.ticket.id, admits));
    if (admits) HERALD_RETURN_IF_ERROR(Apply(*event, s, out));
    return out;
  }

 private:
  // The ticket's event (null if there is none), through the cache.
  Result<std::shared_ptr<const Event>> EventOf(const TicketState& s) {
    if (std::shared_ptr<const Event> e = config_.FindEvent(s.ticket.event_id, s.config_version)) {
      return e;
    }
    HERALD_ASSIGN_OR_RETURN(std::optional<Event> loaded, LoadEvent(txn_, s.ticket.event_id));
    if (!loaded) return std::shared_ptr<const Event>();
    auto e = std::make_shared<const Event>(*std::move(loaded));
    config_.PutEvent(s.config_version, e);
    return e;
  }

  // CheckOperator through the cache: its answer depends only on the event's configuration
  // and the request's user, operator, gate and direction.
  Result<std::string> CheckOperatorOf(const Event& e, int64_t version) {
    std::string question =
        StrCat(r_.user_id.size(), ":", r_.user_id, r_.operator_id.size(), ":", r_.operator_id,
               r_.gate.size(), ":", r_.gate, r_.exit ? "exit" : "entry");
    if (std::optional<ScanConfigCache::Answer> a = config_.FindAnswer(e.id, version, question)) {
      operator_id_ = std::move(a->operator_id);
      return std::move(a->reason);
    }
    HERALD_ASSIGN_OR_RETURN(std::string reason, CheckOperator(txn_, e, r_, operator_id_));
    config_.PutAnswer(e.id, version, std::move(question), {reason, operator_id_});
    return reason;
  }

  // A nonce this scanner already used: the recorded answer. True when `out` holds it.
  Result<bool> ReplayNonce(ScanResult& out) {
    static const std::string kByNonce =
        StrCat("SELECT ", kScanColumns,
               ", code_hash FROM ticket_scans WHERE scanner_id = ? AND nonce = ?");
    if (r_.nonce.empty()) return false;
    std::optional<ScanRecord> earlier;
    std::string earlier_hash;
    const Value p[] = {r_.scanner_id, r_.nonce};
    HERALD_RETURN_IF_ERROR(txn_.Query(kByNonce, p, [&](const Row& row) {
      earlier = RecordFromRow(row);
      earlier_hash = row.Text(16);
      return false;
    }));
    if (!earlier) return false;
    if (earlier_hash != code_.log_hash) {
      return absl::AlreadyExistsError(StrCat("nonce: scanner '", r_.scanner_id.substr(0, 64),
                                             "' used this nonce for another ticket (scan ",
                                             earlier->id, ")"));
    }
    Answer(*earlier, out);
    if (earlier->ticket_id != 0) {
      HERALD_ASSIGN_OR_RETURN(std::optional<TicketState> s,
                              LoadState(txn_, "id", earlier->ticket_id));
      if (s) Describe(*s, out);
    }
    out.scan_id = earlier->repeat_of != 0 ? earlier->repeat_of : earlier->id;
    return true;
  }

  // The same scanner admitted (or let out) this ticket just now: that answer again, recorded
  // as a repeat. Refusals are not repeated: they are checked again. True when `out` holds it.
  // A scan without a scanner id (seed 003's body names only the operator and the place) is
  // the same scanner as an earlier one without a scanner id by the same operator (as
  // resolved: a logged-in operator's door-staff id) at the same gate: another gate is
  // another device.
  Result<bool> RepeatRecent(const TicketState& s, ScanResult& out) {
    static const std::string kRecent = StrCat(
        "SELECT ", kScanColumns,
        " FROM ticket_scans WHERE ticket_id = ?1 AND scanner_id = ?2 AND (?2 <> '' OR"
        " (operator_id = ?5 AND gate = ?6)) AND server_time >= ?3 AND result = 'ok'"
        " AND direction = ?4 AND source <> 'offline' AND (admitted = 1 OR repeat_of IS NOT NULL)"
        " ORDER BY id DESC LIMIT 1");
    if (!r_.nonce.empty() || (r_.scanner_id.empty() && operator_id_.empty()) ||
        r_.source == ScanSource::kOffline) {
      return false;
    }
    // The ticket must still be where that scan left it (inside after an entry).
    if (r_.exit ? s.inside : !(s.ticket.status == TicketStatus::kUsed && s.inside)) return false;
    std::optional<ScanRecord> earlier;
    const Value p[] = {s.ticket.id,
                       r_.scanner_id,
                       ToMicros(now_ - options_.repeat_window),
                       r_.exit ? "exit" : "entry",
                       std::string_view(operator_id_),
                       r_.gate};
    HERALD_RETURN_IF_ERROR(txn_.Query(kRecent, p, [&](const Row& row) {
      earlier = RecordFromRow(row);
      return false;
    }));
    if (!earlier) return false;
    Answer(*earlier, out);
    Describe(s, out);
    const int64_t original = earlier->repeat_of != 0 ? earlier->repeat_of : earlier->id;
    HERALD_RETURN_IF_ERROR(
        Insert(earlier->ticket_id, earlier->event_id, out.reason, false, out.conflict, original));
    out.scan_id = last_id_;
    return true;
  }

  static void Answer(const ScanRecord& earlier, ScanResult& out) {
    out.repeat = true;
    out.reason = earlier.result;
    out.conflict = earlier.conflict;
    out.valid = earlier.result == "ok";
    out.event_id = earlier.event_id;
  }

  Result<std::string> ExitCheck(const Event& e, const TicketState& s) {
    if (!e.reentry) return std::string("exit_not_allowed");
    if (!s.inside) return std::string("not_inside");
    return std::string();
  }

  Result<std::string> EntryCheck(const Event& e, const TicketState& s, ScanResult& out) {
    if (s.ticket.status == TicketStatus::kUsed && (!e.reentry || s.inside)) {
      return std::string("already_used");
    }
    if (e.max_attendees) {
      HERALD_ASSIGN_OR_RETURN(int64_t inside, Inside(e.id));
      if (inside >= *e.max_attendees) return std::string("capacity_reached");
    }
    out.reentry = s.ticket.status == TicketStatus::kUsed;
    return std::string();
  }

  Result<int64_t> Inside(int64_t event_id) {
    int64_t inside = 0;
    HERALD_RETURN_IF_ERROR(txn_.Query("SELECT inside FROM ticket_counts WHERE event_id = ?",
                                      {event_id}, [&](const Row& r) {
                                        inside = r.Int(0);
                                        return false;
                                      }));
    return inside;
  }

  // The admission (or exit) itself: conditional updates, so a row that changed since the
  // checks read it changes nothing and the scan is an error (it cannot happen while the store
  // serialises writes; the guard keeps exactly-once even if it did not).
  Status Apply(const Event& e, TicketState& s, ScanResult& out) {
    const int64_t now =
        ToMicros(r_.device_time && r_.source == ScanSource::kOffline ? *r_.device_time : now_);
    int64_t changed = 0;
    int64_t admitted_delta = 0;
    int64_t inside_delta = 0;
    if (r_.exit) {
      HERALD_ASSIGN_OR_RETURN(
          changed,
          txn_.Exec("UPDATE tickets SET inside = 0 WHERE id = ? AND inside = 1", {s.ticket.id}));
      inside_delta = -1;
    } else if (s.ticket.status == TicketStatus::kUsed) {
      HERALD_ASSIGN_OR_RETURN(
          changed, txn_.Exec("UPDATE tickets SET inside = 1, entries = entries + 1,"
                             " last_entry_at = ? WHERE id = ? AND inside = 0 AND status = 'used'",
                             {now, s.ticket.id}));
      inside_delta = 1;
    } else {
      HERALD_ASSIGN_OR_RETURN(
          changed,
          txn_.Exec("UPDATE tickets SET status = 'used', is_validated = 1, validated_at = ?1,"
                    " inside = 1, entries = 1, last_entry_at = ?1, first_scan_id = ?2,"
                    " first_gate = ?3, first_operator = ?4, first_scanner = ?5, updated_at = ?6"
                    " WHERE id = ?7 AND status = 'issued'",
                    {now, last_id_, r_.gate, std::string_view(operator_id_), r_.scanner_id,
                     ToMicros(now_), s.ticket.id}));
      admitted_delta = inside_delta = 1;
      out.first = FirstAdmission{last_id_, FromMicros(now), r_.gate, operator_id_, r_.scanner_id};
    }
    if (changed != 1) {
      return absl::AbortedError(StrCat("ticket ", s.ticket.id, " changed during its scan"));
    }
    if (!r_.exit) {
      out.scan_count += 1;
      out.last_scan_at = FromMicros(now);
    }
    return txn_
        .Exec(
            "UPDATE ticket_counts SET admitted = admitted + ?, inside = inside + ?"
            " WHERE event_id = ?",
            {admitted_delta, inside_delta, e.id})
        .status();
  }

  Status Log(ScanResult& out, int64_t ticket_id, bool admitted) {
    if (!record_) return absl::OkStatus();
    HERALD_RETURN_IF_ERROR(Insert(ticket_id, out.event_id, out.reason, admitted, out.conflict, 0));
    out.scan_id = last_id_;
    return absl::OkStatus();
  }

  Status Insert(int64_t ticket_id, int64_t event_id, std::string_view result, bool admitted,
                bool conflict, int64_t repeat_of) {
    static const std::string kSql =
        "INSERT INTO ticket_scans (event_id, ticket_id, code_hash, scanner_id, operator_id, gate,"
        " direction, result, admitted, source, nonce, device_time, server_time, conflict,"
        " repeat_of, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const Value p[] = {event_id,
                       ticket_id,
                       std::string_view(code_.log_hash),
                       r_.scanner_id,
                       std::string_view(operator_id_),
                       r_.gate,
                       r_.exit ? "exit" : "entry",
                       result,
                       int64_t{admitted},
                       ScanSourceName(r_.source),
                       r_.nonce.empty() || repeat_of != 0 ? Value() : Value(r_.nonce),
                       OptTime(r_.device_time),
                       ToMicros(now_),
                       int64_t{conflict},
                       repeat_of == 0 ? Value() : Value(repeat_of),
                       r_.metadata_json.empty() ? std::string_view("{}") : r_.metadata_json};
    last_id_ = 0;
    HERALD_ASSIGN_OR_RETURN(last_id_, txn_.Insert(kSql, p));
    return absl::OkStatus();
  }

  Txn& txn_;
  ScanConfigCache& config_;
  const ScanRequest& r_;
  const ScanCode& code_;
  const absl::Time now_;
  const ScannerOptions& options_;
  const bool record_;
  std::string operator_id_;
  int64_t last_id_ = 0;
};

}  // namespace

std::string_view ScanSourceName(ScanSource s) { return kSourceNames[static_cast<int>(s)]; }

std::string_view Message(std::string_view reason, std::string_view lang, bool exit) {
  if (exit && reason == "ok") {
    return lang == "fr" ? "Sortie enregistrée" : "Exit recorded";
  }
  for (const ReasonText& r : kReasons) {
    if (r.code == reason) return lang == "fr" ? r.fr : r.en;
  }
  return lang == "fr" ? "Erreur de validation" : "Validation error";
}

std::span<const std::string_view> ScanReasons() { return kReasonCodes; }

Scanner::Scanner(store::Store& store, const core::Clock& clock, ScannerOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      config_(std::make_unique<ScanConfigCache>()) {}

Scanner::~Scanner() = default;

Result<ScanResult> Scanner::Validate(const ScanRequest& request) {
  HERALD_RETURN_IF_ERROR(ValidateRequest(request));
  const ScanCode code(request);
  std::optional<ScanResult> out;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        out, ScanTxn(txn, *config_, request, code, clock_.Now(), options_, true).Run());
    return absl::OkStatus();
  }));
  return *std::move(out);
}

void Scanner::ValidateAsync(ScanRequest request, std::function<void(Result<ScanResult>)> done) {
  if (Status s = ValidateRequest(request); !s.ok()) {
    done(s);
    return;
  }
  struct State {
    explicit State(ScanRequest r) : request(std::move(r)), code(request) {}
    ScanRequest request;
    ScanCode code;
    std::optional<ScanResult> result;
  };
  auto state = std::make_shared<State>(std::move(request));
  store_.WriteAsync(
      [this, state](Txn& txn) -> Status {
        state->result.reset();
        HERALD_ASSIGN_OR_RETURN(state->result, ScanTxn(txn, *config_, state->request, state->code,
                                                       clock_.Now(), options_, true)
                                                   .Run());
        return absl::OkStatus();
      },
      [state, done = std::move(done)](Status s) {
        if (!s.ok()) {
          done(s);
        } else {
          done(*std::move(state->result));
        }
      },
      store::Rerun::kAllowed);  // a run replaces state->result
}

Result<ScanResult> Scanner::Check(const ScanRequest& request) {
  HERALD_RETURN_IF_ERROR(ValidateRequest(request));
  const ScanCode code(request);
  std::optional<ScanResult> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        out, ScanTxn(txn, *config_, request, code, clock_.Now(), options_, false).Run());
    return absl::OkStatus();
  }));
  return *std::move(out);
}

Result<std::vector<ScanResult>> Scanner::Upload(std::vector<ScanRequest> scans) {
  if (scans.empty() || scans.size() > 1000) {
    return absl::InvalidArgumentError("scans: expected 1 to 1000 scans");
  }
  for (size_t i = 0; i < scans.size(); ++i) {
    scans[i].source = ScanSource::kOffline;
    if (Status s = ValidateRequest(scans[i]); !s.ok()) {
      return absl::InvalidArgumentError(StrCat("scans[", i, "].", s.message()));
    }
  }
  std::vector<ScanCode> codes;
  codes.reserve(scans.size());
  for (const ScanRequest& r : scans) codes.emplace_back(r);
  std::vector<ScanResult> out;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    out.clear();
    const absl::Time now = clock_.Now();
    for (size_t i = 0; i < scans.size(); ++i) {
      const ScanRequest& r = scans[i];
      Result<ScanResult> res = ScanTxn(txn, *config_, r, codes[i], now, options_, true).Run();
      if (!res.ok() && res.status().code() == absl::StatusCode::kAlreadyExists) {
        // One bad scan must not keep the device's other scans out forever.
        ScanResult bad;
        bad.reason = "nonce_reused";
        bad.event_id = r.event_id;
        bad.server_time = now;
        out.push_back(std::move(bad));
        continue;
      }
      HERALD_RETURN_IF_ERROR(res.status());
      out.push_back(*std::move(res));
    }
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<ScanRecord>> Scanner::ListScans(const ScanFilter& f) {
  static const std::string kSql =
      StrCat("SELECT ", kScanColumns,
             " FROM ticket_scans WHERE (?1 = 0 OR event_id = ?1) AND (?2 = 0 OR ticket_id = ?2)"
             " AND (?3 = '' OR result = ?3) AND (?4 = 0 OR conflict = 1) AND (?5 = 0 OR id < ?5)"
             " ORDER BY id DESC LIMIT ?6");
  std::vector<ScanRecord> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.event_id,  f.ticket_id,
                       f.result,    int64_t{f.conflicts_only},
                       f.before_id, int64_t{std::clamp(f.limit, 1, 1000)}};
    return txn.Query(kSql, p, [&](const Row& r) {
      out.push_back(RecordFromRow(r));
      return true;
    });
  }));
  return out;
}

Result<ScanStats> Scanner::Stats(int64_t event_id) {
  ScanStats st;
  st.event_id = event_id;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(std::optional<Event> e, LoadEvent(txn, event_id));
    if (!e) return absl::NotFoundError(StrCat("no event ", event_id));
    st.capacity = e->max_attendees;
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT admitted, inside FROM ticket_counts WHERE event_id = ?", {event_id},
                  [&](const Row& r) {
                    st.admitted = r.Int(0);
                    st.inside = r.Int(1);
                    return false;
                  }));
    HERALD_RETURN_IF_ERROR(txn.Query(
        "SELECT COUNT(*) FROM tickets WHERE event_id = ? AND status IN ('issued', 'used')",
        {event_id}, [&](const Row& r) {
          st.tickets = r.Int(0);
          return false;
        }));
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT result, COUNT(*), SUM(conflict) FROM ticket_scans WHERE event_id = ?"
                  " GROUP BY result ORDER BY result",
                  {event_id}, [&](const Row& r) {
                    st.by_reason.emplace_back(std::string(r.Text(0)), r.Int(1));
                    st.scans += r.Int(1);
                    st.conflicts += r.Int(2);
                    return true;
                  }));
    return txn.Query(
        "SELECT gate, SUM(admitted AND direction = 'entry'), SUM(admitted AND direction = 'exit'),"
        " SUM(result <> 'ok') FROM ticket_scans WHERE event_id = ? GROUP BY gate ORDER BY gate",
        {event_id}, [&](const Row& r) {
          st.by_gate.push_back(GateCount{std::string(r.Text(0)), r.Int(1), r.Int(2), r.Int(3)});
          return true;
        });
  }));
  return st;
}

}  // namespace herald::apps::tickets
