#include "engine/job_table.h"

#include <map>

#include "core/strings.h"

namespace herald::engine::table {
namespace {

using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "jobs", R"sql(
CREATE TABLE jobs (
  id           TEXT PRIMARY KEY,
  queue        TEXT NOT NULL,
  type         TEXT NOT NULL,
  payload      TEXT NOT NULL,
  priority     INTEGER NOT NULL DEFAULT 0,
  state        INTEGER NOT NULL,
  run_at       INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  started_at   INTEGER,
  finished_at  INTEGER,
  lease_until  INTEGER,
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff      TEXT NOT NULL,
  timeout_ms   INTEGER NOT NULL,
  unique_key   TEXT,
  group_key    TEXT,
  last_error   TEXT,
  progress     INTEGER NOT NULL DEFAULT 0,
  result       TEXT
);
CREATE INDEX jobs_unfinished ON jobs (run_at) WHERE state < 4;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state >= 4;
CREATE TABLE job_unique (
  key        TEXT PRIMARY KEY,
  job_id     TEXT NOT NULL,
  expires_at INTEGER
);
CREATE TABLE queues (
  name   TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE queue_counters (
  queue     TEXT PRIMARY KEY,
  succeeded INTEGER NOT NULL DEFAULT 0,
  failed    INTEGER NOT NULL DEFAULT 0,
  dead      INTEGER NOT NULL DEFAULT 0
);
)sql"},
    // Counts of finished jobs (state >= 4) per queue and state, kept in the transaction of
    // every change (FinishedTally): queue statistics never scan the retained history.
    // (Triggers would keep them too, but a statement with a trigger needs a statement
    // journal, and releasing it in the engine's large flush transactions made flushes 50
    // times slower.)
    {2, "finished_counts", R"sql(
CREATE TABLE finished_counts (
  queue TEXT NOT NULL,
  state INTEGER NOT NULL,
  n     INTEGER NOT NULL,
  PRIMARY KEY (queue, state)
) WITHOUT ROWID;
INSERT INTO finished_counts (queue, state, n)
  SELECT queue, state, count(*) FROM jobs WHERE state >= 4 GROUP BY queue, state;
)sql"},
};

constexpr std::string_view kColumns =
    "id, queue, type, payload, priority, state, run_at, created_at, started_at, finished_at, "
    "lease_until, attempts, max_attempts, backoff, timeout_ms, unique_key, group_key, "
    "last_error, progress, result";

Value OptText(std::string_view s) { return s.empty() ? Value(std::monostate()) : Value(s); }

Result<Job> FromRow(const Row& r) {
  Job j;
  HERALD_ASSIGN_OR_RETURN(j.id, core::Id::Parse(r.Text(0)));
  j.queue = r.Text(1);
  j.type = r.Text(2);
  j.payload = r.Text(3);
  j.priority = static_cast<int>(r.Int(4));
  int state = static_cast<int>(r.Int(5));
  if (state < 0 || state > 6) return absl::DataLossError(StrCat("job with bad state ", state));
  j.state = static_cast<JobState>(state);
  j.run_at = FromMicros(r.Int(6));
  j.created_at = FromMicros(r.Int(7));
  j.started_at = RowTime(r, 8);
  j.finished_at = RowTime(r, 9);
  j.lease_until = RowTime(r, 10);
  j.attempts = static_cast<int>(r.Int(11));
  j.max_attempts = static_cast<int>(r.Int(12));
  HERALD_ASSIGN_OR_RETURN(j.backoff, Backoff::Decode(r.Text(13)));
  j.timeout = absl::Milliseconds(r.Int(14));
  j.unique_key = r.Text(15);
  j.group_key = r.Text(16);
  j.last_error = r.Text(17);
  j.progress = static_cast<int>(r.Int(18));
  j.result = r.Text(19);
  return j;
}

// Runs a query whose rows are whole jobs.
Status QueryJobs(Txn& txn, std::string_view sql, std::span<const Value> params,
                 const std::function<void(Job&&)>& fn) {
  return store::QueryEach(txn, sql, params, FromRow, [&](Job&& j) {
    fn(std::move(j));
    return true;
  });
}

Result<core::Id> IdFromRow(const Row& r) { return core::Id::Parse(r.Text(0)); }

}  // namespace

std::span<const store::Migration> Migrations() { return kMigrations; }

Value OptTime(const std::optional<absl::Time>& t) {
  return t ? Value(ToMicros(*t)) : Value(std::monostate());
}

std::optional<absl::Time> RowTime(const Row& r, int col) {
  if (r.IsNull(col)) return std::nullopt;
  return FromMicros(r.Int(col));
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

Status Insert(Txn& txn, const Job& j) {
  std::string id = j.id.ToString();
  std::string backoff = j.backoff.Encode();
  static const std::string kSql =
      StrCat("INSERT INTO jobs (", kColumns,
             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const Value params[] = {id,
                          j.queue,
                          j.type,
                          j.payload,
                          int64_t{j.priority},
                          int64_t{static_cast<int>(j.state)},
                          ToMicros(j.run_at),
                          ToMicros(j.created_at),
                          OptTime(j.started_at),
                          OptTime(j.finished_at),
                          OptTime(j.lease_until),
                          int64_t{j.attempts},
                          int64_t{j.max_attempts},
                          backoff,
                          absl::ToInt64Milliseconds(j.timeout),
                          OptText(j.unique_key),
                          OptText(j.group_key),
                          OptText(j.last_error),
                          int64_t{j.progress},
                          OptText(j.result)};
  return txn.Exec(kSql, params).status();
}

Result<std::optional<Job>> Get(Txn& txn, const core::Id& id) {
  static const std::string kSql = StrCat("SELECT ", kColumns, " FROM jobs WHERE id = ?");
  std::string key = id.ToString();
  const Value params[] = {key};
  std::optional<Job> out;
  HERALD_RETURN_IF_ERROR(QueryJobs(txn, kSql, params, [&](Job&& j) { out = std::move(j); }));
  return out;
}

Result<std::vector<Job>> List(Txn& txn, const ListFilter& f) {
  // One statement with optional filters: "? IS NULL OR column = ?" keeps the SQL constant,
  // so it is prepared once.
  static const std::string kSql =
      StrCat("SELECT ", kColumns,
             " FROM jobs WHERE (?1 IS NULL OR queue = ?1) AND (?2 IS NULL OR type = ?2)"
             " AND (?3 IS NULL OR state = ?3) AND (?4 IS NULL OR created_at >= ?4)"
             " AND (?5 IS NULL OR created_at < ?5) AND (?6 IS NULL OR id > ?6)"
             " ORDER BY id LIMIT ?7");
  std::string after = f.after ? f.after->ToString() : "";
  const Value params[] = {
      f.queue ? Value(std::string_view(*f.queue)) : Value(),
      f.type ? Value(std::string_view(*f.type)) : Value(),
      f.state ? Value(int64_t{static_cast<int>(*f.state)}) : Value(),
      OptTime(f.created_from),
      OptTime(f.created_to),
      f.after ? Value(std::string_view(after)) : Value(),
      int64_t{std::clamp(f.limit, 1, 1000)},
  };
  std::vector<Job> out;
  HERALD_RETURN_IF_ERROR(
      QueryJobs(txn, kSql, params, [&](Job&& j) { out.push_back(std::move(j)); }));
  return out;
}

Status ForEachUnfinished(Txn& txn, const std::function<void(Job&&)>& fn) {
  static const std::string kSql = StrCat("SELECT ", kColumns, " FROM jobs WHERE state < 4");
  return QueryJobs(txn, kSql, {}, fn);
}

void FinishedTally::Add(std::string_view queue, JobState state, int64_t delta) {
  if (!IsFinished(state) || delta == 0) return;
  deltas_[{std::string(queue), state}] += delta;
}

Status FinishedTally::Write(Txn& txn) {
  for (const auto& [key, n] : deltas_) {
    if (n == 0) continue;
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO finished_counts (queue, state, n) VALUES (?1, ?2, ?3)"
                 " ON CONFLICT (queue, state) DO UPDATE SET n = n + ?3",
                 {key.first, int64_t{static_cast<int>(key.second)}, n})
            .status());
  }
  deltas_.clear();
  return absl::OkStatus();
}

Result<bool> Apply(Txn& txn, const Update& u, FinishedTally& tally) {
  std::string id = u.id.ToString();
  const Value params[] = {int64_t{static_cast<int>(u.state)},
                          int64_t{u.attempts},
                          ToMicros(u.run_at),
                          OptTime(u.started_at),
                          OptTime(u.finished_at),
                          OptTime(u.lease_until),
                          OptText(u.last_error),
                          int64_t{u.progress},
                          OptText(u.result),
                          id};
  HERALD_ASSIGN_OR_RETURN(
      int64_t changed,
      txn.Exec(
          "UPDATE jobs SET state = ?, attempts = ?, run_at = ?, started_at = ?,"
          " finished_at = ?, lease_until = ?, last_error = coalesce(?, last_error), progress = ?,"
          " result = ?"
          " WHERE id = ? AND state < 4",
          params));
  if (changed > 0) tally.Add(u.queue, u.state, 1);  // the row was unfinished (state < 4)
  if (changed > 0 && IsFinished(u.state) && !u.unique_key.empty()) {
    HERALD_RETURN_IF_ERROR(
        txn.Exec("DELETE FROM job_unique WHERE key = ? AND job_id = ? AND expires_at IS NULL",
                 {u.unique_key, id})
            .status());
  }
  return changed > 0;
}

Status AddCounters(Txn& txn, std::string_view queue, int64_t succeeded, int64_t failed,
                   int64_t dead) {
  return txn
      .Exec(
          "INSERT INTO queue_counters (queue, succeeded, failed, dead) VALUES (?1, ?2, ?3, ?4)"
          " ON CONFLICT (queue) DO UPDATE SET succeeded = succeeded + ?2,"
          " failed = failed + ?3, dead = dead + ?4",
          {queue, succeeded, failed, dead})
      .status();
}

Result<std::optional<core::Id>> UniqueHolder(Txn& txn, std::string_view key, absl::Time now) {
  std::optional<core::Id> holder;
  const Value params[] = {key, ToMicros(now)};
  HERALD_RETURN_IF_ERROR(store::QueryEach(
      txn, "SELECT job_id FROM job_unique WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
      params, IdFromRow, [&](core::Id&& id) {
        holder = id;
        return false;
      }));
  return holder;
}

Status HoldUnique(Txn& txn, std::string_view key, const core::Id& job_id,
                  std::optional<absl::Time> expires) {
  std::string id = job_id.ToString();
  return txn
      .Exec(
          "INSERT INTO job_unique (key, job_id, expires_at) VALUES (?1, ?2, ?3)"
          " ON CONFLICT (key) DO UPDATE SET job_id = ?2, expires_at = ?3",
          {key, id, OptTime(expires)})
      .status();
}

Result<bool> Cancel(Txn& txn, const core::Id& id, absl::Time now) {
  std::string key = id.ToString();
  std::string queue;
  bool changed = false;
  HERALD_RETURN_IF_ERROR(
      txn.Query("UPDATE jobs SET state = 6, finished_at = ?, last_error = 'cancelled'"
                " WHERE id = ? AND state < 4 RETURNING queue",
                {ToMicros(now), key}, [&](const Row& r) {
                  queue = r.Text(0);
                  changed = true;
                  return true;
                }));
  if (!changed) return false;
  FinishedTally tally;
  tally.Add(queue, JobState::kCancelled, 1);
  HERALD_RETURN_IF_ERROR(tally.Write(txn));
  HERALD_RETURN_IF_ERROR(
      txn.Exec("DELETE FROM job_unique WHERE job_id = ? AND expires_at IS NULL", {key}).status());
  return true;
}

Result<bool> Retry(Txn& txn, const core::Id& id, absl::Time now) {
  std::string key = id.ToString();
  FinishedTally tally;
  HERALD_RETURN_IF_ERROR(txn.Query("SELECT queue, state FROM jobs WHERE id = ? AND state IN (5, 6)",
                                   {key}, [&](const Row& r) {
                                     tally.Add(r.Text(0), static_cast<JobState>(r.Int(1)), -1);
                                     return true;
                                   }));
  if (tally.empty()) return false;
  HERALD_ASSIGN_OR_RETURN(
      int64_t changed,
      txn.Exec("UPDATE jobs SET state = 1, attempts = 0, run_at = ?, started_at = NULL,"
               " finished_at = NULL, lease_until = NULL"
               " WHERE id = ? AND state IN (5, 6)",
               {ToMicros(now), key}));
  HERALD_RETURN_IF_ERROR(tally.Write(txn));
  return changed > 0;
}

Result<std::vector<core::Id>> DeadJobs(Txn& txn, std::string_view queue) {
  const Value params[] = {queue};
  return store::QueryAll<core::Id>(
      txn, "SELECT id FROM jobs WHERE queue = ? AND state = 5 ORDER BY id", params, IdFromRow);
}

namespace {
// Runs a DELETE ... RETURNING queue, state and takes the deleted rows off the counts.
Result<int64_t> DeleteCounted(Txn& txn, std::string_view sql, std::span<const Value> params) {
  FinishedTally tally;
  int64_t n = 0;
  HERALD_RETURN_IF_ERROR(txn.Query(sql, params, [&](const Row& r) {
    tally.Add(r.Text(0), static_cast<JobState>(r.Int(1)), -1);
    ++n;
    return true;
  }));
  HERALD_RETURN_IF_ERROR(tally.Write(txn));
  return n;
}
}  // namespace

Result<bool> Delete(Txn& txn, const core::Id& id) {
  const std::string key = id.ToString();
  const Value params[] = {key};
  HERALD_ASSIGN_OR_RETURN(
      int64_t n,
      DeleteCounted(txn, "DELETE FROM jobs WHERE id = ? AND state >= 4 RETURNING queue, state",
                    params));
  return n > 0;
}

Result<int64_t> DeleteDead(Txn& txn, std::string_view queue) {
  const Value params[] = {queue};
  return DeleteCounted(txn, "DELETE FROM jobs WHERE queue = ? AND state = 5 RETURNING queue, state",
                       params);
}

Result<int64_t> Prune(Txn& txn, absl::Time succeeded_before, absl::Time failed_before, int limit) {
  const Value ok_params[] = {ToMicros(succeeded_before), int64_t{limit}};
  HERALD_ASSIGN_OR_RETURN(int64_t succeeded,
                          DeleteCounted(txn,
                                        "DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs"
                                        " WHERE state >= 4 AND finished_at < ? AND state = 4"
                                        " LIMIT ?) RETURNING queue, state",
                                        ok_params));
  const Value failed_params[] = {ToMicros(failed_before), int64_t{limit}};
  HERALD_ASSIGN_OR_RETURN(int64_t failed,
                          DeleteCounted(txn,
                                        "DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs"
                                        " WHERE state >= 4 AND finished_at < ? AND state IN (5, 6)"
                                        " LIMIT ?) RETURNING queue, state",
                                        failed_params));
  HERALD_RETURN_IF_ERROR(
      txn.Exec("DELETE FROM job_unique WHERE expires_at IS NOT NULL AND expires_at < ?",
               {ToMicros(std::min(succeeded_before, failed_before))})
          .status());
  return succeeded + failed;
}

Status SetPaused(Txn& txn, std::string_view queue, bool paused) {
  return txn
      .Exec(
          "INSERT INTO queues (name, paused) VALUES (?1, ?2)"
          " ON CONFLICT (name) DO UPDATE SET paused = ?2",
          {queue, int64_t{paused ? 1 : 0}})
      .status();
}

Result<std::vector<std::string>> PausedQueues(Txn& txn) {
  std::vector<std::string> out;
  HERALD_RETURN_IF_ERROR(
      txn.Query("SELECT name FROM queues WHERE paused = 1", {}, [&](const Row& r) {
        out.emplace_back(r.Text(0));
        return true;
      }));
  return out;
}

Result<std::vector<QueueCounts>> CountByQueue(Txn& txn, bool unfinished) {
  std::map<std::string, QueueCounts, std::less<>> by_queue;
  auto entry = [&](std::string_view q) -> QueueCounts& {
    auto it = by_queue.find(q);
    if (it == by_queue.end()) {
      it = by_queue.emplace(std::string(q), QueueCounts{}).first;
      it->second.queue = std::string(q);
    }
    return it->second;
  };
  HERALD_RETURN_IF_ERROR(
      txn.Query(unfinished ? "SELECT queue, state, count(*) FROM jobs WHERE state < 4"
                             " GROUP BY queue, state"
                             " UNION ALL SELECT queue, state, n FROM finished_counts WHERE n != 0"
                           : "SELECT queue, state, n FROM finished_counts WHERE n != 0",
                {}, [&](const Row& r) {
                  int state = static_cast<int>(r.Int(1));
                  if (state >= 0 && state < 7) entry(r.Text(0)).by_state[state] = r.Int(2);
                  return true;
                }));
  HERALD_RETURN_IF_ERROR(
      txn.Query("SELECT queue, succeeded, failed, dead FROM queue_counters", {}, [&](const Row& r) {
        QueueCounts& c = entry(r.Text(0));
        c.succeeded_total = r.Int(1);
        c.failed_total = r.Int(2);
        c.dead_total = r.Int(3);
        return true;
      }));
  HERALD_RETURN_IF_ERROR(txn.Query("SELECT name, paused FROM queues", {}, [&](const Row& r) {
    entry(r.Text(0)).paused = r.Int(1) != 0;
    return true;
  }));
  std::vector<QueueCounts> out;
  for (auto& [name, c] : by_queue) out.push_back(std::move(c));
  return out;
}

}  // namespace herald::engine::table
