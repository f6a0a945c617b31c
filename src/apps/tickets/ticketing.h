#pragma once
// Ticketing: the Event Planner of seeds 002 and 003. Events with their ticket types, guests,
// ticket templates, door staff (operators) and gates, tickets and the keys that sign them.
//
// Ids are integers (the seeds' bodies use them: "event_id": 1, "ticket_ids": [1, 2, 3]).
//
// Tickets. Each ticket has a human number printed on it and typed at the door when a QR code
// will not read ("TKT-001-7KQ2M9XW4B"), and a code carried by its QR code (qr_code_data):
// - events in the "signed" code mode (the default) get codes signed with the event's Ed25519
//   key (ticket_code.h), which a scanner verifies offline with the event's public keys;
// - events in the "random" mode get 128 random bits, which only the server can check.
// A ticket is "pending" (bought, not paid), "issued", "used" (admitted once) or "cancelled".
// Cancelling revokes its code; reissuing (a leaked or lost ticket) revokes the old code and
// number and gives new ones with generation + 1. A revoked code never becomes valid again,
// and a cancelled ticket never gets a fresh valid code (pretix#2467).
//
// Keys. An event's first signed ticket creates its key 1. RotateKey adds key n + 1, which
// signs from then on; codes signed by older keys stay valid until their key is revoked
// (RevokeKey), which refuses every code it signed, online and in the offline bundle.
// Secret keys are stored sealed (XChaCha20-Poly1305) under `master_key`.
//
// Validity window. A ticket admits from the event's doors_open to its doors_close (by default
// 12 hours before the event's start to 12 hours after its end, or after its start when it has
// no end). Signed codes carry the window they were issued with, for offline scanners.
//
// Thread-safe (all state is in the store).

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace herald::apps::tickets {

enum class EventStatus { kDraft, kActive, kCancelled, kCompleted };
std::string_view EventStatusName(EventStatus s);  // "draft", "active", "cancelled", "completed"
Result<EventStatus> ParseEventStatus(std::string_view name);  // InvalidArgument

enum class CodeMode { kSigned, kRandom };
std::string_view CodeModeName(CodeMode m);  // "signed", "random"
Result<CodeMode> ParseCodeMode(std::string_view name);

enum class TicketStatus { kPending, kIssued, kUsed, kCancelled };
std::string_view TicketStatusName(TicketStatus s);  // "pending", "issued", "used", "cancelled"
Result<TicketStatus> ParseTicketStatus(std::string_view name);

struct Event {
  int64_t id = 0;
  std::string title;        // required, at most 200 bytes
  std::string description;  // at most 10,000 bytes
  absl::Time event_date;    // the start; required
  std::optional<absl::Time> end_date;
  std::string location;                   // at most 200 bytes
  std::string timezone = "Europe/Paris";  // IANA zone for documents and messages
  std::optional<int64_t> max_attendees;   // capacity at the door; none = unlimited
  EventStatus status = EventStatus::kActive;
  CodeMode code_mode = CodeMode::kSigned;
  bool reentry = false;                   // entry and exit scans; otherwise a ticket admits once
  std::optional<absl::Time> doors_open;   // none: the default window (see above)
  std::optional<absl::Time> doors_close;  // none: the default window
  std::string currency = "EUR";           // ISO 4217 of its ticket types' prices
  absl::Time created_at;
  absl::Time updated_at;

  absl::Time ValidFrom() const;   // doors_open or its default
  absl::Time ValidUntil() const;  // doors_close or its default
};

struct TicketType {
  int64_t id = 0;
  int64_t event_id = 0;
  std::string name;   // "standard", "VIP"...; unique within the event; at most 64 bytes
  int64_t price = 0;  // minor units (cents), >= 0, VAT included: what the buyer pays
  // VAT in hundredths of a percent (2000 = 20 %, 550 = 5.5 %), 0 to 10000; printed on invoices.
  int64_t vat_rate = 0;
  std::optional<int64_t> quantity;  // on sale; none = unlimited
  std::string description;          // at most 1,000 bytes
  absl::Time created_at;
};

// A template with a price is premium (seed 002 flow 2, "déblocage accès templates si achat"):
// an event's tickets may use it only as far as the event's licence goes, in tickets, which
// template purchases grant (purchases.h). A free template (price 0) needs none.
struct TicketTemplate {
  int64_t id = 0;
  std::string name;    // required, at most 200 bytes
  std::string design;  // "modern", "classic"...: at most 64 bytes, free for the organiser
  // Optional document template (docs/layout.h, JSON) used instead of the built-in ticket.
  std::string layout_json;
  int64_t price = 0;             // per ticket, minor units, 0 to 10^10, VAT included; 0: free
  std::string currency = "EUR";  // ISO 4217 of the price
  int64_t vat_rate = 0;          // as TicketType::vat_rate, printed on its invoices
  bool premium() const { return price > 0; }
  absl::Time created_at;
  absl::Time updated_at;
};

struct Guest {
  int64_t id = 0;
  int64_t event_id = 0;
  std::string first_name;  // first or last name required; each at most 100 bytes
  std::string last_name;
  std::string email;  // stored lower-cased; unique within the event when given
  std::string phone;  // E.164 when given
  absl::Time created_at;
  absl::Time updated_at;
};

struct Ticket {
  int64_t id = 0;
  int64_t event_id = 0;
  int64_t ticket_type_id = 0;  // 0: none
  int64_t guest_id = 0;        // 0: none
  int64_t purchase_id = 0;     // 0: not bought (issued by the organiser)
  int64_t template_id = 0;     // 0: the built-in design
  std::string ticket_code;     // "TKT-001-7KQ2M9XW4B"
  std::string seat;            // at most 32 bytes
  TicketStatus status = TicketStatus::kIssued;
  int64_t generation = 0;
  int64_t key_id = 0;        // the key that signed qr_code_data (signed mode)
  std::string qr_code_data;  // what the QR code carries
  std::string ticket_file_url;
  std::string ticket_file_path;
  std::string document_id;  // the generated PDF (docs/documents.h)
  std::string generation_job_id;
  bool is_validated = false;
  std::optional<absl::Time> validated_at;
  absl::Time created_at;
  absl::Time updated_at;
};

// A member of the door staff for an event: a Herald user (role "operator", user_id set) or a
// scanner identity named by the scan-validation service ("operator-123").
struct Operator {
  int64_t event_id = 0;
  std::string operator_id;         // 1 to 128 of [A-Za-z0-9_.:-]
  std::string user_id;             // the Herald user, if the operator logs in
  std::string name;                // at most 200 bytes
  std::vector<std::string> gates;  // the gates they may scan at; empty: every gate
  absl::Time created_at;
};

enum class GateKind { kEntry, kExit, kBoth };
std::string_view GateKindName(GateKind k);  // "entry", "exit", "both"
Result<GateKind> ParseGateKind(std::string_view name);

struct Gate {
  int64_t event_id = 0;
  std::string gate_id;  // "A", "north-1": 1 to 128 of [A-Za-z0-9_.:-]
  std::string name;     // at most 200 bytes
  GateKind kind = GateKind::kBoth;
};

struct EventKey {
  int64_t event_id = 0;
  int64_t key_id = 0;
  std::array<uint8_t, 32> public_key{};
  absl::Time created_at;
  std::optional<absl::Time> retired_at;  // no longer signs new codes
  std::optional<absl::Time> revoked_at;  // codes it signed are refused
};

struct Revocation {
  int64_t seq = 0;  // increasing: the offline bundle's cursor
  int64_t event_id = 0;
  int64_t ticket_id = 0;
  int64_t generation = 0;
  std::string reason;  // "cancelled", "reissued"
  absl::Time revoked_at;
};

struct PageFilter {
  int64_t after_id = 0;  // cursor: ids greater than this
  int limit = 100;       // clamped to 1..1000
};

struct TicketFilter {
  int64_t event_id = 0;  // 0: any
  std::optional<TicketStatus> status;
  int64_t guest_id = 0;  // 0: any
  int64_t after_id = 0;
  int limit = 100;
};

struct IssueRequest {
  // The ticket's number, for tickets brought from another system ("TKT-001-ABC123"): 4 to 64
  // of [A-Za-z0-9_.-], stored upper-cased, unique. Empty: a new random number.
  std::string ticket_code;
  int64_t guest_id = 0;  // 0: an anonymous ticket; else a guest of the event
  int64_t ticket_type_id = 0;
  std::string seat;
  int64_t template_id = 0;
  int64_t purchase_id = 0;
  TicketStatus status = TicketStatus::kIssued;  // kPending or kIssued
};

struct TicketingOptions {
  std::array<uint8_t, 32> master_key{};  // seals the events' secret keys; keep it secret
};

class Ticketing {
 public:
  static Status Migrate(store::Store& store);
  // The store and clock must outlive this object.
  static Result<std::unique_ptr<Ticketing>> Create(store::Store& store, const core::Clock& clock,
                                                   TicketingOptions options);

  // Events. InvalidArgument naming the field; NotFound.
  Result<Event> CreateEvent(Event event);
  // Replaces every field but id and created_at.
  Result<Event> UpdateEvent(const Event& event);
  // FailedPrecondition while it has tickets (cancel the event instead).
  Status DeleteEvent(int64_t id);
  Result<Event> GetEvent(int64_t id);
  // With `door_staff_user`, only the events where that user is door staff.
  Result<std::vector<Event>> ListEvents(const PageFilter& filter,
                                        std::string_view door_staff_user = "");

  // Ticket types of an event; AlreadyExists for a name the event has.
  Result<TicketType> CreateTicketType(TicketType type);
  Result<std::vector<TicketType>> ListTicketTypes(int64_t event_id);
  Result<TicketType> GetTicketType(int64_t id);
  // Replaces the name, price, VAT rate, quantity and description of type `type.id` (its event
  // stays). AlreadyExists for a name another type of the event has; FailedPrecondition for a
  // quantity below the type's tickets (not cancelled), and for a new price or VAT rate once
  // the type has tickets (their invoices read it: a new price is a new type).
  Result<TicketType> UpdateTicketType(const TicketType& type);
  // FailedPrecondition while any ticket has the type (cancelled ones keep it too).
  Status DeleteTicketType(int64_t id);

  Result<TicketTemplate> CreateTemplate(TicketTemplate t);
  // Replaces template `id` with what `change` makes of the stored one, read and written in one
  // transaction, so no other change to the template comes between (an organiser's edit of the
  // design cannot put back a price an admin just changed). An error of `change`, or a
  // template it makes that is not valid, is returned and nothing is written.
  using TemplateChange = std::function<Result<TicketTemplate>(const TicketTemplate& stored)>;
  Result<TicketTemplate> UpdateTemplate(int64_t id, const TemplateChange& change);
  Status DeleteTemplate(int64_t id);
  Result<TicketTemplate> GetTemplate(int64_t id);
  Result<std::vector<TicketTemplate>> ListTemplates(const PageFilter& filter);
  // Premium templates: adds `tickets` (negative: takes back) to the licence of `event_id` for
  // `template_id`, in the caller's transaction; the licence never goes below zero. Tickets
  // already issued stay when a licence shrinks; new ones are refused.
  Status AddTemplateLicence(store::Txn& txn, int64_t template_id, int64_t event_id,
                            int64_t tickets);
  // The event's licence for the template and the tickets of the event that use it (not
  // cancelled). NotFound for no such template or event.
  struct TemplateUse {
    bool premium = false;
    int64_t licensed = 0;
    int64_t used = 0;
    int64_t remaining() const { return std::max<int64_t>(licensed - used, 0); }
  };
  Result<TemplateUse> TemplateUseOf(int64_t template_id, int64_t event_id);

  // Guests of an event; AlreadyExists for an email the event's guests have.
  Result<Guest> CreateGuest(Guest guest);
  // Creates many guests in one transaction: all or none.
  Result<std::vector<Guest>> CreateGuests(std::vector<Guest> guests);
  // The event's guest with this email, or a new one, in the caller's transaction.
  Result<Guest> EnsureGuest(store::Txn& txn, Guest guest);
  Result<Guest> UpdateGuest(const Guest& guest);
  // FailedPrecondition while they hold tickets.
  Status DeleteGuest(int64_t id);
  Result<Guest> GetGuest(int64_t id);
  Result<std::vector<Guest>> ListGuests(int64_t event_id, const PageFilter& filter);

  // Issues tickets for an event in one transaction (all or none). InvalidArgument for a
  // guest, type or template that does not exist or is another event's; FailedPrecondition
  // when the event is cancelled or completed, a type's quantity would be exceeded, or tickets
  // of a premium template would exceed the event's licence.
  Result<std::vector<Ticket>> IssueTickets(int64_t event_id, std::span<const IssueRequest> reqs);
  // The same, inside the caller's transaction (purchases).
  Result<std::vector<Ticket>> IssueTickets(store::Txn& txn, int64_t event_id,
                                           std::span<const IssueRequest> reqs);
  Result<Ticket> GetTicket(int64_t id);
  Result<std::vector<Ticket>> GetTickets(std::span<const int64_t> ids);
  Result<std::vector<Ticket>> ListTickets(const TicketFilter& filter);
  // Pending -> issued (a paid purchase), in the caller's transaction.
  Status MarkIssued(store::Txn& txn, int64_t ticket_id);
  // Gives a ticket another holder (a guest of its event, or none) or another seat. The old
  // holder keeps a file that admits whoever shows it, so a change that changes something also
  // reissues the ticket: new number and code, generation + 1, the old ones revoked, the file
  // forgotten (generate it again). FailedPrecondition for a ticket that is pending (its
  // purchase decides its holder), cancelled or scanned in; InvalidArgument for a guest of
  // another event or a seat over 32 bytes.
  struct TicketChange {
    std::optional<int64_t> guest_id;  // 0: no guest
    std::optional<std::string> seat;
  };
  Result<Ticket> UpdateTicket(int64_t id, const TicketChange& change);
  // Revokes the code; FailedPrecondition for a used ticket. Cancelling twice is a no-op.
  Result<Ticket> CancelTicket(int64_t id, std::string_view reason = "cancelled");
  Status CancelTicket(store::Txn& txn, int64_t id, std::string_view reason);
  // New number and code, generation + 1; the old ones are revoked and the file that carried
  // them is forgotten. FailedPrecondition for a cancelled or used ticket.
  Result<Ticket> ReissueTicket(int64_t id);
  // Records the generated PDF of a ticket.
  Status SetTicketFile(store::Txn& txn, int64_t ticket_id, std::string_view document_id,
                       std::string_view url, std::string_view path, std::string_view job_id);

  // Door staff and gates. Operators' gates must be gates of the event when it has any.
  Result<Operator> PutOperator(Operator op);
  Status DeleteOperator(int64_t event_id, std::string_view operator_id);
  Result<std::vector<Operator>> ListOperators(int64_t event_id);
  Result<Gate> PutGate(Gate gate);
  Status DeleteGate(int64_t event_id, std::string_view gate_id);
  Result<std::vector<Gate>> ListGates(int64_t event_id);

  // Keys. RotateKey creates the event's first key or the next one.
  Result<EventKey> RotateKey(int64_t event_id);
  Result<EventKey> RevokeKey(int64_t event_id, int64_t key_id);
  Result<std::vector<EventKey>> ListKeys(int64_t event_id);
  // Revocations with seq > since, oldest first (at most `limit`, clamped to 1..10000).
  Result<std::vector<Revocation>> ListRevocations(int64_t event_id, int64_t since, int limit);
  // The ids of the event's tickets that are not paid yet (pending), in id order: their codes
  // are signed, so an offline scanner must be told to refuse them.
  Result<std::vector<int64_t>> ListUnpaid(int64_t event_id);

  const core::Clock& clock() const { return clock_; }
  store::Store& store() { return store_; }

 private:
  Ticketing(store::Store& store, const core::Clock& clock, TicketingOptions options);

  store::Store& store_;
  const core::Clock& clock_;
  const TicketingOptions options_;
};

// Checks a guest's fields (InvalidArgument naming the field) and lower-cases the email.
Status ValidateGuest(Guest& guest);

// Reading rows in the caller's transaction (the scanner and the purchases use them).
Result<std::optional<Event>> LoadEvent(store::Txn& txn, int64_t id);
Result<std::optional<Ticket>> LoadTicket(store::Txn& txn, int64_t id);
Result<std::optional<Guest>> LoadGuest(store::Txn& txn, int64_t id);
Result<std::optional<TicketType>> LoadTicketType(store::Txn& txn, int64_t id);
Result<std::optional<TicketTemplate>> LoadTemplate(store::Txn& txn, int64_t id);
Result<std::optional<EventKey>> LoadKey(store::Txn& txn, int64_t event_id, int64_t key_id);

// An Idempotency-Key header's value: 1 to 255 visible ASCII characters.
bool IsIdempotencyKey(std::string_view key);
// What an Idempotency-Key made before, by `sql` ("SELECT id, fingerprint FROM <table> WHERE
// idempotency_key = ?"): 0 when nothing; AlreadyExists, naming the `what` and its id, when the
// key was used for a request of another fingerprint.
Result<int64_t> IdempotentReplay(store::Txn& txn, std::string_view sql, std::string_view key,
                                 std::string_view fingerprint, std::string_view what);

// RFC 3339 with milliseconds, UTC.
std::string TimeText(absl::Time t);
// Minor units (cents) as the decimal text documents read: 1250 -> "12.50", -5 -> "-0.05".
std::string DecimalAmount(int64_t minor);
// An integer field of a JSON object (a number, or digits in a string); 0 when absent or not
// one (job payloads, payment events).
int64_t JsonInt(const boost::json::object& o, std::string_view key);
// A string field of a JSON object; empty when absent or not a string.
std::string JsonString(const boost::json::object& o, std::string_view key);
// A job's payload as a JSON object; InvalidArgument (not retried) naming the job type if it is
// not one.
Result<boost::json::object> PayloadObject(std::string_view payload, std::string_view job_type);

}  // namespace herald::apps::tickets
