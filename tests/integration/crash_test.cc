// The durability guarantee, tested the hard way: a `herald serve` child is killed with SIGKILL
// at random points while jobs are being enqueued and run. After a final restart, every job
// whose enqueue was acknowledged has completed, and the store passes integrity_check. And the
// graceful stop: SIGTERM lets a running job finish.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>

#include "cli/runtime.h"
#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "process.h"

namespace herald {
namespace {

int64_t Count(store::Store& store, const std::string& sql) {
  int64_t n = -1;
  Status st = store.Read([&](store::Txn& txn) {
    return txn.Query(sql, {}, [&](const store::Row& r) {
      n = r.Int(0);
      return false;
    });
  });
  EXPECT_TRUE(st.ok()) << st;
  return n;
}

// A store in a temporary folder, the environment of the `herald serve` children that use it,
// and the test's own runtime on the same store (to enqueue and read jobs).
struct ServedStore {
  explicit ServedStore(const std::string& log_level) {
    config.store.path = db;
    // No maintenance schedule: a check it fires on a 5-minute boundary would be a job the
    // test did not enqueue.
    env = {"HERALD_STORE_PATH=" + db, "HERALD_HTTP_PORT=0", "HERALD_ENGINE_WORKERS=2",
           "HERALD_LOG_LEVEL=" + log_level, "HERALD_MAINTENANCE_CHECK_SCHEDULE="};
    rt = cli::OpenRuntime(config, /*server=*/false);
  }

  testing::TempDir dir;
  std::string db = dir.File("herald.db");
  std::string log = dir.File("serve.log");
  std::vector<std::string> env;
  core::Config config;
  Result<std::unique_ptr<cli::Runtime>> rt = absl::UnknownError("not opened");
};

TEST(Crash, AcknowledgedJobsSurviveSigkillAtRandomPoints) {
  ServedStore served("warn");
  ASSERT_TRUE(served.rt.ok()) << served.rt.status();
  auto& rt = served.rt;
  const std::vector<std::string>& env = served.env;
  const std::string& log = served.log;
  engine::Engine& tool = *(*rt)->engine;

  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> run_ms(20, 400);
  std::vector<core::Id> acknowledged;
  for (int round = 0; round < 8; ++round) {
    testing::Child server({"serve"}, env, log);
    ASSERT_TRUE(server.started());
    absl::Time kill_at = absl::Now() + absl::Milliseconds(run_ms(rng));
    while (absl::Now() < kill_at) {
      std::vector<engine::JobSpec> batch(50);
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i].type = i == 0 ? "sleep" : "noop";
        batch[i].payload = i == 0 ? R"({"ms":2})" : "{}";
        batch[i].max_attempts = 50;  // each kill of a running job costs it an attempt
        batch[i].backoff.base = absl::Milliseconds(10);
        batch[i].backoff.cap = absl::Milliseconds(50);
      }
      auto r = tool.EnqueueBatch(batch);
      if (r.ok()) {
        for (const auto& e : *r) acknowledged.push_back(e.id);
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    int status = server.Kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the server exited by itself; see " << log;
  }
  ASSERT_GT(acknowledged.size(), 0u);

  std::cerr << acknowledged.size() << " jobs acknowledged across 8 kills\n";
  absl::Time drain_start = absl::Now();
  testing::Child server({"serve"}, env, log);
  store::Store& store = *(*rt)->store;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (Count(store, "SELECT count(*) FROM jobs WHERE state < 4") != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::cerr << "drained in " << absl::FormatDuration(absl::Now() - drain_start) << "\n";
  int status = server.Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "see " << log;

  EXPECT_EQ(Count(store, "SELECT count(*) FROM jobs"), static_cast<int64_t>(acknowledged.size()));
  int64_t lost_or_unfinished = 0;
  for (const core::Id& id : acknowledged) {
    auto job = tool.Get(id);
    ASSERT_TRUE(job.ok());
    if (!job->has_value() || (*job)->state != engine::JobState::kSucceeded) ++lost_or_unfinished;
  }
  EXPECT_EQ(lost_or_unfinished, 0) << "of " << acknowledged.size() << " acknowledged jobs";
  auto integrity = store.IntegrityCheck();
  ASSERT_TRUE(integrity.ok());
  EXPECT_EQ(*integrity, "ok");
  rt->reset();
}

// SIGTERM is a graceful stop: a job running when it arrives finishes (within
// engine.shutdown_grace) and is recorded as succeeded, then the process exits 0.
TEST(Shutdown, SigtermLetsTheRunningJobFinish) {
  ServedStore served("info");  // the stop's log lines are checked
  ASSERT_TRUE(served.rt.ok()) << served.rt.status();
  auto& rt = served.rt;
  const std::string& log = served.log;
  engine::Engine& tool = *(*rt)->engine;

  testing::Child server({"serve"}, served.env, log);
  ASSERT_TRUE(server.started());
  engine::JobSpec spec;
  spec.type = "sleep";
  spec.payload = R"({"ms":1500})";
  spec.max_attempts = 1;  // a stop that cut it short would leave it dead, not retried
  auto enqueued = tool.EnqueueBatch({spec});
  ASSERT_TRUE(enqueued.ok()) << enqueued.status();
  const core::Id id = (*enqueued)[0].id;
  // Wait for a worker of the server to take it.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto state = [&] {
    auto job = tool.Get(id);
    return job.ok() && job->has_value() ? (*job)->state : engine::JobState::kScheduled;
  };
  while (state() != engine::JobState::kRunning && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(state(), engine::JobState::kRunning) << "see " << log;
  const absl::Time term = absl::Now();
  int status = server.KillWithin(SIGTERM, 60);
  const absl::Duration stopping = absl::Now() - term;
  ASSERT_NE(status, -1) << "still running 60 s after SIGTERM; see " << log;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "see " << log;
  EXPECT_EQ(state(), engine::JobState::kSucceeded) << "see " << log;
  EXPECT_LT(stopping, absl::Seconds(20)) << "the stop waited for more than the job";
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("stopping: finishing requests and running jobs"), std::string::npos) << text;
  EXPECT_NE(text.find("stopped"), std::string::npos) << text;
  rt->reset();
}

}  // namespace
}  // namespace herald
