#pragma once
// Authentication over HTTP: the request authenticator every route goes through, and the
// routes of the auth module (seed 003, flow 1).
//
//   POST   /api/auth/login           public   {email, password, rememberMe} -> seed 003 login
//   POST   /api/auth/validate        public   {token, permissions} -> {valid, userId, ...}
//   POST   /api/auth/refresh         bearer   a new token; the old one is revoked
//   POST   /api/auth/logout          bearer   revokes the token
//   GET    /api/auth/me              bearer   the caller
//   GET    /api/users                users:read
//   POST   /api/users                users:create   {email, name, role, password}
//   PATCH  /api/users/{id}           users:update   {role, disabled, permissions_granted, ...}
//   POST   /api/users/{id}/password  users:update   {password}
//   GET    /api/api-keys             api_keys:read
//   POST   /api/api-keys             api_keys:create {service_name} -> the key, shown once
//   DELETE /api/api-keys/{id}        api_keys:delete
//
// Credentials, in this order: "Authorization: Bearer <jwt>"; "X-Service-Name" with
// "X-Service-Key" (an API key); "X-Service-Name" with "X-Signature" (a signed request, see
// docs/AUTH.md). Every request is rate-limited per caller (user, service or client IP) and
// route class ("auth" for /api/auth/*, "read" for GET, "write" otherwise); the operations
// routes (health, readiness, metrics, OpenAPI) are not limited.

#include "auth/authenticator.h"
#include "auth/rate_limiter.h"
#include "core/clock.h"
#include "http/router.h"
#include "http/server.h"

namespace herald::http {

Authenticator MakeRequestAuthenticator(auth::Authenticator& auth, auth::RateLimiter& limiter,
                                       const core::Clock& clock);

void AddAuthRoutes(Router& router, auth::Authenticator& auth);

}  // namespace herald::http
