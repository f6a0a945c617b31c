#pragma once
// The job model: what a caller enqueues (JobSpec), what the store keeps (Job), the states a
// job moves through, and the retry backoff.
//
//   scheduled --(run_at reached)--> available --(claimed)--> running --> succeeded
//        ^                              ^                        |
//        |                              +--- retryable <---------+ (error, attempts left)
//        +-- (enqueued with a delay)                             +--> dead (no attempts left,
//                                                                        or permanent error)
//   any unfinished state --(cancel)--> cancelled;  dead/cancelled --(retry)--> available

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/id.h"
#include "core/status.h"

namespace herald::engine {

enum class JobState : int {
  kScheduled = 0,  // waiting for run_at
  kAvailable = 1,  // due, waiting for a worker
  kRunning = 2,
  kRetryable = 3,  // failed, waiting for run_at to try again
  kSucceeded = 4,
  kDead = 5,  // failed for good: the dead-letter list
  kCancelled = 6,
};
inline bool IsFinished(JobState s) { return static_cast<int>(s) >= 4; }
std::string_view JobStateName(JobState s);
Result<JobState> ParseJobState(std::string_view name);

struct Backoff {
  enum class Kind { kFixed, kExponential };
  Kind kind = Kind::kExponential;
  absl::Duration base = absl::Seconds(1);  // first retry delay (seed 001: delay 1000 ms)
  absl::Duration cap = absl::Hours(1);     // exponential growth stops here
  int jitter_percent = 20;                 // each delay is drawn from [d*(1-j), d]

  // The delay before attempt `attempt + 1`, after `attempt` (>= 1) failed. `unit` in [0, 1)
  // draws the jitter, so callers and tests control the randomness.
  absl::Duration Delay(int attempt, double unit) const;

  // "exponential:1000:3600000:20" (kind:base_ms:cap_ms:jitter%), as stored.
  std::string Encode() const;
  static Result<Backoff> Decode(std::string_view text);
};

enum class UniqueConflict { kDrop, kReplace };

// What a caller asks for. Only `type` is required.
struct JobSpec {
  std::string queue = "default";  // a name (core/strings.h IsValidName)
  std::string type;
  std::string payload = "{}";  // a JSON document
  int priority = 0;            // higher runs first within a queue
  std::optional<absl::Time> run_at;
  absl::Duration delay = absl::ZeroDuration();  // used when run_at is not set
  int max_attempts = 0;                         // 0: the engine's default
  Backoff backoff;
  absl::Duration timeout = absl::ZeroDuration();  // per attempt; 0: the engine's default
  // At most one job per unique key: within `unique_for` of the first enqueue, or, when
  // `unique_for` is zero, while the first job is unfinished. A duplicate is dropped (the
  // existing job's id is returned) or replaces the existing job if that one has not started.
  std::string unique_key;
  absl::Duration unique_for = absl::ZeroDuration();
  UniqueConflict on_conflict = UniqueConflict::kDrop;
  std::string group_key;  // rate-limited together with jobs of the same group in the queue
};

// A job as stored.
struct Job {
  core::Id id;
  std::string queue;
  std::string type;
  std::string payload;
  int priority = 0;
  JobState state = JobState::kAvailable;
  absl::Time run_at;
  absl::Time created_at;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> finished_at;
  std::optional<absl::Time> lease_until;
  int attempts = 0;
  int max_attempts = 1;
  Backoff backoff;
  absl::Duration timeout;
  std::string unique_key;
  std::string group_key;
  std::string last_error;
  int progress = 0;    // 0..100
  std::string result;  // JSON set by the handler; empty if none
};

// Checks a spec against the limits, the payload as JSON, and names the bad field.
Status ValidateSpec(const JobSpec& spec, int64_t max_payload_bytes);

// Parses the priority names the seeds use ("high", "normal", "low", "urgent"/"critical") or
// an integer in [-1000, 1000].
Result<int> ParsePriority(std::string_view text);

}  // namespace herald::engine
