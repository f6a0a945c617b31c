#include "auth/login_throttle.h"

#include <string>

#include "auth/retry_after.h"
#include "core/clock.h"
#include "gtest/gtest.h"

namespace herald::auth {
namespace {

TEST(LoginThrottle, LocksAnAccountAfterFiveFailuresForTheWindow) {
  core::ManualClock clock;
  LoginThrottle t;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.RetryAfter("a@x.io", "", clock.Now()), absl::ZeroDuration());
    t.RecordFailure("a@x.io", "", clock.Now());
    clock.Advance(absl::Seconds(10));
  }
  // The first failure was 50 s ago: it leaves the window in 14 min 10 s.
  EXPECT_EQ(t.RetryAfter("a@x.io", "", clock.Now()), absl::Minutes(14) + absl::Seconds(10));
  EXPECT_EQ(t.RetryAfter("b@x.io", "", clock.Now()), absl::ZeroDuration());
  clock.Advance(absl::Minutes(14) + absl::Seconds(10));
  EXPECT_EQ(t.RetryAfter("a@x.io", "", clock.Now()), absl::ZeroDuration());
}

TEST(LoginThrottle, SuccessClearsTheAccountButNotTheIp) {
  core::ManualClock clock;
  LoginThrottleOptions o;
  o.max_failures_per_ip = 6;
  LoginThrottle t(o);
  for (int i = 0; i < 4; ++i) t.RecordFailure("a@x.io", "10.0.0.1", clock.Now());
  t.RecordSuccess("a@x.io");
  for (int i = 0; i < 2; ++i) t.RecordFailure("a@x.io", "10.0.0.1", clock.Now());
  EXPECT_EQ(t.RetryAfter("a@x.io", "", clock.Now()), absl::ZeroDuration());
  EXPECT_EQ(t.RetryAfter("a@x.io", "10.0.0.1", clock.Now()), absl::Minutes(15));
}

TEST(LoginThrottle, MemoryIsBounded) {
  core::ManualClock clock;
  LoginThrottleOptions o;
  o.max_keys = 100;
  LoginThrottle t(o);
  for (int i = 0; i < 5000; ++i) {
    t.RecordFailure("user" + std::to_string(i) + "@x.io", "10.0.0." + std::to_string(i % 7),
                    clock.Now());
    clock.Advance(absl::Milliseconds(1));
    ASSERT_LE(t.tracked_keys(), 100u);
  }
}

TEST(RetryAfter, RoundTripsThroughAStatusPayload) {
  Status st = WithRetryAfter(absl::ResourceExhaustedError("slow down"), absl::Seconds(90));
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetRetryAfter(st), absl::Seconds(90));
  EXPECT_EQ(GetRetryAfter(WithRetryAfter(absl::UnavailableError("x"), absl::Microseconds(1))),
            absl::Milliseconds(1));
  EXPECT_FALSE(GetRetryAfter(absl::ResourceExhaustedError("no payload")).has_value());
}

}  // namespace
}  // namespace herald::auth
