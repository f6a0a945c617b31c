#pragma once
// Engine: durable background jobs. Thread-safe.
//
// The store is the truth; the engine keeps every unfinished job of its store in memory
// (ready heaps per queue, a timer heap for delayed and retrying jobs) so that claiming a job
// costs no query. Enqueues are acknowledged only once committed. State changes after that
// (claim, heartbeat, completion, retry) are written behind: coalesced per job and committed
// by the store's group commit within milliseconds, so a job that is claimed and finished
// between two commits costs one UPDATE. Execution is at-least-once: a job whose completion
// was not yet committed when the process died runs again after a restart.
//
// Changes made to the store by another process (the `herald` command-line tools) are picked
// up through the store's external-change notification: new and retried jobs are loaded,
// cancelled ones are dropped (a running one sees JobContext::cancelled()).

#include <atomic>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/id.h"
#include "engine/job.h"
#include "engine/job_table.h"
#include "store/store.h"

namespace herald::engine {

// What a handler sees of the job it runs. Not thread-safe; valid during the handler call.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const core::Id& id() const = 0;
  virtual const std::string& type() const = 0;
  virtual const std::string& queue() const = 0;
  virtual const std::string& payload() const = 0;  // JSON text
  virtual int attempt() const = 0;                 // 1 on the first run
  virtual int max_attempts() const = 0;
  // True once the job was cancelled or its attempt timed out; a long handler should check
  // it and return early.
  virtual bool cancelled() const = 0;
  virtual void SetProgress(int percent) = 0;     // 0..100
  virtual void SetResult(std::string json) = 0;  // stored with the job on success
};

// Runs one attempt. OK: the job succeeded. An error with a code that says the input is wrong
// (InvalidArgument, FailedPrecondition, NotFound, AlreadyExists, PermissionDenied,
// Unauthenticated, OutOfRange, Unimplemented) fails the job for good; any other error is
// retried with the job's backoff until its attempts run out.
using Handler = std::function<Status(JobContext&)>;
bool IsPermanent(const Status& status);

struct EnqueueResult {
  core::Id id;
  bool duplicate = false;  // a job with the same unique key exists; `id` is that job
};

struct JobEvent {
  enum class Kind { kCompleted, kFailed, kDead };
  Kind kind;
  core::Id id;
  std::string queue;
  std::string type;
  int attempt = 0;
  std::string error;   // kFailed, kDead
  std::string result;  // kCompleted
};
using EventListener = std::function<void(const JobEvent&)>;

// Live figures of this process, for benchmarks and metrics.
// Upper bounds (seconds) of the start-latency histogram's buckets (Prometheus `le`).
inline constexpr double kStartLatencyBuckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

struct EngineMetrics {
  int64_t processed = 0;  // attempts that succeeded
  int64_t failed = 0;     // attempts that failed
  int64_t dead = 0;
  int64_t unfinished = 0;  // jobs held in memory
  // Enqueue-to-start latency (from the later of commit and run_at), over recent starts.
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
  // The same latency since start-up as a histogram: starts at or under each bound of
  // kStartLatencyBuckets (not cumulative), plus the total count and sum.
  int64_t latency_buckets[std::size(kStartLatencyBuckets)] = {};
  int64_t latency_count = 0;
  double latency_sum_seconds = 0;
  // Outcomes by queue and job type since start-up, in (queue, type) order.
  struct ByType {
    std::string queue;
    std::string type;
    int64_t succeeded = 0;  // attempts
    int64_t failed = 0;     // attempts
    int64_t dead = 0;       // jobs
  };
  std::vector<ByType> by_type;
};

class Engine {
 public:
  // The engine's tables; run before Create.
  static Status Migrate(store::Store& store);

  static Result<std::unique_ptr<Engine>> Create(store::Store& store, const core::Clock& clock,
                                                const core::Config::Engine& config);
  ~Engine();  // Stop()s

  // Registers the handler of a job type. Call before Start.
  void RegisterHandler(std::string type, Handler handler);
  bool HasHandler(std::string_view type) const;
  std::vector<std::string> HandlerTypes() const;

  // Loads unfinished jobs, recovers jobs left running by a dead process, and starts
  // `config.workers` worker threads and the maintenance thread. With `threads` false nothing
  // runs by itself and a test drives the engine with RunDue() and Maintain() on a manual
  // clock.
  Status Start(bool threads = true);
  // Stops claiming, waits up to `grace` for running handlers, flushes pending writes.
  void Stop(absl::Duration grace = absl::Seconds(30));
  // True between a Start with threads and Stop: the workers are there to claim jobs.
  bool Running() const;

  // Enqueue one or many jobs atomically; returns once committed. Unknown types, invalid
  // payloads and bad fields are InvalidArgument and nothing is stored.
  Result<EnqueueResult> Enqueue(const JobSpec& spec);
  Result<std::vector<EnqueueResult>> EnqueueBatch(const std::vector<JobSpec>& specs);
  // Enqueue without blocking: `done` gets the result once committed (or the error), on the
  // store's writer thread, so it must not block. Validation errors are reported at once.
  void EnqueueAsync(const JobSpec& spec, std::function<void(Result<EnqueueResult>)> done);
  // Enqueue inside the caller's write transaction: the job exists only if that commits.
  Result<EnqueueResult> Enqueue(store::Txn& txn, const JobSpec& spec);

  // Cancels an unfinished job (a running one is told through JobContext::cancelled()).
  // NotFound if there is no such job; FailedPrecondition if it already finished.
  Status Cancel(const core::Id& id);
  // Makes a dead or cancelled job available again. NotFound / FailedPrecondition likewise.
  Status Retry(const core::Id& id);
  Result<int64_t> RetryAllDead(std::string_view queue);
  // Deletes a finished job. NotFound if there is none; FailedPrecondition if unfinished.
  Status Delete(const core::Id& id);
  // Deletes the dead-letter list of `queue`; returns how many jobs.
  Result<int64_t> DeleteDead(std::string_view queue);
  // Rate-limits the jobs of one group of a queue (group_key) with `limit` instead of the
  // queue's group_rate; a zero limit makes the group unlimited. In memory only: the module
  // that owns the groups sets them again on every start (webhook endpoints do).
  void SetGroupRate(std::string_view queue, std::string_view group, core::RateLimit limit);
  Status PauseQueue(std::string_view queue);
  Status ResumeQueue(std::string_view queue);

  Result<std::optional<Job>> Get(const core::Id& id);
  Result<std::vector<Job>> List(const table::ListFilter& filter);
  Result<std::vector<table::QueueCounts>> QueueStats();

  // Listeners run on one event thread, in commit order, after the change is durable.
  void Subscribe(EventListener listener);

  // Test and tool hooks. RunDue runs, on the calling thread, jobs due at the clock's time
  // until none is due or `max` ran; returns how many ran. Maintain does one round of lease
  // renewal, timeouts and retention. Flush blocks until every change so far is committed.
  int RunDue(int max = 1 << 30);
  void Maintain();
  Status Flush();
  EngineMetrics Metrics() const;

  class Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine
