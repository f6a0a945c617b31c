#include "auth/retry_after.h"

#include <charconv>
#include <string>

#include "absl/strings/cord.h"
#include "absl/types/optional.h"

namespace herald::auth {

Status WithRetryAfter(Status status, absl::Duration retry_after) {
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(retry_after, absl::Milliseconds(1)));
  if (ms < 1) ms = 1;
  status.SetPayload(kRetryAfterPayloadUrl, absl::Cord(std::to_string(ms)));
  return status;
}

std::optional<absl::Duration> GetRetryAfter(const Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRetryAfterPayloadUrl);
  if (!payload) return std::nullopt;
  const std::string text(*payload);
  int64_t ms = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || ptr != text.data() + text.size() || ms < 0) return std::nullopt;
  return absl::Milliseconds(ms);
}

}  // namespace herald::auth
