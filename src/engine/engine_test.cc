#include "engine/engine.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/strings.h"
#include "core/testing/temp_dir.h"
#include "engine/builtin_handlers.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::engine {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.workers = 2; }
  void TearDown() override {
    engine_.reset();
    store_.reset();
  }

  std::string DbPath() const { return dir_.File("herald.db"); }

  std::unique_ptr<store::SqliteStore> OpenStore(bool owner = true) {
    store::SqliteOptions o;
    o.path = DbPath();
    o.exclusive_owner = owner;
    o.external_poll = absl::Milliseconds(5);
    auto s = store::SqliteStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(Engine::Migrate(**s).ok());
    return std::move(s).value();
  }

  // Opens the store and an engine on the manual clock, started without threads unless asked.
  void StartEngine(bool threads = false) {
    if (!store_) store_ = OpenStore();
    auto e = Engine::Create(*store_, clock_, config_);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(e).value();
    RegisterBuiltinHandlers(*engine_);
    engine_->RegisterHandler("record", [this](JobContext& ctx) {
      absl::MutexLock l(&mu_);
      order_.push_back(ctx.payload());
      return absl::OkStatus();
    });
    engine_->RegisterHandler(
        "permanent", [](JobContext&) { return absl::InvalidArgumentError("bad order file"); });
    for (auto& [type, h] : extra_handlers_) engine_->RegisterHandler(type, h);
    ASSERT_TRUE(engine_->Start(threads).ok());
  }

  core::Id Enqueue(JobSpec spec) {
    auto r = engine_->Enqueue(spec);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->id : core::Id{};
  }

  Job Load(const core::Id& id) {
    EXPECT_TRUE(engine_->Flush().ok());
    auto j = engine_->Get(id);
    EXPECT_TRUE(j.ok() && j->has_value()) << "job " << id.ToString();
    return j.ok() && j->has_value() ? **j : Job{};
  }

  static JobSpec Spec(std::string type, std::string payload = "{}") {
    JobSpec s;
    s.type = std::move(type);
    s.payload = std::move(payload);
    return s;
  }

  testing::TempDir dir_;
  core::ManualClock clock_;
  core::Config::Engine config_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::pair<std::string, Handler>> extra_handlers_;
  absl::Mutex mu_;
  std::vector<std::string> order_;
};

TEST_F(EngineTest, EnqueuedJobRunsOnceAndIsRecordedAsSucceeded) {
  StartEngine();
  core::Id id = Enqueue(Spec("noop"));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(engine_->RunDue(), 0);
  Job j = Load(id);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.finished_at, clock_.Now());
}

TEST_F(EngineTest, HigherPriorityRunsFirstThenFifo) {
  StartEngine();
  for (auto [p, name] : std::vector<std::pair<int, std::string>>{
           {0, "n1"}, {-10, "low"}, {10, "high"}, {0, "n2"}, {20, "urgent"}}) {
    JobSpec s = Spec("record", "\"" + name + "\"");
    s.priority = p;
    Enqueue(s);
  }
  EXPECT_EQ(engine_->RunDue(), 5);
  EXPECT_EQ(order_,
            (std::vector<std::string>{"\"urgent\"", "\"high\"", "\"n1\"", "\"n2\"", "\"low\""}));
}

TEST_F(EngineTest, AsyncEnqueueAnswersOnceCommittedAndRejectsBadInputAtOnce) {
  StartEngine();
  absl::Notification done;
  Result<EnqueueResult> got = absl::UnknownError("not called");
  engine_->EnqueueAsync(Spec("noop"), [&](Result<EnqueueResult> r) {
    got = std::move(r);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Load(got->id).state, JobState::kAvailable);  // committed before the answer
  EXPECT_EQ(engine_->RunDue(), 1);

  bool called = false;
  engine_->EnqueueAsync(Spec("no-such-type"), [&](Result<EnqueueResult> r) {
    called = true;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  });
  EXPECT_TRUE(called);  // validation answers on the caller's thread
}

TEST_F(EngineTest, DelayedJobWaitsForItsTime) {
  StartEngine();
  JobSpec s = Spec("noop");
  s.delay = absl::Seconds(10);
  core::Id id = Enqueue(s);
  EXPECT_EQ(Load(id).state, JobState::kScheduled);
  clock_.Advance(absl::Seconds(9));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(Load(id).state, JobState::kSucceeded);
}

TEST_F(EngineTest, RunAtInThePastRunsNow) {
  StartEngine();
  JobSpec s = Spec("noop");
  s.run_at = clock_.Now() - absl::Hours(1);
  Enqueue(s);
  EXPECT_EQ(engine_->RunDue(), 1);
}

TEST_F(EngineTest, FailedAttemptsRetryWithExponentialBackoffThenSucceed) {
  StartEngine();
  JobSpec s = Spec("fail", R"({"times":2})");
  s.backoff.base = absl::Seconds(2);
  s.backoff.jitter_percent = 0;
  s.max_attempts = 3;
  core::Id id = Enqueue(s);
  EXPECT_EQ(engine_->RunDue(), 1);  // attempt 1 fails
  Job j = Load(id);
  EXPECT_EQ(j.state, JobState::kRetryable);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.run_at, clock_.Now() + absl::Seconds(2));
  EXPECT_NE(j.last_error.find("failing on purpose"), std::string::npos) << j.last_error;

  clock_.Advance(absl::Seconds(2) - absl::Milliseconds(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);  // attempt 2 fails: next delay doubles
  EXPECT_EQ(Load(id).run_at, clock_.Now() + absl::Seconds(4));
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(engine_->RunDue(), 1);  // attempt 3 succeeds
  j = Load(id);
  EXPECT_EQ(j.state, JobState::kSucceeded);
  EXPECT_EQ(j.attempts, 3);
}

TEST(Backoff, ExponentialDoublesUpToTheCapAndJitterOnlyShortens) {
  Backoff b;
  b.base = absl::Seconds(1);
  b.cap = absl::Seconds(10);
  b.jitter_percent = 0;
  EXPECT_EQ(b.Delay(1, 0.5), absl::Seconds(1));
  EXPECT_EQ(b.Delay(2, 0.5), absl::Seconds(2));
  EXPECT_EQ(b.Delay(4, 0.5), absl::Seconds(8));
  EXPECT_EQ(b.Delay(5, 0.5), absl::Seconds(10));
  EXPECT_EQ(b.Delay(500, 0.5), absl::Seconds(10));
  b.jitter_percent = 20;
  EXPECT_EQ(b.Delay(2, 0.0), absl::Seconds(2));
  EXPECT_EQ(b.Delay(2, 1.0), absl::Milliseconds(1600));
  b.kind = Backoff::Kind::kFixed;
  EXPECT_EQ(b.Delay(7, 0.0), absl::Seconds(1));
  auto decoded = Backoff::Decode(b.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->Encode(), b.Encode());
  EXPECT_FALSE(Backoff::Decode("exponential:1:2").ok());
  EXPECT_FALSE(Backoff::Decode("linear:1:2:3").ok());
}

TEST_F(EngineTest, ExhaustedAttemptsGoDeadWithEventsAndCanBeRetried) {
  StartEngine();
  std::vector<JobEvent::Kind> events;
  engine_->Subscribe([&](const JobEvent& e) { events.push_back(e.kind); });
  JobSpec s = Spec("fail", R"({"times":5})");
  s.max_attempts = 2;
  s.backoff.kind = Backoff::Kind::kFixed;
  s.backoff.jitter_percent = 0;
  core::Id id = Enqueue(s);
  EXPECT_EQ(engine_->RunDue(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  Job j = Load(id);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_EQ(j.attempts, 2);
  EXPECT_EQ(events, (std::vector<JobEvent::Kind>{JobEvent::Kind::kFailed, JobEvent::Kind::kFailed,
                                                 JobEvent::Kind::kDead}));
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(engine_->RunDue(), 0);

  ASSERT_TRUE(engine_->Retry(id).ok());
  EXPECT_EQ(Load(id).attempts, 0);
  EXPECT_EQ(engine_->RunDue(), 1);  // attempt 1 of a fresh budget: fails again (times=5)
  EXPECT_EQ(Load(id).state, JobState::kRetryable);
  EXPECT_EQ(engine_->Retry(id).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->Retry(core::Id{}).code(), absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, PermanentErrorGoesDeadAtOnce) {
  StartEngine();
  JobSpec s = Spec("permanent");
  s.max_attempts = 5;
  core::Id id = Enqueue(s);
  EXPECT_EQ(engine_->RunDue(), 1);
  Job j = Load(id);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.last_error, "bad order file");
}

TEST_F(EngineTest, RetryAllDeadRevivesTheDeadLetterList) {
  StartEngine();
  for (int i = 0; i < 3; ++i) Enqueue(Spec("permanent"));
  EXPECT_EQ(engine_->RunDue(), 3);
  ASSERT_TRUE(engine_->Flush().ok());
  auto n = engine_->RetryAllDead("default");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(engine_->RunDue(), 3);
}

TEST_F(EngineTest, UniqueKeyDropsDuplicatesWithinItsWindow) {
  StartEngine();
  JobSpec s = Spec("noop");
  s.unique_key = "report:2026-01-01";
  s.unique_for = absl::Minutes(10);
  auto first = engine_->Enqueue(s);
  auto second = engine_->Enqueue(s);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(first->id, second->id);
  EXPECT_EQ(engine_->RunDue(), 1);
  auto third = engine_->Enqueue(s);  // finished, but still inside the window
  EXPECT_TRUE(third->duplicate);
  clock_.Advance(absl::Minutes(10));
  auto fourth = engine_->Enqueue(s);
  EXPECT_FALSE(fourth->duplicate);
  EXPECT_NE(fourth->id, first->id);
}

TEST_F(EngineTest, UniqueKeyWithoutWindowHoldsUntilTheJobFinishes) {
  StartEngine();
  JobSpec s = Spec("noop");
  s.unique_key = "sync";
  auto first = engine_->Enqueue(s);
  EXPECT_TRUE(engine_->Enqueue(s)->duplicate);
  EXPECT_EQ(engine_->RunDue(), 1);
  ASSERT_TRUE(engine_->Flush().ok());
  auto again = engine_->Enqueue(s);
  EXPECT_FALSE(again->duplicate);
  EXPECT_NE(again->id, first->id);
}

TEST_F(EngineTest, UniqueKeyReplaceSwapsAPendingJob) {
  StartEngine();
  JobSpec s = Spec("record", "\"old\"");
  s.unique_key = "digest";
  s.on_conflict = UniqueConflict::kReplace;
  s.delay = absl::Minutes(5);
  core::Id old_id = Enqueue(s);
  s.payload = "\"new\"";
  auto replaced = engine_->Enqueue(s);
  ASSERT_TRUE(replaced.ok());
  EXPECT_FALSE(replaced->duplicate);
  EXPECT_EQ(Load(old_id).state, JobState::kCancelled);
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(order_, std::vector<std::string>{"\"new\""});
}

TEST_F(EngineTest, QueueRateLimitSpacesJobs) {
  config_.queues["sms"].rate = {2, absl::Seconds(1)};
  StartEngine();
  for (int i = 0; i < 5; ++i) {
    JobSpec s = Spec("noop");
    s.queue = "sms";
    Enqueue(s);
  }
  EXPECT_EQ(engine_->RunDue(), 2);
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(engine_->RunDue(), 2);
}

TEST_F(EngineTest, GroupRateLimitHoldsOneGroupWithoutBlockingOthers) {
  config_.queues["webhooks"].group_rate = {1, absl::Seconds(1)};
  StartEngine();
  for (std::string g : {"tenant-a", "tenant-a", "tenant-a", "tenant-b"}) {
    JobSpec s = Spec("record", "\"" + g + "\"");
    s.queue = "webhooks";
    s.group_key = g;
    Enqueue(s);
  }
  EXPECT_EQ(engine_->RunDue(), 2);
  EXPECT_EQ(order_, (std::vector<std::string>{"\"tenant-a\"", "\"tenant-b\""}));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
}

TEST_F(EngineTest, GroupRateOverrideAppliesToItsGroupOnly) {
  StartEngine();  // no queue-wide group limit
  engine_->SetGroupRate("webhooks", "slow", {1, absl::Milliseconds(200)});
  for (std::string g : {"slow", "slow", "fast", "fast"}) {
    JobSpec s = Spec("record", "\"" + g + "\"");
    s.queue = "webhooks";
    s.group_key = g;
    Enqueue(s);
  }
  EXPECT_EQ(engine_->RunDue(), 3);  // one "slow", both "fast"
  clock_.Advance(absl::Milliseconds(199));
  EXPECT_EQ(engine_->RunDue(), 0);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  // Zero lifts the limit.
  engine_->SetGroupRate("webhooks", "slow", {0, absl::Seconds(1)});
  for (int i = 0; i < 3; ++i) {
    JobSpec s = Spec("record", "\"slow\"");
    s.queue = "webhooks";
    s.group_key = "slow";
    Enqueue(s);
  }
  EXPECT_EQ(engine_->RunDue(), 3);
}

TEST_F(EngineTest, PausedQueueHoldsItsJobsUntilResumed) {
  StartEngine();
  ASSERT_TRUE(engine_->PauseQueue("default").ok());
  Enqueue(Spec("noop"));
  EXPECT_EQ(engine_->RunDue(), 0);
  ASSERT_TRUE(engine_->ResumeQueue("default").ok());
  EXPECT_EQ(engine_->RunDue(), 1);
}

TEST_F(EngineTest, CancelledJobNeverRuns) {
  StartEngine();
  JobSpec s = Spec("noop");
  s.delay = absl::Seconds(30);
  core::Id id = Enqueue(s);
  ASSERT_TRUE(engine_->Cancel(id).ok());
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(Load(id).state, JobState::kCancelled);
  EXPECT_EQ(engine_->Cancel(id).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, BadInputIsRejectedAndNothingIsStored) {
  StartEngine();
  auto expect_invalid = [&](JobSpec s, std::string_view field) {
    auto r = engine_->Enqueue(s);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(r.status().message().find(ToAbsl(field)), absl::string_view::npos) << r.status();
  };
  expect_invalid(Spec("no-such-type"), "type");
  expect_invalid(Spec("noop", "{not json"), "payload");
  expect_invalid(Spec("noop", std::string(2 << 20, ' ')), "payload");
  JobSpec bad_queue = Spec("noop");
  bad_queue.queue = "has space";
  expect_invalid(bad_queue, "queue");
  JobSpec bad_priority = Spec("noop");
  bad_priority.priority = 5000;
  expect_invalid(bad_priority, "priority");
  // A bad job in a batch rejects the whole batch.
  auto batch = engine_->EnqueueBatch({Spec("noop"), Spec("noop", "[")});
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(batch.status().message().find("jobs[1].payload"), absl::string_view::npos);
  auto listed = engine_->List({});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(EngineTest, EnqueueJoinsTheCallersTransaction) {
  StartEngine();
  ASSERT_TRUE(store_
                  ->Migrate("app", std::vector<store::Migration>{{1, "orders",
                                                                  "CREATE TABLE orders (id TEXT)"}})
                  .ok());
  Status rolled_back = store_->Write([&](store::Txn& txn) -> Status {
    HERALD_RETURN_IF_ERROR(txn.Exec("INSERT INTO orders VALUES ('o1')").status());
    HERALD_RETURN_IF_ERROR(engine_->Enqueue(txn, Spec("noop")).status());
    return absl::AbortedError("payment failed");
  });
  EXPECT_EQ(rolled_back.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_TRUE(engine_->List({})->empty());

  ASSERT_TRUE(store_
                  ->Write([&](store::Txn& txn) -> Status {
                    HERALD_RETURN_IF_ERROR(txn.Exec("INSERT INTO orders VALUES ('o2')").status());
                    return engine_->Enqueue(txn, Spec("noop")).status();
                  })
                  .ok());
  EXPECT_EQ(engine_->RunDue(), 1);
}

TEST_F(EngineTest, JobLeftRunningByADeadProcessIsRecoveredAtStart) {
  store_ = OpenStore();
  Job orphan;
  orphan.id = core::IdGenerator(clock_).Next();
  orphan.queue = "default";
  orphan.type = "record";
  orphan.payload = "\"orphan\"";
  orphan.state = JobState::kRunning;
  orphan.run_at = orphan.created_at = clock_.Now() - absl::Minutes(1);
  orphan.started_at = clock_.Now() - absl::Seconds(50);
  orphan.lease_until = clock_.Now() - absl::Seconds(20);
  orphan.attempts = 1;
  orphan.max_attempts = 3;
  orphan.backoff.jitter_percent = 0;
  orphan.timeout = absl::Minutes(1);
  ASSERT_TRUE(store_->Write([&](store::Txn& txn) { return table::Insert(txn, orphan); }).ok());

  StartEngine();
  Job j = Load(orphan.id);
  EXPECT_EQ(j.state, JobState::kRetryable);
  EXPECT_NE(j.last_error.find("stopped"), std::string::npos) << j.last_error;
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(Load(orphan.id).state, JobState::kSucceeded);
  EXPECT_EQ(Load(orphan.id).attempts, 2);
}

TEST_F(EngineTest, UnfinishedJobsSurviveARestart) {
  StartEngine();
  JobSpec later = Spec("noop");
  later.delay = absl::Hours(1);
  core::Id a = Enqueue(Spec("noop"));
  core::Id b = Enqueue(later);
  engine_.reset();  // stops and flushes
  StartEngine();
  EXPECT_EQ(engine_->RunDue(), 1);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(engine_->RunDue(), 1);
  EXPECT_EQ(Load(a).state, JobState::kSucceeded);
  EXPECT_EQ(Load(b).state, JobState::kSucceeded);
}

TEST_F(EngineTest, FinishedJobsArePrunedAfterRetention) {
  config_.retention_succeeded = absl::Hours(24);
  StartEngine();
  core::Id id = Enqueue(Spec("noop"));
  EXPECT_EQ(engine_->RunDue(), 1);
  ASSERT_TRUE(engine_->Flush().ok());
  clock_.Advance(absl::Hours(23));
  engine_->Maintain();
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_TRUE(engine_->Get(id)->has_value());
  clock_.Advance(absl::Hours(2));
  engine_->Maintain();
  ASSERT_TRUE(engine_->Flush().ok());
  EXPECT_FALSE(engine_->Get(id)->has_value());
}

TEST_F(EngineTest, QueueStatsCountStatesAndLifetimeTotals) {
  StartEngine();
  Enqueue(Spec("noop"));
  Enqueue(Spec("permanent"));
  JobSpec later = Spec("noop");
  later.delay = absl::Hours(1);
  Enqueue(later);
  EXPECT_EQ(engine_->RunDue(), 2);
  Enqueue(Spec("noop"));
  ASSERT_TRUE(engine_->Flush().ok());
  auto stats = engine_->QueueStats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  const table::QueueCounts& c = stats->front();
  EXPECT_EQ(c.by_state[static_cast<int>(JobState::kAvailable)], 1);
  EXPECT_EQ(c.by_state[static_cast<int>(JobState::kScheduled)], 1);
  EXPECT_EQ(c.by_state[static_cast<int>(JobState::kSucceeded)], 1);
  EXPECT_EQ(c.by_state[static_cast<int>(JobState::kDead)], 1);
  EXPECT_EQ(c.succeeded_total, 1);
  EXPECT_EQ(c.dead_total, 1);
  EXPECT_EQ(c.completed_last_minute, 1);
  EXPECT_EQ(c.failed_last_minute, 1);
  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ(engine_->QueueStats()->front().completed_last_minute, 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(engine_->QueueStats()->front().completed_last_minute, 0);
  EXPECT_EQ(engine_->QueueStats()->front().failed_last_minute, 0);

  EngineMetrics m = engine_->Metrics();
  ASSERT_EQ(m.by_type.size(), 2u);
  EXPECT_EQ(m.by_type[0].type, "noop");
  EXPECT_EQ(m.by_type[0].succeeded, 1);
  EXPECT_EQ(m.by_type[1].type, "permanent");
  EXPECT_EQ(m.by_type[1].failed, 1);
  EXPECT_EQ(m.by_type[1].dead, 1);
  EXPECT_EQ(m.latency_count, 2);  // both started at once on the manual clock
  EXPECT_EQ(m.latency_buckets[0], 2);
}

// The finished counts are kept by every change rather than counted: compare them with a
// scan after cancel, retry, delete, delete-dead and pruning.
TEST_F(EngineTest, QueueStatsStayExactThroughEveryChange) {
  config_.retention_succeeded = absl::Hours(1);
  config_.retention_failed = absl::Hours(48);
  StartEngine();
  auto check = [&](const char* step) {
    ASSERT_TRUE(engine_->Flush().ok());
    std::map<std::pair<std::string, int>, int64_t> scanned;
    ASSERT_TRUE(
        store_
            ->Read([&](store::Txn& txn) {
              return txn.Query(
                  "SELECT queue, state, count(*) FROM jobs GROUP BY 1, 2", {},
                  [&](const store::Row& r) {
                    scanned[{std::string(r.Text(0)), static_cast<int>(r.Int(1))}] = r.Int(2);
                    return true;
                  });
            })
            .ok());
    auto stats = engine_->QueueStats();
    ASSERT_TRUE(stats.ok());
    std::map<std::pair<std::string, int>, int64_t> counted;
    for (const table::QueueCounts& c : *stats) {
      for (int st = 0; st < 7; ++st) {
        if (c.by_state[st] != 0) counted[{c.queue, st}] = c.by_state[st];
      }
    }
    EXPECT_EQ(counted, scanned) << step;
  };
  for (int i = 0; i < 3; ++i) {
    JobSpec a = Spec("noop");
    a.queue = "a";
    Enqueue(a);
    JobSpec b = Spec("permanent");
    b.queue = "b";
    Enqueue(b);
  }
  JobSpec c = Spec("noop");
  c.queue = "a";
  c.delay = absl::Hours(10);
  core::Id to_cancel = Enqueue(c);
  EXPECT_EQ(engine_->RunDue(), 6);
  check("finished");
  ASSERT_TRUE(engine_->Cancel(to_cancel).ok());
  check("cancelled");
  ASSERT_TRUE(engine_->Delete(to_cancel).ok());
  check("deleted");
  EXPECT_EQ(*engine_->RetryAllDead("b"), 3);
  check("dead retried");
  EXPECT_EQ(engine_->RunDue(), 3);
  check("dead again");
  EXPECT_EQ(*engine_->DeleteDead("b"), 3);
  check("dead deleted");
  clock_.Advance(absl::Hours(2));
  engine_->Maintain();
  check("pruned");
}

// --- threaded ---------------------------------------------------------------------------

TEST_F(EngineTest, PerQueueConcurrencyCapsRunningHandlers) {
  config_.workers = 4;
  config_.queues["email"].concurrency = 2;
  std::atomic<int> running{0}, peak{0}, done{0};
  extra_handlers_.push_back({"slow", [&](JobContext&) {
                               int now = ++running;
                               int p = peak.load();
                               while (now > p && !peak.compare_exchange_weak(p, now)) {
                               }
                               absl::SleepFor(absl::Milliseconds(20));
                               --running;
                               ++done;
                               return absl::OkStatus();
                             }});
  StartEngine(/*threads=*/true);
  std::vector<JobSpec> specs(8, Spec("slow"));
  for (auto& s : specs) s.queue = "email";
  ASSERT_TRUE(engine_->EnqueueBatch(specs).ok());
  for (int i = 0; i < 500 && done.load() < 8; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(done.load(), 8);
  EXPECT_EQ(peak.load(), 2);
  engine_.reset();  // joins the workers before the counters they use go away
}

TEST_F(EngineTest, TimedOutAttemptIsFailedRetriedAndItsHandlerToldToStop) {
  absl::Notification started, saw_cancel;
  extra_handlers_.push_back({"hang", [&](JobContext& ctx) {
                               started.Notify();
                               while (!ctx.cancelled()) absl::SleepFor(absl::Milliseconds(1));
                               saw_cancel.Notify();
                               return absl::OkStatus();  // too late: ignored
                             }});
  StartEngine(/*threads=*/true);
  JobSpec s = Spec("hang");
  s.timeout = absl::Seconds(5);
  s.max_attempts = 1;
  core::Id id = Enqueue(s);
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  clock_.Advance(absl::Seconds(5));
  engine_->Maintain();
  ASSERT_TRUE(saw_cancel.WaitForNotificationWithTimeout(absl::Seconds(10)));
  Job j = Load(id);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_NE(j.last_error.find("timed out"), std::string::npos) << j.last_error;
  engine_.reset();  // joins the workers before the notifications they use go away
}

TEST_F(EngineTest, HeartbeatRenewsTheLeaseOfARunningJob) {
  config_.lease = absl::Seconds(30);
  config_.heartbeat = absl::Seconds(10);
  absl::Notification started, release;
  extra_handlers_.push_back({"wait", [&](JobContext&) {
                               started.Notify();
                               release.WaitForNotification();
                               return absl::OkStatus();
                             }});
  StartEngine(/*threads=*/true);
  core::Id id = Enqueue(Spec("wait"));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(Load(id).lease_until, clock_.Now() + absl::Seconds(30));
  clock_.Advance(absl::Seconds(10));
  engine_->Maintain();
  Job j = Load(id);
  EXPECT_EQ(j.state, JobState::kRunning);
  EXPECT_EQ(j.lease_until, clock_.Now() + absl::Seconds(30));
  release.Notify();
  engine_.reset();  // joins the workers before the notifications they use go away
}

TEST_F(EngineTest, CancellingARunningJobTellsItsHandler) {
  absl::Notification started, saw_cancel;
  extra_handlers_.push_back({"long", [&](JobContext& ctx) {
                               started.Notify();
                               while (!ctx.cancelled()) absl::SleepFor(absl::Milliseconds(1));
                               saw_cancel.Notify();
                               return absl::CancelledError("stopped");
                             }});
  StartEngine(/*threads=*/true);
  core::Id id = Enqueue(Spec("long"));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(engine_->Cancel(id).ok());
  ASSERT_TRUE(saw_cancel.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(Load(id).state, JobState::kCancelled);
  engine_.reset();  // joins the workers before the notifications they use go away
}

TEST_F(EngineTest, WritesThatFailBecauseTheStoreIsBusyAreRetried) {
  store::SqliteOptions o;
  o.path = DbPath();
  o.exclusive_owner = true;
  o.busy_timeout = absl::Milliseconds(20);
  store_ = std::move(store::SqliteStore::Open(o)).value();
  ASSERT_TRUE(Engine::Migrate(*store_).ok());
  StartEngine();
  core::Id id = Enqueue(Spec("noop"));

  // Another connection holds the write lock while the job's completion is written behind.
  auto other = OpenStore(/*owner=*/false);
  absl::Notification locked, release;
  std::thread holder([&] {
    other
        ->Write([&](store::Txn&) {
          locked.Notify();
          release.WaitForNotification();
          return absl::OkStatus();
        })
        .IgnoreError();
  });
  locked.WaitForNotification();
  EXPECT_EQ(engine_->RunDue(), 1);
  absl::SleepFor(absl::Milliseconds(200));  // the write-behind flush fails: database is locked
  release.Notify();
  holder.join();
  engine_->Maintain();  // requests the retry; no explicit Flush
  Job j;
  for (int i = 0; i < 500; ++i) {
    j = **engine_->Get(id);
    if (j.state == JobState::kSucceeded) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(j.state, JobState::kSucceeded);
}

TEST_F(EngineTest, RetryingAJobCancelledWhileRunningRunsItAgain) {
  std::atomic<int> runs{0};
  absl::Notification started, release;
  extra_handlers_.push_back({"once-blocking", [&](JobContext&) {
                               if (++runs == 1) {
                                 started.Notify();
                                 release.WaitForNotification();
                               }
                               return absl::OkStatus();
                             }});
  StartEngine(/*threads=*/true);
  core::Id id = Enqueue(Spec("once-blocking"));
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(engine_->Cancel(id).ok());
  ASSERT_TRUE(engine_->Retry(id).ok());
  release.Notify();
  for (int i = 0; i < 1000 && runs.load() < 2; ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(Load(id).state, JobState::kSucceeded);
  engine_.reset();
}

TEST_F(EngineTest, ACancelledJobThatTimesOutIsNotRetried) {
  std::atomic<int> runs{0};
  absl::Notification started, release;
  extra_handlers_.push_back({"obstinate", [&](JobContext&) {
                               ++runs;
                               started.Notify();
                               release.WaitForNotification();  // ignores cancelled()
                               return absl::OkStatus();
                             }});
  StartEngine(/*threads=*/true);
  JobSpec s = Spec("obstinate");
  s.timeout = absl::Seconds(5);
  core::Id id = Enqueue(s);
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(engine_->Cancel(id).ok());
  clock_.Advance(absl::Minutes(10));
  engine_->Maintain();
  release.Notify();
  engine_.reset();  // waits for the handler
  StartEngine();
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(engine_->RunDue(), 0);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(Load(id).state, JobState::kCancelled);
}

TEST_F(EngineTest, ChangesFromAnotherProcessAreSeen) {
  absl::Notification ran;
  extra_handlers_.push_back({"ping", [&](JobContext&) {
                               ran.Notify();
                               return absl::OkStatus();
                             }});
  StartEngine(/*threads=*/true);
  JobSpec later = Spec("noop");
  later.delay = absl::Hours(1);
  core::Id scheduled = Enqueue(later);

  // A command-line tool: its own connection and an engine that is never started.
  auto tool_store = OpenStore(/*owner=*/false);
  auto tool = Engine::Create(*tool_store, clock_, config_);
  ASSERT_TRUE(tool.ok());
  (*tool)->RegisterHandler("ping", [](JobContext&) { return absl::OkStatus(); });
  (*tool)->RegisterHandler("noop", [](JobContext&) { return absl::OkStatus(); });
  ASSERT_TRUE((*tool)->Cancel(scheduled).ok());
  ASSERT_TRUE((*tool)->Enqueue(Spec("ping")).ok());
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The ping finishes and the cancelled job is dropped: nothing unfinished stays in memory.
  for (int i = 0; i < 1000 && engine_->Metrics().unfinished != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(engine_->Metrics().unfinished, 0);
  engine_.reset();  // joins the workers before the notification they use goes away
}

}  // namespace
}  // namespace herald::engine
