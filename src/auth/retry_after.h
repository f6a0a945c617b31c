#pragma once
// How long a refused caller should wait, carried on a Status as a payload so it crosses the
// Result<T> boundary unchanged. The HTTP layer turns it into a Retry-After header (rounding
// up to whole seconds).

#include <optional>

#include "absl/time/time.h"
#include "core/status.h"

namespace herald::auth {

// The payload's type URL; the value is the duration in whole milliseconds, in decimal.
inline constexpr char kRetryAfterPayloadUrl[] = "type.herald.dev/retry-after-ms";

// `status` with `retry_after` (clamped to >= 1 ms) attached. `status` must not be OK.
Status WithRetryAfter(Status status, absl::Duration retry_after);

// The duration attached by WithRetryAfter, if any.
std::optional<absl::Duration> GetRetryAfter(const Status& status);

}  // namespace herald::auth
