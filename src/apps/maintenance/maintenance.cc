#include "apps/maintenance/maintenance.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "core/utf8.h"
#include "engine/job_table.h"

namespace herald::apps::maintenance {
namespace {

using engine::table::FromMicros;
using engine::table::OptTime;
using engine::table::RowTime;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

// maintenance_sequences holds the counter behind generated ticket numbers ("TKT-000123"): a
// count of existing tickets would hand out a deleted ticket's number again.
constexpr store::Migration kMigrations[] = {
    {1, "maintenance", R"sql(
CREATE TABLE maintenance_machines (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  machine_type  TEXT NOT NULL,
  location      TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE TABLE maintenance_users (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  email      TEXT NOT NULL,
  phone      TEXT NOT NULL,
  role       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX maintenance_users_email ON maintenance_users (email) WHERE email <> '';
CREATE TABLE maintenance_tickets (
  id             TEXT PRIMARY KEY,
  ticket_number  TEXT NOT NULL UNIQUE,
  title          TEXT NOT NULL,
  description    TEXT NOT NULL,
  machine_id     TEXT NOT NULL,
  status         TEXT NOT NULL,
  priority       TEXT NOT NULL,
  assigned_to    TEXT,
  scheduled_date INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX maintenance_tickets_machine ON maintenance_tickets (machine_id);
CREATE INDEX maintenance_tickets_assigned ON maintenance_tickets (assigned_to);
CREATE INDEX maintenance_tickets_due ON maintenance_tickets (status, scheduled_date);
CREATE TABLE webhook_notifications (
  id                TEXT PRIMARY KEY,
  ticket_id         TEXT NOT NULL,
  notification_type TEXT NOT NULL,
  message_id        TEXT NOT NULL,
  sent_at           INTEGER NOT NULL,
  details           TEXT NOT NULL
);
CREATE INDEX webhook_notifications_ticket ON webhook_notifications (ticket_id, id);
CREATE TABLE maintenance_sequences (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql"},
};

constexpr std::string_view kMachineColumns =
    "id, name, machine_type, location, serial_number, created_at, updated_at";
constexpr std::string_view kUserColumns = "id, name, email, phone, role, created_at, updated_at";
constexpr std::string_view kTicketColumns =
    "id, ticket_number, title, description, machine_id, status, priority, assigned_to,"
    " scheduled_date, created_at, updated_at";
constexpr std::string_view kNotificationColumns =
    "id, ticket_id, notification_type, message_id, sent_at, details";

constexpr std::string_view kStatusNames[] = {"received",      "diagnostic", "in_progress",
                                             "waiting_parts", "completed",  "archived"};
constexpr std::string_view kPriorityNames[] = {"low", "medium", "high", "critical"};

Result<Machine> MachineFromRow(const Row& r) {
  Machine m;
  m.id = r.Text(0);
  m.name = r.Text(1);
  m.machine_type = r.Text(2);
  m.location = r.Text(3);
  m.serial_number = r.Text(4);
  m.created_at = FromMicros(r.Int(5));
  m.updated_at = FromMicros(r.Int(6));
  return m;
}

Result<User> UserFromRow(const Row& r) {
  User u;
  u.id = r.Text(0);
  u.name = r.Text(1);
  u.email = r.Text(2);
  u.phone = r.Text(3);
  u.role = r.Text(4);
  u.created_at = FromMicros(r.Int(5));
  u.updated_at = FromMicros(r.Int(6));
  return u;
}

Result<Ticket> TicketFromRow(const Row& r) {
  Ticket t;
  t.id = r.Text(0);
  t.ticket_number = r.Text(1);
  t.title = r.Text(2);
  t.description = r.Text(3);
  t.machine_id = r.Text(4);
  HERALD_ASSIGN_OR_RETURN(t.status, ParseTicketStatus(r.Text(5)));
  HERALD_ASSIGN_OR_RETURN(t.priority, ParsePriority(r.Text(6)));
  if (!r.IsNull(7)) t.assigned_to = r.Text(7);
  t.scheduled_date = RowTime(r, 8);
  t.created_at = FromMicros(r.Int(9));
  t.updated_at = FromMicros(r.Int(10));
  return t;
}

Result<Notification> NotificationFromRow(const Row& r) {
  Notification n;
  n.id = r.Text(0);
  n.ticket_id = r.Text(1);
  n.notification_type = r.Text(2);
  n.message_id = r.Text(3);
  n.sent_at = FromMicros(r.Int(4));
  n.details_json = r.Text(5);
  return n;
}

// InvalidArgument naming `field` unless `value` is valid UTF-8 of at most `max` bytes (and not
// blank when `required`).
Status CheckText(std::string_view field, std::string_view value, size_t max, bool required) {
  size_t count = 0;
  if (!core::CountUtf8(value, count)) {
    return absl::InvalidArgumentError(StrCat(field, ": not valid UTF-8"));
  }
  if (value.size() > max) {
    return absl::InvalidArgumentError(StrCat(field, ": at most ", max, " bytes"));
  }
  if (required && absl::StripAsciiWhitespace(ToAbsl(value)).empty()) {
    return absl::InvalidArgumentError(StrCat(field, ": required"));
  }
  return absl::OkStatus();
}

Status CheckId(std::string_view id) {
  if (!IsValidName(id)) return absl::InvalidArgumentError("id: 1 to 128 of A-Z a-z 0-9 _ . : -");
  return absl::OkStatus();
}

// A plausible address: one '@' with text on both sides, a dot in the domain, no spaces or
// control characters. Deliverability is the mail system's business.
bool IsPlausibleEmail(std::string_view email) {
  if (email.size() > 254) return false;
  const size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  const std::string_view domain = email.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  return std::none_of(email.begin(), email.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

bool IsPlausiblePhone(std::string_view phone) {
  if (phone.size() > 32) return false;
  bool digit = false;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')' && c != '.') {
      return false;
    }
  }
  return digit;
}

bool IsValidRoleName(std::string_view role) {
  if (role.empty() || role.size() > 32) return false;
  return std::all_of(role.begin(), role.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

Status ValidateMachine(const Machine& m) {
  HERALD_RETURN_IF_ERROR(CheckId(m.id));
  HERALD_RETURN_IF_ERROR(CheckText("name", m.name, 200, true));
  HERALD_RETURN_IF_ERROR(CheckText("machine_type", m.machine_type, 100, false));
  HERALD_RETURN_IF_ERROR(CheckText("location", m.location, 200, false));
  return CheckText("serial_number", m.serial_number, 100, false);
}

Status ValidateUser(User& u) {
  HERALD_RETURN_IF_ERROR(CheckId(u.id));
  HERALD_RETURN_IF_ERROR(CheckText("name", u.name, 200, true));
  if (!u.email.empty()) {
    if (!IsPlausibleEmail(u.email)) {
      return absl::InvalidArgumentError("email: not a valid address such as jean@example.com");
    }
    u.email = absl::AsciiStrToLower(ToAbsl(u.email));
  }
  if (!u.phone.empty() && !IsPlausiblePhone(u.phone)) {
    return absl::InvalidArgumentError(
        "phone: at most 32 of digits, spaces and + - ( ) . such as +1 514 555 0100");
  }
  if (u.role.empty()) u.role = "technician";
  if (!IsValidRoleName(u.role)) {
    return absl::InvalidArgumentError("role: 1 to 32 of a-z _, such as technician or supervisor");
  }
  return absl::OkStatus();
}

Status ValidateTicketNumber(std::string_view number) {
  if (number.size() > 64 || !IsValidName(number)) {
    return absl::InvalidArgumentError("ticket_number: 1 to 64 of A-Z a-z 0-9 _ . : -");
  }
  return absl::OkStatus();
}

// Every check of a ticket that needs no store (its number may still be empty).
Status ValidateTicket(const Ticket& t) {
  HERALD_RETURN_IF_ERROR(CheckId(t.id));
  if (!t.ticket_number.empty()) HERALD_RETURN_IF_ERROR(ValidateTicketNumber(t.ticket_number));
  HERALD_RETURN_IF_ERROR(CheckText("title", t.title, 200, true));
  HERALD_RETURN_IF_ERROR(CheckText("description", t.description, 10'000, false));
  if (t.machine_id.empty()) return absl::InvalidArgumentError("machine_id: required");
  if (!IsValidName(t.machine_id)) return absl::InvalidArgumentError("machine_id: not a machine id");
  if (!t.assigned_to.empty() && !IsValidName(t.assigned_to)) {
    return absl::InvalidArgumentError("assigned_to: not a user id");
  }
  return absl::OkStatus();
}

// Whether `sql` (one `?` parameter) returns a row for `key`.
Result<bool> Exists(Txn& txn, std::string_view sql, std::string_view key) {
  bool found = false;
  const Value p[] = {key};
  HERALD_RETURN_IF_ERROR(txn.Query(sql, p, [&](const Row&) {
    found = true;
    return false;
  }));
  return found;
}

Result<int64_t> Count(Txn& txn, std::string_view sql, std::string_view key) {
  int64_t n = 0;
  const Value p[] = {key};
  HERALD_RETURN_IF_ERROR(txn.Query(sql, p, [&](const Row& r) {
    n = r.Int(0);
    return false;
  }));
  return n;
}

// The stored created_at of the row `id` of `table`, or NotFound naming `what`.
Result<absl::Time> CreatedAt(Txn& txn, std::string_view sql, std::string_view what,
                             std::string_view id) {
  std::optional<absl::Time> created;
  const Value p[] = {id};
  HERALD_RETURN_IF_ERROR(txn.Query(sql, p, [&](const Row& r) {
    created = FromMicros(r.Int(0));
    return false;
  }));
  if (!created) return absl::NotFoundError(StrCat("no ", what, " ", id.substr(0, 128)));
  return *created;
}

// The ticket's machine and assignee must exist.
Status CheckReferences(Txn& txn, const Ticket& t) {
  HERALD_ASSIGN_OR_RETURN(
      bool machine, Exists(txn, "SELECT 1 FROM maintenance_machines WHERE id = ?", t.machine_id));
  if (!machine) return absl::InvalidArgumentError(StrCat("machine_id: no machine ", t.machine_id));
  if (!t.assigned_to.empty()) {
    HERALD_ASSIGN_OR_RETURN(
        bool user, Exists(txn, "SELECT 1 FROM maintenance_users WHERE id = ?", t.assigned_to));
    if (!user) return absl::InvalidArgumentError(StrCat("assigned_to: no user ", t.assigned_to));
  }
  return absl::OkStatus();
}

Status CheckTicketNumberFree(Txn& txn, const Ticket& t) {
  bool taken = false;
  const Value p[] = {t.ticket_number, t.id};
  HERALD_RETURN_IF_ERROR(txn.Query(
      "SELECT 1 FROM maintenance_tickets WHERE ticket_number = ? AND id <> ?", p, [&](const Row&) {
        taken = true;
        return false;
      }));
  if (taken) {
    return absl::AlreadyExistsError(
        StrCat("ticket_number: another ticket is numbered ", t.ticket_number));
  }
  return absl::OkStatus();
}

// The next free "TKT-000123" from the store's sequence (skipping numbers callers chose).
Result<std::string> NextTicketNumber(Txn& txn) {
  for (int tries = 0; tries < 1000; ++tries) {
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO maintenance_sequences (name, value) VALUES ('ticket_number', 1)"
                 " ON CONFLICT (name) DO UPDATE SET value = maintenance_sequences.value + 1")
            .status());
    HERALD_ASSIGN_OR_RETURN(
        int64_t n,
        Count(txn, "SELECT value FROM maintenance_sequences WHERE name = ?", "ticket_number"));
    std::string number = fmt::format("TKT-{:06d}", n);
    HERALD_ASSIGN_OR_RETURN(
        bool taken,
        Exists(txn, "SELECT 1 FROM maintenance_tickets WHERE ticket_number = ?", number));
    if (!taken) return number;
  }
  return absl::InternalError("ticket_number: no free number after 1000 tries");
}

// Writes the ticket's row with `sql`, whose 11 parameters are, in order: ticket_number, title,
// description, machine_id, status, priority, assigned_to, scheduled_date, created_at,
// updated_at, id.
Status WriteTicket(Txn& txn, const Ticket& t, std::string_view sql) {
  const Value p[] = {t.ticket_number,
                     t.title,
                     t.description,
                     t.machine_id,
                     TicketStatusName(t.status),
                     PriorityName(t.priority),
                     t.assigned_to.empty() ? Value() : Value(std::string_view(t.assigned_to)),
                     OptTime(t.scheduled_date),
                     ToMicros(t.created_at),
                     ToMicros(t.updated_at),
                     t.id};
  return txn.Exec(sql, p).status();
}

template <typename T, typename FromRow>
Result<T> GetOne(store::Store& store, std::string_view sql, std::string_view what,
                 std::string_view id, FromRow from_row) {
  std::optional<T> found;
  HERALD_RETURN_IF_ERROR(store.Read([&](Txn& txn) -> Status {
    const Value key[] = {id};
    return store::QueryEach(txn, sql, key, from_row, [&](T&& v) {
      found = std::move(v);
      return false;
    });
  }));
  if (!found) return absl::NotFoundError(StrCat("no ", what, " ", id.substr(0, 128)));
  return *std::move(found);
}

}  // namespace

std::string_view TicketStatusName(TicketStatus status) {
  return kStatusNames[static_cast<int>(status)];
}

Result<TicketStatus> ParseTicketStatus(std::string_view name) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (kStatusNames[i] == name) return static_cast<TicketStatus>(i);
  }
  return absl::InvalidArgumentError(
      "status: expected received, diagnostic, in_progress, waiting_parts, completed or archived");
}

std::string_view PriorityName(Priority priority) {
  return kPriorityNames[static_cast<int>(priority)];
}

Result<Priority> ParsePriority(std::string_view name) {
  for (size_t i = 0; i < std::size(kPriorityNames); ++i) {
    if (kPriorityNames[i] == name) return static_cast<Priority>(i);
  }
  return absl::InvalidArgumentError("priority: expected low, medium, high or critical");
}

Status Maintenance::Migrate(store::Store& store) {
  return store.Migrate("maintenance", kMigrations);
}

Maintenance::Maintenance(store::Store& store, webhooks::Dispatcher& dispatcher,
                         const core::Clock& clock, MaintenanceOptions options)
    : store_(store), dispatcher_(dispatcher), clock_(clock), options_(options), ids_(clock) {}

std::string Maintenance::NewId(std::string_view prefix) {
  return StrCat(prefix, ids_.Next().ToString());
}

// ---- machines

Result<Machine> Maintenance::CreateMachine(Machine m) {
  if (m.id.empty()) m.id = NewId("mch_");
  HERALD_RETURN_IF_ERROR(ValidateMachine(m));
  m.created_at = m.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(bool exists,
                            Exists(txn, "SELECT 1 FROM maintenance_machines WHERE id = ?", m.id));
    if (exists) return absl::AlreadyExistsError(StrCat("a machine ", m.id, " already exists"));
    const Value p[] = {m.id,
                       m.name,
                       m.machine_type,
                       m.location,
                       m.serial_number,
                       ToMicros(m.created_at),
                       ToMicros(m.updated_at)};
    return txn
        .Exec(
            "INSERT INTO maintenance_machines (id, name, machine_type, location, serial_number,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            p)
        .status();
  }));
  return m;
}

Result<Machine> Maintenance::UpdateMachine(const Machine& in) {
  Machine m = in;
  HERALD_RETURN_IF_ERROR(ValidateMachine(m));
  m.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        m.created_at, CreatedAt(txn, "SELECT created_at FROM maintenance_machines WHERE id = ?",
                                "machine", m.id));
    const Value p[] = {m.name,          m.machine_type,         m.location,
                       m.serial_number, ToMicros(m.updated_at), m.id};
    return txn
        .Exec(
            "UPDATE maintenance_machines SET name = ?, machine_type = ?, location = ?,"
            " serial_number = ?, updated_at = ? WHERE id = ?",
            p)
        .status();
  }));
  return m;
}

Status Maintenance::DeleteMachine(std::string_view id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t tickets,
        Count(txn, "SELECT COUNT(*) FROM maintenance_tickets WHERE machine_id = ?", id));
    if (tickets > 0) {
      return absl::FailedPreconditionError(
          StrCat("machine ", id, " has ", tickets, " ticket(s): delete or move them first"));
    }
    const Value key[] = {id};
    HERALD_ASSIGN_OR_RETURN(int64_t n,
                            txn.Exec("DELETE FROM maintenance_machines WHERE id = ?", key));
    if (n == 0) return absl::NotFoundError(StrCat("no machine ", id.substr(0, 128)));
    return absl::OkStatus();
  });
}

Result<Machine> Maintenance::GetMachine(std::string_view id) {
  return GetOne<Machine>(
      store_, StrCat("SELECT ", kMachineColumns, " FROM maintenance_machines WHERE id = ?"),
      "machine", id, MachineFromRow);
}

Result<std::vector<Machine>> Maintenance::ListMachines(const PageFilter& f) {
  const int64_t limit = std::clamp(f.limit, 1, 1000);
  std::vector<Machine> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.after_id, limit};
    HERALD_ASSIGN_OR_RETURN(
        out, store::QueryAll<Machine>(txn,
                                      StrCat("SELECT ", kMachineColumns,
                                             " FROM maintenance_machines WHERE id > ? ORDER BY id"
                                             " LIMIT ?"),
                                      p, MachineFromRow));
    return absl::OkStatus();
  }));
  return out;
}

// ---- users

namespace {

Status CheckEmailFree(Txn& txn, const User& u) {
  if (u.email.empty()) return absl::OkStatus();
  bool taken = false;
  const Value p[] = {u.email, u.id};
  HERALD_RETURN_IF_ERROR(
      txn.Query("SELECT 1 FROM maintenance_users WHERE email = ? AND id <> ?", p, [&](const Row&) {
        taken = true;
        return false;
      }));
  if (taken) return absl::AlreadyExistsError("email: another user has this address");
  return absl::OkStatus();
}

}  // namespace

Result<User> Maintenance::CreateUser(User u) {
  if (u.id.empty()) u.id = NewId("usr_");
  HERALD_RETURN_IF_ERROR(ValidateUser(u));
  u.created_at = u.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(bool exists,
                            Exists(txn, "SELECT 1 FROM maintenance_users WHERE id = ?", u.id));
    if (exists) return absl::AlreadyExistsError(StrCat("a user ", u.id, " already exists"));
    HERALD_RETURN_IF_ERROR(CheckEmailFree(txn, u));
    const Value p[] = {
        u.id, u.name, u.email, u.phone, u.role, ToMicros(u.created_at), ToMicros(u.updated_at)};
    return txn
        .Exec(
            "INSERT INTO maintenance_users (id, name, email, phone, role, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            p)
        .status();
  }));
  return u;
}

Result<User> Maintenance::UpdateUser(const User& in) {
  User u = in;
  HERALD_RETURN_IF_ERROR(ValidateUser(u));
  u.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        u.created_at,
        CreatedAt(txn, "SELECT created_at FROM maintenance_users WHERE id = ?", "user", u.id));
    HERALD_RETURN_IF_ERROR(CheckEmailFree(txn, u));
    const Value p[] = {u.name, u.email, u.phone, u.role, ToMicros(u.updated_at), u.id};
    return txn
        .Exec(
            "UPDATE maintenance_users SET name = ?, email = ?, phone = ?, role = ?,"
            " updated_at = ? WHERE id = ?",
            p)
        .status();
  }));
  return u;
}

Status Maintenance::DeleteUser(std::string_view id) {
  return store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(
        int64_t tickets,
        Count(txn, "SELECT COUNT(*) FROM maintenance_tickets WHERE assigned_to = ?", id));
    if (tickets > 0) {
      return absl::FailedPreconditionError(StrCat("user ", id, " is assigned ", tickets,
                                                  " ticket(s): reassign or delete them first"));
    }
    const Value key[] = {id};
    HERALD_ASSIGN_OR_RETURN(int64_t n, txn.Exec("DELETE FROM maintenance_users WHERE id = ?", key));
    if (n == 0) return absl::NotFoundError(StrCat("no user ", id.substr(0, 128)));
    return absl::OkStatus();
  });
}

Result<User> Maintenance::GetUser(std::string_view id) {
  return GetOne<User>(store_,
                      StrCat("SELECT ", kUserColumns, " FROM maintenance_users WHERE id = ?"),
                      "user", id, UserFromRow);
}

Result<std::vector<User>> Maintenance::ListUsers(const PageFilter& f) {
  const int64_t limit = std::clamp(f.limit, 1, 1000);
  std::vector<User> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.after_id, limit};
    HERALD_ASSIGN_OR_RETURN(
        out,
        store::QueryAll<User>(txn,
                              StrCat("SELECT ", kUserColumns,
                                     " FROM maintenance_users WHERE id > ? ORDER BY id LIMIT ?"),
                              p, UserFromRow));
    return absl::OkStatus();
  }));
  return out;
}

// ---- tickets

Result<Ticket> Maintenance::CreateTicket(Ticket t) {
  if (t.id.empty()) t.id = NewId("tkt_");
  HERALD_RETURN_IF_ERROR(ValidateTicket(t));
  t.created_at = t.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(bool exists,
                            Exists(txn, "SELECT 1 FROM maintenance_tickets WHERE id = ?", t.id));
    if (exists) return absl::AlreadyExistsError(StrCat("a ticket ", t.id, " already exists"));
    HERALD_RETURN_IF_ERROR(CheckReferences(txn, t));
    if (t.ticket_number.empty()) {
      HERALD_ASSIGN_OR_RETURN(t.ticket_number, NextTicketNumber(txn));
    } else {
      HERALD_RETURN_IF_ERROR(CheckTicketNumberFree(txn, t));
    }
    return WriteTicket(txn, t,
                       "INSERT INTO maintenance_tickets (ticket_number, title, description,"
                       " machine_id, status, priority, assigned_to, scheduled_date, created_at,"
                       " updated_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  }));
  return t;
}

Result<Ticket> Maintenance::UpdateTicket(const Ticket& in) {
  Ticket t = in;
  HERALD_RETURN_IF_ERROR(ValidateTicket(t));
  t.updated_at = clock_.Now();
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    std::optional<absl::Time> created;
    std::string stored_number;
    const Value key[] = {t.id};
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT created_at, ticket_number FROM maintenance_tickets WHERE id = ?", key,
                  [&](const Row& r) {
                    created = FromMicros(r.Int(0));
                    stored_number = r.Text(1);
                    return false;
                  }));
    if (!created) return absl::NotFoundError(StrCat("no ticket ", t.id));
    t.created_at = *created;
    if (t.ticket_number.empty()) t.ticket_number = stored_number;
    HERALD_RETURN_IF_ERROR(CheckReferences(txn, t));
    HERALD_RETURN_IF_ERROR(CheckTicketNumberFree(txn, t));
    return WriteTicket(txn, t,
                       "UPDATE maintenance_tickets SET ticket_number = ?, title = ?,"
                       " description = ?, machine_id = ?, status = ?, priority = ?,"
                       " assigned_to = ?, scheduled_date = ?, created_at = ?, updated_at = ?"
                       " WHERE id = ?");
  }));
  return t;
}

Status Maintenance::DeleteTicket(std::string_view id) {
  return store_.Write([&](Txn& txn) -> Status {
    const Value key[] = {id};
    HERALD_ASSIGN_OR_RETURN(int64_t n,
                            txn.Exec("DELETE FROM maintenance_tickets WHERE id = ?", key));
    if (n == 0) return absl::NotFoundError(StrCat("no ticket ", id.substr(0, 128)));
    return txn.Exec("DELETE FROM webhook_notifications WHERE ticket_id = ?", key).status();
  });
}

Result<Ticket> Maintenance::GetTicket(std::string_view id) {
  return GetOne<Ticket>(store_,
                        StrCat("SELECT ", kTicketColumns, " FROM maintenance_tickets WHERE id = ?"),
                        "ticket", id, TicketFromRow);
}

Result<std::vector<Ticket>> Maintenance::ListTickets(const TicketFilter& f) {
  const int64_t limit = std::clamp(f.limit, 1, 1000);
  // A std::string, not a default std::string_view: a null pointer would bind as SQL NULL.
  const std::string status(f.status ? TicketStatusName(*f.status) : "");
  std::vector<Ticket> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    // One constant statement for every combination of filters: an empty filter matches all.
    const Value p[] = {f.after_id,   status,        status,        f.machine_id,
                       f.machine_id, f.assigned_to, f.assigned_to, limit};
    HERALD_ASSIGN_OR_RETURN(
        out, store::QueryAll<Ticket>(
                 txn,
                 StrCat("SELECT ", kTicketColumns,
                        " FROM maintenance_tickets WHERE id > ? AND (? = '' OR status = ?)"
                        " AND (? = '' OR machine_id = ?) AND (? = '' OR assigned_to = ?)"
                        " ORDER BY id LIMIT ?"),
                 p, TicketFromRow));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<Notification>> Maintenance::ListNotifications(const NotificationFilter& f) {
  const int64_t limit = std::clamp(f.limit, 1, 1000);
  std::vector<Notification> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    const Value p[] = {f.before_id, f.before_id, f.ticket_id, f.ticket_id, limit};
    HERALD_ASSIGN_OR_RETURN(out,
                            store::QueryAll<Notification>(
                                txn,
                                StrCat("SELECT ", kNotificationColumns,
                                       " FROM webhook_notifications WHERE (? = '' OR id < ?)"
                                       " AND (? = '' OR ticket_id = ?) ORDER BY id DESC LIMIT ?"),
                                p, NotificationFromRow));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace herald::apps::maintenance
