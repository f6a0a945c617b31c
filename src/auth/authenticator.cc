#include "auth/authenticator.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "auth/crypto.h"
#include "auth/retry_after.h"
#include "boost/json/array.hpp"
#include "core/log.h"
#include "core/strings.h"

namespace herald::auth {
namespace {

namespace json = boost::json;

constexpr char kInvalidCredentials[] = "invalid email or password";
constexpr size_t kTokenIdBytes = 16;
constexpr size_t kGeneratedPasswordBytes = 18;  // 24 base64url characters, 144 bits

Status Unauthenticated(std::string_view reason) {
  return absl::UnauthenticatedError(ToAbsl(reason));
}

UserInfo InfoOf(const User& u) {
  return UserInfo{u.id,
                  u.email,
                  u.name,
                  std::string(RoleName(u.role)),
                  u.Permissions().List(),
                  u.must_change_password};
}

json::array ToJsonArray(std::span<const std::string> list) {
  json::array a;
  for (const std::string& s : list) a.emplace_back(s);
  return a;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::optional<std::string> JsonString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string().data(), v->get_string().size());
}

}  // namespace

struct Authenticator::Session {
  Claims claims;
  User user;
};

Authenticator::Authenticator(const core::Clock& clock, AuthOptions options)
    : clock_(clock), options_(std::move(options)), throttle_(options_.throttle) {}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(store::Store& store,
                                                             const core::Clock& clock,
                                                             AuthOptions options) {
  if (options.token_ttl < absl::Seconds(1) || options.remember_me_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("token lifetimes must be at least one second");
  }
  std::unique_ptr<Authenticator> a(new Authenticator(clock, std::move(options)));
  HERALD_ASSIGN_OR_RETURN(a->hasher_, PasswordHasher::Create(a->options_.password));
  HERALD_ASSIGN_OR_RETURN(a->jwt_,
                          JwtCodec::Create(a->options_.jwt_secret, clock, a->options_.jwt));
  HERALD_ASSIGN_OR_RETURN(a->verifier_,
                          ServiceRequestVerifier::Create(a->options_.service_secrets, clock,
                                                         a->options_.service_requests));
  a->users_ = std::make_unique<UserStore>(store, clock, *a->hasher_);
  HERALD_ASSIGN_OR_RETURN(std::string random, RandomBytes(24));
  HERALD_ASSIGN_OR_RETURN(a->dummy_hash_, a->hasher_->Hash(HexEncode(random)));
  return a;
}

Status Authenticator::Migrate(store::Store& store) { return UserStore::Migrate(store); }

Result<LoginResult> Authenticator::Login(std::string_view email, std::string_view password,
                                         bool remember_me, std::string_view client_ip) {
  const absl::Time now = clock_.Now();
  Result<std::string> normalized = NormalizeEmail(email);
  // The throttle key: an invalid address is throttled like any unknown account.
  const std::string account =
      normalized.ok() ? *normalized : std::string(email.substr(0, kMaxEmailBytes));
  if (absl::Duration wait = throttle_.RetryAfter(account, client_ip, now);
      wait > absl::ZeroDuration()) {
    core::LogWarn("login refused: too many failures",
                  {{"email", account}, {"ip", client_ip}, {"retry_after", wait}});
    return WithRetryAfter(
        absl::ResourceExhaustedError("too many failed login attempts; try again later"), wait);
  }

  std::optional<Credentials> creds;
  if (normalized.ok()) {
    HERALD_ASSIGN_OR_RETURN(creds, users_->FindCredentials(*normalized));
  }
  std::string_view reason;
  if (!creds) {
    (void)hasher_->Verify(password, dummy_hash_);  // same cost as a known account
    reason = "unknown_user";
  } else {
    Result<bool> match = hasher_->Verify(password, creds->password_hash);
    if (!match.ok()) {
      core::LogError("stored password hash unusable",
                     {{"user_id", creds->user.id}, {"status", match.status()}});
      reason = "bad_hash";
    } else if (!*match) {
      reason = "bad_password";
    } else if (creds->user.disabled) {
      reason = "disabled";
    }
  }
  if (!reason.empty()) {
    throttle_.RecordFailure(account, client_ip, now);
    core::LogInfo("login failed", {{"email", account}, {"ip", client_ip}, {"reason", reason}});
    return Unauthenticated(kInvalidCredentials);
  }

  throttle_.RecordSuccess(account);
  const User& user = creds->user;
  HERALD_RETURN_IF_ERROR(users_->RecordLogin(user.id));
  if (hasher_->NeedsRehash(creds->password_hash)) {
    Result<std::string> upgraded = hasher_->Hash(password);
    Status st = upgraded.ok()
                    ? users_->UpgradePasswordHash(user.id, creds->password_hash, *upgraded)
                    : upgraded.status();
    if (!st.ok()) core::LogWarn("password hash upgrade failed", {{"status", st}});
  }
  core::LogInfo("login", {{"user_id", user.id}, {"ip", client_ip}});
  return Issue(user, remember_me ? options_.remember_me_ttl : options_.token_ttl);
}

Result<LoginResult> Authenticator::Issue(const User& user, absl::Duration ttl) {
  const absl::Time iat = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
  const int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(ttl));
  HERALD_ASSIGN_OR_RETURN(std::string jti, RandomBytes(kTokenIdBytes));
  LoginResult out;
  out.user = InfoOf(user);
  Claims claims{user.id, out.user.role, iat, iat + absl::Seconds(seconds), Base64UrlEncode(jti)};
  HERALD_ASSIGN_OR_RETURN(out.token, jwt_->Sign(claims));
  out.expires_in = seconds;
  out.expires_at = claims.exp;
  return out;
}

Result<Authenticator::Session> Authenticator::Authenticate(std::string_view token) {
  HERALD_ASSIGN_OR_RETURN(Claims claims, jwt_->Verify(token));
  HERALD_ASSIGN_OR_RETURN(TokenState state, users_->CheckToken(claims.sub, claims.jti));
  return CheckSession(std::move(claims), std::move(state));
}

Result<Authenticator::Session> Authenticator::CheckSession(Claims claims, TokenState state) {
  if (state.revoked) return Unauthenticated("token revoked");
  if (!state.user) return Unauthenticated("unknown user");
  if (state.user->disabled) return Unauthenticated("account disabled");
  if (claims.iat < state.user->sessions_valid_after) return Unauthenticated("token revoked");
  return Session{std::move(claims), std::move(*state.user)};
}

Result<PrincipalRef> Authenticator::AuthenticateBearer(std::string_view token) {
  const absl::Time now = clock_.Now();
  // Read before the store (see UserStore::generation).
  const uint64_t generation = users_->generation();
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(ToAbsl(token));
    // Only exp can turn a verified token invalid as time moves forward; a clock that moved
    // back (before the verification) verifies again.
    if (it != cache_.end() && it->second.generation == generation &&
        it->second.verified_at <= now &&
        now < it->second.principal->expires_at + options_.jwt.leeway) {
      return it->second.principal;
    }
  }
  HERALD_ASSIGN_OR_RETURN(Claims claims, jwt_->Verify(token));
  const absl::Time verified_at = clock_.Now();  // not before the time Verify checked against
  HERALD_ASSIGN_OR_RETURN(TokenState state, users_->CheckToken(claims.sub, claims.jti));
  HERALD_ASSIGN_OR_RETURN(Session s, CheckSession(std::move(claims), std::move(state)));
  auto p = std::make_shared<Principal>();
  p->kind = Principal::Kind::kUser;
  p->id = s.user.id;
  p->name = s.user.email;
  p->role = s.user.role;
  p->permissions = s.user.Permissions();
  p->token_id = s.claims.jti;
  p->expires_at = s.claims.exp;
  p->must_change_password = s.user.must_change_password;
  absl::MutexLock lock(&cache_mu_);
  if (cache_.size() >= kMaxCachedPrincipals) cache_.clear();
  cache_.insert_or_assign(std::string(token), CachedPrincipal{generation, verified_at, p});
  return PrincipalRef(std::move(p));
}

ValidateResult Authenticator::Validate(std::string_view token,
                                       std::span<const std::string> required_permissions) {
  ValidateResult out;
  Result<PrincipalRef> found = AuthenticateBearer(token);
  if (!found.ok()) {
    out.error = found.status();
    return out;
  }
  const Principal& p = **found;
  out.user_id = p.id;
  out.permissions = p.permissions.List();
  out.expires_at = p.expires_at;
  for (const std::string& r : required_permissions) {
    if (!p.Can(r)) out.missing_permissions.push_back(r);
  }
  if (!out.missing_permissions.empty()) {
    out.error = absl::PermissionDeniedError(
        StrCat("missing permission '", out.missing_permissions.front().substr(0, 64), "'"));
    return out;
  }
  out.valid = true;
  return out;
}

Result<LoginResult> Authenticator::Refresh(std::string_view token) {
  HERALD_ASSIGN_OR_RETURN(Session s, Authenticate(token));
  HERALD_ASSIGN_OR_RETURN(bool revoked_now, users_->RevokeToken(s.claims.jti, s.claims.exp));
  if (!revoked_now) return Unauthenticated("token revoked");
  const absl::Duration lifetime =
      std::min(s.claims.exp - s.claims.iat, std::max(options_.token_ttl, options_.remember_me_ttl));
  return Issue(s.user, lifetime);
}

Status Authenticator::Logout(std::string_view token) {
  HERALD_ASSIGN_OR_RETURN(Claims claims, jwt_->Verify(token));
  return users_->RevokeToken(claims.jti, claims.exp).status();
}

Result<PrincipalRef> Authenticator::AuthenticateService(std::string_view service_name,
                                                        std::string_view api_key) {
  HERALD_ASSIGN_OR_RETURN(ApiKey key, users_->VerifyApiKey(service_name, api_key));
  auto p = std::make_shared<Principal>();
  p->kind = Principal::Kind::kService;
  p->id = key.id;
  p->name = key.service_name;
  p->role = Role::kService;
  p->permissions = key.Permissions();
  return PrincipalRef(std::move(p));
}

Status Authenticator::VerifyServiceRequest(const ServiceRequest& request) {
  return verifier_->Verify(request);
}

Result<std::string> Authenticator::EnsureAdmin(std::string_view email) {
  HERALD_ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail(email));
  HERALD_ASSIGN_OR_RETURN(bool exists, users_->AnyAdmin());
  if (exists) return std::string();
  HERALD_ASSIGN_OR_RETURN(std::string random, RandomBytes(kGeneratedPasswordBytes));
  NewUser admin;
  admin.email = normalized;
  admin.name = "Administrator";
  admin.role = std::string(RoleName(Role::kAdmin));
  admin.password = Base64UrlEncode(random);
  admin.must_change_password = true;
  HERALD_ASSIGN_OR_RETURN(std::optional<User> created, users_->CreateFirstAdmin(admin));
  if (!created) return std::string();  // another node was faster
  core::LogInfo("created the first admin", {{"user_id", created->id}, {"email", normalized}});
  return admin.password;
}

Result<std::string_view> ParseBearerHeader(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  const auto missing = [] { return Unauthenticated("missing bearer token"); };
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(ToAbsl(authorization.substr(0, kScheme.size())), "bearer") ||
      authorization[kScheme.size()] != ' ') {
    return missing();
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // Two vectorised scans: find_first_of would call memchr once per character.
  if (token.empty() || std::memchr(token.data(), ' ', token.size()) != nullptr ||
      std::memchr(token.data(), '\t', token.size()) != nullptr) {
    return missing();
  }
  return token;
}

Result<LoginRequest> ParseLoginRequest(const json::value& body) {
  const json::object* o = body.if_object();
  if (o == nullptr) return absl::InvalidArgumentError("body must be a JSON object");
  LoginRequest r;
  std::optional<std::string> email = JsonString(*o, "email");
  std::optional<std::string> password = JsonString(*o, "password");
  if (!email || email->empty()) return absl::InvalidArgumentError("email is required");
  if (!password || password->empty()) return absl::InvalidArgumentError("password is required");
  r.email = std::move(*email);
  r.password = std::move(*password);
  for (std::string_view key : {"rememberMe", "remember_me"}) {
    const json::value* v = o->if_contains(json::string_view(key.data(), key.size()));
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_bool()) return absl::InvalidArgumentError(StrCat(key, " must be a boolean"));
    r.remember_me = v->get_bool();
  }
  return r;
}

Result<ValidateRequest> ParseValidateRequest(const json::value& body) {
  const json::object* o = body.if_object();
  if (o == nullptr) return absl::InvalidArgumentError("body must be a JSON object");
  ValidateRequest r;
  std::optional<std::string> token = JsonString(*o, "token");
  if (!token || token->empty()) return absl::InvalidArgumentError("token is required");
  r.token = std::move(*token);
  if (const json::value* v = o->if_contains("permissions"); v != nullptr && !v->is_null()) {
    if (!v->is_array() || v->get_array().size() > 100) {
      return absl::InvalidArgumentError("permissions must be an array of at most 100 strings");
    }
    for (const json::value& p : v->get_array()) {
      if (!p.is_string()) return absl::InvalidArgumentError("permissions must be strings");
      r.permissions.emplace_back(p.get_string().data(), p.get_string().size());
    }
  }
  return r;
}

json::object LoginResponseJson(const LoginResult& r) {
  json::object user;
  user["id"] = r.user.id;
  user["email"] = r.user.email;
  user["name"] = r.user.name;
  user["role"] = r.user.role;
  user["permissions"] = ToJsonArray(r.user.permissions);
  user["mustChangePassword"] = r.user.must_change_password;
  json::object data;
  data["user"] = std::move(user);
  data["token"] = r.token;
  data["expiresIn"] = r.expires_in;
  data["expiresAt"] = Rfc3339(r.expires_at);
  json::object out;
  out["success"] = true;
  out["data"] = std::move(data);
  return out;
}

json::object ValidateResponseJson(const ValidateResult& r) {
  json::object out;
  out["valid"] = r.valid;
  if (r.valid) {
    out["userId"] = r.user_id;
    out["permissions"] = ToJsonArray(r.permissions);
    out["expiresAt"] = Rfc3339(r.expires_at);
    return out;
  }
  out["error"] = std::string(ToStd(r.error.message()));
  if (!r.missing_permissions.empty()) {
    out["missingPermissions"] = ToJsonArray(r.missing_permissions);
  }
  return out;
}

}  // namespace herald::auth
