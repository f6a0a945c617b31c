#include "http/contact_routes.h"

#include "core/strings.h"
#include "http/json_fields.h"

namespace herald::http {
namespace {

namespace json = boost::json;
using notify::Contact;

json::object ContactJson(const Contact& c) {
  json::array roles, opt_out;
  for (const std::string& r : c.roles) roles.emplace_back(r);
  for (notify::Channel ch : c.opted_out) opt_out.emplace_back(notify::ChannelName(ch));
  json::value quiet = nullptr;
  if (c.quiet_hours) {
    quiet = json::object{{"start", notify::FormatTimeOfDay(c.quiet_hours->start_minute)},
                         {"end", notify::FormatTimeOfDay(c.quiet_hours->end_minute)}};
  }
  return json::object{{"id", c.id},
                      {"name", c.name},
                      {"email", c.email},
                      {"phone", c.phone},
                      {"whatsapp", c.whatsapp},
                      {"locale", c.locale},
                      {"timeZone", c.time_zone},
                      {"quietHours", std::move(quiet)},
                      {"roles", std::move(roles)},
                      {"optOut", std::move(opt_out)},
                      {"createdAt", Rfc3339(c.created_at)},
                      {"updatedAt", Rfc3339(c.updated_at)}};
}

Result<std::vector<std::string>> StringArray(const Fields& f, std::string_view name) {
  std::vector<std::string> out;
  const json::value* v = f.Get(name);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array())
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected an array"));
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected strings"));
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

json::object Ok(json::value data) {
  return json::object{{"success", true}, {"data", std::move(data)}};
}

}  // namespace

Result<Contact> ParseContact(const json::object& body) {
  Fields f(body);
  HERALD_RETURN_IF_ERROR(f.CheckKnown({"id", "name", "email", "phone", "whatsapp", "locale",
                                       "timeZone", "quietHours", "roles", "optOut"}));
  Contact c;
  HERALD_RETURN_IF_ERROR(f.StringInto("id", c.id));
  HERALD_RETURN_IF_ERROR(f.StringInto("name", c.name));
  HERALD_RETURN_IF_ERROR(f.StringInto("email", c.email));
  HERALD_RETURN_IF_ERROR(f.StringInto("phone", c.phone));
  HERALD_RETURN_IF_ERROR(f.StringInto("whatsapp", c.whatsapp));
  HERALD_RETURN_IF_ERROR(f.StringInto("locale", c.locale));
  HERALD_RETURN_IF_ERROR(f.StringInto("timeZone", c.time_zone));
  if (const json::value* q = f.Get("quietHours"); q != nullptr && !q->is_null()) {
    if (!q->is_object()) return absl::InvalidArgumentError("quietHours: expected an object");
    Fields qf(q->get_object(), "quietHours.");
    HERALD_RETURN_IF_ERROR(qf.CheckKnown({"start", "end"}));
    HERALD_ASSIGN_OR_RETURN(auto start, qf.String("start"));
    HERALD_ASSIGN_OR_RETURN(auto end, qf.String("end"));
    if (!start || !end) return absl::InvalidArgumentError("quietHours: start and end required");
    notify::QuietHours hours;
    Result<int> s = notify::ParseTimeOfDay(*start);
    if (!s.ok())
      return absl::InvalidArgumentError(StrCat("quietHours.start: ", s.status().message()));
    Result<int> e = notify::ParseTimeOfDay(*end);
    if (!e.ok())
      return absl::InvalidArgumentError(StrCat("quietHours.end: ", e.status().message()));
    hours.start_minute = *s;
    hours.end_minute = *e;
    c.quiet_hours = hours;
  }
  HERALD_ASSIGN_OR_RETURN(c.roles, StringArray(f, "roles"));
  HERALD_ASSIGN_OR_RETURN(std::vector<std::string> opt_out, StringArray(f, "optOut"));
  for (const std::string& name : opt_out) {
    Result<notify::Channel> ch = notify::ParseChannel(name);
    if (!ch.ok()) return absl::InvalidArgumentError("optOut: expected email, sms, whatsapp, chat");
    c.opted_out.insert(*ch);
  }
  return c;
}

void AddContactRoutes(Router& router, notify::ContactStore& contacts) {
  const std::string tag = "contacts";
  router.Add(
      {"GET", "/api/contacts", "contacts:read",
       "Contacts by id; filter role, cursor (the last id seen), limit",
       [&contacts](Request& req) -> Result<Response> {
         notify::ContactFilter f;
         if (auto r = req.Query("role")) f.role = std::string(*r);
         if (auto c = req.Query("cursor")) f.after_id = std::string(*c);
         HERALD_ASSIGN_OR_RETURN(auto limit, QueryInt(req, "limit", 1, 1000));
         if (limit) f.limit = static_cast<int>(*limit);
         HERALD_ASSIGN_OR_RETURN(std::vector<Contact> list, contacts.List(f));
         json::array data;
         for (const Contact& c : list) data.push_back(ContactJson(c));
         json::value next = nullptr;
         if (static_cast<int>(list.size()) == f.limit) next = json::value(list.back().id);
         return Response::Json(
             200, json::object{{"success", true}, {"data", std::move(data)}, {"nextCursor", next}});
       },
       200, tag, PageQuery({{"role", "only contacts with this role"}})});
  router.Add({"POST", "/api/contacts", "contacts:create",
              "Create a contact: addresses, locale, time zone, quiet hours, roles, opt-outs",
              [&contacts](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(Contact c, ParseContact(body));
                HERALD_ASSIGN_OR_RETURN(Contact created, contacts.Create(std::move(c)));
                return Response::Json(201, Ok(ContactJson(created)));
              },
              201, tag});
  router.Add({"GET", "/api/contacts/{id}", "contacts:read", "A contact",
              [&contacts](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(Contact c, contacts.Get(req.params.at("id")));
                return Response::Json(200, Ok(ContactJson(c)));
              },
              200, tag});
  router.Add({"PUT", "/api/contacts/{id}", "contacts:update",
              "Replace a contact's fields (opt-outs included)",
              [&contacts](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(json::object body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(Contact c, ParseContact(body));
                const std::string& id = req.params.at("id");
                if (!c.id.empty() && c.id != id) {
                  return absl::InvalidArgumentError("id: differs from the path");
                }
                c.id = id;
                HERALD_ASSIGN_OR_RETURN(Contact updated, contacts.Update(c));
                return Response::Json(200, Ok(ContactJson(updated)));
              },
              200, tag});
  router.Add({"DELETE", "/api/contacts/{id}", "contacts:delete", "Delete a contact",
              [&contacts](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(contacts.Delete(req.params.at("id")));
                return Response::Json(200, json::object{{"deleted", req.params.at("id")}});
              },
              200, tag});
}

}  // namespace herald::http
