// Fuzz target for the engine's small parsers: backoff encodings, priorities, state and
// misfire names, job payload validation, and the simple-schedule form.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "boost/json/parse.hpp"
#include "engine/cron.h"
#include "engine/job.h"
#include "engine/scheduler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace herald::engine;

  auto b = Backoff::Decode(text);
  if (b.ok()) {
    auto again = Backoff::Decode(b->Encode());
    if (!again.ok() || again->Encode() != b->Encode()) std::abort();
    for (int attempt : {1, 2, 30, 1000}) {
      absl::Duration delay = b->Delay(attempt, 0.5);
      if (delay < absl::ZeroDuration() || delay > b->cap) std::abort();
    }
  }
  auto p = ParsePriority(text);
  if (p.ok() && (*p < -1000 || *p > 1000)) std::abort();
  (void)ParseJobState(text);
  (void)ParseMisfire(text);

  JobSpec spec;
  spec.type = "noop";
  spec.payload = std::string(text);
  herald::Status st = ValidateSpec(spec, 1 << 20);
  if (!st.ok() && st.code() != absl::StatusCode::kInvalidArgument) std::abort();

  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(spec.payload, ec);
  if (!ec) {
    auto cron = SimpleScheduleToCron(v);
    if (cron.ok() && !CronExpr::Parse(*cron).ok()) std::abort();  // output must be valid cron
  }
  return 0;
}
