#pragma once
// Password hashing with Argon2id (RFC 9106) in the PHC string format
// ("$argon2id$v=19$m=32768,t=3,p=1$<salt>$<hash>"), and the password policy.
//
// Default cost: t=3 passes over m=32 MiB with p=1 lane, which takes about 70-100 ms on the
// 2-core reference machine (docs/AUTH.md has the measurements). That is above OWASP's
// Argon2id minimum (19 MiB, t=2) by a factor of about 2.5 in work, and keeps a login
// interactive. p=1 because on two cores a second lane only takes the core from another
// request. At most `max_concurrent` hashes run at once (further callers wait), so a burst of
// logins costs at most max_concurrent * m of memory and cannot starve the server's cores.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"

namespace herald::auth {

inline constexpr size_t kMinPasswordChars = 10;    // Unicode code points
inline constexpr size_t kMaxPasswordBytes = 1024;  // bounds the work an attacker can ask for

// Ok, or InvalidArgument saying which rule failed: not valid UTF-8 or contains NUL, fewer
// than kMinPasswordChars characters, or more than kMaxPasswordBytes bytes.
Status CheckPasswordPolicy(std::string_view password);

struct PasswordOptions {
  uint32_t time_cost = 3;           // passes
  uint32_t memory_kib = 32 * 1024;  // KiB
  uint32_t parallelism = 1;         // lanes (and threads)
  int max_concurrent = 2;           // hashes computed at once

  // A cheap cost for tests (well under a millisecond). Never for real passwords.
  static PasswordOptions ForTesting() { return {1, 64, 1, 4}; }
};

// Thread-safe.
class PasswordHasher {
 public:
  // InvalidArgument if the cost is outside what Argon2 accepts or above this module's caps
  // (memory <= 1 GiB, time_cost <= 64, parallelism <= 16).
  static Result<std::unique_ptr<PasswordHasher>> Create(PasswordOptions options = {});

  // A PHC string with a fresh random 16-byte salt and a 32-byte hash. Does not check the
  // policy (callers do, so that existing hashes can be verified regardless). InvalidArgument
  // if the password is longer than kMaxPasswordBytes.
  Result<std::string> Hash(std::string_view password) const;

  // Whether `password` matches `phc`, compared in constant time (by libargon2). False for a
  // password longer than kMaxPasswordBytes. DataLoss if `phc` is not an Argon2id PHC string
  // with parameters within the caps above.
  Result<bool> Verify(std::string_view password, std::string_view phc) const;

  // Whether `phc` was made with parameters other than this hasher's (so it should be replaced
  // after the next successful Verify). True for strings Verify would reject.
  bool NeedsRehash(std::string_view phc) const;

  const PasswordOptions& options() const { return options_; }

 private:
  explicit PasswordHasher(PasswordOptions options) : options_(options) {}
  void Acquire() const;
  void Release() const;

  const PasswordOptions options_;
  mutable absl::Mutex mu_;
  mutable absl::CondVar cv_;
  mutable int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace herald::auth
