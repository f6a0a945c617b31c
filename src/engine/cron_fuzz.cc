// libFuzzer target for CronExpr: any text either fails to parse with InvalidArgument, or parses
// into an expression whose fire times, in UTC and in Europe/Paris, are strictly increasing and
// strictly after the starting instant. Instants around the 2026 Paris transitions are included.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "engine/cron.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckTimes(const herald::engine::CronExpr& expr, absl::Time after, const absl::TimeZone& tz) {
  const std::optional<absl::Time> next = expr.Next(after, tz);
  Check(!next || *next > after);
  const std::vector<absl::Time> times = expr.NextN(after, tz, 5);
  Check(times.size() <= 5);
  Check(times.empty() == !next);
  if (next) Check(times.front() == *next);
  absl::Time previous = after;
  for (absl::Time t : times) {
    Check(t > previous);
    previous = t;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  herald::Result<herald::engine::CronExpr> expr = herald::engine::CronExpr::Parse(text);
  if (!expr.ok()) {
    Check(expr.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!expr.status().message().empty());
    return 0;
  }
  Check(expr->text() == text);

  static const absl::TimeZone kUtc = absl::UTCTimeZone();
  static const absl::TimeZone kParis = *herald::engine::LoadZone("Europe/Paris");
  static const absl::Time kAfters[] = {
      absl::FromUnixSeconds(1767225600),  // 2026-01-01T00:00:00Z
      absl::FromUnixSeconds(1774745940),  // 2026-03-29T00:59:00Z, a minute before the gap
      absl::FromUnixSeconds(1792888200),  // 2026-10-25T00:30:00Z, first copy of 02:30
      absl::FromUnixSeconds(1792891800) + absl::Milliseconds(500),  // second copy of 02:30
  };
  for (absl::Time after : kAfters) {
    CheckTimes(*expr, after, kUtc);
    CheckTimes(*expr, after, kParis);
  }
  return 0;
}
