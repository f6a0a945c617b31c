// The overdue watchdog of seed 004: CheckOverdue, its job handler and its schedule (declared
// in maintenance.h).
#include "apps/maintenance/maintenance.h"
#include "core/rfc3339.h"

#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "engine/job_table.h"

namespace herald::apps::maintenance {
namespace {

namespace json = boost::json;
using engine::table::FromMicros;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

// Seed 004's rule, over the ticket, its machine and its assignee. LEFT JOINs so a ticket is
// still reported if its machine or assignee row went missing behind the module's back.
constexpr std::string_view kOverdueSql =
    "SELECT t.id, t.ticket_number, t.title, t.description, t.status, t.priority,"
    " t.scheduled_date, t.machine_id, m.name, m.machine_type, m.location, t.assigned_to,"
    " u.name, u.email, u.phone"
    " FROM maintenance_tickets t"
    " LEFT JOIN maintenance_machines m ON m.id = t.machine_id"
    " LEFT JOIN maintenance_users u ON u.id = t.assigned_to"
    " WHERE t.status IN ('received', 'diagnostic') AND t.scheduled_date IS NOT NULL"
    " AND t.scheduled_date < ? AND t.assigned_to IS NOT NULL"
    " ORDER BY t.scheduled_date, t.id";

struct OverdueRow {
  std::string id, ticket_number, title, description, status, priority;
  absl::Time scheduled_date;
  std::string machine_id, machine_name, machine_type, location;
  std::string user_id, user_name, user_email, user_phone;
};

std::string TextOrEmpty(const Row& r, int col) {
  return r.IsNull(col) ? std::string() : std::string(r.Text(col));
}

OverdueRow ReadRow(const Row& r) {
  OverdueRow o;
  o.id = r.Text(0);
  o.ticket_number = r.Text(1);
  o.title = r.Text(2);
  o.description = r.Text(3);
  o.status = r.Text(4);
  o.priority = r.Text(5);
  o.scheduled_date = FromMicros(r.Int(6));
  o.machine_id = r.Text(7);
  o.machine_name = TextOrEmpty(r, 8);
  o.machine_type = TextOrEmpty(r, 9);
  o.location = TextOrEmpty(r, 10);
  o.user_id = r.Text(11);
  o.user_name = TextOrEmpty(r, 12);
  o.user_email = TextOrEmpty(r, 13);
  o.user_phone = TextOrEmpty(r, 14);
  return o;
}

// The event's "data": the ticket (with how late it is), its machine and its assignee.
json::object OverduePayload(const OverdueRow& o, absl::Time now) {
  const int64_t minutes = absl::ToInt64Minutes(now - o.scheduled_date);
  return json::object{
      {"notification_type", "overdue"},
      {"checked_at", Rfc3339Time(now)},
      {"ticket", json::object{{"id", o.id},
                              {"ticket_number", o.ticket_number},
                              {"title", o.title},
                              {"description", o.description},
                              {"status", o.status},
                              {"priority", o.priority},
                              {"scheduled_date", Rfc3339Time(o.scheduled_date)},
                              {"overdue_minutes", minutes},
                              {"overdue_hours", minutes / 60}}},
      {"machine", json::object{{"id", o.machine_id},
                               {"name", o.machine_name},
                               {"machine_type", o.machine_type},
                               {"location", o.location}}},
      {"assignee", json::object{{"id", o.user_id},
                                {"name", o.user_name},
                                {"email", o.user_email},
                                {"phone", o.user_phone}}},
  };
}

}  // namespace

std::string Rfc3339Time(absl::Time t) { return core::FormatRfc3339(t); }

json::object OverdueReportJson(const OverdueReport& report) {
  json::array tickets;
  for (const OverdueTicket& t : report.tickets) {
    tickets.push_back(json::object{{"ticket_id", t.ticket_id},
                                   {"ticket_number", t.ticket_number},
                                   {"action", t.action},
                                   {"message_id", t.message_id},
                                   {"deliveries", t.deliveries}});
  }
  return json::object{{"checked_at", Rfc3339Time(report.checked_at)},
                      {"overdue", report.overdue},
                      {"notified", report.notified},
                      {"skipped", report.skipped},
                      {"tickets", std::move(tickets)}};
}

Result<std::unique_ptr<Maintenance>> Maintenance::Create(store::Store& store,
                                                         engine::Engine& engine,
                                                         webhooks::Dispatcher& dispatcher,
                                                         const core::Clock& clock,
                                                         MaintenanceOptions options) {
  if (options.dedupe_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("maintenance.dedupe_window: must be positive");
  }
  std::unique_ptr<Maintenance> m(new Maintenance(store, dispatcher, clock, options));
  Maintenance* self = m.get();
  engine.RegisterHandler(std::string(kCheckOverdueJobType),
                         [self](engine::JobContext& ctx) -> Status {
                           HERALD_ASSIGN_OR_RETURN(OverdueReport report, self->CheckOverdue());
                           ctx.SetResult(json::serialize(OverdueReportJson(report)));
                           return absl::OkStatus();
                         });
  return m;
}

Result<OverdueReport> Maintenance::CheckOverdue() {
  const absl::Time now = clock_.Now();
  OverdueReport report;
  HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
    report = OverdueReport{};
    report.checked_at = now;
    std::vector<OverdueRow> rows;
    const Value at[] = {ToMicros(now)};
    HERALD_RETURN_IF_ERROR(txn.Query(kOverdueSql, at, [&](const Row& r) {
      rows.push_back(ReadRow(r));
      return true;
    }));
    report.overdue = static_cast<int64_t>(rows.size());
    for (const OverdueRow& o : rows) {
      json::object payload = OverduePayload(o, now);
      webhooks::OutboundEvent event;
      event.type = std::string(kOverdueEventType);
      event.payload_json = json::serialize(payload);
      event.dedupe_key = StrCat(kOverdueEventType, ":", o.id);
      event.dedupe_window = options_.dedupe_window;
      HERALD_ASSIGN_OR_RETURN(webhooks::PublishResult published, dispatcher_.Publish(txn, event));
      OverdueTicket& t = report.tickets.emplace_back();
      t.ticket_id = o.id;
      t.ticket_number = o.ticket_number;
      if (published.deduplicated) {
        t.action = "skipped";
        t.message_id = published.dedupe_message_id;
        ++report.skipped;
        continue;
      }
      t.action = "notified";
      t.message_id = published.message_id;
      t.deliveries = static_cast<int64_t>(published.delivery_ids.size());
      ++report.notified;
      json::array delivery_ids;
      for (const std::string& d : published.delivery_ids) delivery_ids.emplace_back(d);
      const std::string details =
          json::serialize(json::object{{"event_type", kOverdueEventType},
                                       {"delivery_ids", std::move(delivery_ids)},
                                       {"payload", std::move(payload)}});
      const std::string id = NewId("whn_");
      const Value p[] = {id, o.id, "overdue", t.message_id, ToMicros(now), details};
      HERALD_RETURN_IF_ERROR(
          txn.Exec("INSERT INTO webhook_notifications (id, ticket_id, notification_type,"
                   " message_id, sent_at, details) VALUES (?, ?, ?, ?, ?, ?)",
                   p)
              .status());
    }
    return absl::OkStatus();
  }));
  return report;
}

Status EnsureSchedule(engine::Scheduler& scheduler, std::string cron) {
  engine::ScheduleSpec spec;
  spec.name = std::string(kOverdueScheduleName);
  spec.cron = std::move(cron);
  spec.timezone = "UTC";
  spec.job.queue = std::string(kJobQueue);
  spec.job.type = std::string(kCheckOverdueJobType);
  spec.job.payload = "{}";
  spec.job.max_attempts = 3;
  spec.job.timeout = absl::Minutes(5);
  // While one check is queued or running, a slot that fires adds nothing: the next check
  // would find the same tickets.
  spec.job.unique_key = std::string(kCheckOverdueJobType);
  spec.misfire = engine::Misfire::kFireOnce;

  Result<engine::Schedule> existing = scheduler.Get(spec.name);
  if (existing.status().code() == absl::StatusCode::kNotFound) {
    Result<engine::Schedule> added = scheduler.Add(spec);
    // Another node added it between our Get and Add: it is there, which is what we want.
    if (added.ok() || added.status().code() == absl::StatusCode::kAlreadyExists) {
      return absl::OkStatus();
    }
    return added.status();
  }
  HERALD_RETURN_IF_ERROR(existing.status());
  const engine::ScheduleSpec& have = existing->spec;
  spec.enabled = have.enabled;  // an operator's pause outlives restarts
  const bool same =
      have.cron == spec.cron && have.timezone == spec.timezone && have.misfire == spec.misfire &&
      have.job.queue == spec.job.queue && have.job.type == spec.job.type &&
      have.job.payload == spec.job.payload && have.job.max_attempts == spec.job.max_attempts &&
      have.job.timeout == spec.job.timeout && have.job.unique_key == spec.job.unique_key;
  if (same) return absl::OkStatus();
  return scheduler.Update(spec.name, spec).status();
}

}  // namespace herald::apps::maintenance
