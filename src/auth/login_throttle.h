#pragma once
// LoginThrottle: brute-force protection for password logins. Failed attempts are counted
// per account (the normalized email, whether or not such a user exists, so the throttle does
// not reveal which accounts exist) and per client IP, over a sliding window. Once a key has
// `max_failures` failures inside the window, attempts on it are refused until the oldest of
// those failures leaves the window. A successful login clears the account's failures (not
// the IP's). All times are passed in, from the caller's injected Clock.
//
// State is in memory, per process: in a multi-node deployment each node throttles on its own
// (an attacker gets at most nodes x max_failures tries per window). Memory is bounded by
// `max_keys`: when full, keys whose failures all left the window are dropped, then the
// least recently failed ones.

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace herald::auth {

struct LoginThrottleOptions {
  int max_failures_per_account = 5;
  int max_failures_per_ip = 20;  // higher: many users may share one address behind a NAT
  absl::Duration window = absl::Minutes(15);
  size_t max_keys = 100'000;
};

// Thread-safe.
class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options = {});

  // Zero if an attempt on `account` from `ip` (empty: no IP limit) is allowed at `now`;
  // otherwise how long until it will be.
  absl::Duration RetryAfter(std::string_view account, std::string_view ip, absl::Time now);

  void RecordFailure(std::string_view account, std::string_view ip, absl::Time now);
  void RecordSuccess(std::string_view account);

  size_t tracked_keys() const;

 private:
  // Failure times, oldest first, at most the key's limit of them.
  using Failures = std::deque<absl::Time>;

  absl::Duration Wait(const std::string& key, int limit, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Record(std::string key, int limit, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MakeRoom(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LoginThrottleOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Failures> failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::auth
