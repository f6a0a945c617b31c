#pragma once
// `herald bench smtp`: sends the same email many times through SmtpProvider (the production
// path: MIME building, pooled libcurl connections) to an SMTP server, several senders at
// once, and reports messages per second and per-message latency. bench/smtp_bench.sh runs it
// against a local server, side by side with Nodemailer's pooled transport.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace herald::bench {

struct SmtpBenchOptions {
  std::string url;  // smtp://127.0.0.1:PORT
  int64_t messages = 5000;
  int pool = 5;  // connections; as many senders run at once
};

struct SmtpBenchResult {
  int64_t messages = 0;
  int pool = 0;
  double seconds = 0;
  double per_s = 0;
  double p50_ms = 0, p99_ms = 0;
  int64_t connections = 0;  // opened by the provider
  int64_t failed = 0;
  std::string ToJson() const;
};

// InvalidArgument for a bad URL; the send failures are counted, not errors.
Result<SmtpBenchResult> RunSmtpBench(const SmtpBenchOptions& options);

}  // namespace herald::bench
