#pragma once
// The maintenance routes (seed 004; apps/maintenance/maintenance.h):
//   GET    /api/maintenance/machines        maintenance:read    ?cursor=&limit=
//   POST   /api/maintenance/machines        maintenance:create  201
//   GET    /api/maintenance/machines/{id}   maintenance:read
//   PUT    /api/maintenance/machines/{id}   maintenance:update  replaces every field
//   DELETE /api/maintenance/machines/{id}   maintenance:delete  409 while tickets use it
//   ... the same under /api/maintenance/users and /api/maintenance/tickets; tickets are listed
//   with ?status=&machine_id=&assigned_to=&cursor=&limit=
//   GET    /api/maintenance/notifications   maintenance:read    ?ticket_id=&cursor=&limit=,
//                                                               newest first
//   POST   /api/cron/check-overdue          public at the router; the handler requires
//                                           "Authorization: Bearer <cron_secret>" (401
//                                           otherwise; 503 when no secret is configured)
//
// Bodies (snake_case, as the seed's tables):
//   machine: {"id"?, "name", "machine_type", "location", "serial_number"}
//   user:    {"id"?, "name" (or "full_name"), "email", "phone", "role"}
//   ticket:  {"id"?, "ticket_number"?, "title", "description", "machine_id", "status",
//             "priority", "assigned_to" (id or null), "scheduled_date" (RFC 3339 or null)}
//   machine_id and assigned_to may also be JSON integers (the seed's ids); scheduled_date may
//   also be SQLite's "YYYY-MM-DD HH:MM:SS" (UTC).
// Answers: {"success": true, "data": ...}; lists add "next_cursor" (null on the last page).
// The cron route answers {"success": true, "data": <OverdueReportJson>}.

#include <string>
#include <string_view>

#include "apps/maintenance/maintenance.h"
#include "boost/json/object.hpp"
#include "http/router.h"

namespace herald::http {

void AddMaintenanceRoutes(Router& router, apps::maintenance::Maintenance& m,
                          std::string cron_secret);

// The bodies above (the id from the body; PUT routes set it from the path). InvalidArgument
// naming the field; unknown fields are refused.
Result<apps::maintenance::Machine> ParseMachine(const boost::json::object& body);
Result<apps::maintenance::User> ParseUser(const boost::json::object& body);
Result<apps::maintenance::Ticket> ParseTicket(const boost::json::object& body);

// Query parameters of the list routes. InvalidArgument naming the parameter.
Result<apps::maintenance::PageFilter> ParsePageFilter(const Request& request);
Result<apps::maintenance::TicketFilter> ParseTicketFilter(const Request& request);
Result<apps::maintenance::NotificationFilter> ParseNotificationFilter(const Request& request);

// The cron route's check: Unavailable when `secret` is empty (not configured);
// Unauthenticated unless the request carries "Authorization: Bearer <secret>" (compared in
// constant time).
Status CheckCronAuthorization(const Request& request, std::string_view secret);

boost::json::object MachineJson(const apps::maintenance::Machine& m);
boost::json::object UserJson(const apps::maintenance::User& u);
boost::json::object TicketJson(const apps::maintenance::Ticket& t);
boost::json::object WebhookNotificationJson(const apps::maintenance::Notification& n);

}  // namespace herald::http
