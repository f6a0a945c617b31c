#pragma once
// Maintenance: seed 004's maintenance desk and its overdue watchdog.
//
// Machines, the people who work on them (technicians, supervisors...) and maintenance tickets
// (received -> diagnostic -> in_progress -> waiting_parts -> completed -> archived), each
// ticket on one machine, optionally assigned to one user and scheduled for a date.
//
// The watchdog (CheckOverdue, seed 004's rules): a ticket is overdue when
//   scheduled_date < now, status is received or diagnostic, and it is assigned to someone.
// Each overdue ticket is published as one outbound webhook event "maintenance.ticket_overdue"
// (webhooks::Dispatcher) with the ticket, its machine and its assignee, at most once per
// `dedupe_window` (24 h) per ticket: the dispatcher's dedupe key
// "maintenance.ticket_overdue:<ticket id>" enforces it in the store, across restarts and
// nodes. Each publication is recorded in webhook_notifications in the same transaction. The
// 200 ms spacing between webhooks is the dispatcher's per-endpoint rate limit.
//
// The check runs as the job type "maintenance.check_overdue" (registered by Create; the job's
// result is the report as JSON) on the schedule that EnsureSchedule installs, and on demand
// (POST /api/cron/check-overdue, http/maintenance_routes.h).
//
// Referential rules: a ticket's machine and assignee must exist (InvalidArgument naming the
// field otherwise); a machine or user that tickets still reference cannot be deleted
// (FailedPrecondition). Deleting a ticket deletes its notification records.
//
// Thread-safe (all state is in the store).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "core/clock.h"
#include "core/id.h"
#include "core/status.h"
#include "engine/engine.h"
#include "engine/scheduler.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"

namespace herald::apps::maintenance {

inline constexpr std::string_view kCheckOverdueJobType = "maintenance.check_overdue";
inline constexpr std::string_view kOverdueEventType = "maintenance.ticket_overdue";
inline constexpr std::string_view kOverdueScheduleName = "maintenance-overdue";
inline constexpr std::string_view kJobQueue = "maintenance";

enum class TicketStatus {
  kReceived,
  kDiagnostic,
  kInProgress,
  kWaitingParts,
  kCompleted,
  kArchived
};
// "received", "diagnostic", "in_progress", "waiting_parts", "completed", "archived".
std::string_view TicketStatusName(TicketStatus status);
Result<TicketStatus> ParseTicketStatus(std::string_view name);  // InvalidArgument

enum class Priority { kLow, kMedium, kHigh, kCritical };
std::string_view PriorityName(Priority priority);       // "low", "medium", "high", "critical"
Result<Priority> ParsePriority(std::string_view name);  // InvalidArgument

struct Machine {
  std::string id;             // "mch_<uuid>" when empty at creation; else a name (IsValidName)
  std::string name;           // required, at most 200 bytes
  std::string machine_type;   // at most 100 bytes
  std::string location;       // at most 200 bytes
  std::string serial_number;  // at most 100 bytes
  absl::Time created_at;
  absl::Time updated_at;
};

struct User {
  std::string id;     // "usr_<uuid>" when empty at creation; else a name (IsValidName)
  std::string name;   // required, at most 200 bytes
  std::string email;  // optional; stored lower-cased; unique among users
  std::string phone;  // optional: digits, spaces and + - ( ) . ; at most 32 bytes
  std::string role = "technician";  // 1 to 32 of [a-z_]: technician, supervisor, admin...
  absl::Time created_at;
  absl::Time updated_at;
};

struct Ticket {
  std::string id;  // "tkt_<uuid>" when empty at creation; else a name (IsValidName)
  // "TKT-000123" (a per-store sequence) when empty at creation; else 1 to 64 of
  // [A-Za-z0-9_.:-], unique. Empty on update keeps the stored number.
  std::string ticket_number;
  std::string title;        // required, at most 200 bytes
  std::string description;  // at most 10,000 bytes
  std::string machine_id;   // required; an existing machine
  TicketStatus status = TicketStatus::kReceived;
  Priority priority = Priority::kMedium;
  std::string assigned_to;  // an existing user's id; "" = unassigned
  std::optional<absl::Time> scheduled_date;
  absl::Time created_at;
  absl::Time updated_at;
};

// One row of webhook_notifications: a webhook published for a ticket.
struct Notification {
  std::string id;  // "whn_<uuid>"
  std::string ticket_id;
  std::string notification_type;  // "overdue"
  std::string message_id;         // the dispatcher's message id
  absl::Time sent_at;
  std::string details_json;  // {"event_type", "delivery_ids", "payload"}
};

// Cursor listing in id order: ids greater than `after_id`; `limit` clamped to 1..1000.
struct PageFilter {
  std::string after_id;
  int limit = 100;
};

struct TicketFilter {
  std::optional<TicketStatus> status;
  std::string machine_id;   // "" = any
  std::string assigned_to;  // "" = any
  std::string after_id;     // cursor: ids greater than this one
  int limit = 100;          // clamped to 1..1000
};

// Newest first.
struct NotificationFilter {
  std::string ticket_id;  // "" = any
  std::string before_id;  // cursor: ids smaller (older) than this one
  int limit = 100;        // clamped to 1..1000
};

// What one CheckOverdue found and did.
struct OverdueTicket {
  std::string ticket_id;
  std::string ticket_number;
  std::string action;      // "notified" or "skipped" (already notified within the window)
  std::string message_id;  // the message published now, or the one that holds the dedupe key
  int64_t deliveries = 0;  // deliveries created now (one per subscribed endpoint)
};

struct OverdueReport {
  absl::Time checked_at;
  int64_t overdue = 0;
  int64_t notified = 0;
  int64_t skipped = 0;
  std::vector<OverdueTicket> tickets;  // oldest scheduled_date first
};

// {"checked_at": RFC 3339, "overdue", "notified", "skipped",
//  "tickets": [{"ticket_id", "ticket_number", "action", "message_id", "deliveries"}]}.
boost::json::object OverdueReportJson(const OverdueReport& report);

// RFC 3339 in UTC with milliseconds ("2026-01-30T03:00:00.000Z"), as the payloads use it.
std::string Rfc3339Time(absl::Time t);

struct MaintenanceOptions {
  // At most one overdue webhook per ticket within this window (seed 004: 24 h). Positive.
  absl::Duration dedupe_window = absl::Hours(24);
};

class Maintenance {
 public:
  static Status Migrate(store::Store& store);

  // Registers the "maintenance.check_overdue" handler with `engine` (so call it before the
  // engine starts). The store, engine, dispatcher and clock must outlive this object, and the
  // engine must be stopped before it is destroyed. InvalidArgument for bad options.
  static Result<std::unique_ptr<Maintenance>> Create(store::Store& store, engine::Engine& engine,
                                                     webhooks::Dispatcher& dispatcher,
                                                     const core::Clock& clock,
                                                     MaintenanceOptions options = {});

  // Machines. InvalidArgument naming the field; AlreadyExists for a taken id; NotFound.
  Result<Machine> CreateMachine(Machine machine);
  // Replaces every field but id and created_at.
  Result<Machine> UpdateMachine(const Machine& machine);
  // FailedPrecondition while tickets are on the machine.
  Status DeleteMachine(std::string_view id);
  Result<Machine> GetMachine(std::string_view id);
  Result<std::vector<Machine>> ListMachines(const PageFilter& filter);

  // Users. As machines; AlreadyExists also for an email another user has. Deleting a user
  // that tickets are assigned to is FailedPrecondition.
  Result<User> CreateUser(User user);
  Result<User> UpdateUser(const User& user);
  Status DeleteUser(std::string_view id);
  Result<User> GetUser(std::string_view id);
  Result<std::vector<User>> ListUsers(const PageFilter& filter);

  // Tickets. InvalidArgument naming the field (machine_id / assigned_to that do not exist
  // included); AlreadyExists for a taken id or ticket_number; NotFound.
  Result<Ticket> CreateTicket(Ticket ticket);
  // Replaces every field but id, created_at and (when empty) ticket_number.
  Result<Ticket> UpdateTicket(const Ticket& ticket);
  Status DeleteTicket(std::string_view id);
  Result<Ticket> GetTicket(std::string_view id);
  Result<std::vector<Ticket>> ListTickets(const TicketFilter& filter);

  Result<std::vector<Notification>> ListNotifications(const NotificationFilter& filter);

  // Finds the overdue tickets at the clock's time and publishes one event per ticket not
  // notified within the dedupe window, all in one store transaction (the events, their
  // deliveries and the webhook_notifications rows commit together or not at all). Errors are
  // the store's or the dispatcher's; nothing is published then.
  Result<OverdueReport> CheckOverdue();

 private:
  Maintenance(store::Store& store, webhooks::Dispatcher& dispatcher, const core::Clock& clock,
              MaintenanceOptions options);
  std::string NewId(std::string_view prefix);

  store::Store& store_;
  webhooks::Dispatcher& dispatcher_;
  const core::Clock& clock_;
  const MaintenanceOptions options_;
  core::IdGenerator ids_;
};

// Adds the schedule "maintenance-overdue" that enqueues "maintenance.check_overdue" (queue
// "maintenance") on `cron` (UTC), or updates it when its expression or job differ; leaves it
// alone when it is already so (a paused schedule stays paused). Requires the handler to be
// registered (Maintenance::Create). InvalidArgument for a bad expression.
Status EnsureSchedule(engine::Scheduler& scheduler, std::string cron = "*/5 * * * *");

}  // namespace herald::apps::maintenance
