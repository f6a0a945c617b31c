#pragma once
// UserStore: the auth module's tables and every read and write of them: users, revoked
// tokens and service API keys. Other modules never touch these tables; they call this
// header (or Authenticator, which is built on it).
//
// Emails are stored normalized (trimmed, ASCII-lowercased), so uniqueness is
// case-insensitive. Passwords are stored only as Argon2id PHC strings; API keys only as the
// SHA-256 of the key. Times are integer microseconds since the Unix epoch.
//
// Errors: InvalidArgument for bad input (message says which field), NotFound for an unknown
// id or email, AlreadyExists for a duplicate email, and the store's errors as they come.

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "auth/password.h"
#include "auth/permissions.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/status.h"
#include "store/store.h"

namespace herald::auth {

inline constexpr size_t kMaxEmailBytes = 254;
inline constexpr size_t kMaxUserNameBytes = 200;

// Trims ASCII whitespace and lowercases ASCII letters. InvalidArgument unless the result
// looks like an address: one '@' with a non-empty local part (<= 64 bytes) and a domain
// without empty labels, no spaces or control characters, at most kMaxEmailBytes bytes.
Result<std::string> NormalizeEmail(std::string_view email);

struct User {
  std::string id;     // UUIDv7, text form
  std::string email;  // normalized
  std::string name;
  Role role = Role::kOperator;
  std::vector<std::string> permissions_granted;  // extra grants on top of the role's
  std::vector<std::string> permissions_revoked;  // always win over grants
  bool disabled = false;
  bool must_change_password = false;  // set for generated passwords (EnsureAdmin)
  // Tokens issued (iat) before this second are no longer accepted: moved by SetPassword
  // and Disable.
  absl::Time sessions_valid_after = absl::UnixEpoch();
  absl::Time created_at;
  absl::Time updated_at;
  std::optional<absl::Time> last_login_at;

  PermissionSet Permissions() const {
    return PermissionSet::ForRole(role, permissions_granted, permissions_revoked);
  }
};

struct NewUser {
  std::string email;
  std::string name;
  std::string role;      // a RoleName
  std::string password;  // plaintext; must pass CheckPasswordPolicy
  bool must_change_password = false;
};

// A user with their password hash, for login only.
struct Credentials {
  User user;
  std::string password_hash;
};

struct UserListOptions {
  std::string after_id;  // cursor: ids greater than this one
  int limit = 100;       // clamped to [1, 1000]
};

struct ApiKey {
  std::string id;  // UUIDv7
  std::string service_name;
  std::string prefix;  // the key's first characters, for display ("hk_AbCdEfGh")
  // Granted patterns; empty means the service role's defaults (so they follow the table).
  std::vector<std::string> permissions;
  absl::Time created_at;
  std::optional<absl::Time> last_used_at;  // updated at most once a minute
  bool revoked = false;

  PermissionSet Permissions() const;
};

struct CreatedApiKey {
  ApiKey key;
  std::string plaintext;  // "hk_" + base64url(32 random bytes); shown once, never stored
};

// What a bearer token check needs, read in one transaction.
struct TokenState {
  bool revoked = false;
  std::optional<User> user;
};

// Thread-safe.
class UserStore {
 public:
  // All three must outlive the UserStore.
  UserStore(store::Store& store, const core::Clock& clock, const PasswordHasher& hasher);
  ~UserStore();
  UserStore(const UserStore&) = delete;
  UserStore& operator=(const UserStore&) = delete;

  // Moves after every write through this UserStore that can change who a principal is or what
  // it may do (users, roles, permissions, sessions, revocations, API keys), and after every
  // commit by another process; not for the record of a login or a password hash's upgrade.
  // Anything derived from reads made after observing generation g is current as long as
  // generation() is still g: read it before reading the tables, compare it before reuse.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // The module's migrations (SQLite dialect), applied under the module name "auth".
  static std::span<const store::Migration> Migrations();
  static Status Migrate(store::Store& store);

  // Users.

  // Validates (email, role, name length, password policy), hashes the password and inserts.
  Result<User> CreateUser(const NewUser& user);
  // Like CreateUser, but only if no user has the admin role; nullopt (nothing created) if
  // one does. The check and the insert are one transaction.
  Result<std::optional<User>> CreateFirstAdmin(const NewUser& user);
  Result<bool> AnyAdmin();
  Result<User> Get(std::string_view id);
  Result<User> FindByEmail(std::string_view email);  // any case; NotFound if none
  // nullopt if there is no such user (or the email is not valid).
  Result<std::optional<Credentials>> FindCredentials(std::string_view email);
  // Users in id (= creation) order.
  Result<std::vector<User>> List(const UserListOptions& options = {});

  // Checks the policy, stores a new hash, clears must_change_password and ends the user's
  // existing sessions.
  Status SetPassword(std::string_view id, std::string_view password);
  // Replaces the hash only if it is still `old_hash` (an upgrade of the cost parameters
  // after a successful login; sessions are kept). Ok if it changed meanwhile.
  Status UpgradePasswordHash(std::string_view id, std::string_view old_hash,
                             std::string_view new_hash);
  Status SetRole(std::string_view id, std::string_view role);
  // Validates both lists (ValidatePermissions) and replaces the overrides.
  Status SetPermissionOverrides(std::string_view id, std::span<const std::string> granted,
                                std::span<const std::string> revoked);
  // Disabling also ends the user's existing sessions.
  Status Disable(std::string_view id);
  Status Enable(std::string_view id);
  Status RecordLogin(std::string_view id);

  // Revoked tokens.

  // Remembers `jti` as revoked until `expires_at` (the token's exp; after that it is
  // rejected as expired anyway, so the row is pruned). Returns true if it was not already
  // revoked, which makes "revoke, then issue a successor" safe against a concurrent twin.
  Result<bool> RevokeToken(std::string_view jti, absl::Time expires_at);
  Result<bool> IsRevoked(std::string_view jti);
  // Whether `jti` is revoked, and the user `user_id` if they exist.
  Result<TokenState> CheckToken(std::string_view user_id, std::string_view jti);

  // API keys.

  // A new key for `service_name` (a core IsValidName name). `permissions`: validated
  // patterns; empty for the service role's defaults.
  Result<CreatedApiKey> CreateApiKey(std::string_view service_name,
                                     std::span<const std::string> permissions);
  // The key if `key` is a live key of `service_name`; Unauthenticated("invalid api key")
  // otherwise, whatever the reason. Hashes are compared in constant time.
  Result<ApiKey> VerifyApiKey(std::string_view service_name, std::string_view key);
  Status RevokeApiKey(std::string_view id);
  // Keys of `service_name` (all services if empty), revoked ones included, in id order.
  Result<std::vector<ApiKey>> ListApiKeys(std::string_view service_name = "");

 private:
  Status Write(store::TxnFn fn);  // store_.Write, then moves the generation
  Status UpdateUser(std::string_view id, std::string_view sql,
                    std::span<const store::Value> params);
  Result<std::optional<User>> FindOne(std::string_view sql, std::string_view key,
                                      std::string* password_hash);

  store::Store& store_;
  const core::Clock& clock_;
  const PasswordHasher& hasher_;
  core::IdGenerator ids_;
  std::atomic<uint64_t> generation_{0};
  int listener_ = 0;
};

}  // namespace herald::auth
