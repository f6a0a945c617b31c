#include "engine/scheduler.h"

#include <algorithm>
#include <deque>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "core/log.h"
#include "core/strings.h"
#include "engine/cron.h"
#include "engine/job_table.h"

namespace herald::engine {
namespace {

using store::Row;
using store::Txn;
using store::Value;
using table::FromMicros;
using table::ToMicros;

constexpr store::Migration kMigrations[] = {
    {1, "schedules", R"sql(
CREATE TABLE schedules (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  cron         TEXT NOT NULL,
  timezone     TEXT NOT NULL,
  queue        TEXT NOT NULL,
  job_type     TEXT NOT NULL,
  payload      TEXT NOT NULL,
  priority     INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  timeout_ms   INTEGER NOT NULL,
  misfire      TEXT NOT NULL,
  enabled      INTEGER NOT NULL,
  next_fire_at INTEGER,
  last_fire_at INTEGER,
  fires        INTEGER NOT NULL DEFAULT 0,
  misfires     INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL
);
CREATE TABLE schedule_fires (
  schedule_id TEXT NOT NULL,
  slot        INTEGER NOT NULL,
  job_id      TEXT NOT NULL,
  fired_at    INTEGER NOT NULL,
  PRIMARY KEY (schedule_id, slot)
);
)sql"},
    {2, "schedules keep the whole job", R"sql(
ALTER TABLE schedules ADD COLUMN backoff TEXT;
ALTER TABLE schedules ADD COLUMN unique_key TEXT;
ALTER TABLE schedules ADD COLUMN unique_for_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedules ADD COLUMN on_conflict TEXT NOT NULL DEFAULT 'drop';
ALTER TABLE schedules ADD COLUMN group_key TEXT;
)sql"},
};

constexpr std::string_view kColumns =
    "id, name, cron, timezone, queue, job_type, payload, priority, max_attempts, timeout_ms,"
    " misfire, enabled, next_fire_at, last_fire_at, fires, misfires, created_at, backoff,"
    " unique_key, unique_for_ms, on_conflict, group_key";

// Slots examined per schedule per tick; beyond this (a per-second schedule after a long
// outage) the rest of the backlog counts as misfired without being enumerated.
constexpr int kMaxScan = 100'000;

Result<Schedule> FromRow(const Row& r) {
  Schedule s;
  HERALD_ASSIGN_OR_RETURN(s.id, core::Id::Parse(r.Text(0)));
  s.spec.name = r.Text(1);
  s.spec.cron = r.Text(2);
  s.spec.timezone = r.Text(3);
  s.spec.job.queue = r.Text(4);
  s.spec.job.type = r.Text(5);
  s.spec.job.payload = r.Text(6);
  s.spec.job.priority = static_cast<int>(r.Int(7));
  s.spec.job.max_attempts = static_cast<int>(r.Int(8));
  s.spec.job.timeout = absl::Milliseconds(r.Int(9));
  HERALD_ASSIGN_OR_RETURN(s.spec.misfire, ParseMisfire(r.Text(10)));
  s.spec.enabled = r.Int(11) != 0;
  if (!r.IsNull(12)) s.next_fire_at = FromMicros(r.Int(12));
  if (!r.IsNull(13)) s.last_fire_at = FromMicros(r.Int(13));
  s.fires = r.Int(14);
  s.misfires = r.Int(15);
  s.created_at = FromMicros(r.Int(16));
  if (!r.IsNull(17)) {
    HERALD_ASSIGN_OR_RETURN(s.spec.job.backoff, Backoff::Decode(r.Text(17)));
  }
  s.spec.job.unique_key = r.Text(18);
  s.spec.job.unique_for = absl::Milliseconds(r.Int(19));
  s.spec.job.on_conflict =
      r.Text(20) == "replace" ? UniqueConflict::kReplace : UniqueConflict::kDrop;
  s.spec.job.group_key = r.Text(21);
  return s;
}

// A schedule with its parsed expression and zone.
struct Entry {
  Schedule s;
  CronExpr expr;
  absl::TimeZone tz;
  absl::Time not_before = absl::InfinitePast();  // after a failed firing: try again then
};

// How long a schedule whose firing failed waits before the next try.
constexpr absl::Duration kRetryFiring = absl::Seconds(5);

Result<Entry> Compile(Schedule s) {
  auto expr = CronExpr::Parse(s.spec.cron);
  if (!expr.ok()) return absl::InvalidArgumentError(StrCat("cron: ", expr.status().message()));
  auto tz = LoadZone(s.spec.timezone);
  if (!tz.ok()) return absl::InvalidArgumentError(StrCat("timezone: ", tz.status().message()));
  return Entry{std::move(s), std::move(*expr), *tz};
}

}  // namespace

std::string_view MisfireName(Misfire m) {
  switch (m) {
    case Misfire::kSkip:
      return "skip";
    case Misfire::kFireOnce:
      return "fire_once";
    case Misfire::kFireAll:
      return "fire_all";
  }
  return "fire_once";
}

Result<Misfire> ParseMisfire(std::string_view name) {
  if (name == "skip") return Misfire::kSkip;
  if (name == "fire_once") return Misfire::kFireOnce;
  if (name == "fire_all") return Misfire::kFireAll;
  return absl::InvalidArgumentError(
      StrCat("misfire: '", name, "' is not one of skip, fire_once, fire_all"));
}

class Scheduler::Impl {
 public:
  Impl(store::Store& store, Engine& engine, const core::Clock& clock,
       const core::Config::Scheduler& config)
      : store_(store), engine_(engine), clock_(clock), config_(config) {}

  ~Impl() { Stop(); }

  Status Start(bool thread) {
    HERALD_RETURN_IF_ERROR(Reload());
    listener_ = store_.AddExternalChangeListener([this] {
      Status st = Reload();
      if (!st.ok()) core::LogError("scheduler: reloading schedules failed", {{"error", st}});
    });
    if (thread) {
      thread_ = std::thread([this] { Loop(); });
      absl::MutexLock l(&mu_);
      looping_ = true;
    }
    return absl::OkStatus();
  }

  bool Running() const {
    absl::MutexLock l(&mu_);
    return looping_ && !stopping_;
  }

  void Stop() {
    if (listener_ != 0) store_.RemoveExternalChangeListener(listener_);
    listener_ = 0;
    {
      absl::MutexLock l(&mu_);
      stopping_ = true;
      cv_.SignalAll();
    }
    if (thread_.joinable()) thread_.join();
  }

  Status Validate(const ScheduleSpec& spec) {
    if (!IsValidName(spec.name)) {
      return absl::InvalidArgumentError(
          StrCat("name: must be 1-", kMaxNameLength, " characters of [A-Za-z0-9_.:-]"));
    }
    if (!engine_.HasHandler(spec.job.type)) {
      return absl::InvalidArgumentError(
          StrCat("type: no handler is registered for job type '", spec.job.type, "'"));
    }
    return ValidateSpec(spec.job, 1 << 20);
  }

  Result<Schedule> Update(std::string_view key, const ScheduleSpec& spec) {
    HERALD_ASSIGN_OR_RETURN(Schedule s, Get(key));
    if (spec.name != s.spec.name) return absl::InvalidArgumentError("name: cannot be changed");
    HERALD_RETURN_IF_ERROR(Validate(spec));
    s.spec = spec;
    HERALD_ASSIGN_OR_RETURN(Entry e, Compile(s));
    // The next slot is recomputed from now: slots of the old expression are not owed.
    e.s.next_fire_at = e.expr.Next(clock_.Now(), e.tz);
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      std::string id = e.s.id.ToString();
      HERALD_RETURN_IF_ERROR(txn.Exec("DELETE FROM schedules WHERE id = ?", {id}).status());
      return Insert(txn, e.s);
    }));
    Schedule out = e.s;
    absl::MutexLock l(&mu_);
    Put(std::move(e));
    return out;
  }

  Result<Schedule> Add(const ScheduleSpec& spec) {
    HERALD_RETURN_IF_ERROR(Validate(spec));
    absl::Time now = clock_.Now();
    Schedule s;
    s.id = ids_.Next();
    s.spec = spec;
    s.created_at = now;
    HERALD_ASSIGN_OR_RETURN(Entry e, Compile(s));
    e.s.next_fire_at = e.expr.Next(now, e.tz);
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      Status st = Insert(txn, e.s);
      if (st.code() == absl::StatusCode::kAlreadyExists) {
        return absl::AlreadyExistsError(StrCat("a schedule named '", spec.name, "' exists"));
      }
      return st;
    }));
    Schedule out = e.s;
    {
      absl::MutexLock l(&mu_);
      Put(std::move(e));
    }
    return out;
  }

  Status Remove(std::string_view key) {
    HERALD_ASSIGN_OR_RETURN(Schedule s, Get(key));
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      std::string id = s.id.ToString();
      HERALD_RETURN_IF_ERROR(txn.Exec("DELETE FROM schedules WHERE id = ?", {id}).status());
      return txn.Exec("DELETE FROM schedule_fires WHERE schedule_id = ?", {id}).status();
    }));
    absl::MutexLock l(&mu_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& e) { return e.s.id == s.id; }),
                   entries_.end());
    return absl::OkStatus();
  }

  Status SetEnabled(std::string_view key, bool enabled) {
    HERALD_ASSIGN_OR_RETURN(Schedule s, Get(key));
    std::string id = s.id.ToString();
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) {
      return txn.Exec("UPDATE schedules SET enabled = ? WHERE id = ?", {int64_t{enabled}, id})
          .status();
    }));
    absl::MutexLock l(&mu_);
    for (Entry& e : entries_) {
      if (e.s.id == s.id) e.s.spec.enabled = enabled;
    }
    cv_.SignalAll();
    return absl::OkStatus();
  }

  Result<std::vector<Schedule>> List() {
    std::vector<Schedule> out;
    static const std::string kSql = StrCat("SELECT ", kColumns, " FROM schedules ORDER BY name");
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) { return Query(txn, kSql, {}, out); }));
    return out;
  }

  Result<Schedule> Get(std::string_view key) {
    std::vector<Schedule> out;
    static const std::string kSql =
        StrCat("SELECT ", kColumns, " FROM schedules WHERE name = ?1 OR id = ?1");
    const Value params[] = {key};
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) { return Query(txn, kSql, params, out); }));
    if (out.empty()) return absl::NotFoundError(StrCat("no schedule '", key, "'"));
    return out.front();
  }

  Result<std::vector<absl::Time>> NextRuns(std::string_view key, int n) {
    HERALD_ASSIGN_OR_RETURN(Schedule s, Get(key));
    HERALD_ASSIGN_OR_RETURN(Entry e, Compile(std::move(s)));
    return e.expr.NextN(clock_.Now(), e.tz, std::clamp(n, 1, 1000));
  }

  int Tick() {
    absl::Time now = clock_.Now();
    std::vector<Entry> due;
    {
      absl::MutexLock l(&mu_);
      for (const Entry& e : entries_) {
        if (e.s.spec.enabled && e.s.next_fire_at && *e.s.next_fire_at <= now &&
            e.not_before <= now) {
          due.push_back(e);
        }
      }
    }
    int fired = 0;
    for (Entry& e : due) {
      auto n = Fire(e, now);
      if (n.ok()) {
        fired += *n;
      } else {
        core::LogError(
            "scheduler: firing a schedule failed; will try again",
            {{"schedule", e.s.spec.name}, {"error", n.status()}, {"retry_in", kRetryFiring}});
        absl::MutexLock l(&mu_);
        for (Entry& cur : entries_) {
          if (cur.s.id == e.s.id) cur.not_before = now + kRetryFiring;
        }
      }
    }
    return fired;
  }

 private:
  static Status Insert(Txn& txn, const Schedule& s) {
    std::string id = s.id.ToString();
    std::string backoff = s.spec.job.backoff.Encode();
    const Value params[] = {
        id,
        s.spec.name,
        s.spec.cron,
        s.spec.timezone,
        s.spec.job.queue,
        s.spec.job.type,
        s.spec.job.payload,
        int64_t{s.spec.job.priority},
        int64_t{s.spec.job.max_attempts},
        absl::ToInt64Milliseconds(s.spec.job.timeout),
        MisfireName(s.spec.misfire),
        int64_t{s.spec.enabled},
        s.next_fire_at ? Value(ToMicros(*s.next_fire_at)) : Value(),
        s.last_fire_at ? Value(ToMicros(*s.last_fire_at)) : Value(),
        s.fires,
        s.misfires,
        ToMicros(s.created_at),
        backoff,
        s.spec.job.unique_key.empty() ? Value() : Value(s.spec.job.unique_key),
        absl::ToInt64Milliseconds(s.spec.job.unique_for),
        s.spec.job.on_conflict == UniqueConflict::kReplace ? "replace" : "drop",
        s.spec.job.group_key.empty() ? Value() : Value(s.spec.job.group_key),
    };
    static const std::string kSql =
        StrCat("INSERT INTO schedules (", kColumns,
               ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    return txn.Exec(kSql, params).status();
  }

  static Status Query(Txn& txn, std::string_view sql, std::span<const Value> params,
                      std::vector<Schedule>& out) {
    HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Schedule>(txn, sql, params, FromRow));
    return absl::OkStatus();
  }

  void Put(Entry e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (Entry& old : entries_) {
      if (old.s.id == e.s.id) {
        old = std::move(e);
        cv_.SignalAll();
        return;
      }
    }
    entries_.push_back(std::move(e));
    cv_.SignalAll();
  }

  Status Reload() {
    HERALD_ASSIGN_OR_RETURN(std::vector<Schedule> all, List());
    std::vector<Entry> entries;
    for (Schedule& s : all) {
      std::string name = s.spec.name;
      auto e = Compile(std::move(s));
      if (!e.ok()) {
        core::LogError("scheduler: a schedule cannot be loaded",
                       {{"schedule", name}, {"error", e.status()}});
        continue;
      }
      entries.push_back(std::move(*e));
    }
    absl::MutexLock l(&mu_);
    entries_ = std::move(entries);
    cv_.SignalAll();
    return absl::OkStatus();
  }

  // Fires the due slots of one schedule according to its misfire policy, in one transaction.
  Result<int> Fire(Entry& e, absl::Time now) {
    std::deque<absl::Time> missed;  // the latest max_catchup missed slots
    std::vector<absl::Time> on_time;
    int64_t missed_count = 0;
    std::optional<absl::Time> t = e.s.next_fire_at;
    int scanned = 0;
    while (t && *t <= now && scanned++ < kMaxScan) {
      if (now - *t <= config_.misfire_grace) {
        on_time.push_back(*t);
      } else {
        missed_count++;
        missed.push_back(*t);
        if (static_cast<int>(missed.size()) > config_.max_catchup) missed.pop_front();
      }
      t = e.expr.Next(*t, e.tz);
    }
    if (t && *t <= now) {  // backlog larger than we enumerate: count it as missed
      missed_count++;
      t = e.expr.Next(now, e.tz);
    }
    std::vector<absl::Time> fire;
    switch (e.s.spec.misfire) {
      case Misfire::kSkip:
        break;
      case Misfire::kFireOnce:
        if (on_time.empty() && !missed.empty()) fire.push_back(missed.back());
        break;
      case Misfire::kFireAll:
        fire.assign(missed.begin(), missed.end());
        break;
    }
    fire.insert(fire.end(), on_time.begin(), on_time.end());
    int64_t skipped = missed_count - static_cast<int64_t>(fire.size() - on_time.size());
    if (skipped > 0) {
      core::LogWarn("scheduler: slots missed", {{"schedule", e.s.spec.name},
                                                {"missed", missed_count},
                                                {"policy", MisfireName(e.s.spec.misfire)},
                                                {"skipped", skipped}});
    }

    std::string id = e.s.id.ToString();
    int64_t expected = ToMicros(*e.s.next_fire_at);
    int enqueued = 0;
    bool advanced = false;
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      enqueued = 0;
      HERALD_ASSIGN_OR_RETURN(
          int64_t changed,
          txn.Exec(
              "UPDATE schedules SET next_fire_at = ?, last_fire_at = coalesce(?, last_fire_at),"
              " fires = fires + ?, misfires = misfires + ?"
              " WHERE id = ? AND next_fire_at = ? AND enabled = 1",
              {t ? Value(ToMicros(*t)) : Value(),
               fire.empty() ? Value() : Value(ToMicros(fire.back())),
               static_cast<int64_t>(fire.size()), skipped, id, expected}));
      advanced = changed > 0;
      if (!advanced) return absl::OkStatus();  // changed meanwhile (another process): reload
      for (absl::Time slot : fire) {
        // Claim the slot first: a slot another scheduler already fired is left alone.
        HERALD_ASSIGN_OR_RETURN(
            int64_t claimed,
            txn.Exec("INSERT INTO schedule_fires (schedule_id, slot, job_id, fired_at)"
                     " VALUES (?, ?, '', ?) ON CONFLICT DO NOTHING",
                     {id, ToMicros(slot), ToMicros(now)}));
        if (claimed == 0) continue;
        JobSpec job = e.s.spec.job;
        job.run_at = slot;
        job.delay = absl::ZeroDuration();
        HERALD_ASSIGN_OR_RETURN(EnqueueResult r, engine_.Enqueue(txn, job));
        std::string job_id = r.id.ToString();
        HERALD_RETURN_IF_ERROR(
            txn.Exec("UPDATE schedule_fires SET job_id = ? WHERE schedule_id = ? AND slot = ?",
                     {job_id, id, ToMicros(slot)})
                .status());
        enqueued++;
      }
      return absl::OkStatus();
    }));
    if (!advanced) {
      HERALD_RETURN_IF_ERROR(Reload());
      return 0;
    }
    absl::MutexLock l(&mu_);
    for (Entry& cur : entries_) {
      if (cur.s.id == e.s.id) {
        cur.s.next_fire_at = t;
        if (!fire.empty()) cur.s.last_fire_at = fire.back();
        cur.s.fires += static_cast<int64_t>(fire.size());
        cur.s.misfires += skipped;
      }
    }
    return enqueued;
  }

  void Loop() {
    absl::MutexLock l(&mu_);
    while (!stopping_) {
      absl::Time next = absl::InfiniteFuture();
      for (const Entry& e : entries_) {
        if (e.s.spec.enabled && e.s.next_fire_at) {
          next = std::min(next, std::max(*e.s.next_fire_at, e.not_before));
        }
      }
      if (clock_.Now() < next) {
        clock_.WaitUntil(mu_, cv_, next);
        continue;
      }
      mu_.Unlock();
      Tick();
      mu_.Lock();
    }
  }

  store::Store& store_;
  Engine& engine_;
  const core::Clock& clock_;
  const core::Config::Scheduler config_;
  core::IdGenerator ids_{clock_};
  int listener_ = 0;  // external-change listener handle; set by Start, cleared by Stop

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool looping_ ABSL_GUARDED_BY(mu_) = false;  // the firing thread was started
  std::thread thread_;
};

Status Scheduler::Migrate(store::Store& store) { return store.Migrate("scheduler", kMigrations); }

Result<std::unique_ptr<Scheduler>> Scheduler::Create(store::Store& store, Engine& engine,
                                                     const core::Clock& clock,
                                                     const core::Config::Scheduler& config) {
  return std::unique_ptr<Scheduler>(
      new Scheduler(std::make_unique<Impl>(store, engine, clock, config)));
}

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Scheduler::~Scheduler() = default;

Result<Schedule> Scheduler::Add(const ScheduleSpec& spec) { return impl_->Add(spec); }
Status Scheduler::Remove(std::string_view key) { return impl_->Remove(key); }
Result<Schedule> Scheduler::Update(std::string_view key, const ScheduleSpec& spec) {
  return impl_->Update(key, spec);
}
Status Scheduler::SetEnabled(std::string_view key, bool enabled) {
  return impl_->SetEnabled(key, enabled);
}
Result<std::vector<Schedule>> Scheduler::List() { return impl_->List(); }
Result<Schedule> Scheduler::Get(std::string_view key) { return impl_->Get(key); }
Result<std::vector<absl::Time>> Scheduler::NextRuns(std::string_view key, int n) {
  return impl_->NextRuns(key, n);
}
Status Scheduler::Start(bool thread) { return impl_->Start(thread); }
void Scheduler::Stop() { impl_->Stop(); }
bool Scheduler::Running() const { return impl_->Running(); }
int Scheduler::Tick() { return impl_->Tick(); }

}  // namespace herald::engine
