#include "core/clock.h"

#include <algorithm>
#include <chrono>

namespace herald::core {

Clock& Clock::Real() {
  static SystemClock* clock = new SystemClock();
  return *clock;
}

absl::Duration SystemClock::Monotonic() const {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

bool SystemClock::WaitUntil(absl::Mutex& mu, absl::CondVar& cond, absl::Time deadline) const {
  return cond.WaitWithDeadline(&mu, deadline);
}

ManualClock::ManualClock(absl::Time start) : now_(start) {}

absl::Time ManualClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

bool ManualClock::WaitUntil(absl::Mutex& mu, absl::CondVar& cond, absl::Time deadline) const {
  {
    absl::MutexLock lock(&mu_);
    if (now_ >= deadline) return true;
    waiters_.push_back({&mu, &cond});
  }
  // A real-time backstop keeps a forgotten wake-up from hanging a test forever; the caller
  // re-checks its own state and the manual time after every return.
  cond.WaitWithTimeout(&mu, absl::Milliseconds(50));
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(waiters_.begin(), waiters_.end(),
                         [&](const Waiter& w) { return w.mu == &mu && w.cond == &cond; });
  if (it != waiters_.end()) waiters_.erase(it);
  return now_ >= deadline;
}

void ManualClock::Set(absl::Time t) {
  {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  WakeAll();
}

void ManualClock::Advance(absl::Duration d) {
  {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  WakeAll();
}

void ManualClock::WakeAll() {
  // Signalled under mu_ so no waiter can unregister (and destroy its condition variable)
  // meanwhile; without the waiter's own mutex, to keep one lock order. A wake-up that races
  // with a waiter about to block is caught by the waiter's short backstop timeout.
  absl::MutexLock lock(&mu_);
  for (const Waiter& w : waiters_) w.cond->SignalAll();
}

}  // namespace herald::core
