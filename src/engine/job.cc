#include "engine/job.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "boost/json/parse.hpp"
#include "core/strings.h"

namespace herald::engine {
namespace {

constexpr std::string_view kStateNames[] = {"scheduled", "available", "running",  "retryable",
                                            "succeeded", "dead",      "cancelled"};

bool ParseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string_view JobStateName(JobState s) { return kStateNames[static_cast<int>(s)]; }

Result<JobState> ParseJobState(std::string_view name) {
  for (int i = 0; i < 7; ++i) {
    if (kStateNames[i] == name) return static_cast<JobState>(i);
  }
  if (name == "waiting") return JobState::kAvailable;  // BullMQ's word
  if (name == "active") return JobState::kRunning;
  if (name == "completed") return JobState::kSucceeded;
  if (name == "failed") return JobState::kDead;
  if (name == "delayed") return JobState::kScheduled;
  return absl::InvalidArgumentError(
      StrCat("unknown job state '", name,
             "' (scheduled, available, running, retryable, succeeded, dead, cancelled)"));
}

absl::Duration Backoff::Delay(int attempt, double unit) const {
  absl::Duration d = base;
  if (kind == Kind::kExponential) {
    // base * 2^(attempt-1), computed in floating point so large attempts saturate at cap.
    double factor = std::ldexp(1.0, std::min(attempt - 1, 62));
    double secs = absl::ToDoubleSeconds(base) * factor;
    d = secs >= absl::ToDoubleSeconds(cap) ? cap : absl::Seconds(secs);
  }
  if (d > cap) d = cap;
  double j = std::clamp(jitter_percent, 0, 100) / 100.0;
  return d * (1.0 - j * std::clamp(unit, 0.0, 1.0));
}

std::string Backoff::Encode() const {
  return StrCat(kind == Kind::kFixed ? "fixed" : "exponential", ":",
                absl::ToInt64Milliseconds(base), ":", absl::ToInt64Milliseconds(cap), ":",
                jitter_percent);
}

Result<Backoff> Backoff::Decode(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ':') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  Backoff b;
  int64_t base_ms, cap_ms, jitter;
  if (parts.size() != 4 || !ParseInt(parts[1], base_ms) || !ParseInt(parts[2], cap_ms) ||
      !ParseInt(parts[3], jitter) || base_ms < 0 || cap_ms < 0 || jitter < 0 || jitter > 100) {
    return absl::InvalidArgumentError(StrCat("bad backoff '", text, "'"));
  }
  if (parts[0] == "fixed") {
    b.kind = Kind::kFixed;
  } else if (parts[0] == "exponential") {
    b.kind = Kind::kExponential;
  } else {
    return absl::InvalidArgumentError(StrCat("bad backoff kind '", parts[0], "'"));
  }
  b.base = absl::Milliseconds(base_ms);
  b.cap = absl::Milliseconds(cap_ms);
  b.jitter_percent = static_cast<int>(jitter);
  return b;
}

Status ValidateSpec(const JobSpec& spec, int64_t max_payload_bytes) {
  if (!IsValidName(spec.type)) {
    return absl::InvalidArgumentError(
        StrCat("type: must be 1-", kMaxNameLength, " characters of [A-Za-z0-9_.:-]"));
  }
  if (!IsValidName(spec.queue)) {
    return absl::InvalidArgumentError(
        StrCat("queue: must be 1-", kMaxNameLength, " characters of [A-Za-z0-9_.:-]"));
  }
  if (spec.unique_key.size() > kMaxNameLength * 4) {
    return absl::InvalidArgumentError("unique_key: longer than 512 bytes");
  }
  if (spec.group_key.size() > kMaxNameLength * 4) {
    return absl::InvalidArgumentError("group_key: longer than 512 bytes");
  }
  if (static_cast<int64_t>(spec.payload.size()) > max_payload_bytes) {
    return absl::InvalidArgumentError(StrCat("payload: ", spec.payload.size(),
                                             " bytes is over the limit of ", max_payload_bytes));
  }
  boost::system::error_code ec;
  boost::json::parse(spec.payload, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("payload: not valid JSON (", ec.message(), ")"));
  if (spec.priority < -1000 || spec.priority > 1000) {
    return absl::InvalidArgumentError("priority: must be in -1000..1000");
  }
  if (spec.max_attempts < 0 || spec.max_attempts > 1000) {
    return absl::InvalidArgumentError("max_attempts: must be in 1..1000 (0 for the default)");
  }
  if (spec.delay < absl::ZeroDuration()) return absl::InvalidArgumentError("delay: negative");
  if (spec.timeout < absl::ZeroDuration()) return absl::InvalidArgumentError("timeout: negative");
  if (spec.unique_for < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("unique_for: negative");
  }
  if (spec.backoff.base < absl::ZeroDuration() || spec.backoff.cap < spec.backoff.base) {
    return absl::InvalidArgumentError("backoff: need 0 <= base <= cap");
  }
  if (spec.backoff.jitter_percent < 0 || spec.backoff.jitter_percent > 100) {
    return absl::InvalidArgumentError("backoff: jitter must be 0..100 percent");
  }
  return absl::OkStatus();
}

Result<int> ParsePriority(std::string_view text) {
  if (text == "critical" || text == "urgent" || text == "CRITICAL" || text == "URGENT") return 20;
  if (text == "high" || text == "HIGH") return 10;
  if (text == "normal" || text == "NORMAL") return 0;
  if (text == "low" || text == "LOW") return -10;
  int64_t v;
  if (ParseInt(text, v) && v >= -1000 && v <= 1000) return static_cast<int>(v);
  return absl::InvalidArgumentError(
      StrCat("priority: '", text, "' is not high, normal, low, urgent or an integer -1000..1000"));
}

}  // namespace herald::engine
