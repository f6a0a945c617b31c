#pragma once
// CircuitBreaker: stops calling a provider that keeps failing, and tries it again later.
//
//   closed     calls go through; `failure_threshold` consecutive failures open the circuit;
//   open       calls are refused until `cooldown` has passed since it opened;
//   half-open  one trial call goes through: success closes the circuit, failure opens it
//              again for another cooldown. Other calls are refused meanwhile.
// Only retryable failures count: a permanent error says nothing about the provider's health.
// Thread-safe. Time comes from the injected clock.

#include <string_view>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"

namespace herald::notify {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(const core::Clock& clock, int failure_threshold, absl::Duration cooldown)
      : clock_(clock), threshold_(failure_threshold), cooldown_(cooldown) {}

  // Whether a call may go through now. In half-open state, true once (the trial) until its
  // outcome is recorded.
  bool Allow() {
    absl::MutexLock l(&mu_);
    if (state_ == State::kOpen && clock_.Now() - opened_at_ >= cooldown_) {
      state_ = State::kHalfOpen;
      trial_running_ = false;
    }
    if (state_ == State::kClosed) return true;
    if (state_ == State::kHalfOpen && !trial_running_) {
      trial_running_ = true;
      return true;
    }
    return false;
  }
  void RecordSuccess() {
    absl::MutexLock l(&mu_);
    state_ = State::kClosed;
    failures_ = 0;
    trial_running_ = false;
  }
  void RecordFailure() {
    absl::MutexLock l(&mu_);
    if (state_ == State::kHalfOpen || ++failures_ >= threshold_) {
      state_ = State::kOpen;
      opened_at_ = clock_.Now();
      failures_ = 0;
      trial_running_ = false;
    }
  }
  State state() const {
    absl::MutexLock l(&mu_);
    if (state_ == State::kOpen && clock_.Now() - opened_at_ >= cooldown_) return State::kHalfOpen;
    return state_;
  }
  static std::string_view StateName(State s) {
    return s == State::kClosed ? "closed" : s == State::kOpen ? "open" : "half_open";
  }

 private:
  const core::Clock& clock_;
  const int threshold_;
  const absl::Duration cooldown_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kClosed;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool trial_running_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::notify
