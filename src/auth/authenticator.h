#pragma once
// Authenticator: the auth module's façade, what the HTTP layer calls (seed 003, flow 1):
// password login with brute-force protection, bearer tokens (JWT HS256) with revocation,
// refresh and logout, the seed's validate call, API keys for services, signed
// service-to-service requests, and the first admin account.
//
// Tokens carry the user's role for clients to read (not their permissions: see jwt.h), but
// authorization never trusts it: AuthenticateBearer re-reads the user on every call, so
// disabling a user, changing a role or a permission takes effect at their next request.
//
// Thread-safe. Every time comes from the injected Clock.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "auth/jwt.h"
#include "auth/login_throttle.h"
#include "auth/password.h"
#include "auth/principal.h"
#include "auth/service_signature.h"
#include "auth/user_store.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace herald::auth {

struct AuthOptions {
  std::string jwt_secret;  // at least kMinJwtSecretBytes; shared by every node
  JwtOptions jwt;
  absl::Duration token_ttl = absl::Hours(1);              // expiresIn 3600
  absl::Duration remember_me_ttl = absl::Hours(24 * 30);  // expiresIn 2592000
  PasswordOptions password;
  LoginThrottleOptions throttle;
  // Shared secrets for signed service requests, by service name (seed 002's serviceAuth).
  absl::flat_hash_map<std::string, std::string> service_secrets;
  ServiceVerifierOptions service_requests;
};

// The user part of a login response.
struct UserInfo {
  std::string id;
  std::string email;
  std::string name;
  std::string role;
  std::vector<std::string> permissions;  // PermissionSet::List()
  bool must_change_password = false;
};

struct LoginResult {
  UserInfo user;
  std::string token;
  int64_t expires_in = 0;  // seconds
  absl::Time expires_at;
};

// The seed's validate response. When `valid` is false, `error` says why: Unauthenticated
// (bad token) or PermissionDenied (valid token, `missing_permissions` not all granted).
struct ValidateResult {
  bool valid = false;
  std::string user_id;
  std::vector<std::string> permissions;
  absl::Time expires_at;
  std::vector<std::string> missing_permissions;
  Status error;
};

// Thread-safe.
class Authenticator {
 public:
  // Creates the hasher, token codec, throttle and request verifier. InvalidArgument for a
  // bad option (short secret, out-of-range cost, lifetime under a second). The store must
  // have been migrated (Migrate). `store` and `clock` must outlive the Authenticator.
  static Result<std::unique_ptr<Authenticator>> Create(store::Store& store,
                                                       const core::Clock& clock,
                                                       AuthOptions options);
  // Applies the auth module's migrations.
  static Status Migrate(store::Store& store);

  // Checks an email and password. `client_ip` may be empty (no per-IP limit).
  // - Unauthenticated("invalid email or password") for an unknown email, a wrong password
  //   and a disabled account alike, with the same cost (an unknown email is verified
  //   against a dummy hash).
  // - ResourceExhausted when the account or the IP has too many recent failures, with the
  //   wait attached (GetRetryAfter in retry_after.h); the password is not even checked.
  // On success the token lives token_ttl, or remember_me_ttl with `remember_me`.
  Result<LoginResult> Login(std::string_view email, std::string_view password, bool remember_me,
                            std::string_view client_ip);

  // The user behind a bearer token: verified (jwt.h), not revoked, issued after the user's
  // last password change or disable, and the user exists and is enabled. Unauthenticated
  // with the reason otherwise; the store's errors as they come.
  Result<PrincipalRef> AuthenticateBearer(std::string_view token);

  // AuthenticateBearer, then checks that every one of `required_permissions` is granted.
  ValidateResult Validate(std::string_view token,
                          std::span<const std::string> required_permissions);

  // A new token for the same user with the same lifetime as `token`, whose id is revoked.
  // Of two concurrent refreshes of one token, only one succeeds.
  Result<LoginResult> Refresh(std::string_view token);

  // Revokes the token's id until it expires. Ok if it was already revoked; Unauthenticated
  // if the token is not valid (expired included).
  Status Logout(std::string_view token);

  // The service behind an API key. Unauthenticated("invalid api key") for any mismatch.
  Result<PrincipalRef> AuthenticateService(std::string_view service_name, std::string_view api_key);

  // Verifies a signed service-to-service request (service_signature.h).
  Status VerifyServiceRequest(const ServiceRequest& request);

  // If no user has the admin role, creates `email` as admin with a random password (which
  // must be changed at first login) and returns it, to be shown once and never stored.
  // Returns an empty string if an admin already exists. InvalidArgument for a bad email.
  Result<std::string> EnsureAdmin(std::string_view email);

  UserStore& users() { return *users_; }
  const JwtCodec& jwt() const { return *jwt_; }
  const PasswordHasher& hasher() const { return *hasher_; }

 private:
  struct Session;  // verified claims and the current user

  Authenticator(const core::Clock& clock, AuthOptions options);
  Result<Session> Authenticate(std::string_view token);
  // The token's session if it is not revoked and its user may still use it.
  Result<Session> CheckSession(Claims claims, TokenState state);
  Result<LoginResult> Issue(const User& user, absl::Duration ttl);

  const core::Clock& clock_;
  const AuthOptions options_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<JwtCodec> jwt_;
  std::unique_ptr<UserStore> users_;
  std::unique_ptr<ServiceRequestVerifier> verifier_;
  LoginThrottle throttle_;
  std::string dummy_hash_;  // verified against when the email is unknown

  // Principals of recently verified tokens, by the token's exact bytes (so its signature
  // was checked with this node's key), each valid while the user store's generation is the
  // one it was read under and the token has not expired. A hit saves the signature check,
  // the claims' parsing and the store read. Cleared when it reaches kMaxCachedPrincipals.
  struct CachedPrincipal {
    uint64_t generation;
    absl::Time verified_at;
    PrincipalRef principal;
  };
  static constexpr size_t kMaxCachedPrincipals = 10000;
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, CachedPrincipal> cache_ ABSL_GUARDED_BY(cache_mu_);
};

// The token of an "Authorization: Bearer <token>" header value (scheme case-insensitive).
// Unauthenticated("missing bearer token") otherwise. The view points into `authorization`.
Result<std::string_view> ParseBearerHeader(std::string_view authorization);

// Seed 003 request bodies. Login: {"email", "password", "rememberMe"} (also "remember_me");
// validate: {"token", "permissions"}. InvalidArgument naming the bad field.
struct LoginRequest {
  std::string email;
  std::string password;
  bool remember_me = false;
};
Result<LoginRequest> ParseLoginRequest(const boost::json::value& body);
struct ValidateRequest {
  std::string token;
  std::vector<std::string> permissions;
};
Result<ValidateRequest> ParseValidateRequest(const boost::json::value& body);

// Seed 003 response bodies:
// {"success":true,"data":{"user":{"id","email","name","role","permissions",
//  "mustChangePassword"},"token","expiresIn","expiresAt"}}
boost::json::object LoginResponseJson(const LoginResult& result);
// {"valid":true,"userId","permissions","expiresAt":"2026-01-30T03:00:00Z"}, or
// {"valid":false,"error":"<reason>"[,"missingPermissions":[...]]}.
boost::json::object ValidateResponseJson(const ValidateResult& result);

}  // namespace herald::auth
