#include "http/auth_routes.h"

#include "auth/permissions.h"
#include "auth/retry_after.h"
#include "core/strings.h"
#include "http/json_fields.h"

namespace herald::http {
namespace {

boost::json::array Strings(const std::vector<std::string>& v) {
  boost::json::array out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

boost::json::value UserJson(const auth::User& u) {
  return boost::json::object{
      {"id", u.id},
      {"email", u.email},
      {"name", u.name},
      {"role", std::string(auth::RoleName(u.role))},
      {"permissions", Strings(u.Permissions().List())},
      {"permissions_granted", Strings(u.permissions_granted)},
      {"permissions_revoked", Strings(u.permissions_revoked)},
      {"disabled", u.disabled},
      {"must_change_password", u.must_change_password},
      {"created_at", Rfc3339(u.created_at)},
      {"last_login_at", u.last_login_at ? boost::json::value(Rfc3339(*u.last_login_at)) : nullptr}};
}

boost::json::value ApiKeyJson(const auth::ApiKey& k) {
  return boost::json::object{
      {"id", k.id},
      {"service_name", k.service_name},
      {"prefix", k.prefix},
      {"permissions", Strings(k.permissions)},
      {"revoked", k.revoked},
      {"created_at", Rfc3339(k.created_at)},
      {"last_used_at", k.last_used_at ? boost::json::value(Rfc3339(*k.last_used_at)) : nullptr}};
}

Result<std::vector<std::string>> StringList(const Fields& f, std::string_view name) {
  std::vector<std::string> out;
  const boost::json::value* v = f.Get(name);
  if (v == nullptr) return out;
  if (!v->is_array())
    return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected an array"));
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(StrCat(f.Name(name), ": expected strings"));
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

std::string_view BearerToken(const Request& req) {
  auto token = auth::ParseBearerHeader(req.Header("authorization"));
  return token.ok() ? *token : std::string_view();
}

// Sets `req.principal` from the request's credentials: a bearer token, a service key or a
// signed service request. No credential leaves it null; a refused one is an error.
Status Identify(auth::Authenticator& a, Request& req, const Route& route) {
  // A route tagged "cron" checks its own Bearer secret (seed 004's external cron): its
  // Authorization header is not a Herald credential.
  const bool own_credentials = route.tag == "cron";
  std::string_view authorization = own_credentials ? "" : req.Header("authorization");
  std::string_view service = own_credentials ? "" : req.Header("x-service-name");
  if (!authorization.empty()) {
    HERALD_ASSIGN_OR_RETURN(std::string_view token, auth::ParseBearerHeader(authorization));
    HERALD_ASSIGN_OR_RETURN(req.principal, a.AuthenticateBearer(token));
  } else if (!service.empty() && !req.Header("x-service-key").empty()) {
    HERALD_ASSIGN_OR_RETURN(req.principal,
                            a.AuthenticateService(service, req.Header("x-service-key")));
  } else if (!service.empty() && !req.Header("x-signature").empty()) {
    HERALD_RETURN_IF_ERROR(
        a.VerifyServiceRequest({service, req.method, req.target, req.Header("x-timestamp"),
                                req.Header("x-request-id"), req.body, req.Header("x-signature")}));
    auth::Principal p;
    p.kind = auth::Principal::Kind::kService;
    p.id = std::string(service);
    p.name = std::string(service);
    p.role = auth::Role::kService;
    p.permissions = auth::PermissionSet::ForRole(auth::Role::kService);
    req.principal = std::make_shared<const auth::Principal>(std::move(p));
  }
  return absl::OkStatus();
}

}  // namespace

Authenticator MakeRequestAuthenticator(auth::Authenticator& a, auth::RateLimiter& limiter,
                                       const core::Clock& clock) {
  return [&a, &limiter, &clock](Request& req, const Route& route) -> Status {
    Status credentials = Identify(a, req, route);
    // Only a refused credential is charged: a store or replay-cache failure is the server's.
    if (credentials.code() == absl::StatusCode::kUnauthenticated) {
      // A refused credential costs the caller's address a token of the "auth" class, as a
      // login does: guessing tokens, keys or signatures is limited like guessing passwords.
      auth::RateDecision d = limiter.Allow(StrCat("ip:", req.client_ip), "auth", clock.Now());
      if (!d.allowed) {
        return auth::WithRetryAfter(
            absl::ResourceExhaustedError("too many refused credentials from this address"),
            d.retry_after);
      }
      return credentials;
    }
    if (!credentials.ok()) return credentials;
    if (req.principal && req.principal->must_change_password) {
      // A generated password (the first admin's) must be replaced before anything else.
      bool own_password =
          route.pattern == "/api/users/{id}/password" && req.params["id"] == req.principal->id;
      if (route.tag != "auth" && !own_password) {
        return absl::PermissionDeniedError(
            StrCat("change your one-time password first: POST /api/users/", req.principal->id,
                   "/password"));
      }
    }
    if (route.tag == "operations") return absl::OkStatus();  // probes are never limited
    std::string_view route_class =
        route.tag == "auth" ? "auth"
                            : (req.method == "GET" || req.method == "HEAD" ? "read" : "write");
    std::string key =
        req.principal ? StrCat("p:", req.principal->id) : StrCat("ip:", req.client_ip);
    auth::RateDecision d = limiter.Allow(key, route_class, clock.Now());
    if (!d.allowed) {
      return auth::WithRetryAfter(absl::ResourceExhaustedError("too many requests"), d.retry_after);
    }
    return absl::OkStatus();
  };
}

void AddAuthRoutes(Router& router, auth::Authenticator& a) {
  const std::string tag = "auth";
  router.Add({"POST", "/api/auth/login", "", "Log in (seed 003): a JWT and the user",
              [&a](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(auth::LoginRequest login,
                                        auth::ParseLoginRequest(boost::json::value(body)));
                HERALD_ASSIGN_OR_RETURN(
                    auth::LoginResult r,
                    a.Login(login.email, login.password, login.remember_me, req.client_ip));
                return Response::Json(200, auth::LoginResponseJson(r));
              },
              200, tag});
  router.Add({"POST", "/api/auth/validate", "",
              "Validate a token and optional permissions (seed 003)",
              [&a](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                HERALD_ASSIGN_OR_RETURN(auth::ValidateRequest v,
                                        auth::ParseValidateRequest(boost::json::value(body)));
                auth::ValidateResult r = a.Validate(v.token, v.permissions);
                return Response::Json(200, auth::ValidateResponseJson(r));
              },
              200, tag});
  router.Add({"POST", "/api/auth/refresh", "", "A new token for the caller's token",
              [&a](Request& req) -> Result<Response> {
                std::string_view token = BearerToken(req);
                if (token.empty()) return absl::UnauthenticatedError("missing bearer token");
                HERALD_ASSIGN_OR_RETURN(auth::LoginResult r, a.Refresh(token));
                return Response::Json(200, auth::LoginResponseJson(r));
              },
              200, tag});
  router.Add({"POST", "/api/auth/logout", "", "Revoke the caller's token",
              [&a](Request& req) -> Result<Response> {
                std::string_view token = BearerToken(req);
                if (token.empty()) return absl::UnauthenticatedError("missing bearer token");
                HERALD_RETURN_IF_ERROR(a.Logout(token));
                return Response::Json(200, boost::json::object{{"success", true}});
              },
              200, tag});
  router.Add({"GET", "/api/auth/me", "", "The authenticated caller",
              [](Request& req) -> Result<Response> {
                if (!req.principal) return absl::UnauthenticatedError("authentication required");
                const auth::Principal& p = *req.principal;
                return Response::Json(
                    200, boost::json::object{
                             {"kind", p.kind == auth::Principal::Kind::kUser ? "user" : "service"},
                             {"id", p.id},
                             {"name", p.name},
                             {"role", std::string(auth::RoleName(p.role))},
                             {"permissions", Strings(p.permissions.List())}});
              },
              200, tag});

  const std::string users = "users";
  router.Add({"GET",
              "/api/users",
              "users:read",
              "List users",
              [&a](Request& req) -> Result<Response> {
                auth::UserListOptions o;
                if (auto c = req.Query("cursor")) o.after_id = std::string(*c);
                HERALD_ASSIGN_OR_RETURN(auto list, a.users().List(o));
                boost::json::array data;
                for (const auto& u : list) data.push_back(UserJson(u));
                return Response::Json(200, boost::json::object{{"data", std::move(data)}});
              },
              200,
              users,
              {{"cursor", "where the previous page ended (its next_cursor)"}}});
  router.Add({"POST", "/api/users", "users:create", "Create a user",
              [&a](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                Fields f(body);
                HERALD_RETURN_IF_ERROR(f.CheckKnown({"email", "name", "role", "password"}));
                auth::NewUser u;
                HERALD_ASSIGN_OR_RETURN(auto email, f.String("email"));
                HERALD_ASSIGN_OR_RETURN(auto name, f.String("name"));
                HERALD_ASSIGN_OR_RETURN(auto role, f.String("role"));
                HERALD_ASSIGN_OR_RETURN(auto password, f.String("password"));
                if (!email || !role || !password) {
                  return absl::InvalidArgumentError("email, role and password are required");
                }
                u.email = *email;
                u.name = name.value_or("");
                u.role = *role;
                u.password = *password;
                HERALD_ASSIGN_OR_RETURN(auth::User created, a.users().CreateUser(u));
                return Response::Json(201, UserJson(created));
              },
              201, users});
  router.Add({"PATCH", "/api/users/{id}", "users:update",
              "Change a user's role, permission overrides or disabled flag",
              [&a](Request& req) -> Result<Response> {
                const std::string& id = req.params.at("id");
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                Fields f(body);
                HERALD_RETURN_IF_ERROR(f.CheckKnown(
                    {"role", "disabled", "permissions_granted", "permissions_revoked"}));
                HERALD_ASSIGN_OR_RETURN(auth::User user, a.users().Get(id));
                // Everything is checked before anything is written: a bad field changes nothing.
                HERALD_ASSIGN_OR_RETURN(auto role, f.String("role"));
                if (role) HERALD_RETURN_IF_ERROR(auth::ParseRole(*role).status());
                const bool overrides = f.Get("permissions_granted") || f.Get("permissions_revoked");
                HERALD_ASSIGN_OR_RETURN(auto granted, StringList(f, "permissions_granted"));
                HERALD_ASSIGN_OR_RETURN(auto revoked, StringList(f, "permissions_revoked"));
                HERALD_RETURN_IF_ERROR(auth::ValidatePermissions(granted));
                HERALD_RETURN_IF_ERROR(auth::ValidatePermissions(revoked));
                // A list left out stays as stored.
                if (!f.Get("permissions_granted")) granted = user.permissions_granted;
                if (!f.Get("permissions_revoked")) revoked = user.permissions_revoked;
                HERALD_ASSIGN_OR_RETURN(auto disabled, f.Bool("disabled"));
                if (role) HERALD_RETURN_IF_ERROR(a.users().SetRole(id, *role));
                if (overrides) {
                  HERALD_RETURN_IF_ERROR(a.users().SetPermissionOverrides(id, granted, revoked));
                }
                if (disabled) {
                  HERALD_RETURN_IF_ERROR(*disabled ? a.users().Disable(id) : a.users().Enable(id));
                }
                HERALD_ASSIGN_OR_RETURN(auth::User updated, a.users().Get(id));
                return Response::Json(200, UserJson(updated));
              },
              200, users});
  router.Add({"POST", "/api/users/{id}/password", "users:update", "Set a user's password",
              [&a](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                Fields f(body);
                HERALD_RETURN_IF_ERROR(f.CheckKnown({"password"}));
                HERALD_ASSIGN_OR_RETURN(auto password, f.String("password"));
                if (!password) return absl::InvalidArgumentError("password: required");
                HERALD_RETURN_IF_ERROR(a.users().SetPassword(req.params.at("id"), *password));
                return Response::Json(200, boost::json::object{{"success", true}});
              },
              200, users});
  router.Add({"GET",
              "/api/api-keys",
              "api_keys:read",
              "List API keys (never the keys)",
              [&a](Request& req) -> Result<Response> {
                std::string service(req.Query("service_name").value_or(""));
                HERALD_ASSIGN_OR_RETURN(auto keys, a.users().ListApiKeys(service));
                boost::json::array data;
                for (const auto& k : keys) data.push_back(ApiKeyJson(k));
                return Response::Json(200, boost::json::object{{"data", std::move(data)}});
              },
              200,
              users,
              {{"service_name", "only this service's keys"}}});
  router.Add({"POST", "/api/api-keys", "api_keys:create",
              "Create an API key for a service; the key is in this response only",
              [&a](Request& req) -> Result<Response> {
                HERALD_ASSIGN_OR_RETURN(auto body, req.JsonBody());
                Fields f(body);
                HERALD_RETURN_IF_ERROR(f.CheckKnown({"service_name", "permissions"}));
                HERALD_ASSIGN_OR_RETURN(auto service, f.String("service_name"));
                if (!service) return absl::InvalidArgumentError("service_name: required");
                HERALD_ASSIGN_OR_RETURN(auto permissions, StringList(f, "permissions"));
                HERALD_ASSIGN_OR_RETURN(auth::CreatedApiKey k,
                                        a.users().CreateApiKey(*service, permissions));
                boost::json::value out = ApiKeyJson(k.key);
                out.as_object()["key"] = k.plaintext;
                return Response::Json(201, out);
              },
              201, users});
  router.Add({"DELETE", "/api/api-keys/{id}", "api_keys:delete", "Revoke an API key",
              [&a](Request& req) -> Result<Response> {
                HERALD_RETURN_IF_ERROR(a.users().RevokeApiKey(req.params.at("id")));
                return Response::Json(200, boost::json::object{{"revoked", req.params.at("id")}});
              },
              200, users});
}

}  // namespace herald::http
