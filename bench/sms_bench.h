#pragma once
// `herald bench sms`: SMS notifications through the whole notifier (submission: a store
// transaction with its delivery job; the engine's workers; template rendering; the Twilio
// provider over HTTP) to a local fake of Twilio's API (net/testing/fake_http_server.h).
// Reports notifications per second and the latency from Submit to the provider's HTTP
// request arriving at the fake.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace herald::bench {

struct SmsBenchOptions {
  int64_t notifications = 10000;
  int submitters = 4;  // threads calling Submit
  int workers = 4;     // engine workers (the notify.sms queue runs 3 at once, seed 001)
  int concurrency = 3;
  int rate = 0;     // submissions per second, spread evenly; 0: as fast as possible
  std::string dir;  // scratch folder; empty: a temporary one
};

struct SmsBenchResult {
  int64_t notifications = 0;
  double seconds = 0;  // first Submit to last provider request
  double per_s = 0;
  double p50_ms = 0, p99_ms = 0;  // Submit to provider request
  std::string ToJson() const;
};

Result<SmsBenchResult> RunSmsBench(const SmsBenchOptions& options);

}  // namespace herald::bench
