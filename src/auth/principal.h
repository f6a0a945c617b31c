#pragma once
// Principal: who is making a request, once authenticated: a user (bearer token) or another
// service (API key). The HTTP layer attaches it to the request and asks Can() before acting.

#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "auth/permissions.h"

namespace herald::auth {

struct Principal {
  enum class Kind { kUser, kService };

  Kind kind = Kind::kUser;
  std::string id;    // user id, or API key id for a service
  std::string name;  // the user's email, or the service name
  Role role = Role::kOperator;
  PermissionSet permissions;
  std::string token_id;                            // the token's jti (users only)
  absl::Time expires_at = absl::InfiniteFuture();  // the token's exp (users only)
  // The user logs in with a generated password (EnsureAdmin): the HTTP layer should allow
  // only changing it.
  bool must_change_password = false;

  bool Can(std::string_view permission) const { return permissions.Can(permission); }
};

// A principal shared, immutable, by the requests it authenticates (and the token cache): a
// request takes a reference, not a copy of its strings and permissions.
using PrincipalRef = std::shared_ptr<const Principal>;

}  // namespace herald::auth
