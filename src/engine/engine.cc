#include "engine/engine.h"

#include <algorithm>
#include <array>
#include <deque>
#include <queue>
#include <random>
#include <thread>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/log.h"
#include "core/strings.h"
#include "engine/token_bucket.h"

namespace herald::engine {

bool IsPermanent(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

namespace {

// The retry backoff of a job, packed (the default one is shared by most jobs, but a job may
// carry its own).
struct PackedBackoff {
  uint32_t base_ms = 1000;
  uint32_t cap_ms = 3'600'000;
  uint8_t kind = 1;  // Backoff::Kind
  uint8_t jitter = 20;

  static PackedBackoff Pack(const Backoff& b) {
    auto ms = [](absl::Duration d) {
      return static_cast<uint32_t>(
          std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, UINT32_MAX));
    };
    return {ms(b.base), ms(b.cap), static_cast<uint8_t>(b.kind),
            static_cast<uint8_t>(std::clamp(b.jitter_percent, 0, 100))};
  }
  Backoff Unpack() const {
    Backoff b;
    b.kind = static_cast<Backoff::Kind>(kind);
    b.base = absl::Milliseconds(base_ms);
    b.cap = absl::Milliseconds(cap_ms);
    b.jitter_percent = jitter;
    return b;
  }
};

// An unfinished job held in memory. Kept small: a million queued jobs must fit in a few
// hundred megabytes, so times are microseconds and the rarely used keys live apart.
struct MemJob {
  struct Keys {
    std::string unique;  // held until the job finishes (expiring keys are not tracked)
    std::string group;
  };

  core::Id id;
  uint32_t queue = 0;  // index into Impl::queues_
  int32_t priority = 0;
  const std::string* type;  // interned
  std::string payload;
  int64_t run_us = 0;    // run_at
  int64_t ready_us = 0;  // when it became runnable: latency is measured from here
  int64_t started_us = 0;
  int64_t lease_us = 0;  // lease_until
  int64_t timeout_us = 0;
  uint64_t seq = 0;  // identifies the job's current heap entry or claim
  int32_t attempts = 0;
  int32_t max_attempts = 1;
  PackedBackoff backoff;
  JobState state = JobState::kAvailable;
  bool cancelled = false;  // the store says cancelled (by a user or another process)
  bool stopping = false;   // the server is shutting down: the handler should return
  int8_t progress = 0;
  std::unique_ptr<Keys> keys;  // null when the job has neither key

  static const std::string& Empty() {
    static const std::string* empty = new std::string();
    return *empty;
  }
  const std::string& unique_key() const { return keys ? keys->unique : Empty(); }
  const std::string& group_key() const { return keys ? keys->group : Empty(); }
  absl::Time run_at() const { return table::FromMicros(run_us); }
};

struct HeapEntry {
  int priority;
  int64_t run_us;
  uint64_t seq;
  core::Id id;
};
// Ready order: higher priority, then earlier run_at, then enqueue order.
struct ReadyLess {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    if (a.priority != b.priority) return a.priority < b.priority;
    if (a.run_us != b.run_us) return a.run_us > b.run_us;
    return a.seq > b.seq;
  }
};
// Timer order: earlier run_at first.
struct TimerLess {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    if (a.run_us != b.run_us) return a.run_us > b.run_us;
    return a.seq > b.seq;
  }
};

// Completions and failures per second over the last minute, for queue throughput.
class MinuteWindow {
 public:
  void Add(int64_t now_second, bool ok) {
    Advance(now_second);
    (ok ? completed_ : failed_)[now_second % 60]++;
  }
  std::pair<int64_t, int64_t> Sum(int64_t now_second) {
    Advance(now_second);
    int64_t c = 0, f = 0;
    for (int i = 0; i < 60; ++i) c += completed_[i], f += failed_[i];
    return {c, f};
  }

 private:
  void Advance(int64_t now_second) {
    if (now_second <= last_) return;
    for (int64_t s = std::max(last_ + 1, now_second - 59); s <= now_second; ++s) {
      completed_[s % 60] = failed_[s % 60] = 0;
    }
    last_ = now_second;
  }
  int64_t last_ = 0;
  std::array<int64_t, 60> completed_{}, failed_{};
};

struct QueueState {
  std::string name;
  MinuteWindow throughput;
  bool paused = false;
  int concurrency = 0;  // 0 = no cap
  int active = 0;       // handlers running now
  TokenBucket rate;
  core::RateLimit group_limit;
  absl::flat_hash_map<std::string, core::RateLimit> group_overrides;  // SetGroupRate
  absl::flat_hash_map<std::string, TokenBucket> group_rate;
  // Jobs held back by their group's rate limit, in arrival order, per group.
  absl::flat_hash_map<std::string, std::deque<HeapEntry>> parked;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, ReadyLess> ready;
};

// A claimed attempt, owned by the thread that runs it.
struct Claim {
  core::Id id;
  uint64_t seq;
  uint32_t queue;
  const std::string* type;
  std::string queue_name;
  std::string payload;
  int attempt;
  int max_attempts;
  const Handler* handler;  // null: no handler registered for the type
};

struct QueueCounterDelta {
  int64_t succeeded = 0, failed = 0, dead = 0;
};

constexpr size_t kLatencySamples = 1 << 16;

}  // namespace

class Engine::Impl {
 public:
  Impl(store::Store& store, const core::Clock& clock, const core::Config::Engine& config)
      : store_(store), clock_(clock), config_(config), rng_(std::random_device{}()) {
    latency_.reserve(kLatencySamples);
  }

  ~Impl() { Stop(absl::ZeroDuration()); }

  // --- registration ---------------------------------------------------------------------

  void RegisterHandler(std::string type, Handler h) {
    absl::MutexLock l(&mu_);
    handlers_[std::move(type)] = std::move(h);
  }
  bool HasHandler(std::string_view type) const {
    absl::MutexLock l(&mu_);
    return handlers_.contains(ToAbsl(type));
  }
  std::vector<std::string> HandlerTypes() const {
    absl::MutexLock l(&mu_);
    std::vector<std::string> out;
    for (const auto& [t, h] : handlers_) out.push_back(t);
    std::sort(out.begin(), out.end());
    return out;
  }
  void Subscribe(EventListener listener) {
    absl::MutexLock l(&events_mu_);
    listeners_.push_back(std::move(listener));
    has_listeners_.store(true, std::memory_order_release);
  }

  // --- lifecycle ------------------------------------------------------------------------

  Status Start(bool threads) {
    {
      absl::MutexLock l(&mu_);
      if (started_) return absl::FailedPreconditionError("engine already started");
    }
    HERALD_RETURN_IF_ERROR(Reload(/*startup=*/true));
    listener_ = store_.AddExternalChangeListener([this] {
      Status st = Reload(/*startup=*/false);
      if (!st.ok())
        core::LogError("engine: reloading after an external change failed", {{"error", st}});
    });
    absl::MutexLock l(&mu_);
    started_ = true;
    last_heartbeat_ = clock_.Now();
    last_prune_ = clock_.Now();
    event_thread_ = std::thread([this] { EventLoop(); });
    if (threads) {
      for (int i = 0; i < config_.workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
      maintenance_ = std::thread([this] { MaintenanceLoop(); });
    }
    return absl::OkStatus();
  }

  bool Running() const {
    absl::MutexLock l(&mu_);
    return started_ && !stopping_ && !workers_.empty();
  }

  void Stop(absl::Duration grace) {
    if (listener_ != 0) store_.RemoveExternalChangeListener(listener_);
    listener_ = 0;
    std::vector<std::thread> workers;
    std::thread maintenance;
    {
      absl::MutexLock l(&mu_);
      if (!started_ || stopping_) return;
      stopping_ = true;
      work_cv_.SignalAll();
      // Let running handlers finish within the grace period, then ask them to stop.
      absl::Time deadline = clock_.Now() + grace;
      while (active_ > 0 && clock_.Now() < deadline) clock_.WaitUntil(mu_, work_cv_, deadline);
      for (const core::Id& id : running_) {
        auto it = jobs_.find(id);
        if (it != jobs_.end()) it->second->stopping = true;
      }
      workers.swap(workers_);
      maintenance.swap(maintenance_);
    }
    for (auto& t : workers) t.join();
    if (maintenance.joinable()) maintenance.join();
    Flush().IgnoreError();
    {
      absl::MutexLock l(&events_mu_);
      events_stopping_ = true;
    }
    if (event_thread_.joinable()) event_thread_.join();
  }

  // --- enqueue --------------------------------------------------------------------------

  Result<Job> Prepare(const JobSpec& spec, absl::Time now) {
    HERALD_RETURN_IF_ERROR(ValidateSpec(spec, config_.max_payload_bytes));
    if (!HasHandler(spec.type)) {
      return absl::InvalidArgumentError(
          StrCat("type: no handler is registered for job type '", spec.type, "'"));
    }
    Job j;
    j.id = ids_.Next();
    j.queue = spec.queue;
    j.type = spec.type;
    j.payload = spec.payload;
    j.priority = spec.priority;
    j.created_at = now;
    j.run_at = spec.run_at ? *spec.run_at : now + spec.delay;
    j.state = j.run_at > now ? JobState::kScheduled : JobState::kAvailable;
    j.max_attempts = spec.max_attempts > 0 ? spec.max_attempts : config_.default_max_attempts;
    j.backoff = spec.backoff;
    j.timeout = spec.timeout > absl::ZeroDuration() ? spec.timeout : config_.default_timeout;
    j.unique_key = spec.unique_key;
    j.group_key = spec.group_key;
    return j;
  }

  // Writes `job` (prepared from `spec`) in `txn`, honouring its unique key.
  Result<EnqueueResult> InsertInTxn(store::Txn& txn, const JobSpec& spec, Job job, absl::Time now) {
    bool held_until_finished = spec.unique_for == absl::ZeroDuration();
    if (!job.unique_key.empty()) {
      HERALD_ASSIGN_OR_RETURN(auto holder, table::UniqueHolder(txn, job.unique_key, now));
      if (holder) {
        bool replaced = false;
        if (spec.on_conflict == UniqueConflict::kReplace) {
          HERALD_ASSIGN_OR_RETURN(auto existing, table::Get(txn, *holder));
          if (existing &&
              (existing->state == JobState::kScheduled || existing->state == JobState::kAvailable ||
               existing->state == JobState::kRetryable)) {
            HERALD_ASSIGN_OR_RETURN(replaced, table::Cancel(txn, *holder, now));
            if (replaced) {
              core::Id old = *holder;
              txn.OnCommit([this, old] { DropFromMemory(old); });
            }
          }
        }
        if (!replaced) return EnqueueResult{*holder, /*duplicate=*/true};
      }
      std::optional<absl::Time> expires;
      if (!held_until_finished) expires = now + spec.unique_for;
      HERALD_RETURN_IF_ERROR(table::HoldUnique(txn, job.unique_key, job.id, expires));
      if (!held_until_finished) job.unique_key.clear();  // nothing to release on finish
    }
    HERALD_RETURN_IF_ERROR(table::Insert(txn, job));
    EnqueueResult result{job.id, false};
    // The job row keeps the key for display; memory keeps it only if it must be released.
    std::string release_key = held_until_finished ? job.unique_key : std::string();
    auto shared = std::make_shared<Job>(std::move(job));
    shared->unique_key = release_key;
    txn.OnCommit([this, shared] { AddToMemory(std::move(*shared), clock_.Now()); });
    return result;
  }

  Result<std::vector<EnqueueResult>> EnqueueBatch(const std::vector<JobSpec>& specs) {
    absl::Time now = clock_.Now();
    std::vector<Job> jobs;
    jobs.reserve(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      auto job = Prepare(specs[i], now);
      if (!job.ok()) {
        if (specs.size() == 1) return job.status();
        return absl::Status(job.status().code(), StrCat("jobs[", i, "].", job.status().message()));
      }
      jobs.push_back(std::move(*job));
    }
    std::vector<EnqueueResult> results;
    results.reserve(specs.size());
    bool any_unique = std::any_of(specs.begin(), specs.end(),
                                  [](const JobSpec& s) { return !s.unique_key.empty(); });
    HERALD_RETURN_IF_ERROR(store_.Write([&](store::Txn& txn) -> Status {
      results.clear();
      if (!any_unique) return InsertPlain(txn, jobs, results);
      for (size_t i = 0; i < jobs.size(); ++i) {
        HERALD_ASSIGN_OR_RETURN(auto r, InsertInTxn(txn, specs[i], jobs[i], now));
        results.push_back(r);
      }
      return absl::OkStatus();
    }));
    return results;
  }

  // The fast path for a batch without unique keys: one commit callback for the whole batch.
  Status InsertPlain(store::Txn& txn, std::vector<Job>& jobs, std::vector<EnqueueResult>& out) {
    for (const Job& j : jobs) {
      HERALD_RETURN_IF_ERROR(table::Insert(txn, j));
      out.push_back({j.id, false});
    }
    txn.OnCommit([this, &jobs] {
      absl::Time now = clock_.Now();
      absl::MutexLock l(&mu_);
      for (Job& j : jobs) AddToMemoryLocked(std::move(j), now);
    });
    return absl::OkStatus();
  }

  void EnqueueAsync(const JobSpec& spec, std::function<void(Result<EnqueueResult>)> done) {
    absl::Time now = clock_.Now();
    auto job = Prepare(spec, now);
    if (!job.ok()) {
      done(job.status());
      return;
    }
    auto shared = std::make_shared<std::pair<JobSpec, Job>>(spec, std::move(*job));
    auto result = std::make_shared<EnqueueResult>();
    store_.WriteAsync(
        [this, shared, result, now](store::Txn& txn) -> Status {
          HERALD_ASSIGN_OR_RETURN(*result, InsertInTxn(txn, shared->first, shared->second, now));
          return absl::OkStatus();
        },
        [result, done = std::move(done)](Status st) {
          if (st.ok()) {
            done(*result);
          } else {
            done(st);
          }
        },
        store::Rerun::kAllowed);  // a run copies the job and overwrites *result
  }

  Result<EnqueueResult> EnqueueInTxn(store::Txn& txn, const JobSpec& spec) {
    absl::Time now = clock_.Now();
    HERALD_ASSIGN_OR_RETURN(Job job, Prepare(spec, now));
    return InsertInTxn(txn, spec, std::move(job), now);
  }

  // --- commands -------------------------------------------------------------------------

  Status Cancel(const core::Id& id) {
    return store_.Write([&](store::Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(bool done, table::Cancel(txn, id, clock_.Now()));
      if (!done) return MissingOrFinished(txn, id, "is already finished");
      txn.OnCommit([this, id] { DropFromMemory(id); });
      return absl::OkStatus();
    });
  }

  Status Retry(const core::Id& id) {
    return store_.Write([&](store::Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(bool done, table::Retry(txn, id, clock_.Now()));
      if (!done) return MissingOrFinished(txn, id, "is not dead or cancelled");
      HERALD_ASSIGN_OR_RETURN(auto job, table::Get(txn, id));
      if (job) {
        auto shared = std::make_shared<Job>(std::move(*job));
        txn.OnCommit([this, shared] { AddToMemory(std::move(*shared), clock_.Now()); });
      }
      return absl::OkStatus();
    });
  }

  Result<int64_t> RetryAllDead(std::string_view queue) {
    int64_t n = 0;
    HERALD_RETURN_IF_ERROR(store_.Write([&](store::Txn& txn) -> Status {
      absl::Time now = clock_.Now();
      HERALD_ASSIGN_OR_RETURN(std::vector<core::Id> ids, table::DeadJobs(txn, queue));
      auto revived = std::make_shared<std::vector<Job>>();
      for (const core::Id& id : ids) {
        HERALD_ASSIGN_OR_RETURN(bool done, table::Retry(txn, id, now));
        if (!done) continue;
        HERALD_ASSIGN_OR_RETURN(auto job, table::Get(txn, id));
        if (job) revived->push_back(std::move(*job));
      }
      n = static_cast<int64_t>(revived->size());
      txn.OnCommit([this, revived] {
        absl::Time at = clock_.Now();
        absl::MutexLock l(&mu_);
        for (Job& j : *revived) AddToMemoryLocked(std::move(j), at);
      });
      return absl::OkStatus();
    }));
    return n;
  }

  Status SetPaused(std::string_view queue, bool paused) {
    if (queue.empty()) return absl::InvalidArgumentError("queue: empty");
    std::string name(queue);
    return store_.Write([&](store::Txn& txn) -> Status {
      HERALD_RETURN_IF_ERROR(table::SetPaused(txn, name, paused));
      txn.OnCommit([this, name, paused] {
        absl::MutexLock l(&mu_);
        Queue(name).paused = paused;
        if (!paused) work_cv_.SignalAll();
      });
      return absl::OkStatus();
    });
  }

  void SetGroupRate(std::string_view queue, std::string_view group, core::RateLimit limit) {
    absl::MutexLock l(&mu_);
    QueueState& q = Queue(std::string(queue));
    const std::string key(group);
    q.group_overrides[key] = limit;
    q.group_rate.erase(key);  // the next claim builds the bucket with the new limit
    work_cv_.SignalAll();
  }

  // --- running --------------------------------------------------------------------------

  int RunDue(int max) {
    int ran = 0;
    while (ran < max) {
      std::optional<Claim> claim;
      {
        absl::MutexLock l(&mu_);
        claim = TryClaim(clock_.Now());
      }
      if (!claim) break;
      Run(*claim);
      ++ran;
    }
    return ran;
  }

  void Maintain() {
    absl::Time now = clock_.Now();
    {
      absl::MutexLock l(&mu_);
      CheckRunning(now);
      if (!dirty_.empty()) RequestFlush();  // retries a flush that failed
    }
    if (now - last_prune_ >= absl::Minutes(1)) {
      last_prune_ = now;
      absl::Time ok_before = now - config_.retention_succeeded;
      absl::Time failed_before = now - config_.retention_failed;
      store_.WriteAsync(
          [=](store::Txn& txn) {
            return table::Prune(txn, ok_before, failed_before, 10000).status();
          },
          [](Status st) {
            if (!st.ok()) core::LogWarn("engine: pruning finished jobs failed", {{"error", st}});
          });
    }
  }

  Status Flush() {
    std::shared_ptr<Pending> taken;
    Status st = store_.Write([&](store::Txn& txn) { return FlushInTxn(txn, taken); });
    if (!st.ok()) {
      Restore(std::move(taken));
      return st;
    }
    // Wait for the events of everything flushed so far to be delivered.
    absl::MutexLock l(&events_mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(events_mu_) {
      return (events_.empty() && !delivering_) || events_stopping_;
    };
    events_mu_.Await(absl::Condition(&drained));
    return absl::OkStatus();
  }

  EngineMetrics Metrics() const {
    absl::MutexLock l(&mu_);
    EngineMetrics m;
    m.processed = processed_;
    m.failed = failed_;
    m.dead = dead_;
    m.unfinished = static_cast<int64_t>(jobs_.size());
    std::copy(std::begin(latency_buckets_), std::end(latency_buckets_), m.latency_buckets);
    m.latency_count = latency_count_;
    m.latency_sum_seconds = latency_sum_;
    for (const auto& [key, c] : by_type_) {
      m.by_type.push_back({queues_[key.first].name, *key.second, c.succeeded, c.failed, c.dead});
    }
    std::sort(m.by_type.begin(), m.by_type.end(), [](const auto& a, const auto& b) {
      return std::tie(a.queue, a.type) < std::tie(b.queue, b.type);
    });
    std::vector<float> samples = latency_;
    if (!samples.empty()) {
      auto pct = [&](double p) {
        size_t k = std::min(samples.size() - 1, static_cast<size_t>(p * samples.size()));
        std::nth_element(samples.begin(), samples.begin() + k, samples.end());
        return static_cast<double>(samples[k]);
      };
      m.latency_p50_ms = pct(0.50);
      m.latency_p99_ms = pct(0.99);
      m.latency_max_ms = *std::max_element(samples.begin(), samples.end());
    }
    return m;
  }

  store::Store& store() { return store_; }
  const core::Clock& clock() const { return clock_; }
  bool started() const {
    absl::MutexLock l(&mu_);
    return started_;
  }

  // Adds the unfinished jobs held in memory and the last minute's throughput to `counts` (by queue
  // name, adding queues that are missing), keeping the queue-name order.
  void AddLiveCounts(std::vector<table::QueueCounts>& counts) {
    std::vector<std::array<int64_t, 4>> live;
    std::vector<std::pair<int64_t, int64_t>> minute;
    std::vector<std::string> names;
    {
      absl::MutexLock l(&mu_);
      live.resize(queues_.size());
      for (const auto& [id, j] : jobs_) {
        const int state = static_cast<int>(j->state);
        if (state < 4) live[j->queue][state]++;
      }
      const int64_t now = absl::ToUnixSeconds(clock_.Now());
      for (QueueState& q : queues_) {
        names.push_back(q.name);
        minute.push_back(q.throughput.Sum(now));
      }
    }
    for (size_t i = 0; i < names.size(); ++i) {
      if (live[i] == std::array<int64_t, 4>{} && minute[i] == std::pair<int64_t, int64_t>{}) {
        continue;
      }
      auto it = std::find_if(counts.begin(), counts.end(),
                             [&](const table::QueueCounts& c) { return c.queue == names[i]; });
      if (it == counts.end()) {
        counts.push_back({});
        it = counts.end() - 1;
        it->queue = names[i];
      }
      for (int s = 0; s < 4; ++s) it->by_state[s] += live[i][s];
      it->completed_last_minute = minute[i].first;
      it->failed_last_minute = minute[i].second;
    }
    std::sort(counts.begin(), counts.end(),
              [](const auto& a, const auto& b) { return a.queue < b.queue; });
  }

 private:
  friend class ContextImpl;

  class ContextImpl final : public JobContext {
   public:
    ContextImpl(Impl& engine, const Claim& claim) : engine_(engine), claim_(claim) {}
    const core::Id& id() const override { return claim_.id; }
    const std::string& type() const override { return *claim_.type; }
    const std::string& queue() const override { return claim_.queue_name; }
    const std::string& payload() const override { return claim_.payload; }
    int attempt() const override { return claim_.attempt; }
    int max_attempts() const override { return claim_.max_attempts; }
    bool cancelled() const override {
      absl::MutexLock l(&engine_.mu_);
      MemJob* j = engine_.Current(claim_);
      return j == nullptr || j->cancelled || j->stopping;
    }
    void SetProgress(int percent) override {
      absl::MutexLock l(&engine_.mu_);
      MemJob* j = engine_.Current(claim_);
      if (j == nullptr) return;
      j->progress = static_cast<int8_t>(std::clamp(percent, 0, 100));
      engine_.MarkDirty(*j, "");
    }
    void SetResult(std::string json) override { result_ = std::move(json); }
    std::string& result() { return result_; }

   private:
    Impl& engine_;
    const Claim& claim_;
    std::string result_;
  };

  Status MissingOrFinished(store::Txn& txn, const core::Id& id, std::string_view finished) {
    HERALD_ASSIGN_OR_RETURN(auto job, table::Get(txn, id));
    if (!job) return absl::NotFoundError(StrCat("no job ", id.ToString()));
    return absl::FailedPreconditionError(
        StrCat("job ", id.ToString(), " ", finished, " (", JobStateName(job->state), ")"));
  }

  QueueState& Queue(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = queue_index_.find(name);
    if (it != queue_index_.end()) return queues_[it->second];
    queue_index_.emplace(name, static_cast<uint32_t>(queues_.size()));
    QueueState& q = queues_.emplace_back();
    q.name = name;
    auto cfg = config_.queues.find(name);
    if (cfg != config_.queues.end()) {
      q.concurrency = cfg->second.concurrency;
      q.rate = TokenBucket(cfg->second.rate.limit, cfg->second.rate.interval, clock_.Now());
      q.group_limit = cfg->second.group_rate;
    }
    return q;
  }

  const std::string* Intern(const std::string& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return &*interned_.insert(s).first;
  }

  void AddToMemory(Job job, absl::Time now) {
    absl::MutexLock l(&mu_);
    AddToMemoryLocked(std::move(job), now);
  }

  void AddToMemoryLocked(Job job, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!in_memory_) return;
    auto existing = jobs_.find(job.id);
    if (existing != jobs_.end()) {
      // Only a job cancelled while running is replaced (it was retried meanwhile): its
      // handler's claim becomes stale, so its outcome is ignored.
      if (!existing->second->cancelled) return;
      running_.erase(job.id);
      dirty_.erase(job.id);
      jobs_.erase(existing);
    }
    auto m = std::make_unique<MemJob>();
    m->id = job.id;
    Queue(job.queue);
    m->queue = queue_index_[job.queue];
    m->type = Intern(job.type);
    m->payload = std::move(job.payload);
    m->priority = job.priority;
    m->state = job.state;
    m->run_us = table::ToMicros(job.run_at);
    if (job.started_at) m->started_us = table::ToMicros(*job.started_at);
    m->attempts = job.attempts;
    m->max_attempts = job.max_attempts;
    m->backoff = PackedBackoff::Pack(job.backoff);
    m->timeout_us = absl::ToInt64Microseconds(job.timeout);
    if (!job.unique_key.empty() || !job.group_key.empty()) {
      m->keys = std::make_unique<MemJob::Keys>(
          MemJob::Keys{std::move(job.unique_key), std::move(job.group_key)});
    }
    m->progress = static_cast<int8_t>(job.progress);
    MemJob& ref = *m;
    jobs_.emplace(job.id, std::move(m));
    Schedule(ref, now);
  }

  // Puts an unclaimed job in its ready heap (due) or the timer heap (not yet due).
  void Schedule(MemJob& j, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    j.seq = ++seq_;
    HeapEntry e{j.priority, j.run_us, j.seq, j.id};
    int64_t now_us = table::ToMicros(now);
    if (j.run_us <= now_us) {
      if (j.state != JobState::kAvailable) {
        j.state = JobState::kAvailable;
      }
      j.ready_us = std::max(j.run_us, now_us);
      queues_[j.queue].ready.push(e);
      work_cv_.Signal();
    } else {
      if (j.state == JobState::kAvailable) j.state = JobState::kScheduled;
      bool earliest = timers_.empty() || e.run_us < timers_.top().run_us;
      timers_.push(e);
      if (earliest) work_cv_.SignalAll();  // a waiting worker may need an earlier deadline
    }
  }

  void DropFromMemory(const core::Id& id) {
    absl::MutexLock l(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    if (it->second->state == JobState::kRunning) {
      it->second->cancelled = true;
      return;
    }
    dirty_.erase(id);  // the store already holds the job's final state
    jobs_.erase(it);
  }

  // The job a claim refers to, if the claim is still current.
  MemJob* Current(const Claim& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = jobs_.find(c.id);
    if (it == jobs_.end() || it->second->seq != c.seq || it->second->state != JobState::kRunning) {
      return nullptr;
    }
    return it->second.get();
  }

  void PromoteDue(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int64_t now_us = table::ToMicros(now);
    while (!timers_.empty() && timers_.top().run_us <= now_us) {
      HeapEntry e = timers_.top();
      timers_.pop();
      auto it = jobs_.find(e.id);
      if (it == jobs_.end() || it->second->seq != e.seq) continue;  // stale entry
      MemJob& j = *it->second;
      j.state = JobState::kAvailable;
      j.ready_us = j.run_us;
      queues_[j.queue].ready.push(e);
    }
  }

  // Picks the next job to run at `now`, honouring pauses, concurrency caps, rate limits and
  // priorities, and marks it running.
  std::optional<Claim> TryClaim(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopping_) return std::nullopt;
    PromoteDue(now);
    size_t n = queues_.size();
    for (size_t k = 0; k < n; ++k) {
      size_t qi = (rr_ + k) % n;
      QueueState& q = queues_[qi];
      if (q.paused || (q.concurrency > 0 && q.active >= q.concurrency)) continue;
      if (q.ready.empty() && q.parked.empty()) continue;
      if (!q.rate.Ready(now)) continue;
      if (!q.parked.empty()) Unpark(q, now);
      while (!q.ready.empty()) {
        HeapEntry e = q.ready.top();
        q.ready.pop();
        auto it = jobs_.find(e.id);
        if (it == jobs_.end() || it->second->seq != e.seq) continue;  // stale entry
        MemJob& j = *it->second;
        if ((q.group_limit.limit > 0 || !q.group_overrides.empty()) && !j.group_key().empty()) {
          TokenBucket& b = GroupBucket(q, j.group_key(), now);
          if (!b.Ready(now)) {
            q.parked[j.group_key()].push_back(e);
            continue;
          }
          b.Take();
        }
        q.rate.Take();
        rr_ = qi + 1;
        return StartAttempt(j, q, now);
      }
    }
    return std::nullopt;
  }

  TokenBucket& GroupBucket(QueueState& q, const std::string& group, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = q.group_rate.find(group);
    if (it == q.group_rate.end()) {
      auto o = q.group_overrides.find(group);
      const core::RateLimit& limit = o == q.group_overrides.end() ? q.group_limit : o->second;
      it = q.group_rate.emplace(group, TokenBucket(limit.limit, limit.interval, now)).first;
    }
    return it->second;
  }

  // Returns parked jobs whose group has a token again to the ready heap.
  void Unpark(QueueState& q, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto it = q.parked.begin(); it != q.parked.end();) {
      if (GroupBucket(q, it->first, now).Ready(now)) {
        for (const HeapEntry& e : it->second) q.ready.push(e);
        q.parked.erase(it++);
      } else {
        ++it;
      }
    }
  }

  Claim StartAttempt(MemJob& j, QueueState& q, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    j.state = JobState::kRunning;
    j.attempts++;
    j.seq = ++seq_;
    j.started_us = table::ToMicros(now);
    j.lease_us = table::ToMicros(now + config_.lease);
    j.cancelled = false;
    j.stopping = false;
    q.active++;
    active_++;
    running_.insert(j.id);
    RecordLatency(now - table::FromMicros(j.ready_us));
    MarkDirty(j, "");
    auto h = handlers_.find(*j.type);
    return Claim{j.id,       j.seq,          j.queue,
                 j.type,     q.name,         j.payload,
                 j.attempts, j.max_attempts, h == handlers_.end() ? nullptr : &h->second};
  }

  void RecordLatency(absl::Duration d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const double seconds = absl::ToDoubleSeconds(d);
    const auto bucket =
        std::lower_bound(std::begin(kStartLatencyBuckets), std::end(kStartLatencyBuckets), seconds);
    if (bucket != std::end(kStartLatencyBuckets)) {
      latency_buckets_[bucket - std::begin(kStartLatencyBuckets)]++;
    }
    latency_count_++;
    latency_sum_ += seconds;
    float ms = static_cast<float>(absl::ToDoubleMilliseconds(d));
    if (latency_.size() < kLatencySamples) {
      latency_.push_back(ms);
    } else {
      latency_[latency_next_++ % kLatencySamples] = ms;
    }
  }

  void Run(const Claim& claim) {
    ContextImpl ctx(*this, claim);
    Status st;
    if (claim.handler == nullptr) {
      st = absl::UnimplementedError(
          StrCat("no handler is registered for job type '", *claim.type, "'"));
    } else {
      st = (*claim.handler)(ctx);
    }
    Complete(claim, st, std::move(ctx.result()));
  }

  void Complete(const Claim& claim, const Status& st, std::string result) {
    absl::MutexLock l(&mu_);
    QueueState& q = queues_[claim.queue];
    // Wake waiting workers only if this frees a slot they wait for, or Stop is waiting.
    if (stopping_ || (q.concurrency > 0 && q.active == q.concurrency)) work_cv_.SignalAll();
    q.active--;
    active_--;
    MemJob* j = Current(claim);
    if (j == nullptr) return;  // timed out meanwhile: that was recorded then
    running_.erase(j->id);
    absl::Time now = clock_.Now();
    if (j->cancelled) {
      // Cancelled while running: the store says cancelled already; keep it so.
      dirty_.erase(j->id);
      jobs_.erase(j->id);
      return;
    }
    if (st.ok()) {
      processed_++;
      by_type_[{claim.queue, claim.type}].succeeded++;
      q.throughput.Add(absl::ToUnixSeconds(now), true);
      j->state = JobState::kSucceeded;
      j->progress = 100;
      events_pending_.push_back({JobEvent::Kind::kCompleted, j->id, queues_[j->queue].name,
                                 *j->type, j->attempts, "", result});
      MarkDirty(*j, "", std::move(result), now);
      counters_[claim.queue].succeeded++;
      jobs_.erase(j->id);
      return;
    }
    Fail(*j,
         std::string(st.message().empty() ? absl::StatusCodeToString(st.code())
                                          : std::string(st.message())),
         IsPermanent(st), now);
  }

  // Records a failed attempt of a running job: retry later or dead.
  void Fail(MemJob& j, std::string error, bool permanent, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    failed_++;
    counters_[j.queue].failed++;
    queues_[j.queue].throughput.Add(absl::ToUnixSeconds(now), false);
    TypeCounters& by_type = by_type_[{j.queue, j.type}];
    by_type.failed++;
    running_.erase(j.id);
    std::string queue = queues_[j.queue].name;
    if (!permanent && j.attempts < j.max_attempts) {
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      j.run_us = table::ToMicros(now + j.backoff.Unpack().Delay(j.attempts, unit(rng_)));
      j.state = JobState::kRetryable;
      MarkDirty(j, error);
      events_pending_.push_back(
          {JobEvent::Kind::kFailed, j.id, queue, *j.type, j.attempts, error, ""});
      Schedule(j, now);
      return;
    }
    dead_++;
    by_type.dead++;
    counters_[j.queue].dead++;
    j.state = JobState::kDead;
    MarkDirty(j, error, "", now);
    events_pending_.push_back(
        {JobEvent::Kind::kFailed, j.id, queue, *j.type, j.attempts, error, ""});
    events_pending_.push_back({JobEvent::Kind::kDead, j.id, queue, *j.type, j.attempts, error, ""});
    jobs_.erase(j.id);
  }

  // Heartbeats the leases of running jobs and fails attempts that ran past their timeout.
  void CheckRunning(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    bool heartbeat = now - last_heartbeat_ >= config_.heartbeat;
    if (heartbeat) last_heartbeat_ = now;
    std::vector<MemJob*> timed_out;
    for (const core::Id& id : running_) {
      auto it = jobs_.find(id);
      if (it == jobs_.end()) continue;
      MemJob& j = *it->second;
      if (j.state != JobState::kRunning) continue;
      if (table::ToMicros(now) - j.started_us >= j.timeout_us) {
        timed_out.push_back(&j);
      } else if (heartbeat) {
        j.lease_us = table::ToMicros(now + config_.lease);
        MarkDirty(j, "");
      }
    }
    for (MemJob* j : timed_out) {
      // The handler keeps its worker until it returns; its outcome is then ignored (its claim
      // is no longer current, which also makes JobContext::cancelled() true for it).
      if (j->cancelled) {  // cancelled meanwhile: nothing to retry
        running_.erase(j->id);
        dirty_.erase(j->id);
        jobs_.erase(j->id);
        continue;
      }
      Fail(*j, StrCat("timed out after ", absl::FormatDuration(absl::Microseconds(j->timeout_us))),
           false, now);
    }
  }

  // Records the job's current state for the next group commit (coalescing with any change
  // not yet written) and makes sure a flush is on its way.
  void MarkDirty(const MemJob& j, std::string error, std::string result = "",
                 std::optional<absl::Time> finished = std::nullopt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    table::Update& u = dirty_[j.id];
    u.id = j.id;
    u.state = j.state;
    u.attempts = j.attempts;
    u.run_at = j.run_at();
    if (j.attempts > 0) {
      u.started_at = table::FromMicros(j.started_us);
      u.lease_until = j.state == JobState::kRunning ? std::optional(table::FromMicros(j.lease_us))
                                                    : std::nullopt;
    }
    u.finished_at = finished;
    if (!error.empty()) u.last_error = std::move(error);
    u.progress = j.progress;
    if (!result.empty()) u.result = std::move(result);
    if (IsFinished(j.state)) {
      u.queue = queues_[j.queue].name;  // for the finished counts
      u.unique_key = j.unique_key();
    }
    RequestFlush();
  }

  void RequestFlush() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (flush_requested_) return;
    flush_requested_ = true;
    auto taken = std::make_shared<std::shared_ptr<Pending>>();
    store_.WriteAsync(
        [this, taken](store::Txn& txn) { return FlushInTxn(txn, *taken); },
        [this, taken](Status st) {
          if (st.ok()) return;
          core::LogError("engine: writing job states failed; will retry", {{"error", st}});
          Restore(std::move(*taken));  // Maintain() requests the retry
        });
  }

  struct Pending {
    absl::flat_hash_map<core::Id, table::Update> updates;
    std::vector<std::pair<std::string, QueueCounterDelta>> counters;
    std::vector<JobEvent> events;
  };

  // Writes the changes collected so far; `taken` receives them so that, if the transaction
  // does not commit (a statement, BEGIN or COMMIT fails), Restore can put them back.
  Status FlushInTxn(store::Txn& txn, std::shared_ptr<Pending>& taken) {
    auto pending = std::make_shared<Pending>();
    {
      absl::MutexLock l(&mu_);
      flush_requested_ = false;
      pending->updates.swap(dirty_);
      pending->events.swap(events_pending_);
      for (auto& [qi, c] : counters_) pending->counters.emplace_back(queues_[qi].name, c);
      counters_.clear();
    }
    taken = pending;
    table::FinishedTally tally;
    for (const auto& [id, u] : pending->updates) {
      HERALD_RETURN_IF_ERROR(table::Apply(txn, u, tally).status());
    }
    HERALD_RETURN_IF_ERROR(tally.Write(txn));
    for (const auto& [queue, c] : pending->counters) {
      HERALD_RETURN_IF_ERROR(table::AddCounters(txn, queue, c.succeeded, c.failed, c.dead));
    }
    txn.OnCommit([this, pending] {
      if (pending->events.empty() || !has_listeners_.load(std::memory_order_acquire)) return;
      absl::MutexLock l(&events_mu_);
      for (auto& e : pending->events) events_.push_back(std::move(e));
    });
    return absl::OkStatus();
  }

  // Puts back the changes of a flush that did not commit, behind any newer change.
  void Restore(std::shared_ptr<Pending> pending) {
    absl::MutexLock l(&mu_);
    flush_requested_ = false;
    if (!pending) return;  // the flush never started
    for (auto& [id, u] : pending->updates) dirty_.try_emplace(id, std::move(u));
    for (auto& e : pending->events) events_pending_.push_back(std::move(e));
    for (auto& [queue, c] : pending->counters) {
      QueueCounterDelta& d = counters_[queue_index_[queue]];
      d.succeeded += c.succeeded;
      d.failed += c.failed;
      d.dead += c.dead;
    }
  }

  // Loads the store's unfinished jobs into memory: all of them at start-up (recovering jobs
  // a dead process left running), and after another process changed the store, the ones
  // memory does not know, dropping the ones that are no longer unfinished there.
  Status Reload(bool startup) {
    std::vector<Job> rows;
    std::vector<std::string> paused;
    {
      // Before the read: a job committed meanwhile is then either in the read or added to
      // memory by its commit callback.
      absl::MutexLock l(&mu_);
      in_memory_ = true;
    }
    HERALD_RETURN_IF_ERROR(store_.Read([&](store::Txn& txn) -> Status {
      HERALD_RETURN_IF_ERROR(
          table::ForEachUnfinished(txn, [&](Job&& j) { rows.push_back(std::move(j)); }));
      HERALD_ASSIGN_OR_RETURN(paused, table::PausedQueues(txn));
      return absl::OkStatus();
    }));
    absl::Time now = clock_.Now();
    absl::MutexLock l(&mu_);
    for (QueueState& q : queues_) q.paused = false;
    for (const std::string& name : paused) Queue(name).paused = true;
    absl::flat_hash_set<core::Id> seen;
    seen.reserve(rows.size());
    for (Job& j : rows) {
      seen.insert(j.id);
      if (jobs_.contains(j.id)) continue;
      auto d = dirty_.find(j.id);
      if (d != dirty_.end() && IsFinished(d->second.state)) continue;  // finished, not yet written
      if (j.state == JobState::kRunning) {
        // Only one server uses a store file, so a job the store says is running and this
        // process does not know was left by a process that died: its attempt failed.
        core::Id id = j.id;
        AddToMemoryLocked(std::move(j), now);
        MemJob& m = *jobs_[id];
        m.state = JobState::kRunning;
        running_.insert(id);
        Fail(m, "the process running this job stopped before it finished", false, now);
        continue;
      }
      AddToMemoryLocked(std::move(j), now);
    }
    if (!startup) {
      std::vector<core::Id> gone;
      // A job memory holds that the store no longer has unfinished was finished by another
      // process (this process's own finishes leave memory when they happen).
      for (const auto& [id, m] : jobs_) {
        if (!seen.contains(id)) gone.push_back(id);
      }
      for (const core::Id& id : gone) {
        MemJob& m = *jobs_[id];
        if (m.state == JobState::kRunning) {
          m.cancelled = true;
        } else {
          dirty_.erase(id);
          jobs_.erase(id);
        }
      }
    }
    work_cv_.SignalAll();
    return absl::OkStatus();
  }

  // The next time something may become runnable without a signal.
  absl::Time NextWake(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Time wake = absl::InfiniteFuture();
    if (!timers_.empty()) wake = table::FromMicros(timers_.top().run_us);
    for (QueueState& q : queues_) {
      if (q.paused) continue;
      if (!q.ready.empty() && !q.rate.unlimited()) wake = std::min(wake, q.rate.NextReady(now));
      for (auto& [group, entries] : q.parked) {
        wake = std::min(wake, GroupBucket(q, group, now).NextReady(now));
      }
    }
    return wake;
  }

  void WorkerLoop() {
    for (;;) {
      std::optional<Claim> claim;
      {
        absl::MutexLock l(&mu_);
        while (!stopping_) {
          absl::Time now = clock_.Now();
          claim = TryClaim(now);
          if (claim) break;
          clock_.WaitUntil(mu_, work_cv_, NextWake(now));
        }
        if (!claim) return;
      }
      Run(*claim);
    }
  }

  void MaintenanceLoop() {
    absl::Mutex mu;
    absl::CondVar cv;
    for (;;) {
      {
        absl::MutexLock l(&mu_);
        if (stopping_) return;
      }
      Maintain();
      absl::MutexLock l(&mu);
      clock_.WaitUntil(mu, cv, clock_.Now() + absl::Milliseconds(500));
    }
  }

  void EventLoop() {
    for (;;) {
      std::vector<JobEvent> batch;
      std::vector<EventListener> listeners;
      {
        absl::MutexLock l(&events_mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(events_mu_) {
          return !events_.empty() || events_stopping_;
        };
        events_mu_.Await(absl::Condition(&ready));
        if (events_.empty() && events_stopping_) return;
        batch.assign(std::make_move_iterator(events_.begin()),
                     std::make_move_iterator(events_.end()));
        events_.clear();
        listeners = listeners_;
        delivering_ = true;
      }
      for (const JobEvent& e : batch) {
        for (const EventListener& fn : listeners) fn(e);
      }
      absl::MutexLock l(&events_mu_);
      delivering_ = false;
    }
  }

  store::Store& store_;
  const core::Clock& clock_;
  const core::Config::Engine config_;
  core::IdGenerator ids_{clock_};
  absl::Time last_prune_;
  int listener_ = 0;  // external-change listener handle; set by Start, cleared by Stop

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;
  absl::node_hash_map<std::string, Handler> handlers_ ABSL_GUARDED_BY(mu_);  // stable addresses
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool in_memory_ ABSL_GUARDED_BY(mu_) = false;  // holds the store's unfinished jobs
  int active_ ABSL_GUARDED_BY(mu_) = 0;          // handlers running now
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::node_hash_set<std::string> interned_ ABSL_GUARDED_BY(mu_);
  std::deque<QueueState> queues_ ABSL_GUARDED_BY(mu_);  // grows; addresses are stable
  absl::flat_hash_map<std::string, uint32_t> queue_index_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<core::Id, std::unique_ptr<MemJob>> jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<core::Id> running_ ABSL_GUARDED_BY(mu_);
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, TimerLess> timers_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  size_t rr_ ABSL_GUARDED_BY(mu_) = 0;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  absl::Time last_heartbeat_ ABSL_GUARDED_BY(mu_);

  absl::flat_hash_map<core::Id, table::Update> dirty_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, QueueCounterDelta> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<JobEvent> events_pending_ ABSL_GUARDED_BY(mu_);
  bool flush_requested_ ABSL_GUARDED_BY(mu_) = false;

  int64_t processed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dead_ ABSL_GUARDED_BY(mu_) = 0;
  struct TypeCounters {
    int64_t succeeded = 0, failed = 0, dead = 0;
  };
  // By (queue index, interned type).
  absl::flat_hash_map<std::pair<uint32_t, const std::string*>, TypeCounters> by_type_
      ABSL_GUARDED_BY(mu_);
  int64_t latency_buckets_[std::size(kStartLatencyBuckets)] ABSL_GUARDED_BY(mu_) = {};
  int64_t latency_count_ ABSL_GUARDED_BY(mu_) = 0;
  double latency_sum_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<float> latency_ ABSL_GUARDED_BY(mu_);
  size_t latency_next_ ABSL_GUARDED_BY(mu_) = 0;

  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
  std::thread maintenance_ ABSL_GUARDED_BY(mu_);

  absl::Mutex events_mu_;
  std::deque<JobEvent> events_ ABSL_GUARDED_BY(events_mu_);
  std::vector<EventListener> listeners_ ABSL_GUARDED_BY(events_mu_);
  bool events_stopping_ ABSL_GUARDED_BY(events_mu_) = false;
  bool delivering_ ABSL_GUARDED_BY(events_mu_) = false;
  std::atomic<bool> has_listeners_{false};  // events are dropped while nobody listens
  std::thread event_thread_;
};

// --- Engine -------------------------------------------------------------------------------

Status Engine::Migrate(store::Store& store) { return store.Migrate("engine", table::Migrations()); }

Result<std::unique_ptr<Engine>> Engine::Create(store::Store& store, const core::Clock& clock,
                                               const core::Config::Engine& config) {
  if (config.workers < 1) return absl::InvalidArgumentError("engine.workers: must be >= 1");
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(store, clock, config)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

void Engine::RegisterHandler(std::string type, Handler handler) {
  impl_->RegisterHandler(std::move(type), std::move(handler));
}
bool Engine::HasHandler(std::string_view type) const { return impl_->HasHandler(type); }
std::vector<std::string> Engine::HandlerTypes() const { return impl_->HandlerTypes(); }
Status Engine::Start(bool threads) { return impl_->Start(threads); }
void Engine::Stop(absl::Duration grace) { impl_->Stop(grace); }
bool Engine::Running() const { return impl_->Running(); }

Result<EnqueueResult> Engine::Enqueue(const JobSpec& spec) {
  HERALD_ASSIGN_OR_RETURN(auto results, impl_->EnqueueBatch({spec}));
  return results.front();
}
Result<std::vector<EnqueueResult>> Engine::EnqueueBatch(const std::vector<JobSpec>& specs) {
  if (specs.empty()) return std::vector<EnqueueResult>{};
  return impl_->EnqueueBatch(specs);
}
void Engine::EnqueueAsync(const JobSpec& spec, std::function<void(Result<EnqueueResult>)> done) {
  impl_->EnqueueAsync(spec, std::move(done));
}
Result<EnqueueResult> Engine::Enqueue(store::Txn& txn, const JobSpec& spec) {
  return impl_->EnqueueInTxn(txn, spec);
}

Status Engine::Cancel(const core::Id& id) { return impl_->Cancel(id); }
Status Engine::Retry(const core::Id& id) { return impl_->Retry(id); }
Result<int64_t> Engine::RetryAllDead(std::string_view queue) { return impl_->RetryAllDead(queue); }
Status Engine::Delete(const core::Id& id) {
  return impl_->store().Write([&](store::Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(bool done, table::Delete(txn, id));
    if (done) return absl::OkStatus();
    HERALD_ASSIGN_OR_RETURN(auto job, table::Get(txn, id));
    if (!job) return absl::NotFoundError(StrCat("no job ", id.ToString()));
    return absl::FailedPreconditionError(StrCat(
        "job ", id.ToString(), " is ", JobStateName(job->state), ": cancel it before deleting it"));
  });
}

Result<int64_t> Engine::DeleteDead(std::string_view queue) {
  int64_t n = 0;
  HERALD_RETURN_IF_ERROR(impl_->store().Write([&](store::Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(n, table::DeleteDead(txn, queue));
    return absl::OkStatus();
  }));
  return n;
}

void Engine::SetGroupRate(std::string_view queue, std::string_view group, core::RateLimit limit) {
  impl_->SetGroupRate(queue, group, limit);
}
Status Engine::PauseQueue(std::string_view queue) { return impl_->SetPaused(queue, true); }
Status Engine::ResumeQueue(std::string_view queue) { return impl_->SetPaused(queue, false); }

Result<std::optional<Job>> Engine::Get(const core::Id& id) {
  std::optional<Job> out;
  HERALD_RETURN_IF_ERROR(impl_->store().Read([&](store::Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, table::Get(txn, id));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<Job>> Engine::List(const table::ListFilter& filter) {
  std::vector<Job> out;
  HERALD_RETURN_IF_ERROR(impl_->store().Read([&](store::Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, table::List(txn, filter));
    return absl::OkStatus();
  }));
  return out;
}

Result<std::vector<table::QueueCounts>> Engine::QueueStats() {
  // Only a started engine holds every unfinished job in memory (the CLI's does not).
  const bool started = impl_->started();
  std::vector<table::QueueCounts> out;
  HERALD_RETURN_IF_ERROR(impl_->store().Read([&](store::Txn& txn) -> Status {
    HERALD_ASSIGN_OR_RETURN(out, table::CountByQueue(txn, !started));
    return absl::OkStatus();
  }));
  if (started) impl_->AddLiveCounts(out);
  return out;
}

void Engine::Subscribe(EventListener listener) { impl_->Subscribe(std::move(listener)); }
int Engine::RunDue(int max) { return impl_->RunDue(max); }
void Engine::Maintain() { impl_->Maintain(); }
Status Engine::Flush() { return impl_->Flush(); }
EngineMetrics Engine::Metrics() const { return impl_->Metrics(); }

}  // namespace herald::engine
