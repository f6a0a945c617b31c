#pragma once
// Roles and permissions. A permission is "resource:action" ("events:read", "tickets:create").
// A grant may also be a pattern: "resource:*" (every action on one resource) or "*"
// (everything, including resources added later). A user's effective permissions are the
// defaults of their role, plus per-user extra grants, minus per-user revocations; a
// revocation always wins over a grant, whichever is more specific.
//
// The default table is docs/AUTH.md's; changing a role's defaults here changes it for every
// user of that role at their next request (permissions are read from the store each time).

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace herald::auth {

enum class Role {
  kAdmin,              // everything
  kOrganizer,          // runs events: events, tickets, guests, bookings
  kOperationsManager,  // runs the machinery: jobs, queues, schedules, notifications, webhooks
  kAccounting,         // payments, invoices, reports (read mostly)
  kOperator,           // door staff: validates scans
  kService,            // other services calling Herald with an API key
};

// "admin", "organizer", "operations_manager", "accounting", "operator", "service".
std::string_view RoleName(Role role);
// The inverse of RoleName; InvalidArgument naming the value for anything else.
Result<Role> ParseRole(std::string_view name);
// Every role, in declaration order.
std::span<const Role> AllRoles();

// The default grants of `role` (patterns included), as the table in docs/AUTH.md.
std::span<const std::string_view> DefaultPermissions(Role role);

// Every concrete permission Herald knows ("jobs:read", ...), sorted.
std::span<const std::string_view> KnownPermissions();

// "*", "resource:*" or "resource:action", where resource and action are 1 to 64 characters of
// [a-z0-9_-]. Unknown resources are allowed (a module may define its own).
bool IsValidPermission(std::string_view permission);
// InvalidArgument naming the first invalid entry, or if there are more than 100.
Status ValidatePermissions(std::span<const std::string> permissions);

// Whether the grant `pattern` covers `permission`: equal strings, "*", or "resource:*" for
// any "resource:..." permission.
bool PermissionMatches(std::string_view pattern, std::string_view permission);

// An effective permission set: allow patterns minus deny patterns. An immutable value:
// const methods may be called from any thread.
class PermissionSet {
 public:
  PermissionSet() = default;
  PermissionSet(std::vector<std::string> allow, std::vector<std::string> deny);

  // The role's defaults plus `granted`, minus `revoked`.
  static PermissionSet ForRole(Role role, std::span<const std::string> granted = {},
                               std::span<const std::string> revoked = {});

  // Whether `permission` is allowed: some allow pattern matches it and no deny pattern does.
  bool Can(std::string_view permission) const;

  // The set as a flat list for clients (login response, token claims): every known
  // concrete permission Can() allows, every other allowed concrete grant, and each wildcard
  // grant that no revocation cuts into ("*" for an unrestricted admin). Sorted, no duplicates.
  std::vector<std::string> List() const;

  const std::vector<std::string>& allow() const { return allow_; }
  const std::vector<std::string>& deny() const { return deny_; }

 private:
  std::vector<std::string> allow_;
  std::vector<std::string> deny_;
};

}  // namespace herald::auth
