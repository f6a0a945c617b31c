#pragma once
// JobTable: the engine's SQL. Every read and write of the jobs, job_unique, queues and
// queue_counters tables goes through these functions, inside a caller's transaction, so the
// engine, the scheduler and the command-line tools share one definition of each operation.
// Times are stored as integer microseconds since the Unix epoch.

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/job.h"
#include "store/store.h"

namespace herald::engine::table {

std::span<const store::Migration> Migrations();

int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);
// An optional time as a store value (NULL when absent), and back from column `col`.
store::Value OptTime(const std::optional<absl::Time>& t);
std::optional<absl::Time> RowTime(const store::Row& r, int col);

Status Insert(store::Txn& txn, const Job& job);
Result<std::optional<Job>> Get(store::Txn& txn, const core::Id& id);

struct ListFilter {
  std::optional<std::string> queue;
  std::optional<std::string> type;
  std::optional<JobState> state;
  std::optional<absl::Time> created_from;  // inclusive
  std::optional<absl::Time> created_to;    // exclusive
  std::optional<core::Id> after;           // cursor: ids greater than this one
  int limit = 50;
};
// Jobs matching `filter`, in id (= creation) order.
Result<std::vector<Job>> List(store::Txn& txn, const ListFilter& filter);

// Calls `fn` for every unfinished job (scheduled, available, running, retryable).
Status ForEachUnfinished(store::Txn& txn, const std::function<void(Job&&)>& fn);

// A change of a job's mutable fields, written behind the engine's in-memory state. It is
// applied only if the stored job is still unfinished, so a cancel committed meanwhile wins.
struct Update {
  core::Id id;
  std::string queue;
  JobState state;
  int attempts;
  absl::Time run_at;
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> finished_at;
  std::optional<absl::Time> lease_until;
  std::string last_error;
  int progress = 0;
  std::string result;
  std::string unique_key;        // released when the job finishes, if held until then
  bool counted_failure = false;  // this update records a failed attempt
};
// Changes to the finished_counts table (finished jobs per queue and state), gathered over
// many row changes and written at once. Every function below that finishes, revives or
// deletes finished jobs keeps the counts, Apply through the caller's tally (a flush applies
// thousands of updates and writes one row per queue).
class FinishedTally {
 public:
  void Add(std::string_view queue, JobState state, int64_t delta);  // ignores unfinished
  bool empty() const { return deltas_.empty(); }
  Status Write(store::Txn& txn);  // then empty

 private:
  std::map<std::pair<std::string, JobState>, int64_t> deltas_;
};

// Returns whether the stored job was changed; counts it in `tally` if it finished.
Result<bool> Apply(store::Txn& txn, const Update& u, FinishedTally& tally);

// Adds to the queue's lifetime counters.
Status AddCounters(store::Txn& txn, std::string_view queue, int64_t succeeded, int64_t failed,
                   int64_t dead);

// Unique keys. Returns the id of the job holding `key` at `now`, if any.
Result<std::optional<core::Id>> UniqueHolder(store::Txn& txn, std::string_view key, absl::Time now);
// Makes `job_id` the holder of `key` until `expires` (nullopt: until the job finishes).
Status HoldUnique(store::Txn& txn, std::string_view key, const core::Id& job_id,
                  std::optional<absl::Time> expires);

// Cancels an unfinished job. Returns false if the job is missing or already finished.
Result<bool> Cancel(store::Txn& txn, const core::Id& id, absl::Time now);
// Makes a dead or cancelled job available again with a fresh attempt budget. Returns false
// if the job is missing or not dead/cancelled.
Result<bool> Retry(store::Txn& txn, const core::Id& id, absl::Time now);
// The ids of the dead jobs of `queue` (the dead-letter list), oldest first.
Result<std::vector<core::Id>> DeadJobs(store::Txn& txn, std::string_view queue);

// Deletes a finished job. Returns false if the job is missing or unfinished.
Result<bool> Delete(store::Txn& txn, const core::Id& id);
// Deletes the dead jobs of `queue`; returns how many.
Result<int64_t> DeleteDead(store::Txn& txn, std::string_view queue);

// Deletes up to `limit` finished jobs: succeeded before `succeeded_before`, dead or
// cancelled before `failed_before`. Returns how many.
Result<int64_t> Prune(store::Txn& txn, absl::Time succeeded_before, absl::Time failed_before,
                      int limit);

Status SetPaused(store::Txn& txn, std::string_view queue, bool paused);
Result<std::vector<std::string>> PausedQueues(store::Txn& txn);

struct QueueCounts {
  std::string queue;
  int64_t by_state[7] = {};     // indexed by JobState
  int64_t succeeded_total = 0;  // lifetime counters
  int64_t failed_total = 0;     // failed attempts
  int64_t dead_total = 0;
  bool paused = false;
  // Throughput of this process over the last 60 seconds (Engine::QueueStats only).
  int64_t completed_last_minute = 0;
  int64_t failed_last_minute = 0;  // failed attempts
};
// Every queue the store knows of, with its finished counts (by_state[4..6]), lifetime
// counters and pause flag. Unfinished counts (by_state[0..3]) are read too if `unfinished`
// (a scan of the unfinished jobs); a running engine leaves them out and counts the jobs it
// holds in memory instead (Engine::QueueStats).
Result<std::vector<QueueCounts>> CountByQueue(store::Txn& txn, bool unfinished);

}  // namespace herald::engine::table
