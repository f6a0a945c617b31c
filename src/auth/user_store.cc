#include "auth/user_store.h"

#include <algorithm>

#include "auth/crypto.h"
#include "boost/json/array.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"

namespace herald::auth {
namespace {

namespace json = boost::json;
using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "users, revoked tokens, api keys", R"sql(
CREATE TABLE users (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL COLLATE NOCASE UNIQUE,
  name                 TEXT NOT NULL DEFAULT '',
  role                 TEXT NOT NULL,
  password_hash        TEXT NOT NULL,
  permissions_granted  TEXT NOT NULL DEFAULT '[]',
  permissions_revoked  TEXT NOT NULL DEFAULT '[]',
  disabled             INTEGER NOT NULL DEFAULT 0,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  sessions_valid_after INTEGER NOT NULL DEFAULT 0,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL,
  last_login_at        INTEGER
);
CREATE INDEX users_role ON users (role);
CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  service_name TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,
  permissions  TEXT NOT NULL DEFAULT '[]',
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_lookup ON api_keys (service_name, prefix);
)sql"},
};

constexpr std::string_view kUserColumns =
    "id, email, name, role, permissions_granted, permissions_revoked, disabled, "
    "must_change_password, sessions_valid_after, created_at, updated_at, last_login_at, "
    "password_hash";
constexpr std::string_view kKeyColumns =
    "id, service_name, prefix, permissions, created_at, last_used_at, revoked, key_hash";

constexpr std::string_view kApiKeyTag = "hk_";
constexpr size_t kApiKeyRandomBytes = 32;
constexpr size_t kApiKeyLength = 3 + 43;    // "hk_" + base64url of 32 bytes
constexpr size_t kApiKeyPrefixLength = 11;  // "hk_" + 8 characters
constexpr absl::Duration kLastUsedGranularity = absl::Minutes(1);

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string EncodeList(std::span<const std::string> list) {
  json::array a;
  for (const std::string& s : list) a.emplace_back(s);
  return json::serialize(a);
}

Result<std::vector<std::string>> DecodeList(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_array()) return absl::DataLossError("stored permission list is not an array");
  std::vector<std::string> out;
  for (const json::value& e : v.get_array()) {
    if (!e.is_string()) return absl::DataLossError("stored permission is not a string");
    out.emplace_back(e.get_string().data(), e.get_string().size());
  }
  return out;
}

Result<User> UserFromRow(const Row& r) {
  User u;
  u.id = r.Text(0);
  u.email = r.Text(1);
  u.name = r.Text(2);
  Result<Role> role = ParseRole(r.Text(3));
  if (!role.ok())
    return absl::DataLossError(StrCat("user ", u.id, " has ", role.status().message()));
  u.role = *role;
  HERALD_ASSIGN_OR_RETURN(u.permissions_granted, DecodeList(r.Text(4)));
  HERALD_ASSIGN_OR_RETURN(u.permissions_revoked, DecodeList(r.Text(5)));
  u.disabled = r.Int(6) != 0;
  u.must_change_password = r.Int(7) != 0;
  u.sessions_valid_after = FromMicros(r.Int(8));
  u.created_at = FromMicros(r.Int(9));
  u.updated_at = FromMicros(r.Int(10));
  if (!r.IsNull(11)) u.last_login_at = FromMicros(r.Int(11));
  return u;
}

Result<ApiKey> KeyFromRow(const Row& r) {
  ApiKey k;
  k.id = r.Text(0);
  k.service_name = r.Text(1);
  k.prefix = r.Text(2);
  HERALD_ASSIGN_OR_RETURN(k.permissions, DecodeList(r.Text(3)));
  k.created_at = FromMicros(r.Int(4));
  if (!r.IsNull(5)) k.last_used_at = FromMicros(r.Int(5));
  k.revoked = r.Int(6) != 0;
  return k;
}

bool IsEmailByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != '<' && c != '>' && c != '(' && c != ')' && c != ',' &&
         c != ';' && c != ':' && c != '\\' && c != '"' && c != '[' && c != ']';
}

// Floors to the second, the resolution of a token's iat.
absl::Time FloorSecond(absl::Time t) { return absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

Status CheckName(std::string_view name) {
  if (name.size() > kMaxUserNameBytes) {
    return absl::InvalidArgumentError(StrCat("name is longer than ", kMaxUserNameBytes, " bytes"));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("name contains control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

Result<std::string> NormalizeEmail(std::string_view email) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!email.empty() && space(email.front())) email.remove_prefix(1);
  while (!email.empty() && space(email.back())) email.remove_suffix(1);
  const auto invalid = [] { return absl::InvalidArgumentError("invalid email address"); };
  if (email.empty() || email.size() > kMaxEmailBytes) return invalid();
  if (!std::all_of(email.begin(), email.end(), IsEmailByte)) return invalid();
  const size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at > 64 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return invalid();
  }
  const std::string_view domain = email.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return invalid();
  }
  std::string out(email);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

PermissionSet ApiKey::Permissions() const {
  if (permissions.empty()) return PermissionSet::ForRole(Role::kService);
  return PermissionSet(permissions, {});
}

UserStore::UserStore(store::Store& store, const core::Clock& clock, const PasswordHasher& hasher)
    : store_(store), clock_(clock), hasher_(hasher), ids_(clock) {
  listener_ = store_.AddExternalChangeListener(
      [this] { generation_.fetch_add(1, std::memory_order_acq_rel); });
}

UserStore::~UserStore() { store_.RemoveExternalChangeListener(listener_); }

Status UserStore::Write(store::TxnFn fn) {
  Status st = store_.Write(std::move(fn));
  // After the commit, so that a reader who saw the old generation cannot have read the new
  // rows and cache them as old (see generation()).
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return st;
}

std::span<const store::Migration> UserStore::Migrations() { return kMigrations; }

Status UserStore::Migrate(store::Store& store) { return store.Migrate("auth", kMigrations); }

Result<User> UserStore::CreateUser(const NewUser& in) {
  HERALD_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(in.email));
  HERALD_ASSIGN_OR_RETURN(Role role, ParseRole(in.role));
  HERALD_RETURN_IF_ERROR(CheckName(in.name));
  HERALD_RETURN_IF_ERROR(CheckPasswordPolicy(in.password));
  HERALD_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(in.password));
  const absl::Time now = clock_.Now();
  User u;
  u.id = ids_.Next().ToString();
  u.email = std::move(email);
  u.name = in.name;
  u.role = role;
  u.must_change_password = in.must_change_password;
  u.created_at = now;
  u.updated_at = now;
  static const std::string kSql =
      StrCat("INSERT INTO users (", kUserColumns,
             ") VALUES (?, ?, ?, ?, '[]', '[]', 0, ?, 0, ?, ?, NULL, ?)");
  const Value params[] = {
      u.id,          u.email,       u.name, RoleName(role), int64_t{u.must_change_password},
      ToMicros(now), ToMicros(now), hash};
  Status st = Write([&](Txn& txn) { return txn.Exec(kSql, params).status(); });
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError("a user with this email already exists");
  }
  HERALD_RETURN_IF_ERROR(st);
  return u;
}

Result<std::optional<User>> UserStore::CreateFirstAdmin(const NewUser& in) {
  HERALD_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(in.email));
  HERALD_RETURN_IF_ERROR(CheckName(in.name));
  HERALD_RETURN_IF_ERROR(CheckPasswordPolicy(in.password));
  HERALD_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(in.password));
  const absl::Time now = clock_.Now();
  User u;
  u.id = ids_.Next().ToString();
  u.email = std::move(email);
  u.name = in.name;
  u.role = Role::kAdmin;
  u.must_change_password = in.must_change_password;
  u.created_at = now;
  u.updated_at = now;
  static const std::string kSql = StrCat("INSERT INTO users (", kUserColumns,
                                         ") VALUES (?, ?, ?, 'admin', '[]', '[]', 0, ?, 0, ?, ?, "
                                         "NULL, ?)");
  const Value params[] = {u.id,          u.email,       u.name, int64_t{u.must_change_password},
                          ToMicros(now), ToMicros(now), hash};
  bool created = false;
  HERALD_RETURN_IF_ERROR(Write([&](Txn& txn) -> Status {
    created = false;
    bool exists = false;
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1", {}, [&](const Row&) {
          exists = true;
          return false;
        }));
    if (exists) return absl::OkStatus();
    HERALD_RETURN_IF_ERROR(txn.Exec(kSql, params).status());
    created = true;
    return absl::OkStatus();
  }));
  if (!created) return std::nullopt;
  return u;
}

Result<bool> UserStore::AnyAdmin() {
  bool exists = false;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) {
    return txn.Query("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1", {}, [&](const Row&) {
      exists = true;
      return false;
    });
  }));
  return exists;
}

Result<std::optional<User>> UserStore::FindOne(std::string_view sql, std::string_view key,
                                               std::string* password_hash) {
  std::optional<User> out;
  Status inner;
  const Value params[] = {key};
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) {
    return txn.Query(sql, params, [&](const Row& r) {
      Result<User> u = UserFromRow(r);
      if (!u.ok()) {
        inner = u.status();
        return false;
      }
      out = std::move(*u);
      if (password_hash != nullptr) *password_hash = r.Text(12);
      return false;
    });
  }));
  HERALD_RETURN_IF_ERROR(inner);
  return out;
}

Result<User> UserStore::Get(std::string_view id) {
  static const std::string kSql = StrCat("SELECT ", kUserColumns, " FROM users WHERE id = ?");
  HERALD_ASSIGN_OR_RETURN(std::optional<User> u, FindOne(kSql, id, nullptr));
  if (!u) return absl::NotFoundError(StrCat("no user '", id.substr(0, 64), "'"));
  return std::move(*u);
}

Result<User> UserStore::FindByEmail(std::string_view email) {
  Result<std::optional<Credentials>> c = FindCredentials(email);
  if (!c.ok()) return c.status();
  if (!c->has_value()) return absl::NotFoundError("no user with this email");
  return std::move((*c)->user);
}

Result<std::optional<Credentials>> UserStore::FindCredentials(std::string_view email) {
  Result<std::string> normalized = NormalizeEmail(email);
  if (!normalized.ok()) return std::nullopt;
  static const std::string kSql = StrCat("SELECT ", kUserColumns, " FROM users WHERE email = ?");
  std::string hash;
  HERALD_ASSIGN_OR_RETURN(std::optional<User> u, FindOne(kSql, *normalized, &hash));
  if (!u) return std::nullopt;
  return Credentials{std::move(*u), std::move(hash)};
}

Result<std::vector<User>> UserStore::List(const UserListOptions& options) {
  static const std::string kSql =
      StrCat("SELECT ", kUserColumns, " FROM users WHERE id > ? ORDER BY id LIMIT ?");
  const Value params[] = {std::string_view(options.after_id),
                          int64_t{std::clamp(options.limit, 1, 1000)}};
  std::vector<User> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<User>(txn, kSql, params, UserFromRow));
    return absl::OkStatus();
  }));
  return out;
}

Status UserStore::UpdateUser(std::string_view id, std::string_view sql,
                             std::span<const Value> params) {
  int64_t changed = 0;
  HERALD_RETURN_IF_ERROR(Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(changed, txn.Exec(sql, params));
    return absl::OkStatus();
  }));
  if (changed == 0) return absl::NotFoundError(StrCat("no user '", id.substr(0, 64), "'"));
  return absl::OkStatus();
}

Status UserStore::SetPassword(std::string_view id, std::string_view password) {
  HERALD_RETURN_IF_ERROR(CheckPasswordPolicy(password));
  HERALD_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  const absl::Time now = clock_.Now();
  const Value params[] = {hash, ToMicros(FloorSecond(now)), ToMicros(now), id};
  return UpdateUser(id,
                    "UPDATE users SET password_hash = ?, must_change_password = 0,"
                    " sessions_valid_after = ?, updated_at = ? WHERE id = ?",
                    params);
}

Status UserStore::UpgradePasswordHash(std::string_view id, std::string_view old_hash,
                                      std::string_view new_hash) {
  const Value params[] = {new_hash, id, old_hash};
  return store_.Write([&](Txn& txn) {  // no principal holds the hash: the generation stays
    return txn.Exec("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", params)
        .status();
  });
}

Status UserStore::SetRole(std::string_view id, std::string_view role) {
  HERALD_ASSIGN_OR_RETURN(Role r, ParseRole(role));
  const Value params[] = {RoleName(r), ToMicros(clock_.Now()), id};
  return UpdateUser(id, "UPDATE users SET role = ?, updated_at = ? WHERE id = ?", params);
}

Status UserStore::SetPermissionOverrides(std::string_view id, std::span<const std::string> granted,
                                         std::span<const std::string> revoked) {
  HERALD_RETURN_IF_ERROR(ValidatePermissions(granted));
  HERALD_RETURN_IF_ERROR(ValidatePermissions(revoked));
  const std::string g = EncodeList(granted);
  const std::string r = EncodeList(revoked);
  const Value params[] = {g, r, ToMicros(clock_.Now()), id};
  return UpdateUser(id,
                    "UPDATE users SET permissions_granted = ?, permissions_revoked = ?,"
                    " updated_at = ? WHERE id = ?",
                    params);
}

Status UserStore::Disable(std::string_view id) {
  const absl::Time now = clock_.Now();
  const Value params[] = {ToMicros(FloorSecond(now)), ToMicros(now), id};
  return UpdateUser(id,
                    "UPDATE users SET disabled = 1, sessions_valid_after = ?, updated_at = ?"
                    " WHERE id = ?",
                    params);
}

Status UserStore::Enable(std::string_view id) {
  const Value params[] = {ToMicros(clock_.Now()), id};
  return UpdateUser(id, "UPDATE users SET disabled = 0, updated_at = ? WHERE id = ?", params);
}

Status UserStore::RecordLogin(std::string_view id) {
  // No principal holds last_login_at: the generation stays (a login must not empty the token
  // cache of every other session).
  const Value params[] = {ToMicros(clock_.Now()), id};
  return store_.Write([&](Txn& txn) {
    return txn.Exec("UPDATE users SET last_login_at = ? WHERE id = ?", params).status();
  });
}

Result<bool> UserStore::RevokeToken(std::string_view jti, absl::Time expires_at) {
  const int64_t now = ToMicros(clock_.Now());
  const Value prune[] = {now};
  const Value insert[] = {jti, ToMicros(expires_at)};
  int64_t inserted = 0;
  HERALD_RETURN_IF_ERROR(Write([&](Txn& txn) -> Status {
    // Expired rows are useless (the token is refused as expired); the index makes this cheap.
    HERALD_RETURN_IF_ERROR(
        txn.Exec("DELETE FROM revoked_tokens WHERE expires_at < ?", prune).status());
    HERALD_ASSIGN_OR_RETURN(inserted,
                            txn.Exec("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)"
                                     " ON CONFLICT (jti) DO NOTHING",
                                     insert));
    return absl::OkStatus();
  }));
  return inserted > 0;
}

Result<bool> UserStore::IsRevoked(std::string_view jti) {
  bool revoked = false;
  const Value params[] = {jti};
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) {
    return txn.Query("SELECT 1 FROM revoked_tokens WHERE jti = ?", params, [&](const Row&) {
      revoked = true;
      return false;
    });
  }));
  return revoked;
}

Result<TokenState> UserStore::CheckToken(std::string_view user_id, std::string_view jti) {
  static const std::string kUserSql = StrCat("SELECT ", kUserColumns, " FROM users WHERE id = ?");
  TokenState state;
  Status inner;
  const Value jti_param[] = {jti};
  const Value id_param[] = {user_id};
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(
        txn.Query("SELECT 1 FROM revoked_tokens WHERE jti = ?", jti_param, [&](const Row&) {
          state.revoked = true;
          return false;
        }));
    return txn.Query(kUserSql, id_param, [&](const Row& r) {
      Result<User> u = UserFromRow(r);
      if (u.ok()) {
        state.user = std::move(*u);
      } else {
        inner = u.status();
      }
      return false;
    });
  }));
  HERALD_RETURN_IF_ERROR(inner);
  return state;
}

Result<CreatedApiKey> UserStore::CreateApiKey(std::string_view service_name,
                                              std::span<const std::string> permissions) {
  if (!IsValidName(service_name)) {
    return absl::InvalidArgumentError(
        "invalid service name: 1 to 128 characters of [A-Za-z0-9_.:-]");
  }
  HERALD_RETURN_IF_ERROR(ValidatePermissions(permissions));
  HERALD_ASSIGN_OR_RETURN(std::string random, RandomBytes(kApiKeyRandomBytes));
  CreatedApiKey out;
  out.plaintext = StrCat(kApiKeyTag, Base64UrlEncode(random));
  ApiKey& k = out.key;
  k.id = ids_.Next().ToString();
  k.service_name = service_name;
  k.prefix = out.plaintext.substr(0, kApiKeyPrefixLength);
  k.permissions.assign(permissions.begin(), permissions.end());
  k.created_at = clock_.Now();
  const std::string hash = Sha256Hex(out.plaintext);
  const std::string perms = EncodeList(k.permissions);
  const Value params[] = {k.id, k.service_name, hash, k.prefix, perms, ToMicros(k.created_at)};
  HERALD_RETURN_IF_ERROR(Write([&](Txn& txn) {
    return txn
        .Exec(
            "INSERT INTO api_keys (id, service_name, key_hash, prefix, permissions, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            params)
        .status();
  }));
  return out;
}

Result<ApiKey> UserStore::VerifyApiKey(std::string_view service_name, std::string_view key) {
  const auto invalid = [] { return absl::UnauthenticatedError("invalid api key"); };
  if (key.size() != kApiKeyLength || !key.starts_with(kApiKeyTag)) return invalid();
  const std::string hash = Sha256Hex(key);
  static const std::string kSql = StrCat("SELECT ", kKeyColumns,
                                         " FROM api_keys WHERE service_name = ? AND prefix = ?"
                                         " AND revoked = 0");
  const Value params[] = {service_name, key.substr(0, kApiKeyPrefixLength)};
  std::optional<ApiKey> found;
  Status inner;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) {
    return txn.Query(kSql, params, [&](const Row& r) {
      if (!ConstantTimeEquals(r.Text(7), hash)) return true;
      Result<ApiKey> k = KeyFromRow(r);
      if (k.ok()) {
        found = std::move(*k);
      } else {
        inner = k.status();
      }
      return false;
    });
  }));
  HERALD_RETURN_IF_ERROR(inner);
  if (!found) return invalid();
  const absl::Time now = clock_.Now();
  if (!found->last_used_at || now - *found->last_used_at >= kLastUsedGranularity) {
    // Bookkeeping only: not worth making the request wait for a commit.
    std::string id = found->id;
    store_.WriteAsync(
        [id = std::move(id), us = ToMicros(now)](Txn& txn) {
          const Value p[] = {us, std::string_view(id)};
          return txn.Exec("UPDATE api_keys SET last_used_at = ? WHERE id = ?", p).status();
        },
        nullptr);
    found->last_used_at = now;
  }
  return std::move(*found);
}

Status UserStore::RevokeApiKey(std::string_view id) {
  int64_t changed = 0;
  const Value params[] = {id};
  HERALD_RETURN_IF_ERROR(Write([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(changed,
                            txn.Exec("UPDATE api_keys SET revoked = 1 WHERE id = ?", params));
    return absl::OkStatus();
  }));
  if (changed == 0) return absl::NotFoundError(StrCat("no api key '", id.substr(0, 64), "'"));
  return absl::OkStatus();
}

Result<std::vector<ApiKey>> UserStore::ListApiKeys(std::string_view service_name) {
  static const std::string kSql = StrCat("SELECT ", kKeyColumns,
                                         " FROM api_keys WHERE (?1 = '' OR service_name = ?1)"
                                         " ORDER BY id");
  const Value params[] = {service_name};
  std::vector<ApiKey> out;
  HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<ApiKey>(txn, kSql, params, KeyFromRow));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace herald::auth
