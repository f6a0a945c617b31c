#pragma once
// RatePacer: lets at most `per_second` callers through per second, bursting up to that many,
// and makes the others wait for their turn on the injected Clock (a ManualClock in tests).
// Providers use it to stay under their upstream's documented rate (SMTP relays, Slack's one
// message per second per webhook, Teams' four). 0 (or less) means unlimited: Wait returns
// at once. Thread-safe.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/clock.h"
#include "engine/token_bucket.h"

namespace herald::notify {

class RatePacer {
 public:
  RatePacer(const core::Clock& clock, int per_second)
      : clock_(clock),
        unlimited_(per_second <= 0),
        bucket_(per_second, absl::Seconds(1), clock.Now()) {}
  RatePacer(const RatePacer&) = delete;
  RatePacer& operator=(const RatePacer&) = delete;

  bool unlimited() const { return unlimited_; }

  // Blocks until a token is available, then takes it.
  void Wait() {
    if (unlimited()) return;
    absl::MutexLock l(&mu_);
    absl::CondVar never;  // only the clock wakes this wait
    for (;;) {
      const absl::Time now = clock_.Now();
      if (bucket_.Ready(now)) break;
      clock_.WaitUntil(mu_, never, bucket_.NextReady(now));
    }
    bucket_.Take();
  }

 private:
  const core::Clock& clock_;
  const bool unlimited_;
  absl::Mutex mu_;
  engine::TokenBucket bucket_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::notify
