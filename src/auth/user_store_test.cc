#include "auth/user_store.h"

#include <string>
#include <vector>

#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::auth {
namespace {

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions o;
    o.path = dir_.File("auth.db");
    auto s = store::SqliteStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    ASSERT_TRUE(UserStore::Migrate(*store_).ok());
    auto h = PasswordHasher::Create(PasswordOptions::ForTesting());
    ASSERT_TRUE(h.ok());
    hasher_ = std::move(h).value();
    users_ = std::make_unique<UserStore>(*store_, clock_, *hasher_);
  }

  User Create(std::string email, std::string role = "organizer") {
    Result<User> u = users_->CreateUser({email, "Test User", role, "a long enough password"});
    EXPECT_TRUE(u.ok()) << u.status();
    return u.ok() ? *u : User{};
  }

  testing::TempDir dir_;
  core::ManualClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<UserStore> users_;
};

TEST(NormalizeEmail, TrimsLowercasesAndRejectsNonAddresses) {
  EXPECT_EQ(*NormalizeEmail("  Alice@Example.COM\t"), "alice@example.com");
  EXPECT_EQ(*NormalizeEmail("admin@localhost"), "admin@localhost");
  EXPECT_EQ(*NormalizeEmail("first.last+tag@sub.example.org"), "first.last+tag@sub.example.org");
  for (std::string_view bad : {"", "   ", "alice", "@example.com", "alice@", "a@b@c",
                               "al ice@example.com", "alice@.example.com", "alice@example.com.",
                               "alice@exa..mple.com", "<a@b.c>", "a\x01@b.c"}) {
    EXPECT_EQ(NormalizeEmail(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(NormalizeEmail(std::string(65, 'a') + "@b.c").ok());
  EXPECT_FALSE(NormalizeEmail("a@" + std::string(260, 'b')).ok());
}

TEST_F(UserStoreTest, CreatesAndFindsUsersByIdAndEmailInAnyCase) {
  User u = Create("Alice@Example.COM");
  EXPECT_EQ(u.email, "alice@example.com");
  EXPECT_EQ(u.role, Role::kOrganizer);
  EXPECT_EQ(u.id.size(), 36u);
  EXPECT_EQ(u.created_at, clock_.Now());

  Result<User> by_id = users_->Get(u.id);
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->email, "alice@example.com");
  EXPECT_EQ(by_id->name, "Test User");
  EXPECT_FALSE(by_id->last_login_at.has_value());
  Result<User> by_email = users_->FindByEmail("  ALICE@example.com ");
  ASSERT_TRUE(by_email.ok());
  EXPECT_EQ(by_email->id, u.id);

  EXPECT_EQ(users_->Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(users_->FindByEmail("bob@example.com").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(UserStoreTest, EmailsAreUniqueCaseInsensitively) {
  Create("alice@example.com");
  Result<User> dup = users_->CreateUser({"ALICE@EXAMPLE.COM", "", "admin", "another password"});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(UserStoreTest, CreateValidatesEmailRolePasswordAndName) {
  EXPECT_EQ(users_->CreateUser({"not-an-email", "", "organizer", "a long enough password"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      users_->CreateUser({"a@b.io", "", "superuser", "a long enough password"}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->CreateUser({"a@b.io", "", "organizer", "short"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      users_->CreateUser({"a@b.io", std::string(201, 'n'), "organizer", "a long enough password"})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(users_->List()->empty());
}

TEST_F(UserStoreTest, StoresOnlyAnArgon2idHash) {
  User u = Create("alice@example.com");
  Result<std::optional<Credentials>> c = users_->FindCredentials("alice@example.com");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->user.id, u.id);
  EXPECT_TRUE((*c)->password_hash.starts_with("$argon2id$")) << (*c)->password_hash;
  EXPECT_TRUE(*hasher_->Verify("a long enough password", (*c)->password_hash));
  EXPECT_FALSE(users_->FindCredentials("bob@example.com")->has_value());
  EXPECT_FALSE(users_->FindCredentials("not an email")->has_value());
}

TEST_F(UserStoreTest, ListsInCreationOrderWithACursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Create("user" + std::to_string(i) + "@x.io").id);
  Result<std::vector<User>> first = users_->List({"", 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, ids[0]);
  Result<std::vector<User>> rest = users_->List({(*first)[1].id, 100});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ((*rest)[2].id, ids[4]);
}

TEST_F(UserStoreTest, SetPasswordReplacesTheHashAndEndsSessions) {
  User u = Create("alice@example.com");
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(users_->SetPassword(u.id, "short").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(users_->SetPassword(u.id, "a brand new password").ok());
  auto c = users_->FindCredentials("alice@example.com");
  EXPECT_TRUE(*hasher_->Verify("a brand new password", (*c)->password_hash));
  EXPECT_FALSE(*hasher_->Verify("a long enough password", (*c)->password_hash));
  EXPECT_EQ((*c)->user.sessions_valid_after, clock_.Now());
  EXPECT_EQ(users_->SetPassword("nope", "a brand new password").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(UserStoreTest, ChangesRoleOverridesAndDisabledFlag) {
  User u = Create("alice@example.com");
  ASSERT_TRUE(users_->SetRole(u.id, "accounting").ok());
  EXPECT_EQ(users_->SetRole(u.id, "king").code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> granted = {"events:read"}, revoked = {"payments:read"};
  ASSERT_TRUE(users_->SetPermissionOverrides(u.id, granted, revoked).ok());
  std::vector<std::string> bad = {"events"};
  EXPECT_EQ(users_->SetPermissionOverrides(u.id, bad, {}).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(users_->Disable(u.id).ok());

  User got = *users_->Get(u.id);
  EXPECT_EQ(got.role, Role::kAccounting);
  EXPECT_EQ(got.permissions_granted, granted);
  EXPECT_EQ(got.permissions_revoked, revoked);
  EXPECT_TRUE(got.disabled);
  EXPECT_TRUE(got.Permissions().Can("events:read"));
  EXPECT_FALSE(got.Permissions().Can("payments:read"));
  EXPECT_TRUE(got.Permissions().Can("invoices:read"));

  ASSERT_TRUE(users_->Enable(u.id).ok());
  EXPECT_FALSE(users_->Get(u.id)->disabled);
  EXPECT_EQ(users_->Disable("nope").code(), absl::StatusCode::kNotFound);
}

TEST_F(UserStoreTest, RevokedTokensAreRememberedUntilTheyExpire) {
  Result<bool> first = users_->RevokeToken("jti-1", clock_.Now() + absl::Minutes(1));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*users_->RevokeToken("jti-1", clock_.Now() + absl::Minutes(1)));
  EXPECT_TRUE(*users_->IsRevoked("jti-1"));
  EXPECT_FALSE(*users_->IsRevoked("jti-2"));
  clock_.Advance(absl::Minutes(2));
  ASSERT_TRUE(users_->RevokeToken("jti-2", clock_.Now() + absl::Hours(1)).ok());
  EXPECT_FALSE(*users_->IsRevoked("jti-1"));  // pruned: expired tokens fail anyway
  EXPECT_TRUE(*users_->IsRevoked("jti-2"));
}

TEST_F(UserStoreTest, CheckTokenReadsRevocationAndUserTogether) {
  User u = Create("alice@example.com");
  TokenState s = *users_->CheckToken(u.id, "jti-1");
  EXPECT_FALSE(s.revoked);
  ASSERT_TRUE(s.user.has_value());
  EXPECT_EQ(s.user->id, u.id);
  ASSERT_TRUE(users_->RevokeToken("jti-1", clock_.Now() + absl::Hours(1)).ok());
  EXPECT_TRUE(users_->CheckToken(u.id, "jti-1")->revoked);
  EXPECT_FALSE(users_->CheckToken("nobody", "jti-2")->user.has_value());
}

TEST_F(UserStoreTest, ApiKeysVerifyOnlyForTheirServiceUntilRevoked) {
  Result<CreatedApiKey> created = users_->CreateApiKey("payment-service", {});
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string& key = created->plaintext;
  EXPECT_TRUE(key.starts_with("hk_"));
  EXPECT_EQ(key.size(), 46u);
  EXPECT_EQ(created->key.prefix, key.substr(0, 11));

  Result<ApiKey> ok = users_->VerifyApiKey("payment-service", key);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->id, created->key.id);
  EXPECT_TRUE(ok->Permissions().Can("payments:update"));  // service defaults
  EXPECT_FALSE(ok->Permissions().Can("users:read"));

  std::string wrong = key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  for (auto [service, k] : std::vector<std::pair<std::string, std::string>>{
           {"payment-service", wrong},
           {"other-service", key},
           {"payment-service", "hk_short"},
           {"payment-service", ""},
           {"payment-service", "xx" + key.substr(2)}}) {
    Result<ApiKey> r = users_->VerifyApiKey(service, k);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << service << " " << k;
    EXPECT_EQ(ToStd(r.status().message()), "invalid api key");
  }

  ASSERT_TRUE(users_->RevokeApiKey(created->key.id).ok());
  EXPECT_EQ(users_->VerifyApiKey("payment-service", key).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(users_->RevokeApiKey("nope").code(), absl::StatusCode::kNotFound);
  Result<std::vector<ApiKey>> listed = users_->ListApiKeys("payment-service");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(listed->front().revoked);
}

TEST_F(UserStoreTest, ApiKeysAreStoredOnlyAsHashes) {
  Result<CreatedApiKey> created = users_->CreateApiKey("payment-service", {});
  ASSERT_TRUE(created.ok());
  bool seen_plaintext = false;
  int rows = 0;
  ASSERT_TRUE(store_
                  ->Read([&](store::Txn& txn) {
                    return txn.Query("SELECT * FROM api_keys", {}, [&](const store::Row& r) {
                      ++rows;
                      for (int i = 0; i < r.size(); ++i) {
                        if (!r.IsNull(i) && r.Text(i).find(created->plaintext.substr(11)) !=
                                                std::string_view::npos) {
                          seen_plaintext = true;
                        }
                      }
                      return true;
                    });
                  })
                  .ok());
  EXPECT_EQ(rows, 1);
  EXPECT_FALSE(seen_plaintext);
}

TEST_F(UserStoreTest, ApiKeysCanCarryTheirOwnPermissions) {
  std::vector<std::string> perms = {"scans:create"};
  Result<CreatedApiKey> created = users_->CreateApiKey("scan-validation-service", perms);
  ASSERT_TRUE(created.ok());
  Result<ApiKey> k = users_->VerifyApiKey("scan-validation-service", created->plaintext);
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(k->Permissions().Can("scans:create"));
  EXPECT_FALSE(k->Permissions().Can("payments:update"));
  std::vector<std::string> bad = {"scans"};
  EXPECT_FALSE(users_->CreateApiKey("svc", bad).ok());
  EXPECT_FALSE(users_->CreateApiKey("bad name", {}).ok());
}

TEST_F(UserStoreTest, MigrationIsIdempotent) {
  EXPECT_TRUE(UserStore::Migrate(*store_).ok());
  Create("alice@example.com");
  EXPECT_TRUE(UserStore::Migrate(*store_).ok());
  EXPECT_EQ(users_->List()->size(), 1u);
}

TEST_F(UserStoreTest, CreateFirstAdminOnlyWhenThereIsNone) {
  EXPECT_FALSE(*users_->AnyAdmin());
  Create("organizer@x.io");
  Result<std::optional<User>> first =
      users_->CreateFirstAdmin({"root@x.io", "Root", "admin", "a long enough password", true});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->role, Role::kAdmin);
  EXPECT_TRUE((*first)->must_change_password);
  EXPECT_TRUE(*users_->AnyAdmin());
  Result<std::optional<User>> second =
      users_->CreateFirstAdmin({"root2@x.io", "Root", "admin", "a long enough password", true});
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
}

}  // namespace
}  // namespace herald::auth
