#include "bench/jobs_bench.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/strings.h"
#include "engine/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::bench {
namespace {

using engine::Engine;
using engine::JobContext;
using engine::JobSpec;

double RssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// A fresh store and engine in `dir`, with the benchmark's handlers.
struct Bench {
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<Engine> engine;
  std::atomic<int64_t> done{0};

  absl::Mutex mu;
  absl::CondVar cv;
  absl::Time probe_started ABSL_GUARDED_BY(mu);
  bool probe_seen ABSL_GUARDED_BY(mu) = false;
  std::vector<double> delayed_errors ABSL_GUARDED_BY(mu);

  static Result<std::unique_ptr<Bench>> Open(const std::string& dir, const BenchOptions& o) {
    auto b = std::make_unique<Bench>();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store::SqliteOptions so;
    so.path = dir + "/bench.db";
    so.synchronous_full = o.synchronous_full;
    so.exclusive_owner = true;
    HERALD_ASSIGN_OR_RETURN(b->store, store::SqliteStore::Open(so));
    HERALD_RETURN_IF_ERROR(Engine::Migrate(*b->store));
    core::Config::Engine ec;
    ec.workers = o.concurrency;
    HERALD_ASSIGN_OR_RETURN(b->engine, Engine::Create(*b->store, core::Clock::Real(), ec));
    Bench* self = b.get();
    b->engine->RegisterHandler("noop", [self](JobContext&) {
      self->done.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();
    });
    b->engine->RegisterHandler("probe", [self](JobContext&) {
      absl::Time now = absl::Now();
      absl::MutexLock l(&self->mu);
      self->probe_started = now;
      self->probe_seen = true;
      self->cv.Signal();
      return absl::OkStatus();
    });
    b->engine->RegisterHandler("delayed", [self](JobContext& ctx) {
      absl::Time now = absl::Now();
      int64_t run_at_us = std::stoll(ctx.payload());
      absl::MutexLock l(&self->mu);
      self->delayed_errors.push_back(
          absl::ToDoubleMilliseconds(now - absl::FromUnixMicros(run_at_us)));
      return absl::OkStatus();
    });
    HERALD_RETURN_IF_ERROR(b->engine->Start(/*threads=*/true));
    return b;
  }

  Status EnqueueNoops(int64_t n, int batch) {
    std::vector<JobSpec> specs;
    for (int64_t sent = 0; sent < n;) {
      int64_t k = std::min<int64_t>(batch, n - sent);
      specs.assign(static_cast<size_t>(k), JobSpec{});
      for (JobSpec& s : specs) {
        s.queue = "bench";
        s.type = "noop";
      }
      HERALD_RETURN_IF_ERROR(engine->EnqueueBatch(specs).status());
      sent += k;
    }
    return absl::OkStatus();
  }

  void WaitDone(int64_t n) {
    while (done.load(std::memory_order_relaxed) < n) absl::SleepFor(absl::Microseconds(200));
  }
};

}  // namespace

std::string BenchResult::ToJson() const {
  return fmt::format(
      R"({{"bench":"jobs","jobs":{},"concurrency":{},"synchronous":"{}","enqueue_per_s":{:.0f},)"
      R"("process_per_s":{:.0f},"total_per_s":{:.0f},"latency_p50_ms":{:.3f},)"
      R"("latency_p99_ms":{:.3f},"delayed_error_p50_ms":{:.3f},"delayed_error_p99_ms":{:.3f},)"
      R"("rss_mb":{:.1f}}})",
      jobs, concurrency, synchronous, enqueue_per_s, process_per_s, total_per_s, latency_p50_ms,
      latency_p99_ms, delayed_error_p50_ms, delayed_error_p99_ms, rss_mb);
}

std::string MemoryBenchResult::ToJson() const {
  return fmt::format(
      R"({{"bench":"memory","jobs":{},"idle_rss_mb":{:.1f},"queued_rss_mb":{:.1f}}})", jobs,
      idle_rss_mb, queued_rss_mb);
}

Result<BenchResult> RunJobsBench(const BenchOptions& o) {
  if (o.jobs < 1 || o.concurrency < 1 || o.batch < 1) {
    return absl::InvalidArgumentError("jobs, concurrency and batch must be positive");
  }
  std::string dir = o.dir.empty() ? StrCat("/tmp/herald-bench-", ::getpid()) : o.dir;
  BenchResult r;
  r.jobs = o.jobs;
  r.concurrency = o.concurrency;
  r.synchronous = o.synchronous_full ? "full" : "normal";

  {  // 1. Bulk enqueue into a paused queue, then drain it.
    HERALD_ASSIGN_OR_RETURN(auto b, Bench::Open(dir + "/split", o));
    HERALD_RETURN_IF_ERROR(b->engine->PauseQueue("bench"));
    absl::Time t0 = absl::Now();
    HERALD_RETURN_IF_ERROR(b->EnqueueNoops(o.jobs, o.batch));
    absl::Time t1 = absl::Now();
    HERALD_RETURN_IF_ERROR(b->engine->ResumeQueue("bench"));
    b->WaitDone(o.jobs);
    HERALD_RETURN_IF_ERROR(b->engine->Flush());
    absl::Time t2 = absl::Now();
    r.enqueue_per_s = static_cast<double>(o.jobs) / absl::ToDoubleSeconds(t1 - t0);
    r.process_per_s = static_cast<double>(o.jobs) / absl::ToDoubleSeconds(t2 - t1);
  }

  HERALD_ASSIGN_OR_RETURN(auto b, Bench::Open(dir + "/mixed", o));
  {  // 2. Enqueue and process at once.
    absl::Time t0 = absl::Now();
    HERALD_RETURN_IF_ERROR(b->EnqueueNoops(o.jobs, o.batch));
    b->WaitDone(o.jobs);
    HERALD_RETURN_IF_ERROR(b->engine->Flush());
    r.total_per_s = static_cast<double>(o.jobs) / absl::ToDoubleSeconds(absl::Now() - t0);
  }

  {  // 3. Enqueue-to-start latency with idle workers, one job at a time.
    std::vector<double> samples;
    JobSpec probe;
    probe.queue = "latency";
    probe.type = "probe";
    for (int i = 0; i < o.latency_samples; ++i) {
      {
        absl::MutexLock l(&b->mu);
        b->probe_seen = false;
      }
      absl::Time sent = absl::Now();
      HERALD_RETURN_IF_ERROR(b->engine->Enqueue(probe).status());
      absl::MutexLock l(&b->mu);
      while (!b->probe_seen) b->cv.Wait(&b->mu);
      samples.push_back(absl::ToDoubleMilliseconds(b->probe_started - sent));
    }
    r.latency_p50_ms = Percentile(samples, 0.50);
    r.latency_p99_ms = Percentile(samples, 0.99);
  }

  {  // 4. Delayed jobs: how late does each start after its run_at?
    absl::Time base = absl::Now() + absl::Milliseconds(500);
    std::vector<JobSpec> specs;
    for (int i = 0; i < o.delayed_jobs; ++i) {
      JobSpec s;
      s.queue = "delayed";
      s.type = "delayed";
      absl::Time at = base + absl::Seconds(2) * i / std::max(1, o.delayed_jobs);
      s.run_at = at;
      s.payload = std::to_string(absl::ToUnixMicros(at));
      specs.push_back(std::move(s));
    }
    HERALD_RETURN_IF_ERROR(b->engine->EnqueueBatch(specs).status());
    for (;;) {
      absl::SleepFor(absl::Milliseconds(20));
      absl::MutexLock l(&b->mu);
      if (static_cast<int>(b->delayed_errors.size()) >= o.delayed_jobs) break;
    }
    absl::MutexLock l(&b->mu);
    r.delayed_error_p50_ms = Percentile(b->delayed_errors, 0.50);
    r.delayed_error_p99_ms = Percentile(b->delayed_errors, 0.99);
  }
  r.rss_mb = RssMb();
  b.reset();
  std::filesystem::remove_all(dir);
  return r;
}

Result<MemoryBenchResult> RunMemoryBench(int64_t jobs, const std::string& dir_in) {
  std::string dir = dir_in.empty() ? StrCat("/tmp/herald-membench-", ::getpid()) : dir_in;
  BenchOptions o;
  HERALD_ASSIGN_OR_RETURN(auto b, Bench::Open(dir, o));
  MemoryBenchResult r;
  r.jobs = jobs;
  r.idle_rss_mb = RssMb();
  std::vector<JobSpec> specs;
  absl::Time later = absl::Now() + absl::Hours(24);
  for (int64_t sent = 0; sent < jobs;) {
    int64_t k = std::min<int64_t>(10'000, jobs - sent);
    specs.assign(static_cast<size_t>(k), JobSpec{});
    for (JobSpec& s : specs) {
      s.type = "noop";
      s.run_at = later;
    }
    HERALD_RETURN_IF_ERROR(b->engine->EnqueueBatch(specs).status());
    sent += k;
  }
  r.queued_rss_mb = RssMb();
  b.reset();
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace herald::bench
