#pragma once
// Clock: the only way Herald code reads the time. Production code gets SystemClock; tests
// get ManualClock and move time explicitly, so nothing in a test sleeps to wait for time.

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace herald::core {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // Time since an arbitrary origin that never moves back, for measuring intervals (the real
  // clock's Now() can be stepped). A ManualClock's is its Now() since the Unix epoch.
  virtual absl::Duration Monotonic() const { return Now() - absl::UnixEpoch(); }

  // Blocks the calling thread until `mu` is signalled through `cond` or until Now() reaches
  // `deadline`. Must be called with `mu` held; returns with it held. Returns true if the
  // deadline passed. A ManualClock wakes such waiters whenever it is moved.
  virtual bool WaitUntil(absl::Mutex& mu, absl::CondVar& cond, absl::Time deadline) const = 0;

  // The process-wide real clock.
  static Clock& Real();
};

// The real clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  absl::Duration Monotonic() const override;
  bool WaitUntil(absl::Mutex& mu, absl::CondVar& cond, absl::Time deadline) const override;
};

// A clock that moves only when told to. Thread-safe. Waiters registered through WaitUntil
// are woken (spuriously, from their point of view) on every Set/Advance so they re-check
// their deadline against the new time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'767'225'600));  // 2026-01-01
  absl::Time Now() const override;
  bool WaitUntil(absl::Mutex& mu, absl::CondVar& cond, absl::Time deadline) const override;

  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  struct Waiter {
    absl::Mutex* mu;
    absl::CondVar* cond;
  };
  void WakeAll();

  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  mutable std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::core
