#pragma once
// RateLimiter: token buckets keyed by (client key, route class), for the HTTP layer's
// "at most N requests per interval per client" rules (seed 003, "Rate Limiting"). Each route
// class ("login", "api", "scan"...) has its own limit; unknown classes use the default.
// A bucket holds up to `burst` tokens and refills continuously at limit/interval.
//
// Written here rather than shared with engine/token_bucket.h because auth sits below the
// engine in the layer map; the arithmetic is the same. Times are passed in (from the
// caller's injected Clock).
//
// Memory is bounded by `max_buckets`. When full, buckets that have refilled completely are
// dropped first (forgetting a full bucket changes nothing); if all are still in use, the
// least recently used tenth is dropped (those clients start again with a full bucket).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace herald::auth {

struct RateLimit {
  int64_t limit = 100;  // requests per interval (<= 0: unlimited)
  absl::Duration interval = absl::Seconds(1);
  int64_t burst = 0;  // bucket size; 0 means `limit`
};

struct RateLimiterOptions {
  RateLimit default_limit;
  absl::flat_hash_map<std::string, RateLimit> route_classes;
  size_t max_buckets = 100'000;
};

struct RateDecision {
  bool allowed = true;
  absl::Duration retry_after = absl::ZeroDuration();  // when refused: until a token is back
};

// Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterOptions options = {});

  // Takes a token from the bucket of (`client_key`, `route_class`) at `now` if one is there.
  RateDecision Allow(std::string_view client_key, std::string_view route_class, absl::Time now);

  size_t bucket_count() const;

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time last;
  };
  struct Policy {
    double rate_per_second = 0;  // refill
    double capacity = 0;
    bool unlimited = false;
  };

  Policy PolicyFor(std::string_view route_class) const;
  static double Refilled(const Bucket& b, const Policy& p, absl::Time now);
  void MakeRoom(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RateLimiterOptions options_;
  mutable absl::Mutex mu_;
  // Key: route class, '\0', client key. The policy is kept beside the bucket for eviction.
  absl::flat_hash_map<std::string, std::pair<Bucket, Policy>> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::auth
