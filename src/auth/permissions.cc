#include "auth/permissions.h"

#include <algorithm>
#include <array>

#include "core/strings.h"

namespace herald::auth {
namespace {

constexpr Role kRoles[] = {Role::kAdmin,      Role::kOrganizer, Role::kOperationsManager,
                           Role::kAccounting, Role::kOperator,  Role::kService};

constexpr std::string_view kAdmin[] = {"*"};

constexpr std::string_view kOrganizer[] = {
    "bookings:*", "contacts:read",        "documents:create",   "documents:read", "events:*",
    "guests:*",   "notifications:create", "notifications:read", "payments:read",  "reports:read",
    "scans:read", "templates:read",       "tickets:*",
};

constexpr std::string_view kOperationsManager[] = {
    "bookings:read", "contacts:*",    "documents:*",  "events:read",
    "jobs:*",        "maintenance:*", "metrics:read", "notifications:*",
    "queues:*",      "reports:read",  "scans:read",   "schedules:*",
    "templates:*",   "tickets:read",  "users:read",   "webhooks:*",
};

constexpr std::string_view kAccounting[] = {
    "bookings:read", "documents:read", "events:read",  "invoices:create", "invoices:read",
    "payments:read", "reports:create", "reports:read", "tickets:read",
};

constexpr std::string_view kOperator[] = {"events:read", "scans:create", "scans:read",
                                          "tickets:read"};

// What the other services of seeds 002/003 call Herald for: payment and ticket-generation
// webhooks, scan validation, notifications, and enqueueing work.
constexpr std::string_view kService[] = {
    "documents:create",     "documents:read",     "events:read",     "jobs:create",
    "notifications:create", "notifications:read", "payments:create", "payments:update",
    "scans:create",         "scans:read",         "tickets:read",    "tickets:update",
};

// Every concrete permission, sorted (checked by a test).
constexpr std::string_view kKnown[] = {
    "api_keys:create",    "api_keys:delete",      "api_keys:read",      "bookings:create",
    "bookings:delete",    "bookings:read",        "bookings:update",    "contacts:create",
    "contacts:delete",    "contacts:read",        "contacts:update",    "documents:create",
    "documents:read",     "events:create",        "events:delete",      "events:read",
    "events:update",      "guests:create",        "guests:delete",      "guests:read",
    "guests:update",      "invoices:create",      "invoices:read",      "jobs:create",
    "jobs:delete",        "jobs:manage",          "jobs:read",          "jobs:update",
    "maintenance:create", "maintenance:delete",   "maintenance:read",   "maintenance:update",
    "metrics:read",       "notifications:create", "notifications:read", "payments:create",
    "payments:read",      "payments:update",      "queues:manage",      "queues:read",
    "reports:create",     "reports:read",         "scans:create",       "scans:read",
    "schedules:create",   "schedules:delete",     "schedules:read",     "schedules:update",
    "templates:create",   "templates:delete",     "templates:read",     "templates:update",
    "tickets:create",     "tickets:delete",       "tickets:read",       "tickets:update",
    "users:create",       "users:delete",         "users:read",         "users:update",
    "webhooks:create",    "webhooks:delete",      "webhooks:read",      "webhooks:update",
};

constexpr size_t kMaxPermissionPart = 64;
constexpr size_t kMaxOverrides = 100;

bool IsValidPart(std::string_view s) {
  if (s.empty() || s.size() > kMaxPermissionPart) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Whether some permission could match both patterns.
bool Overlaps(std::string_view a, std::string_view b) {
  return PermissionMatches(a, b) || PermissionMatches(b, a);
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kOrganizer:
      return "organizer";
    case Role::kOperationsManager:
      return "operations_manager";
    case Role::kAccounting:
      return "accounting";
    case Role::kOperator:
      return "operator";
    case Role::kService:
      return "service";
  }
  return "unknown";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : kRoles) {
    if (RoleName(r) == name) return r;
  }
  return absl::InvalidArgumentError(StrCat("unknown role '", name.substr(0, 64), "'"));
}

std::span<const Role> AllRoles() { return kRoles; }

std::span<const std::string_view> DefaultPermissions(Role role) {
  switch (role) {
    case Role::kAdmin:
      return kAdmin;
    case Role::kOrganizer:
      return kOrganizer;
    case Role::kOperationsManager:
      return kOperationsManager;
    case Role::kAccounting:
      return kAccounting;
    case Role::kOperator:
      return kOperator;
    case Role::kService:
      return kService;
  }
  return {};
}

std::span<const std::string_view> KnownPermissions() { return kKnown; }

bool IsValidPermission(std::string_view p) {
  if (p == "*") return true;
  size_t colon = p.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view resource = p.substr(0, colon);
  std::string_view action = p.substr(colon + 1);
  return IsValidPart(resource) && (action == "*" || IsValidPart(action));
}

Status ValidatePermissions(std::span<const std::string> permissions) {
  if (permissions.size() > kMaxOverrides) {
    return absl::InvalidArgumentError(
        StrCat("at most ", kMaxOverrides, " permissions, got ", permissions.size()));
  }
  for (const std::string& p : permissions) {
    if (!IsValidPermission(p)) {
      return absl::InvalidArgumentError(StrCat("invalid permission '", p.substr(0, 64),
                                               "': expected \"resource:action\", "
                                               "\"resource:*\" or \"*\""));
    }
    // A typo must not grant (or take away) nothing in silence: it names a permission, or a
    // resource with "*", that some route checks.
    const auto known = KnownPermissions();
    const bool named =
        p == "*" || std::any_of(known.begin(), known.end(), [&](std::string_view k) {
          return p.ends_with(":*") ? k.starts_with(p.substr(0, p.size() - 1)) : k == p;
        });
    if (!named) {
      return absl::InvalidArgumentError(
          StrCat("unknown permission '", p.substr(0, 64), "': see docs/AUTH.md for the list"));
    }
  }
  return absl::OkStatus();
}

bool PermissionMatches(std::string_view pattern, std::string_view permission) {
  if (pattern == permission || pattern == "*") return true;
  if (!pattern.ends_with(":*")) return false;
  std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // "resource:"
  return permission.size() > prefix.size() && permission.starts_with(prefix);
}

PermissionSet::PermissionSet(std::vector<std::string> allow, std::vector<std::string> deny)
    : allow_(std::move(allow)), deny_(std::move(deny)) {}

PermissionSet PermissionSet::ForRole(Role role, std::span<const std::string> granted,
                                     std::span<const std::string> revoked) {
  std::vector<std::string> allow;
  for (std::string_view p : DefaultPermissions(role)) allow.emplace_back(p);
  allow.insert(allow.end(), granted.begin(), granted.end());
  std::sort(allow.begin(), allow.end());
  allow.erase(std::unique(allow.begin(), allow.end()), allow.end());
  return PermissionSet(std::move(allow), std::vector<std::string>(revoked.begin(), revoked.end()));
}

bool PermissionSet::Can(std::string_view permission) const {
  auto matches = [&](const std::string& p) { return PermissionMatches(p, permission); };
  return std::any_of(allow_.begin(), allow_.end(), matches) &&
         std::none_of(deny_.begin(), deny_.end(), matches);
}

std::vector<std::string> PermissionSet::List() const {
  std::vector<std::string> out;
  for (std::string_view p : kKnown) {
    if (Can(p)) out.emplace_back(p);
  }
  for (const std::string& p : allow_) {
    bool cut = std::any_of(deny_.begin(), deny_.end(),
                           [&](const std::string& d) { return Overlaps(p, d); });
    if (!cut) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace herald::auth
