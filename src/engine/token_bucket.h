#pragma once
// TokenBucket: "at most `limit` per `interval`", refilled continuously, bursting up to
// `limit`. Written here rather than borrowed because it must run on the injected Clock's
// time (tests move time by hand). Not thread-safe.

#include <algorithm>
#include <cstdint>

#include "absl/time/time.h"

namespace herald::engine {

class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(int64_t limit, absl::Duration interval, absl::Time now)
      : limit_(limit), interval_(interval), tokens_(static_cast<double>(limit)), last_(now) {}

  bool unlimited() const { return limit_ <= 0; }

  // Whether a token is available at `now` (refilling first).
  bool Ready(absl::Time now) {
    if (unlimited()) return true;
    Refill(now);
    return tokens_ >= 1.0;
  }
  // Takes a token; call only after Ready(now) returned true.
  void Take() {
    if (!unlimited()) tokens_ -= 1.0;
  }
  // The earliest time a token will be available.
  absl::Time NextReady(absl::Time now) {
    if (Ready(now)) return now;
    double missing = 1.0 - tokens_;
    return now + interval_ * (missing / static_cast<double>(limit_));
  }

 private:
  void Refill(absl::Time now) {
    if (now <= last_) return;
    double add = absl::FDivDuration(now - last_, interval_) * static_cast<double>(limit_);
    tokens_ = std::min(static_cast<double>(limit_), tokens_ + add);
    last_ = now;
  }

  int64_t limit_ = 0;
  absl::Duration interval_ = absl::Seconds(1);
  double tokens_ = 0;
  absl::Time last_;
};

}  // namespace herald::engine
