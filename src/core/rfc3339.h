#pragma once
// The one timestamp format Herald writes (logs, JSON bodies, webhook payloads): RFC 3339 in
// UTC with milliseconds, "2026-01-30T03:00:00.000Z".

#include <string>

#include "absl/time/time.h"

namespace herald::core {

inline std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace herald::core
