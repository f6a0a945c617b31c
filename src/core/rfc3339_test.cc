#include "core/rfc3339.h"

#include <random>

#include "gtest/gtest.h"

namespace herald::core {
namespace {

std::string Absl(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

TEST(FormatRfc3339Test, WritesUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(absl::UnixEpoch()), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(absl::FromUnixMillis(1769742000123)), "2026-01-30T03:00:00.123Z");
  // A fraction of a millisecond is dropped toward the past, before the epoch too.
  EXPECT_EQ(FormatRfc3339(absl::UnixEpoch() - absl::Microseconds(1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(
                absl::FromCivil(absl::CivilSecond(2024, 2, 29, 23, 59, 59), absl::UTCTimeZone()) +
                absl::Microseconds(999999)),
            "2024-02-29T23:59:59.999Z");
}

TEST(FormatRfc3339Test, MatchesAbslEverywhere) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time edges[] = {
      absl::FromCivil(absl::CivilSecond(0, 1, 1, 0, 0, 0), utc),
      absl::FromCivil(absl::CivilSecond(0, 1, 1, 0, 0, 0), utc) - absl::Nanoseconds(1),
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), utc) + absl::Milliseconds(999),
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), utc),
      absl::FromCivil(absl::CivilSecond(1600, 3, 1, 0, 0, 0), utc),
      absl::FromCivil(absl::CivilSecond(1900, 2, 28, 12, 0, 0), utc),
      absl::FromCivil(absl::CivilSecond(2000, 2, 29, 0, 0, 0), utc),
      absl::FromCivil(absl::CivilSecond(2100, 3, 1, 0, 0, 0), utc),
      absl::FromUnixSeconds(int64_t{1} << 40),
      absl::FromUnixSeconds(-(int64_t{1} << 40)),
      absl::InfinitePast(),
      absl::InfiniteFuture(),
  };
  for (absl::Time t : edges) EXPECT_EQ(FormatRfc3339(t), Absl(t));
  std::mt19937_64 rng(42);
  // Years 0 to 9999 and a little beyond, at nanosecond resolution.
  std::uniform_int_distribution<int64_t> seconds(-62200000000LL, 253500000000LL);
  std::uniform_int_distribution<int64_t> nanos(0, 999999999);
  for (int i = 0; i < 200000; ++i) {
    const absl::Time t = absl::FromUnixSeconds(seconds(rng)) + absl::Nanoseconds(nanos(rng));
    ASSERT_EQ(FormatRfc3339(t), Absl(t)) << t;
  }
}

}  // namespace
}  // namespace herald::core
