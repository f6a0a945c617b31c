#include "auth/rate_limiter.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "gtest/gtest.h"

namespace herald::auth {
namespace {

RateLimiterOptions TenPerSecond() {
  RateLimiterOptions o;
  o.default_limit = {10, absl::Seconds(1)};
  return o;
}

TEST(RateLimiter, AllowsABurstThenRefusesWithRetryAfter) {
  core::ManualClock clock;
  RateLimiter limiter(TenPerSecond());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Allow("1.2.3.4", "api", clock.Now()).allowed);
  RateDecision d = limiter.Allow("1.2.3.4", "api", clock.Now());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Milliseconds(100));
  clock.Advance(absl::Milliseconds(100));
  EXPECT_TRUE(limiter.Allow("1.2.3.4", "api", clock.Now()).allowed);
  EXPECT_FALSE(limiter.Allow("1.2.3.4", "api", clock.Now()).allowed);
}

TEST(RateLimiter, RefillsContinuouslyUpToTheBurst) {
  core::ManualClock clock;
  RateLimiterOptions o;
  o.default_limit = {60, absl::Minutes(1), 5};  // one a second, bursts of 5
  RateLimiter limiter(o);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("k", "api", clock.Now()).allowed);
  EXPECT_FALSE(limiter.Allow("k", "api", clock.Now()).allowed);
  clock.Advance(absl::Hours(1));  // refills to the burst, not to 3600
  int allowed = 0;
  while (limiter.Allow("k", "api", clock.Now()).allowed) ++allowed;
  EXPECT_EQ(allowed, 5);
}

TEST(RateLimiter, KeysAndRouteClassesHaveSeparateBuckets) {
  core::ManualClock clock;
  RateLimiterOptions o = TenPerSecond();
  o.route_classes["login"] = {2, absl::Minutes(1)};
  RateLimiter limiter(o);
  EXPECT_TRUE(limiter.Allow("a", "login", clock.Now()).allowed);
  EXPECT_TRUE(limiter.Allow("a", "login", clock.Now()).allowed);
  RateDecision d = limiter.Allow("a", "login", clock.Now());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::Seconds(30));
  EXPECT_TRUE(limiter.Allow("b", "login", clock.Now()).allowed);  // another client
  EXPECT_TRUE(limiter.Allow("a", "api", clock.Now()).allowed);    // another class
}

TEST(RateLimiter, NonPositiveLimitMeansUnlimited) {
  core::ManualClock clock;
  RateLimiterOptions o;
  o.default_limit = {0, absl::Seconds(1)};
  RateLimiter limiter(o);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Allow("k", "api", clock.Now()).allowed);
  EXPECT_EQ(limiter.bucket_count(), 0u);
}

TEST(RateLimiter, MemoryIsBounded) {
  core::ManualClock clock;
  RateLimiterOptions o = TenPerSecond();
  o.max_buckets = 50;
  RateLimiter limiter(o);
  for (int i = 0; i < 1000; ++i) {
    limiter.Allow("client-" + std::to_string(i), "api", clock.Now());
    ASSERT_LE(limiter.bucket_count(), 50u);
  }
}

TEST(RateLimiter, EvictsRefilledBucketsBeforeBusyOnes) {
  core::ManualClock clock;
  RateLimiterOptions o = TenPerSecond();
  o.max_buckets = 3;
  RateLimiter limiter(o);
  limiter.Allow("idle-1", "api", clock.Now());
  limiter.Allow("idle-2", "api", clock.Now());
  clock.Advance(absl::Seconds(5));
  while (limiter.Allow("busy", "api", clock.Now()).allowed) {
  }
  EXPECT_TRUE(limiter.Allow("new", "api", clock.Now()).allowed);
  EXPECT_EQ(limiter.bucket_count(), 2u);                            // busy and new
  EXPECT_FALSE(limiter.Allow("busy", "api", clock.Now()).allowed);  // not reset by eviction
}

TEST(RateLimiter, ConcurrentCallersNeverExceedTheLimit) {
  core::ManualClock clock;
  RateLimiterOptions o;
  o.default_limit = {100, absl::Hours(1)};
  RateLimiter limiter(o);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.Allow("shared", "api", clock.Now()).allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);
}

}  // namespace
}  // namespace herald::auth
