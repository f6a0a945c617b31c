#include "engine/builtin_handlers.h"

#include "boost/json/parse.hpp"
#include "core/strings.h"

namespace herald::engine {
namespace {

// Reads a non-negative integer field of the job's JSON payload; absent means `fallback`.
Result<int64_t> IntField(const JobContext& ctx, std::string_view key, int64_t fallback,
                         int64_t max) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(ctx.payload(), ec);
  if (ec || !v.is_object()) return absl::InvalidArgumentError("payload: expected a JSON object");
  const boost::json::value* f =
      v.as_object().if_contains(boost::json::string_view(key.data(), key.size()));
  if (f == nullptr) return fallback;
  if (!f->is_int64() && !f->is_uint64()) {
    return absl::InvalidArgumentError(StrCat("payload.", key, ": expected an integer"));
  }
  int64_t n = f->is_int64() ? f->as_int64() : static_cast<int64_t>(f->as_uint64());
  if (n < 0 || n > max) {
    return absl::InvalidArgumentError(StrCat("payload.", key, ": must be in 0..", max));
  }
  return n;
}

}  // namespace

void RegisterBuiltinHandlers(Engine& engine) {
  engine.RegisterHandler("noop", [](JobContext&) { return absl::OkStatus(); });

  engine.RegisterHandler("sleep", [](JobContext& ctx) -> Status {
    HERALD_ASSIGN_OR_RETURN(int64_t ms, IntField(ctx, "ms", 0, 3'600'000));
    // A demo job: it passes real time, in short steps so a cancel is seen quickly.
    absl::Time end = absl::Now() + absl::Milliseconds(ms);
    while (absl::Now() < end) {
      if (ctx.cancelled()) return absl::CancelledError("cancelled");
      absl::SleepFor(std::min(absl::Milliseconds(10), end - absl::Now()));
    }
    return absl::OkStatus();
  });

  engine.RegisterHandler("fail", [](JobContext& ctx) -> Status {
    HERALD_ASSIGN_OR_RETURN(int64_t times, IntField(ctx, "times", 1, 1000));
    if (ctx.attempt() <= times) {
      return absl::UnavailableError(
          StrCat("failing on purpose (attempt ", ctx.attempt(), " of ", times, " to fail)"));
    }
    return absl::OkStatus();
  });
}

}  // namespace herald::engine
