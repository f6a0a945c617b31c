#pragma once
// The contact routes (docs/NOTIFICATIONS.md, "Recipients"):
//   GET    /api/contacts          contacts:read    ?role=, cursor, limit
//   POST   /api/contacts          contacts:create  201
//   GET    /api/contacts/{id}     contacts:read
//   PUT    /api/contacts/{id}     contacts:update  replaces every field
//   DELETE /api/contacts/{id}     contacts:delete
// Body: {"id"?, "name", "email", "phone", "whatsapp", "locale", "timeZone",
//        "quietHours": {"start": "22:00", "end": "07:00"} | null, "roles": ["ACCOUNTING"],
//        "optOut": ["sms", "whatsapp"]}.

#include "boost/json/object.hpp"
#include "http/router.h"
#include "notify/contacts.h"

namespace herald::http {

void AddContactRoutes(Router& router, notify::ContactStore& contacts);

// The body above into a contact (id from the body; the caller sets it for PUT).
// InvalidArgument naming the field.
Result<notify::Contact> ParseContact(const boost::json::object& body);

}  // namespace herald::http
