#include "http/maintenance_routes.h"

#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "http/json_fields.h"

namespace herald::http {
namespace {

namespace json = boost::json;
namespace mnt = apps::maintenance;

json::object Ok(json::value data) {
  return json::object{{"success", true}, {"data", std::move(data)}};
}

json::object Page(json::array data, json::value next_cursor) {
  return json::object{
      {"success", true}, {"data", std::move(data)}, {"next_cursor", std::move(next_cursor)}};
}

// An id field that the seed's clients may send as a JSON integer (D1 row ids).
Status IdInto(const Fields& f, std::string_view name, std::string& dest) {
  const json::value* v = f.Get(name);
  if (v == nullptr) return absl::OkStatus();
  if (v->is_int64() || v->is_uint64()) {
    dest = json::serialize(*v);
    return absl::OkStatus();
  }
  if (!v->is_string()) {
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected a string or an integer"));
  }
  dest = std::string(v->get_string());
  return absl::OkStatus();
}

// RFC 3339, or SQLite's datetime() form "YYYY-MM-DD HH:MM:SS" taken as UTC.
Result<std::optional<absl::Time>> TimeField(const Fields& f, std::string_view name) {
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> text, f.String(name));
  if (!text) return std::optional<absl::Time>();
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, *text, &t, &err) ||
      absl::ParseTime("%Y-%m-%d %H:%M:%S", *text, absl::UTCTimeZone(), &t, &err)) {
    return std::optional<absl::Time>(t);
  }
  return absl::InvalidArgumentError(
      StrCat(f.Name(name), ": expected an RFC 3339 time like 2026-03-29T01:30:00Z"));
}

// The id a PUT route replaces: the path's; a body id must agree.
Status TakePathId(const Request& req, std::string& id) {
  const std::string& path_id = req.params.at("id");
  if (!id.empty() && id != path_id) return absl::InvalidArgumentError("id: differs from the path");
  id = path_id;
  return absl::OkStatus();
}

json::value NextCursor(size_t returned, int limit, const std::string& last_id) {
  return static_cast<int>(returned) == limit ? json::value(last_id) : json::value(nullptr);
}

}  // namespace

Result<mnt::Machine> ParseMachine(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"id", "name", "machine_type", "location", "serial_number"}));
  mnt::Machine m;
  HERALD_RETURN_IF_ERROR(IdInto(f, "id", m.id));
  HERALD_RETURN_IF_ERROR(f.StringInto("name", m.name));
  HERALD_RETURN_IF_ERROR(f.StringInto("machine_type", m.machine_type));
  HERALD_RETURN_IF_ERROR(f.StringInto("location", m.location));
  HERALD_RETURN_IF_ERROR(f.StringInto("serial_number", m.serial_number));
  return m;
}

Result<mnt::User> ParseUser(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"id", "name", "full_name", "email", "phone", "role"}));
  mnt::User u;
  HERALD_RETURN_IF_ERROR(IdInto(f, "id", u.id));
  HERALD_RETURN_IF_ERROR(f.StringInto("full_name", u.name));
  HERALD_RETURN_IF_ERROR(f.StringInto("name", u.name));
  HERALD_RETURN_IF_ERROR(f.StringInto("email", u.email));
  HERALD_RETURN_IF_ERROR(f.StringInto("phone", u.phone));
  HERALD_RETURN_IF_ERROR(f.StringInto("role", u.role));
  return u;
}

Result<mnt::Ticket> ParseTicket(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"id", "ticket_number", "title", "description", "machine_id",
                                       "status", "priority", "assigned_to", "scheduled_date"}));
  mnt::Ticket t;
  HERALD_RETURN_IF_ERROR(IdInto(f, "id", t.id));
  HERALD_RETURN_IF_ERROR(f.StringInto("ticket_number", t.ticket_number));
  HERALD_RETURN_IF_ERROR(f.StringInto("title", t.title));
  HERALD_RETURN_IF_ERROR(f.StringInto("description", t.description));
  HERALD_RETURN_IF_ERROR(IdInto(f, "machine_id", t.machine_id));
  HERALD_RETURN_IF_ERROR(IdInto(f, "assigned_to", t.assigned_to));
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> status, f.String("status"));
  if (status) {
    HERALD_ASSIGN_OR_RETURN(t.status, mnt::ParseTicketStatus(*status));
  }
  HERALD_ASSIGN_OR_RETURN(std::optional<std::string> priority, f.String("priority"));
  if (priority) {
    HERALD_ASSIGN_OR_RETURN(t.priority, mnt::ParsePriority(*priority));
  }
  HERALD_ASSIGN_OR_RETURN(t.scheduled_date, TimeField(f, "scheduled_date"));
  return t;
}

Result<mnt::PageFilter> ParsePageFilter(const Request& req) {
  mnt::PageFilter f;
  if (auto c = req.Query("cursor")) f.after_id = std::string(*c);
  HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
  if (limit) f.limit = static_cast<int>(*limit);
  return f;
}

Result<mnt::TicketFilter> ParseTicketFilter(const Request& req) {
  mnt::TicketFilter f;
  if (auto s = req.Query("status"); s && !s->empty()) {
    HERALD_ASSIGN_OR_RETURN(f.status, mnt::ParseTicketStatus(*s));
  }
  if (auto m = req.Query("machine_id")) f.machine_id = std::string(*m);
  if (auto a = req.Query("assigned_to")) f.assigned_to = std::string(*a);
  if (auto c = req.Query("cursor")) f.after_id = std::string(*c);
  HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
  if (limit) f.limit = static_cast<int>(*limit);
  return f;
}

Result<mnt::NotificationFilter> ParseNotificationFilter(const Request& req) {
  mnt::NotificationFilter f;
  if (auto t = req.Query("ticket_id")) f.ticket_id = std::string(*t);
  if (auto c = req.Query("cursor")) f.before_id = std::string(*c);
  HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
  if (limit) f.limit = static_cast<int>(*limit);
  return f;
}

Status CheckCronAuthorization(const Request& req, std::string_view secret) {
  if (secret.empty()) {
    return absl::UnavailableError("the cron endpoint is not configured (no cron secret is set)");
  }
  Result<std::string_view> token = auth::ParseBearerHeader(req.Header("authorization"));
  if (!token.ok()) {
    return absl::UnauthenticatedError("send Authorization: Bearer <cron secret>");
  }
  // Comparing digests keeps the comparison's time independent of the secret's length too.
  if (!auth::ConstantTimeEquals(auth::Sha256(*token), auth::Sha256(secret))) {
    return absl::UnauthenticatedError("wrong cron secret");
  }
  return absl::OkStatus();
}

json::object MachineJson(const mnt::Machine& m) {
  return json::object{{"id", m.id},
                      {"name", m.name},
                      {"machine_type", m.machine_type},
                      {"location", m.location},
                      {"serial_number", m.serial_number},
                      {"created_at", Rfc3339(m.created_at)},
                      {"updated_at", Rfc3339(m.updated_at)}};
}

json::object UserJson(const mnt::User& u) {
  return json::object{{"id", u.id},
                      {"name", u.name},
                      {"email", u.email},
                      {"phone", u.phone},
                      {"role", u.role},
                      {"created_at", Rfc3339(u.created_at)},
                      {"updated_at", Rfc3339(u.updated_at)}};
}

json::object TicketJson(const mnt::Ticket& t) {
  return json::object{
      {"id", t.id},
      {"ticket_number", t.ticket_number},
      {"title", t.title},
      {"description", t.description},
      {"machine_id", t.machine_id},
      {"status", mnt::TicketStatusName(t.status)},
      {"priority", mnt::PriorityName(t.priority)},
      {"assigned_to", t.assigned_to.empty() ? json::value(nullptr) : json::value(t.assigned_to)},
      {"scheduled_date", Rfc3339OrNull(t.scheduled_date)},
      {"created_at", Rfc3339(t.created_at)},
      {"updated_at", Rfc3339(t.updated_at)}};
}

json::object WebhookNotificationJson(const mnt::Notification& n) {
  boost::system::error_code ec;
  json::value details = json::parse(n.details_json, ec);
  if (ec) details = nullptr;
  return json::object{{"id", n.id},
                      {"ticket_id", n.ticket_id},
                      {"notification_type", n.notification_type},
                      {"message_id", n.message_id},
                      {"sent_at", Rfc3339(n.sent_at)},
                      {"details", std::move(details)}};
}

void AddMaintenanceRoutes(Router& router, mnt::Maintenance& m, std::string cron_secret) {
  const std::string tag = "maintenance";
  const std::string base = "/api/maintenance";

  // Machines.
  router.Add({"GET", base + "/machines", "maintenance:read",
              "Machines by id; cursor (the last id seen), limit",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(mnt::PageFilter f, ParsePageFilter(req));
                HERALD_ASSIGN_OR_RETURN(std::vector<mnt::Machine> list, m.ListMachines(f));
                json::array data;
                for (const mnt::Machine& x : list) data.push_back(MachineJson(x));
                return Response::Json(
                    200, Page(std::move(data), NextCursor(list.size(), f.limit,
                                                          list.empty() ? "" : list.back().id)));
              },
              200, tag, PageQuery()});
  router.Add({"POST", base + "/machines", "maintenance:create", "Create a machine",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(mnt::Machine x, ParseMachine(body));
                HERALD_ASSIGN_OR_RETURN(mnt::Machine created, m.CreateMachine(std::move(x)));
                return Response::Json(201, Ok(MachineJson(created)));
              },
              201, tag});
  router.Add({"GET", base + "/machines/{id}", "maintenance:read", "A machine",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(mnt::Machine x, m.GetMachine(req.params.at("id")));
                return Response::Json(200, Ok(MachineJson(x)));
              },
              200, tag});
  router.Add({"PUT", base + "/machines/{id}", "maintenance:update", "Replace a machine's fields",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(mnt::Machine x, ParseMachine(body));
                HERALD_RETURN_IF_ERROR(TakePathId(req, x.id));
                HERALD_ASSIGN_OR_RETURN(mnt::Machine updated, m.UpdateMachine(x));
                return Response::Json(200, Ok(MachineJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", base + "/machines/{id}", "maintenance:delete",
              "Delete a machine that no ticket uses",
              [&m](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(m.DeleteMachine(req.params.at("id")));
                return Response::Json(200, Ok(json::object{{"deleted", req.params.at("id")}}));
              },
              200, tag});

  // Users.
  router.Add({"GET", base + "/users", "maintenance:read",
              "Technicians and supervisors by id; cursor, limit",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(mnt::PageFilter f, ParsePageFilter(req));
                HERALD_ASSIGN_OR_RETURN(std::vector<mnt::User> list, m.ListUsers(f));
                json::array data;
                for (const mnt::User& x : list) data.push_back(UserJson(x));
                return Response::Json(
                    200, Page(std::move(data), NextCursor(list.size(), f.limit,
                                                          list.empty() ? "" : list.back().id)));
              },
              200, tag, PageQuery()});
  router.Add({"POST", base + "/users", "maintenance:create",
              "Create a maintenance user (technician, supervisor...)",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(mnt::User x, ParseUser(body));
                HERALD_ASSIGN_OR_RETURN(mnt::User created, m.CreateUser(std::move(x)));
                return Response::Json(201, Ok(UserJson(created)));
              },
              201, tag});
  router.Add({"GET", base + "/users/{id}", "maintenance:read", "A maintenance user",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(mnt::User x, m.GetUser(req.params.at("id")));
                return Response::Json(200, Ok(UserJson(x)));
              },
              200, tag});
  router.Add({"PUT", base + "/users/{id}", "maintenance:update",
              "Replace a maintenance user's fields",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(mnt::User x, ParseUser(body));
                HERALD_RETURN_IF_ERROR(TakePathId(req, x.id));
                HERALD_ASSIGN_OR_RETURN(mnt::User updated, m.UpdateUser(x));
                return Response::Json(200, Ok(UserJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", base + "/users/{id}", "maintenance:delete",
              "Delete a maintenance user with no assigned ticket",
              [&m](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(m.DeleteUser(req.params.at("id")));
                return Response::Json(200, Ok(json::object{{"deleted", req.params.at("id")}}));
              },
              200, tag});

  // Tickets.
  router.Add({"GET", base + "/tickets", "maintenance:read",
              "Tickets by id; filter status, machine_id, assigned_to; cursor, limit",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(mnt::TicketFilter f, ParseTicketFilter(req));
                HERALD_ASSIGN_OR_RETURN(std::vector<mnt::Ticket> list, m.ListTickets(f));
                json::array data;
                for (const mnt::Ticket& x : list) data.push_back(TicketJson(x));
                return Response::Json(
                    200, Page(std::move(data), NextCursor(list.size(), f.limit,
                                                          list.empty() ? "" : list.back().id)));
              },
              200, tag,
              PageQuery({{"status", "only tickets in this status"},
                         {"machine_id", "only this machine's tickets"},
                         {"assigned_to", "only tickets assigned to this user"}})});
  router.Add({"POST", base + "/tickets", "maintenance:create",
              "Create a maintenance ticket (numbered TKT-000123 unless given)",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(mnt::Ticket x, ParseTicket(body));
                HERALD_ASSIGN_OR_RETURN(mnt::Ticket created, m.CreateTicket(std::move(x)));
                return Response::Json(201, Ok(TicketJson(created)));
              },
              201, tag});
  router.Add({"GET", base + "/tickets/{id}", "maintenance:read", "A maintenance ticket",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(mnt::Ticket x, m.GetTicket(req.params.at("id")));
                return Response::Json(200, Ok(TicketJson(x)));
              },
              200, tag});
  router.Add({"PUT", base + "/tickets/{id}", "maintenance:update",
              "Replace a ticket's fields (status, assignee, schedule...)",
              [&m](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(mnt::Ticket x, ParseTicket(body));
                HERALD_RETURN_IF_ERROR(TakePathId(req, x.id));
                HERALD_ASSIGN_OR_RETURN(mnt::Ticket updated, m.UpdateTicket(x));
                return Response::Json(200, Ok(TicketJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", base + "/tickets/{id}", "maintenance:delete",
              "Delete a ticket and its notification records",
              [&m](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(m.DeleteTicket(req.params.at("id")));
                return Response::Json(200, Ok(json::object{{"deleted", req.params.at("id")}}));
              },
              200, tag});

  router.Add(
      {"GET", base + "/notifications", "maintenance:read",
       "Overdue webhooks sent (webhook_notifications), newest first; ticket_id, cursor",
       [&m](Request& req) -> Result<Response> {
         HERALD_ASSIGN_OR_RETURN(mnt::NotificationFilter f, ParseNotificationFilter(req));
         HERALD_ASSIGN_OR_RETURN(std::vector<mnt::Notification> list, m.ListNotifications(f));
         json::array data;
         for (const mnt::Notification& x : list) data.push_back(WebhookNotificationJson(x));
         return Response::Json(
             200, Page(std::move(data),
                       NextCursor(list.size(), f.limit, list.empty() ? "" : list.back().id)));
       },
       200, tag, PageQuery({{"ticket_id", "only this ticket's alerts"}})});

  // Seed 004's endpoint for an external cron (cron-job.org): public at the router, guarded by
  // its own shared secret. Tagged "cron" so the request authenticator can leave its
  // Authorization header (the cron secret, not a Herald token) to this handler.
  router.Add({"POST", "/api/cron/check-overdue", "",
              "Check overdue maintenance tickets and send their webhooks (Bearer cron secret)",
              [&m, secret = std::move(cron_secret)](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(CheckCronAuthorization(req, secret));
                HERALD_ASSIGN_OR_RETURN(mnt::OverdueReport report, m.CheckOverdue());
                return Response::Json(200, Ok(mnt::OverdueReportJson(report)));
              },
              200, "cron"});
}

}  // namespace herald::http
