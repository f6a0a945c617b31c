#include "engine/scheduler.h"

#include <unistd.h>

#include <filesystem>

#include "core/testing/temp_dir.h"
#include "engine/builtin_handlers.h"
#include "gtest/gtest.h"
#include "store/sqlite/sqlite_store.h"

namespace herald::engine {
namespace {

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(At("2026-01-01T00:00:00Z"));
    store::SqliteOptions o;
    o.path = dir_.File("herald.db");
    auto s = store::SqliteStore::Open(o);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(Engine::Migrate(*store_).ok());
    ASSERT_TRUE(Scheduler::Migrate(*store_).ok());
    auto e = Engine::Create(*store_, clock_, core::Config::Engine{});
    ASSERT_TRUE(e.ok());
    engine_ = std::move(e).value();
    RegisterBuiltinHandlers(*engine_);
    ASSERT_TRUE(engine_->Start(/*threads=*/false).ok());
    scheduler_ = NewScheduler();
  }
  void TearDown() override {
    scheduler_.reset();
    engine_.reset();
    store_.reset();
  }

  std::unique_ptr<Scheduler> NewScheduler() {
    auto s = Scheduler::Create(*store_, *engine_, clock_, config_);
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE((*s)->Start(/*thread=*/false).ok());
    return std::move(s).value();
  }

  ScheduleSpec Hourly(std::string name, Misfire misfire = Misfire::kFireOnce) {
    ScheduleSpec spec;
    spec.name = std::move(name);
    spec.cron = "0 * * * *";
    spec.job.type = "noop";
    spec.misfire = misfire;
    return spec;
  }

  // The run_at of every job enqueued so far, in order.
  std::vector<absl::Time> JobSlots() {
    EXPECT_TRUE(engine_->Flush().ok());
    auto jobs = engine_->List({});
    EXPECT_TRUE(jobs.ok());
    std::vector<absl::Time> out;
    for (const Job& j : *jobs) out.push_back(j.run_at);
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir dir_;
  core::ManualClock clock_;
  core::Config::Scheduler config_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, FiresEachSlotOnceWithTheSlotAsRunAt) {
  auto s = scheduler_->Add(Hourly("sync"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->next_fire_at, At("2026-01-01T01:00:00Z"));
  clock_.Set(At("2026-01-01T00:59:59Z"));
  EXPECT_EQ(scheduler_->Tick(), 0);
  clock_.Set(At("2026-01-01T01:00:00.002Z"));
  EXPECT_EQ(scheduler_->Tick(), 1);
  EXPECT_EQ(scheduler_->Tick(), 0);
  EXPECT_EQ(JobSlots(), std::vector<absl::Time>{At("2026-01-01T01:00:00Z")});
  EXPECT_EQ(engine_->RunDue(), 1);
  auto after = scheduler_->Get("sync");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->next_fire_at, At("2026-01-01T02:00:00Z"));
  EXPECT_EQ(after->fires, 1);
}

TEST_F(SchedulerTest, ASlotFiresOnceAcrossRestartsAndAcrossSchedulers) {
  ASSERT_TRUE(scheduler_->Add(Hourly("sync")).ok());
  auto other = NewScheduler();  // a second node on the same store
  clock_.Set(At("2026-01-01T01:00:00Z"));
  EXPECT_EQ(scheduler_->Tick() + other->Tick(), 1);
  scheduler_ = NewScheduler();  // restart
  EXPECT_EQ(scheduler_->Tick(), 0);
  EXPECT_EQ(JobSlots().size(), 1u);
}

struct MisfireCase {
  Misfire policy;
  const char* now;
  std::vector<const char*> fired;
  int64_t misfires;
};

class MisfireTest : public SchedulerTest, public ::testing::WithParamInterface<MisfireCase> {};

TEST_P(MisfireTest, PolicyDecidesWhatFiresAfterDowntime) {
  const MisfireCase& c = GetParam();
  ASSERT_TRUE(scheduler_->Add(Hourly("report", c.policy)).ok());
  clock_.Set(At(c.now));  // nothing ticked since midnight: the server was down
  scheduler_->Tick();
  std::vector<absl::Time> want;
  for (const char* t : c.fired) want.push_back(At(t));
  EXPECT_EQ(JobSlots(), want);
  auto s = scheduler_->Get("report");
  EXPECT_EQ(s->misfires, c.misfires);
  EXPECT_EQ(s->next_fire_at, At("2026-01-01T06:00:00Z"));
}

INSTANTIATE_TEST_SUITE_P(
    Policies, MisfireTest,
    ::testing::Values(
        // Every slot 01:00..05:00 is more than the 60 s grace late.
        MisfireCase{Misfire::kSkip, "2026-01-01T05:30:00Z", {}, 5},
        MisfireCase{Misfire::kFireOnce, "2026-01-01T05:30:00Z", {"2026-01-01T05:00:00Z"}, 4},
        MisfireCase{Misfire::kFireAll,
                    "2026-01-01T05:30:00Z",
                    {"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z",
                     "2026-01-01T04:00:00Z", "2026-01-01T05:00:00Z"},
                    0},
        // Back up 30 s after the 05:00 slot: that one is on time and fires in every policy.
        MisfireCase{Misfire::kSkip, "2026-01-01T05:00:30Z", {"2026-01-01T05:00:00Z"}, 4},
        MisfireCase{Misfire::kFireOnce, "2026-01-01T05:00:30Z", {"2026-01-01T05:00:00Z"}, 4},
        MisfireCase{Misfire::kFireAll,
                    "2026-01-01T05:00:30Z",
                    {"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z",
                     "2026-01-01T04:00:00Z", "2026-01-01T05:00:00Z"},
                    0}));

TEST_F(SchedulerTest, FireAllIsCappedAtMaxCatchup) {
  config_.max_catchup = 2;
  scheduler_ = NewScheduler();
  ASSERT_TRUE(scheduler_->Add(Hourly("capped", Misfire::kFireAll)).ok());
  clock_.Set(At("2026-01-01T05:30:00Z"));
  scheduler_->Tick();
  EXPECT_EQ(JobSlots(),
            (std::vector<absl::Time>{At("2026-01-01T04:00:00Z"), At("2026-01-01T05:00:00Z")}));
  EXPECT_EQ(scheduler_->Get("capped")->misfires, 3);
}

TEST_F(SchedulerTest, ScheduleRunsOnWallClockTimeOfItsZone) {
  ScheduleSpec spec = Hourly("morning");
  spec.cron = "0 8 * * MON-FRI";
  spec.timezone = "Europe/Paris";
  auto s = scheduler_->Add(spec);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->next_fire_at, At("2026-01-01T07:00:00Z"));  // Thursday, CET = UTC+1
  auto runs = scheduler_->NextRuns("morning", 3);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, (std::vector<absl::Time>{At("2026-01-01T07:00:00Z"), At("2026-01-02T07:00:00Z"),
                                            At("2026-01-05T07:00:00Z")}));
}

TEST_F(SchedulerTest, PausedScheduleDoesNotFireAndResumesUnderItsMisfirePolicy) {
  ASSERT_TRUE(scheduler_->Add(Hourly("paused", Misfire::kSkip)).ok());
  ASSERT_TRUE(scheduler_->SetEnabled("paused", false).ok());
  clock_.Set(At("2026-01-01T03:00:00Z"));
  EXPECT_EQ(scheduler_->Tick(), 0);
  ASSERT_TRUE(scheduler_->SetEnabled("paused", true).ok());
  EXPECT_EQ(scheduler_->Tick(), 1);  // 03:00 is on time; 01:00 and 02:00 were skipped
  EXPECT_EQ(scheduler_->Get("paused")->misfires, 2);
}

TEST_F(SchedulerTest, BadSchedulesAreRejectedWithTheFieldNamed) {
  auto expect = [&](ScheduleSpec spec, absl::StatusCode code, std::string_view field) {
    auto r = scheduler_->Add(spec);
    ASSERT_EQ(r.status().code(), code) << r.status();
    EXPECT_NE(std::string(r.status().message()).find(field), std::string::npos) << r.status();
  };
  ScheduleSpec bad = Hourly("x");
  bad.cron = "61 * * * *";
  expect(bad, absl::StatusCode::kInvalidArgument, "cron");
  bad = Hourly("x");
  bad.timezone = "Mars/Olympus";
  expect(bad, absl::StatusCode::kInvalidArgument, "timezone");
  bad = Hourly("x");
  bad.job.type = "nope";
  expect(bad, absl::StatusCode::kInvalidArgument, "type");
  bad = Hourly("has space");
  expect(bad, absl::StatusCode::kInvalidArgument, "name");
  ASSERT_TRUE(scheduler_->Add(Hourly("dup")).ok());
  expect(Hourly("dup"), absl::StatusCode::kAlreadyExists, "dup");
  EXPECT_EQ(scheduler_->List()->size(), 1u);
}

TEST_F(SchedulerTest, RemovedScheduleStopsFiring) {
  ASSERT_TRUE(scheduler_->Add(Hourly("gone")).ok());
  ASSERT_TRUE(scheduler_->Remove("gone").ok());
  EXPECT_EQ(scheduler_->Remove("gone").code(), absl::StatusCode::kNotFound);
  clock_.Set(At("2026-01-01T01:00:00Z"));
  EXPECT_EQ(scheduler_->Tick(), 0);
}

TEST(Misfire, NamesRoundTrip) {
  for (Misfire m : {Misfire::kSkip, Misfire::kFireOnce, Misfire::kFireAll}) {
    EXPECT_EQ(*ParseMisfire(MisfireName(m)), m);
  }
  EXPECT_FALSE(ParseMisfire("sometimes").ok());
}

}  // namespace
}  // namespace herald::engine
