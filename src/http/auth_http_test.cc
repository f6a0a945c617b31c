#include "http/auth_routes.h"

#include "auth/jwt.h"
#include "auth/permissions.h"
#include "auth/service_signature.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "engine/builtin_handlers.h"
#include "gtest/gtest.h"
#include "http/document_routes.h"
#include "http/engine_routes.h"
#include "http/maintenance_routes.h"
#include "http/notify_routes.h"
#include "http/ops_routes.h"
#include "http/testing/client.h"
#include "http/testing/engine_stack.h"
#include "http/ticket_routes.h"
#include "http/webhook_routes.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::http {
namespace {

using testing::Client;

constexpr char kPaymentsSecret[] = "a-payments-service-secret-of-40-bytes!!";

// The whole stack over real sockets: the auth module's authenticator on every request,
// users of every role logged in through POST /api/auth/login.
class AuthHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<testing::EngineStack>();
    store_ = stack_->store.get();
    engine_ = stack_->engine.get();
    scheduler_ = stack_->scheduler.get();
    auth::AuthOptions ao;
    ao.jwt_secret = std::string(40, 'k');
    ao.password = auth::PasswordOptions::ForTesting();
    ao.service_secrets["payments"] = kPaymentsSecret;
    auth_ = std::move(auth::Authenticator::Create(*store_, core::Clock::Real(), ao)).value();
    AddOpsRoutes(router_, {store_, engine_, scheduler_, nullptr, [] { return true; }, "test"});
    AddAuthRoutes(router_, *auth_);
    AddEngineRoutes(router_, *engine_, *scheduler_);
    AddNotifyRoutes(router_, *stack_->notifier, *stack_->templates, *store_);
    WebhookRouteOptions wo;
    wo.stripe_secrets = {testing::kStripeSecret};
    wo.clock = &stack_->clock;
    wo.inbound_sources["crm"] = {testing::kInboundSecret};
    AddWebhookRoutes(router_, *stack_->dispatcher, *stack_->inbox, wo);
    AddMaintenanceRoutes(router_, *stack_->maintenance, testing::kCronSecret);
    AddDocumentRoutes(router_, *stack_->documents);
    AddTicketRoutes(router_, *stack_->ticketing, *stack_->scanner);
    AddPurchaseRoutes(router_, *stack_->purchases);
    AddGenerationRoutes(router_, *stack_->generator, *stack_->ticketing);
    auth::RateLimiterOptions lo;
    lo.default_limit = {100000, absl::Seconds(1)};
    lo.route_classes["auth"] = {12, absl::Minutes(1)};
    limiter_ = std::make_unique<auth::RateLimiter>(lo);
    ServerOptions options;
    options.port = 0;
    options.access_log = false;
    server_ =
        std::move(Server::Create(options, router_,
                                 MakeRequestAuthenticator(*auth_, *limiter_, core::Clock::Real()),
                                 core::Clock::Real()))
            .value();
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Stop(absl::Seconds(1));
    server_.reset();
    auth_.reset();
    stack_.reset();
  }

  // Creates a user of `role` and logs in over HTTP; returns the bearer token.
  std::string TokenFor(std::string_view role) {
    std::string email = StrCat(role, "@example.com");
    std::string password = "correct horse battery staple";
    auto u = auth_->users().CreateUser({email, std::string(role), std::string(role), password});
    EXPECT_TRUE(u.ok()) << u.status();
    Client c(server_->port());
    auto r = c.Send(
        "POST", "/api/auth/login",
        StrCat(R"({"email":")", email, R"(","password":")", password, R"(","rememberMe":false})"),
        {{"X-Forwarded-For", std::string(role)}});
    EXPECT_EQ(r.status, 200) << r.body;
    auto v = r.Json();
    EXPECT_TRUE(v.at("success").as_bool());
    EXPECT_EQ(v.at("data").at("user").at("role").as_string(), role);
    EXPECT_EQ(v.at("data").at("expiresIn").as_int64(), 3600);
    return std::string(v.at("data").at("token").as_string());
  }

  static std::string Target(const Route& r) {
    std::string out = r.pattern;
    for (auto [param, value] :
         {std::pair{"{id}", "01890a5d-ac96-774b-bcce-b302099a8057"},
          std::pair{"{name}", "nothing-here"}, std::pair{"{gate}", "nothing-here"},
          std::pair{"{operator}", "nothing-here"}, std::pair{"{key}", "nothing-here"},
          std::pair{"{event}", "nothing-here"}, std::pair{"{type}", "nothing-here"}}) {
      for (size_t i = out.find(param); i != std::string::npos; i = out.find(param)) {
        out.replace(i, std::string_view(param).size(), value);
      }
    }
    return out;
  }

  std::unique_ptr<testing::EngineStack> stack_;
  store::SqliteStore* store_ = nullptr;
  engine::Engine* engine_ = nullptr;
  engine::Scheduler* scheduler_ = nullptr;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<auth::RateLimiter> limiter_;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(AuthHttpTest, EveryRoutePermissionIsAKnownPermission) {
  auto known = auth::KnownPermissions();
  for (const Route& r : router_.routes()) {
    if (r.permission.empty()) continue;
    EXPECT_NE(std::find(known.begin(), known.end(), r.permission), known.end())
        << r.method << " " << r.pattern << " needs unknown permission " << r.permission;
  }
}

TEST_F(AuthHttpTest, EveryRouteTimesEveryRoleIsAllowedOrForbiddenAndAnonymousIs401) {
  std::vector<std::pair<auth::Role, std::string>> tokens;
  for (auth::Role role : auth::AllRoles()) {
    if (role == auth::Role::kService) continue;  // services use API keys, below
    tokens.emplace_back(role, TokenFor(auth::RoleName(role)));
  }
  auto key = auth_->users().CreateApiKey("payments", {});
  ASSERT_TRUE(key.ok());
  Client c(server_->port());
  for (const Route& r : router_.routes()) {
    std::string target = Target(r);
    std::string body = r.method == "GET" || r.method == "DELETE" ? "" : "{}";
    if (r.pattern.rfind("/api/auth/", 0) == 0) continue;  // token routes: own tests
    auto anonymous = c.Send(r.method, target, body);
    const bool own_credentials =
        (r.pattern.starts_with("/api/notifications/callbacks/") && r.method == "POST") ||
        r.pattern == "/api/webhooks/stripe" || r.pattern == "/api/webhooks/inbound/{name}" ||
        r.pattern == "/api/cron/check-overdue";
    if (own_credentials) {
      // Public, authenticated by the provider's signature or the cron secret instead: none
      // here, so 401 (or 404 when that provider's callbacks are not configured), and a
      // Herald token is no substitute.
      EXPECT_TRUE(anonymous.status == 401 || anonymous.status == 404)
          << r.pattern << " " << anonymous.status;
      for (const auto& [role, token] : tokens) {
        auto res = c.Send(r.method, target, body, {{"Authorization", "Bearer " + token}});
        EXPECT_TRUE(res.status == 401 || res.status == 404) << r.pattern << " " << res.status;
      }
      continue;
    }
    if (r.permission.empty()) {
      EXPECT_NE(anonymous.status, 401) << r.method << " " << r.pattern;
    } else {
      EXPECT_EQ(anonymous.status, 401) << r.method << " " << r.pattern;
    }
    for (const auto& [role, token] : tokens) {
      auto res = c.Send(r.method, target, body, {{"Authorization", "Bearer " + token}});
      bool allowed = r.permission.empty() || auth::PermissionSet::ForRole(role).Can(r.permission);
      if (allowed) {
        EXPECT_NE(res.status, 403) << auth::RoleName(role) << " " << r.method << " " << r.pattern;
        EXPECT_NE(res.status, 401) << auth::RoleName(role) << " " << r.method << " " << r.pattern;
      } else {
        EXPECT_EQ(res.status, 403)
            << auth::RoleName(role) << " " << r.method << " " << r.pattern << " " << res.body;
      }
    }
    auto svc = c.Send(r.method, target, body,
                      {{"X-Service-Name", "payments"}, {"X-Service-Key", key->plaintext}});
    bool svc_allowed = r.permission.empty() || key->key.Permissions().Can(r.permission);
    EXPECT_EQ(svc.status == 403, !svc_allowed) << "service " << r.method << " " << r.pattern;
  }
}

TEST_F(AuthHttpTest, TamperedExpiredAndForeignTokensAreRejected) {
  std::string token = TokenFor("admin");
  Client c(server_->port());
  auto with = [&](std::string t) {
    return c.Send("GET", "/api/queues", "", {{"Authorization", "Bearer " + t}}).status;
  };
  EXPECT_EQ(with(token), 200);
  std::string tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;  // one payload character
  EXPECT_EQ(with(tampered), 401);
  std::string bad_sig = token.substr(0, token.rfind('.') + 1) + "AAAA";
  EXPECT_EQ(with(bad_sig), 401);
  // alg "none" with the same claims and no signature.
  std::string payload = token.substr(token.find('.') + 1);
  payload = payload.substr(0, payload.find('.'));
  EXPECT_EQ(with("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."), 401);
  // Signed with another key.
  auth::JwtOptions jo;
  auto other = auth::JwtCodec::Create(std::string(40, 'x'), core::Clock::Real(), jo);
  ASSERT_TRUE(other.ok());
  auto claims = auth_->jwt().Verify(token);
  ASSERT_TRUE(claims.ok());
  auto forged = (*other)->Sign(*claims);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(with(*forged), 401);
  // Signed with the right key, expired an hour ago.
  auto same_key = auth::JwtCodec::Create(std::string(40, 'k'), core::Clock::Real(), jo);
  ASSERT_TRUE(same_key.ok());
  auth::Claims old = *claims;
  old.iat = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(2)));
  old.exp = old.iat + absl::Hours(1);
  auto expired = (*same_key)->Sign(old);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(with(*expired), 401);
  old.exp = old.iat + absl::Hours(3);  // the same claims, unexpired: only the expiry refused it
  EXPECT_EQ(with(*(*same_key)->Sign(old)), 200);
  EXPECT_EQ(with("not.a.token"), 401);
  auto logout = c.Send("POST", "/api/auth/logout", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(logout.status, 200);
  EXPECT_EQ(with(token), 401);  // revoked
}

TEST_F(AuthHttpTest, LoginFailuresLookTheSameAndAreThrottled) {
  TokenFor("organizer");
  Client c(server_->port());
  auto wrong_password = c.Send("POST", "/api/auth/login",
                               R"({"email":"organizer@example.com","password":"nope nope nope"})");
  auto unknown = c.Send("POST", "/api/auth/login",
                        R"({"email":"nobody@example.com","password":"nope nope nope"})");
  EXPECT_EQ(wrong_password.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong_password.Json().at("error").at("message"),
            unknown.Json().at("error").at("message"));
  auto malformed = c.Send("POST", "/api/auth/login", R"({"email":42})");
  EXPECT_EQ(malformed.status, 400);
  // The auth route class allows 12 requests a minute per client here: then 429.
  testing::ClientResponse r;
  for (int i = 0; i < 20 && r.status != 429; ++i) {
    r = c.Send("POST", "/api/auth/login", R"({"email":"a@b.c","password":"x"})");
  }
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_EQ(r.Json().at("error").at("code"), "rate_limited");
}

TEST_F(AuthHttpTest, RefusedCredentialsAreRateLimitedPerAddress) {
  std::string token = TokenFor("admin");  // one of the address's 12 auth tokens a minute
  Client c(server_->port());
  auto with = [&](std::string t) {
    return c.Send("GET", "/api/queues", "", {{"Authorization", "Bearer " + t}});
  };
  // Bad tokens, bad service keys and bad signatures all cost the address a token.
  testing::ClientResponse r;
  int refused = 0;
  for (; refused < 20; ++refused) {
    r = refused % 2 == 0 ? with("not.a.token")
                         : c.Send("GET", "/api/queues", "",
                                  {{"X-Service-Name", "payments"}, {"X-Service-Key", "wrong"}});
    if (r.status != 401) break;
  }
  EXPECT_EQ(refused, 11);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.Json().at("error").at("code"), "rate_limited");
  EXPECT_FALSE(r.headers["retry-after"].empty());
  // A valid credential is not refused: its caller has buckets of its own.
  EXPECT_EQ(with(token).status, 200);
  // Nor is a request without credentials charged (anonymous routes keep working).
  EXPECT_EQ(c.Send("GET", "/health").status, 200);
}

TEST_F(AuthHttpTest, AOneTimePasswordMustBeChangedBeforeAnythingElse) {
  auto password = auth_->EnsureAdmin("root@example.com");
  ASSERT_TRUE(password.ok() && !password->empty());
  Client c(server_->port());
  auto login = [&](const std::string& pw) {
    return c.Send("POST", "/api/auth/login",
                  StrCat(R"({"email":"root@example.com","password":")", pw, R"("})"));
  };
  auto r = login(*password);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string token(r.Json().at("data").at("token").as_string());
  std::string id(r.Json().at("data").at("user").at("id").as_string());
  auto bearer =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
  EXPECT_EQ(c.Send("GET", "/api/queues", "", bearer).status, 403);
  EXPECT_EQ(c.Send("POST", "/api/users/" + id + "/password",
                   R"({"password":"a brand new passphrase"})", bearer)
                .status,
            200);
  r = login("a brand new passphrase");
  ASSERT_EQ(r.status, 200);
  token = std::string(r.Json().at("data").at("token").as_string());
  EXPECT_EQ(c.Send("GET", "/api/queues", "", {{"Authorization", "Bearer " + token}}).status, 200);
}

TEST_F(AuthHttpTest, SignedServiceRequestsAreAcceptedOnceAndTamperingIsRejected) {
  Client c(server_->port());
  std::string body = R"({"type":"noop","queue":"payments"})";
  std::string timestamp = absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  auto headers = [&](std::string request_id, std::string signed_body) {
    std::string sig = auth::SignServiceRequest(kPaymentsSecret, "POST", "/api/jobs", timestamp,
                                               request_id, signed_body);
    return std::vector<std::pair<std::string, std::string>>{
        {"X-Service-Name", "payments"},
        {"X-Timestamp", timestamp},
        {"X-Request-ID", request_id},
        {"X-Signature", auth::SignatureHeaderValue(sig)}};
  };
  auto r = c.Send("POST", "/api/jobs", body, headers("req-1", body));
  EXPECT_EQ(r.status, 201) << r.body;
  auto replay = c.Send("POST", "/api/jobs", body, headers("req-1", body));
  EXPECT_EQ(replay.status, 401) << replay.body;
  auto tampered =
      c.Send("POST", "/api/jobs", R"({"type":"noop","queue":"other"})", headers("req-2", body));
  EXPECT_EQ(tampered.status, 401);
  auto h = headers("req-3", body);
  h[0].second = "unknown-service";
  EXPECT_EQ(c.Send("POST", "/api/jobs", body, h).status, 401);
}

TEST_F(AuthHttpTest, RefreshReplacesTheTokenAndOverridesChangeWhatAUserMay) {
  Client c(server_->port());
  const auto bearer = [](const std::string& t) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + t}};
  };
  // The token routes check their own credentials: none is a 401.
  EXPECT_EQ(c.Send("POST", "/api/auth/refresh").status, 401);
  EXPECT_EQ(c.Send("POST", "/api/auth/logout").status, 401);
  EXPECT_EQ(c.Send("GET", "/api/auth/me").status, 401);
  const std::string old = TokenFor("organizer");
  auto refreshed = c.Send("POST", "/api/auth/refresh", "", bearer(old));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string token(refreshed.Json().at("data").at("token").as_string());
  EXPECT_NE(token, old);
  EXPECT_EQ(c.Send("GET", "/api/auth/me", "", bearer(token)).status, 200);
  EXPECT_EQ(c.Send("GET", "/api/auth/me", "", bearer(old)).status, 401);  // replaced
  EXPECT_EQ(c.Send("POST", "/api/auth/refresh", "", bearer(old)).status, 401);

  // An admin grants the organiser jobs:read and takes events:create away, over HTTP.
  const std::string admin = TokenFor("admin");
  const std::string id(
      c.Send("GET", "/api/auth/me", "", bearer(token)).Json().at("id").as_string());
  const std::string event = R"({"title":"x","event_date":"2026-06-20T09:00:00Z"})";
  EXPECT_EQ(c.Send("GET", "/api/jobs", "", bearer(token)).status, 403);
  EXPECT_EQ(c.Send("POST", "/api/events", event, bearer(token)).status, 201);
  auto patched =
      c.Send("PATCH", "/api/users/" + id,
             R"({"permissions_granted":["jobs:read"],"permissions_revoked":["events:create"]})",
             bearer(admin));
  ASSERT_EQ(patched.status, 200) << patched.body;
  // A new login carries the overrides.
  Client fresh(server_->port());
  auto login = fresh.Send("POST", "/api/auth/login",
                          R"({"email":"organizer@example.com",)"
                          R"("password":"correct horse battery staple","rememberMe":false})",
                          {{"X-Forwarded-For", "organizer-2"}});
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string changed(login.Json().at("data").at("token").as_string());
  EXPECT_EQ(c.Send("GET", "/api/jobs", "", bearer(changed)).status, 200);
  EXPECT_EQ(c.Send("POST", "/api/events", event, bearer(changed)).status, 403);
  // Overrides name known permissions only, and a bad field changes nothing (not the role
  // either); the organiser may not change their own.
  EXPECT_EQ(c.Send("PATCH", "/api/users/" + id,
                   R"({"role":"accounting","permissions_granted":["jobs:fly"]})", bearer(admin))
                .status,
            400);
  const boost::json::value users = c.Send("GET", "/api/users", "", bearer(admin)).Json();
  int found = 0;
  for (const auto& u : users.at("data").as_array()) {
    if (u.at("id").as_string() != id) continue;
    ++found;
    EXPECT_EQ(u.at("role"), "organizer") << u;
  }
  EXPECT_EQ(found, 1) << users;
  EXPECT_EQ(
      c.Send("PATCH", "/api/users/" + id, R"({"permissions_granted":["jobs:fly"]})", bearer(admin))
          .status,
      400);
  EXPECT_EQ(c.Send("PATCH", "/api/users/" + id, R"({"permissions_granted":["users:update"]})",
                   bearer(changed))
                .status,
            403);
}

TEST_F(AuthHttpTest, ValidateAnswersTheSeedShape) {
  std::string token = TokenFor("organizer");
  Client c(server_->port());
  auto r = c.Send("POST", "/api/auth/validate",
                  StrCat(R"({"token":")", token, R"(","permissions":["events:read"]})"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = r.Json();
  EXPECT_TRUE(v.at("valid").as_bool());
  EXPECT_TRUE(v.as_object().contains("userId"));
  EXPECT_TRUE(v.as_object().contains("permissions"));
  EXPECT_TRUE(v.as_object().contains("expiresAt"));
  auto bad = c.Send("POST", "/api/auth/validate", R"({"token":"x.y.z"})");
  EXPECT_FALSE(bad.Json().at("valid").as_bool());
}

}  // namespace
}  // namespace herald::http
