#pragma once
// The one timestamp format Herald writes (logs, JSON bodies, webhook payloads): RFC 3339 in
// UTC with milliseconds, "2026-01-30T03:00:00.000Z".

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace herald::core {

// Exactly absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, UTC): fractions of a millisecond are
// dropped (toward the past). Years 1000 to 9999 are written directly (absl::FormatTime parses
// its format on every call, about 3,000 instructions, and a door scan's answer has three
// timestamps); others, and the infinite times, by absl.
inline std::string FormatRfc3339(absl::Time t) {
  constexpr int64_t kDay = 86400;
  const int64_t ms = absl::ToUnixMillis(t);  // rounds toward the past
  const int64_t secs = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  const int64_t days = secs / kDay - (secs % kDay < 0 ? 1 : 0);
  const int64_t in_day = secs - days * kDay;
  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date
  // Algorithms", civil_from_days).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture() || year < 1000 || year > 9999 ||
      t < absl::FromUnixMillis(ms) || t >= absl::FromUnixMillis(ms) + absl::Milliseconds(1)) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
  }
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, year, 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, in_day / 3600, 2);
  put(14, in_day / 60 % 60, 2);
  put(17, in_day % 60, 2);
  put(20, ms - secs * 1000, 3);
  return out;
}

}  // namespace herald::core
