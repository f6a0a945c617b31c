#pragma once
// The job-engine benchmark behind `herald bench jobs` and `make bench`: the engine runs
// in-process on a fresh SQLite file, exactly as `herald serve` runs it.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace herald::bench {

struct BenchOptions {
  int64_t jobs = 100'000;
  int concurrency = 2;  // worker threads
  int batch = 1000;     // jobs per bulk enqueue
  bool synchronous_full = false;
  int latency_samples = 2000;  // single jobs sent to an idle worker, one at a time
  int delayed_jobs = 1000;     // delayed jobs spread over two seconds
  std::string dir;             // scratch folder; a fresh one under /tmp if empty
};

struct BenchResult {
  int64_t jobs = 0;
  int concurrency = 0;
  std::string synchronous;
  double enqueue_per_s = 0;   // bulk enqueue, acknowledged = committed, queue paused
  double process_per_s = 0;   // draining those jobs, until every completion is committed
  double total_per_s = 0;     // enqueue and process at once, until all are committed
  double latency_p50_ms = 0;  // enqueue call to handler start, idle worker
  double latency_p99_ms = 0;
  double delayed_error_p50_ms = 0;  // handler start minus run_at
  double delayed_error_p99_ms = 0;
  double rss_mb = 0;

  std::string ToJson() const;
};

Result<BenchResult> RunJobsBench(const BenchOptions& options);

struct MemoryBenchResult {
  double idle_rss_mb = 0;    // store, engine and scheduler started, nothing queued
  double queued_rss_mb = 0;  // after `jobs` delayed jobs are queued
  int64_t jobs = 0;
  std::string ToJson() const;
};

// Queues `jobs` delayed no-op jobs and reports the process's resident memory.
Result<MemoryBenchResult> RunMemoryBench(int64_t jobs, const std::string& dir);

}  // namespace herald::bench
