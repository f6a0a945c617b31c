#include "auth/password.h"

#include <argon2.h>

#include <charconv>
#include <optional>
#include <vector>

#include "auth/crypto.h"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::auth {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr uint32_t kMaxMemoryKib = 1024 * 1024;
constexpr uint32_t kMaxTimeCost = 64;
constexpr uint32_t kMaxParallelism = 16;

struct PhcParams {
  uint32_t m = 0;
  uint32_t t = 0;
  uint32_t p = 0;
};

// Reads "$argon2id$v=19$m=<m>,t=<t>,p=<p>$" at the start of `phc`; libargon2 checks the rest.
std::optional<PhcParams> ParsePhc(std::string_view phc) {
  constexpr std::string_view kPrefix = "$argon2id$v=19$";
  if (!phc.starts_with(kPrefix)) return std::nullopt;
  phc.remove_prefix(kPrefix.size());
  PhcParams out;
  auto field = [&](std::string_view name, uint32_t& value) {
    if (!phc.starts_with(name)) return false;
    phc.remove_prefix(name.size());
    auto [ptr, ec] = std::from_chars(phc.data(), phc.data() + phc.size(), value);
    if (ec != std::errc() || ptr == phc.data()) return false;
    phc.remove_prefix(static_cast<size_t>(ptr - phc.data()));
    return true;
  };
  if (!field("m=", out.m) || !phc.starts_with(',')) return std::nullopt;
  phc.remove_prefix(1);
  if (!field("t=", out.t) || !phc.starts_with(',')) return std::nullopt;
  phc.remove_prefix(1);
  if (!field("p=", out.p) || !phc.starts_with('$')) return std::nullopt;
  return out;
}

bool WithinCaps(uint32_t m, uint32_t t, uint32_t p) {
  return t >= ARGON2_MIN_TIME && t <= kMaxTimeCost && p >= 1 && p <= kMaxParallelism &&
         m >= 8 * p && m <= kMaxMemoryKib;
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password) {
  if (password.empty()) return absl::InvalidArgumentError("password is empty");
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        StrCat("password is longer than ", kMaxPasswordBytes, " bytes"));
  }
  size_t chars = 0;
  if (!core::CountUtf8(password, chars) || password.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("password is not valid UTF-8 text");
  }
  if (chars < kMinPasswordChars) {
    return absl::InvalidArgumentError(
        StrCat("password must have at least ", kMinPasswordChars, " characters"));
  }
  return absl::OkStatus();
}

Result<std::unique_ptr<PasswordHasher>> PasswordHasher::Create(PasswordOptions options) {
  if (!WithinCaps(options.memory_kib, options.time_cost, options.parallelism)) {
    return absl::InvalidArgumentError(
        StrCat("argon2id cost out of range: t=", options.time_cost, " m=", options.memory_kib,
               " KiB p=", options.parallelism, " (need 1<=t<=", kMaxTimeCost,
               ", 1<=p<=", kMaxParallelism, ", 8*p<=m<=", kMaxMemoryKib, ")"));
  }
  if (options.max_concurrent < 1) {
    return absl::InvalidArgumentError("max_concurrent must be at least 1");
  }
  return std::unique_ptr<PasswordHasher>(new PasswordHasher(options));
}

void PasswordHasher::Acquire() const {
  absl::MutexLock l(&mu_);
  while (running_ >= options_.max_concurrent) cv_.Wait(&mu_);
  ++running_;
}

void PasswordHasher::Release() const {
  absl::MutexLock l(&mu_);
  --running_;
  cv_.Signal();
}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        StrCat("password is longer than ", kMaxPasswordBytes, " bytes"));
  }
  HERALD_ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltBytes));
  std::vector<char> encoded(argon2_encodedlen(options_.time_cost, options_.memory_kib,
                                              options_.parallelism, kSaltBytes, kHashBytes,
                                              Argon2_id));
  Acquire();
  int rc = argon2id_hash_encoded(options_.time_cost, options_.memory_kib, options_.parallelism,
                                 password.data(), password.size(), salt.data(), salt.size(),
                                 kHashBytes, encoded.data(), encoded.size());
  Release();
  if (rc != ARGON2_OK) {
    return absl::InternalError(StrCat("argon2id hashing failed: ", argon2_error_message(rc)));
  }
  return std::string(encoded.data());
}

Result<bool> PasswordHasher::Verify(std::string_view password, std::string_view phc) const {
  std::optional<PhcParams> params = ParsePhc(phc);
  if (!params || !WithinCaps(params->m, params->t, params->p)) {
    return absl::DataLossError("stored password hash is not a supported argon2id string");
  }
  if (password.size() > kMaxPasswordBytes) return false;
  const std::string encoded(phc);  // libargon2 wants a NUL-terminated string
  Acquire();
  int rc = argon2id_verify(encoded.c_str(), password.data(), password.size());
  Release();
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  return absl::DataLossError(
      StrCat("stored password hash is unusable: ", argon2_error_message(rc)));
}

bool PasswordHasher::NeedsRehash(std::string_view phc) const {
  std::optional<PhcParams> params = ParsePhc(phc);
  return !params || params->m != options_.memory_kib || params->t != options_.time_cost ||
         params->p != options_.parallelism;
}

}  // namespace herald::auth
