#include "auth/authenticator.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "auth/retry_after.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::auth {
namespace {

namespace json = boost::json;

constexpr char kPassword[] = "correct horse battery";
constexpr char kServiceSecret[] = "payment-service-secret-0123456789abcdef";

AuthOptions TestOptions() {
  AuthOptions o;
  o.jwt_secret = "a-test-jwt-secret-of-at-least-32-bytes!";
  o.password = PasswordOptions::ForTesting();
  o.service_secrets = {{"payment-service", kServiceSecret}};
  return o;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Open(dir_.File("auth.db"));
    auth_ = Make(*store_, TestOptions());
  }

  static std::unique_ptr<store::SqliteStore> Open(const std::string& path) {
    store::SqliteOptions o;
    o.path = path;
    auto s = store::SqliteStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(Authenticator::Migrate(**s).ok());
    return std::move(s).value();
  }

  std::unique_ptr<Authenticator> Make(store::Store& store, AuthOptions options) {
    auto a = Authenticator::Create(store, clock_, std::move(options));
    EXPECT_TRUE(a.ok()) << a.status();
    return std::move(a).value();
  }

  User CreateUser(std::string email, std::string role = "organizer") {
    Result<User> u = auth_->users().CreateUser({email, "Test User", role, kPassword});
    EXPECT_TRUE(u.ok()) << u.status();
    return u.ok() ? *u : User{};
  }

  std::string LoginToken(std::string email = "alice@example.com") {
    Result<LoginResult> r = auth_->Login(email, kPassword, false, "10.0.0.1");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->token : "";
  }

  void ExpectUnauthenticated(const Status& st, std::string_view message) {
    EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
    EXPECT_EQ(ToStd(st.message()), message);
  }

  testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, LoginReturnsTheSeedResponseShape) {
  User u = CreateUser("alice@example.com");
  Result<LoginResult> r = auth_->Login("Alice@Example.com", kPassword, false, "10.0.0.1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->expires_in, 3600);
  EXPECT_EQ(r->expires_at, clock_.Now() + absl::Hours(1));

  json::object body = LoginResponseJson(*r);
  EXPECT_EQ(body.at("success"), json::value(true));
  const json::object& data = body.at("data").as_object();
  const json::object& user = data.at("user").as_object();
  EXPECT_EQ(user.at("id").as_string(), u.id);
  EXPECT_EQ(user.at("email").as_string(), "alice@example.com");
  EXPECT_EQ(user.at("role").as_string(), "organizer");
  bool has_events_read = false;
  for (const json::value& p : user.at("permissions").as_array()) {
    has_events_read |= p.as_string() == "events:read";
  }
  EXPECT_TRUE(has_events_read);
  EXPECT_EQ(data.at("token").as_string(), r->token);
  EXPECT_EQ(data.at("expiresIn").as_int64(), 3600);
  EXPECT_EQ(data.at("expiresAt").as_string(), "2026-01-01T01:00:00Z");

  Result<User> after = auth_->users().Get(u.id);
  ASSERT_TRUE(after->last_login_at.has_value());
  EXPECT_EQ(*after->last_login_at, clock_.Now());
  // Recording a login changes no principal: the token cache of other sessions stays valid.
  const uint64_t generation = auth_->users().generation();
  ASSERT_TRUE(auth_->Login("alice@example.com", kPassword, false, "").ok());
  EXPECT_EQ(auth_->users().generation(), generation);
  ASSERT_TRUE(auth_->users().SetRole(u.id, "operator").ok());
  EXPECT_NE(auth_->users().generation(), generation);
}

TEST_F(AuthenticatorTest, RememberMeTokensLastThirtyDays) {
  CreateUser("alice@example.com");
  Result<LoginResult> r = auth_->Login("alice@example.com", kPassword, true, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expires_in, 30 * 24 * 3600);
  clock_.Advance(absl::Hours(24 * 29));
  EXPECT_TRUE(auth_->AuthenticateBearer(r->token).ok());
  clock_.Advance(absl::Hours(24));
  ExpectUnauthenticated(auth_->AuthenticateBearer(r->token).status(), "token expired");
}

TEST_F(AuthenticatorTest, UnknownEmailWrongPasswordAndDisabledAccountLookAlike) {
  User u = CreateUser("alice@example.com");
  User d = CreateUser("disabled@example.com");
  ASSERT_TRUE(auth_->users().Disable(d.id).ok());
  for (auto [email, password] : std::vector<std::pair<std::string, std::string>>{
           {"bob@example.com", kPassword},
           {"alice@example.com", "wrong password!"},
           {"disabled@example.com", kPassword},
           {"not an email", kPassword},
           {"alice@example.com", ""},
           {"alice@example.com", std::string(5000, 'x')}}) {
    Result<LoginResult> r = auth_->Login(email, password, false, "");
    ExpectUnauthenticated(r.status(), "invalid email or password");
    EXPECT_FALSE(GetRetryAfter(r.status()).has_value());
  }
}

TEST_F(AuthenticatorTest, LocksAnAccountAfterFiveFailuresAndUnlocksAfterTheWindow) {
  CreateUser("alice@example.com");
  for (int i = 0; i < 5; ++i) {
    ExpectUnauthenticated(auth_->Login("alice@example.com", "wrong password!", false, "").status(),
                          "invalid email or password");
    clock_.Advance(absl::Seconds(1));
  }
  // Locked: even the right password is refused, with the wait attached.
  Result<LoginResult> locked = auth_->Login("alice@example.com", kPassword, false, "");
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kResourceExhausted);
  std::optional<absl::Duration> wait = GetRetryAfter(locked.status());
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, absl::Minutes(15) - absl::Seconds(5));
  // Other accounts are not affected.
  CreateUser("bob@example.com");
  EXPECT_TRUE(auth_->Login("bob@example.com", kPassword, false, "").ok());

  clock_.Advance(*wait - absl::Seconds(1));
  EXPECT_EQ(auth_->Login("alice@example.com", kPassword, false, "").status().code(),
            absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(auth_->Login("alice@example.com", kPassword, false, "").ok());
}

TEST_F(AuthenticatorTest, UnknownAccountsAreLockedToo) {
  for (int i = 0; i < 5; ++i) (void)auth_->Login("ghost@example.com", kPassword, false, "");
  EXPECT_EQ(auth_->Login("ghost@example.com", kPassword, false, "").status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(AuthenticatorTest, SuccessResetsTheAccountCount) {
  CreateUser("alice@example.com");
  for (int i = 0; i < 4; ++i) (void)auth_->Login("alice@example.com", "wrong password!", false, "");
  ASSERT_TRUE(auth_->Login("alice@example.com", kPassword, false, "").ok());
  for (int i = 0; i < 4; ++i) (void)auth_->Login("alice@example.com", "wrong password!", false, "");
  EXPECT_TRUE(auth_->Login("alice@example.com", kPassword, false, "").ok());
}

TEST_F(AuthenticatorTest, LimitsFailuresPerIpAcrossAccounts) {
  CreateUser("alice@example.com");
  for (int i = 0; i < 20; ++i) {
    (void)auth_->Login("user" + std::to_string(i) + "@example.com", kPassword, false, "6.6.6.6");
  }
  Result<LoginResult> r = auth_->Login("alice@example.com", kPassword, false, "6.6.6.6");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetRetryAfter(r.status()), absl::Minutes(15));
  EXPECT_TRUE(auth_->Login("alice@example.com", kPassword, false, "10.0.0.1").ok());
}

TEST_F(AuthenticatorTest, BearerTokenGivesTheCurrentUser) {
  User u = CreateUser("alice@example.com");
  Result<PrincipalRef> found = auth_->AuthenticateBearer(LoginToken());
  ASSERT_TRUE(found.ok()) << found.status();
  const PrincipalRef& p = *found;
  EXPECT_EQ(p->kind, Principal::Kind::kUser);
  EXPECT_EQ(p->id, u.id);
  EXPECT_EQ(p->name, "alice@example.com");
  EXPECT_EQ(p->role, Role::kOrganizer);
  EXPECT_TRUE(p->Can("events:create"));
  EXPECT_FALSE(p->Can("users:create"));
  EXPECT_EQ(p->expires_at, clock_.Now() + absl::Hours(1));
  EXPECT_FALSE(p->token_id.empty());
}

TEST_F(AuthenticatorTest, RoleAndPermissionChangesApplyToExistingTokens) {
  User u = CreateUser("alice@example.com");
  std::string token = LoginToken();
  ASSERT_TRUE(auth_->users().SetRole(u.id, "operator").ok());
  Result<PrincipalRef> found = auth_->AuthenticateBearer(token);
  ASSERT_TRUE(found.ok());
  const PrincipalRef& p = *found;
  EXPECT_EQ(p->role, Role::kOperator);
  EXPECT_FALSE(p->Can("events:create"));
  std::vector<std::string> revoked = {"scans:create"};
  ASSERT_TRUE(auth_->users().SetPermissionOverrides(u.id, {}, revoked).ok());
  EXPECT_FALSE((*auth_->AuthenticateBearer(token))->Can("scans:create"));
}

TEST_F(AuthenticatorTest, CachedPrincipalsFollowChangesHereAndInOtherProcesses) {
  User u = CreateUser("alice@example.com");
  std::string token = LoginToken();
  ASSERT_EQ((*auth_->AuthenticateBearer(token))->role, Role::kOrganizer);  // now cached
  ASSERT_EQ((*auth_->AuthenticateBearer(token))->role, Role::kOrganizer);  // a hit

  ASSERT_TRUE(auth_->users().SetRole(u.id, "accounting").ok());
  EXPECT_EQ((*auth_->AuthenticateBearer(token))->role, Role::kAccounting);

  // Another process (here: another connection with its own UserStore, as the CLI does)
  // changes the role; the server's store notices the commit at its next batch.
  store::SqliteOptions o;
  o.path = dir_.File("auth.db");
  o.exclusive_owner = false;
  auto other = store::SqliteStore::Open(o);
  ASSERT_TRUE(other.ok()) << other.status();
  UserStore other_users(**other, clock_, auth_->hasher());
  ASSERT_TRUE(other_users.SetRole(u.id, "operator").ok());
  ASSERT_TRUE(store_->Write([](store::Txn&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ((*auth_->AuthenticateBearer(token))->role, Role::kOperator);

  ASSERT_TRUE(other_users.Disable(u.id).ok());
  ASSERT_TRUE(store_->Write([](store::Txn&) { return absl::OkStatus(); }).ok());
  ExpectUnauthenticated(auth_->AuthenticateBearer(token).status(), "account disabled");

  // Expiry is checked on every call, cached or not.
  CreateUser("bob@example.com");
  std::string bob = LoginToken("bob@example.com");
  ASSERT_TRUE(auth_->AuthenticateBearer(bob).ok());
  clock_.Advance(absl::Hours(1));
  ExpectUnauthenticated(auth_->AuthenticateBearer(bob).status(), "token expired");

  // The cache is keyed by the token's exact bytes: another signature is checked, and a clock
  // moved back before the verification verifies again (iat is then ahead of it).
  CreateUser("carol@example.com");
  std::string carol_token = LoginToken("carol@example.com");
  ASSERT_TRUE(auth_->AuthenticateBearer(carol_token).ok());
  std::string forged = carol_token;
  char& c = forged[forged.size() - 5];  // inside the signature
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(auth_->AuthenticateBearer(forged).ok());
  clock_.Advance(-absl::Minutes(2));
  ExpectUnauthenticated(auth_->AuthenticateBearer(carol_token).status(), "token not yet valid");
}

TEST_F(AuthenticatorTest, LogoutRevokesTheToken) {
  CreateUser("alice@example.com");
  std::string token = LoginToken();
  std::string other = LoginToken();
  ASSERT_TRUE(auth_->Logout(token).ok());
  ExpectUnauthenticated(auth_->AuthenticateBearer(token).status(), "token revoked");
  EXPECT_TRUE(auth_->AuthenticateBearer(other).ok());  // only that session ends
  EXPECT_TRUE(auth_->Logout(token).ok());              // idempotent
  ExpectUnauthenticated(auth_->Logout("garbage"), "malformed token");
}

TEST_F(AuthenticatorTest, RefreshIssuesANewTokenAndRevokesTheOldOne) {
  CreateUser("alice@example.com");
  std::string token = LoginToken();
  clock_.Advance(absl::Minutes(30));
  Result<LoginResult> refreshed = auth_->Refresh(token);
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  EXPECT_NE(refreshed->token, token);
  EXPECT_EQ(refreshed->expires_in, 3600);
  EXPECT_EQ(refreshed->expires_at, clock_.Now() + absl::Hours(1));
  EXPECT_TRUE(auth_->AuthenticateBearer(refreshed->token).ok());
  ExpectUnauthenticated(auth_->AuthenticateBearer(token).status(), "token revoked");
  ExpectUnauthenticated(auth_->Refresh(token).status(), "token revoked");
}

TEST_F(AuthenticatorTest, RefreshKeepsTheRememberMeLifetime) {
  CreateUser("alice@example.com");
  Result<LoginResult> r = auth_->Login("alice@example.com", kPassword, true, "");
  ASSERT_TRUE(r.ok());
  Result<LoginResult> refreshed = auth_->Refresh(r->token);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(refreshed->expires_in, 30 * 24 * 3600);
}

TEST_F(AuthenticatorTest, ConcurrentRefreshesOfOneTokenSucceedOnce) {
  CreateUser("alice@example.com");
  std::string token = LoginToken();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (auth_->Refresh(token).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
}

TEST_F(AuthenticatorTest, ExpiredTokensAreRejected) {
  CreateUser("alice@example.com");
  std::string token = LoginToken();
  clock_.Advance(absl::Hours(1));
  ExpectUnauthenticated(auth_->AuthenticateBearer(token).status(), "token expired");
  ExpectUnauthenticated(auth_->Refresh(token).status(), "token expired");
}

TEST_F(AuthenticatorTest, DisablingOrChangingThePasswordEndsSessions) {
  User u = CreateUser("alice@example.com");
  std::string token = LoginToken();
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(auth_->users().SetPassword(u.id, "a brand new password").ok());
  ExpectUnauthenticated(auth_->AuthenticateBearer(token).status(), "token revoked");
  Result<LoginResult> again = auth_->Login("alice@example.com", "a brand new password", false, "");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(auth_->AuthenticateBearer(again->token).ok());

  ASSERT_TRUE(auth_->users().Disable(u.id).ok());
  ExpectUnauthenticated(auth_->AuthenticateBearer(again->token).status(), "account disabled");
}

TEST_F(AuthenticatorTest, TokensOfAnotherSecretAreRejected) {
  CreateUser("alice@example.com");
  AuthOptions o = TestOptions();
  o.jwt_secret = "another-jwt-secret-of-at-least-32-bytes";
  auto other = Make(*store_, o);
  Result<LoginResult> r = other->Login("alice@example.com", kPassword, false, "");
  ASSERT_TRUE(r.ok());
  ExpectUnauthenticated(auth_->AuthenticateBearer(r->token).status(), "bad signature");
}

TEST_F(AuthenticatorTest, ValidateAnswersTheSeedShape) {
  User u = CreateUser("alice@example.com");
  std::string token = LoginToken();
  std::vector<std::string> wanted = {"events:read", "tickets:create"};
  ValidateResult v = auth_->Validate(token, wanted);
  ASSERT_TRUE(v.valid) << v.error;
  json::object body = ValidateResponseJson(v);
  EXPECT_EQ(body.at("valid"), json::value(true));
  EXPECT_EQ(body.at("userId").as_string(), u.id);
  EXPECT_EQ(body.at("expiresAt").as_string(), "2026-01-01T01:00:00Z");
  EXPECT_TRUE(body.at("permissions").is_array());

  std::vector<std::string> too_much = {"events:read", "users:delete"};
  ValidateResult denied = auth_->Validate(token, too_much);
  EXPECT_FALSE(denied.valid);
  EXPECT_EQ(denied.error.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.missing_permissions, std::vector<std::string>{"users:delete"});
  json::object denied_body = ValidateResponseJson(denied);
  EXPECT_EQ(denied_body.at("valid"), json::value(false));
  EXPECT_EQ(denied_body.at("missingPermissions").as_array().size(), 1u);

  ValidateResult bad = auth_->Validate("nonsense", {});
  EXPECT_FALSE(bad.valid);
  EXPECT_EQ(bad.error.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ValidateResponseJson(bad).at("error").as_string(), "malformed token");
}

TEST_F(AuthenticatorTest, ServicesAuthenticateWithApiKeys) {
  Result<CreatedApiKey> key = auth_->users().CreateApiKey("payment-service", {});
  ASSERT_TRUE(key.ok());
  Result<PrincipalRef> found = auth_->AuthenticateService("payment-service", key->plaintext);
  ASSERT_TRUE(found.ok()) << found.status();
  const PrincipalRef& p = *found;
  EXPECT_EQ(p->kind, Principal::Kind::kService);
  EXPECT_EQ(p->name, "payment-service");
  EXPECT_EQ(p->role, Role::kService);
  EXPECT_TRUE(p->Can("payments:update"));
  EXPECT_FALSE(p->Can("users:read"));
  ExpectUnauthenticated(auth_->AuthenticateService("payment-service", "hk_wrong").status(),
                        "invalid api key");
  ExpectUnauthenticated(auth_->AuthenticateService("other-service", key->plaintext).status(),
                        "invalid api key");
  ASSERT_TRUE(auth_->users().RevokeApiKey(key->key.id).ok());
  ExpectUnauthenticated(auth_->AuthenticateService("payment-service", key->plaintext).status(),
                        "invalid api key");
}

TEST_F(AuthenticatorTest, VerifiesSignedServiceRequests) {
  const std::string ts = "2026-01-01T00:00:00Z";
  const std::string body = R"({"status":"succeeded"})";
  const std::string sig = SignatureHeaderValue(SignServiceRequest(
      kServiceSecret, "POST", "/api/internal/payment-webhook", ts, "req_1", body));
  ServiceRequest r{
      "payment-service", "POST", "/api/internal/payment-webhook", ts, "req_1", body, sig};
  EXPECT_TRUE(auth_->VerifyServiceRequest(r).ok());
  ExpectUnauthenticated(auth_->VerifyServiceRequest(r), "replayed request");
}

TEST_F(AuthenticatorTest, EnsureAdminCreatesOneAdminWithARandomPassword) {
  Result<std::string> password = auth_->EnsureAdmin("root@example.com");
  ASSERT_TRUE(password.ok()) << password.status();
  EXPECT_GE(password->size(), 20u);
  EXPECT_TRUE(CheckPasswordPolicy(*password).ok());
  Result<LoginResult> login = auth_->Login("root@example.com", *password, false, "");
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->user.role, "admin");
  EXPECT_TRUE(login->user.must_change_password);
  EXPECT_EQ(login->user.permissions.front(), "*");
  EXPECT_TRUE((*auth_->AuthenticateBearer(login->token))->must_change_password);

  Result<std::string> again = auth_->EnsureAdmin("root@example.com");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "");
  EXPECT_EQ(auth_->EnsureAdmin("other@example.com").value(), "");
  EXPECT_EQ(auth_->users().List()->size(), 1u);
  EXPECT_TRUE(auth_->Login("root@example.com", *password, false, "").ok());  // unchanged

  // Another installation gets another password.
  auto other_store = Open(dir_.File("other.db"));
  auto other = Make(*other_store, TestOptions());
  Result<std::string> other_password = other->EnsureAdmin("root@example.com");
  ASSERT_TRUE(other_password.ok());
  EXPECT_NE(*other_password, *password);
  EXPECT_EQ(auth_->EnsureAdmin("not an email").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthenticatorTest, LoginUpgradesHashesMadeWithAnOlderCost) {
  User u = CreateUser("alice@example.com");
  AuthOptions o = TestOptions();
  o.password.time_cost = 2;
  auto upgraded = Make(*store_, o);
  ASSERT_TRUE(upgraded->Login("alice@example.com", kPassword, false, "").ok());
  auto creds = auth_->users().FindCredentials("alice@example.com");
  EXPECT_TRUE((*creds)->password_hash.starts_with("$argon2id$v=19$m=64,t=2,p=1$"));
  EXPECT_TRUE(auth_->Login("alice@example.com", kPassword, false, "").ok());
}

TEST_F(AuthenticatorTest, CreateRejectsBadOptions) {
  AuthOptions o = TestOptions();
  o.jwt_secret = "short";
  EXPECT_EQ(Authenticator::Create(*store_, clock_, o).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = TestOptions();
  o.token_ttl = absl::ZeroDuration();
  EXPECT_FALSE(Authenticator::Create(*store_, clock_, o).ok());
  o = TestOptions();
  o.service_secrets["weak"] = "short";
  EXPECT_FALSE(Authenticator::Create(*store_, clock_, o).ok());
}

TEST(ParseBearerHeader, ExtractsTheToken) {
  EXPECT_EQ(*ParseBearerHeader("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(*ParseBearerHeader("bearer   abc "), "abc");
  for (std::string_view bad :
       {"", "Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b", "Token abc"}) {
    EXPECT_EQ(ParseBearerHeader(bad).status().code(), absl::StatusCode::kUnauthenticated) << bad;
  }
}

TEST(ParseLoginRequest, ReadsTheSeedFields) {
  Result<LoginRequest> r = ParseLoginRequest(
      json::parse(R"({"email":"user@example.com","password":"pw","rememberMe":true})"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->email, "user@example.com");
  EXPECT_EQ(r->password, "pw");
  EXPECT_TRUE(r->remember_me);
  EXPECT_FALSE(ParseLoginRequest(json::parse(R"({"email":"a@b.c","password":"pw"})"))->remember_me);
  EXPECT_TRUE(
      ParseLoginRequest(json::parse(R"({"email":"a@b.c","password":"p","remember_me":true})"))
          ->remember_me);
  for (std::string_view bad :
       {R"([])", R"({"password":"pw"})", R"({"email":"a@b.c"})", R"({"email":1,"password":"pw"})",
        R"({"email":"a@b.c","password":"pw","rememberMe":"yes"})"}) {
    EXPECT_EQ(ParseLoginRequest(json::parse(bad)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ParseValidateRequest, ReadsTheSeedFields) {
  Result<ValidateRequest> r = ParseValidateRequest(
      json::parse(R"({"token":"jwt_token","permissions":["events:read","tickets:create"]})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->token, "jwt_token");
  EXPECT_EQ(r->permissions, (std::vector<std::string>{"events:read", "tickets:create"}));
  EXPECT_TRUE(ParseValidateRequest(json::parse(R"({"token":"t"})"))->permissions.empty());
  EXPECT_FALSE(ParseValidateRequest(json::parse(R"({"permissions":[]})")).ok());
  EXPECT_FALSE(ParseValidateRequest(json::parse(R"({"token":"t","permissions":[1]})")).ok());
}

}  // namespace
}  // namespace herald::auth
