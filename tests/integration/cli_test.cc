// The `herald` command as scripts see it: output, exit codes and error messages.

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "process.h"

namespace herald {
namespace {

using testing::RunHerald;

class CliTest : public ::testing::Test {
 protected:
  // Port 0: any free port, so that a server left on 8080 cannot break the tests.
  void SetUp() override {
    env_ = {"HERALD_STORE_PATH=" + dir_.File("herald.db"), "HERALD_HTTP_PORT=0"};
  }

  testing::CommandResult Run(const std::vector<std::string>& args) { return RunHerald(args, env_); }

  testing::TempDir dir_;
  std::vector<std::string> env_;
};

TEST_F(CliTest, CronNextPrintsIsoTimesWithOffsetAcrossDst) {
  auto r = Run({"cron", "next", "--expr", "30 2 * * *", "--tz", "Europe/Paris", "--from",
                "2026-03-28T00:00:00+01:00", "--count", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out,
            "2026-03-28T02:30:00.000+01:00\n"
            "2026-03-29T03:00:00.000+02:00\n"
            "2026-03-30T02:30:00.000+02:00\n");
}

TEST_F(CliTest, BadInputExitsWithTwoAndSaysWhy) {
  auto bad_cron = Run({"cron", "next", "--expr", "61 * * * *"});
  EXPECT_EQ(bad_cron.exit_code, 2);
  EXPECT_NE(bad_cron.out.find("minute"), std::string::npos) << bad_cron.out;
  auto bad_zone = Run({"cron", "next", "--expr", "* * * * *", "--tz", "Nowhere/City"});
  EXPECT_EQ(bad_zone.exit_code, 2);
  EXPECT_NE(bad_zone.out.find("Nowhere/City"), std::string::npos) << bad_zone.out;
  auto bad_type = Run({"enqueue", "--type", "no-such-type"});
  EXPECT_EQ(bad_type.exit_code, 2);
  EXPECT_NE(bad_type.out.find("no-such-type"), std::string::npos) << bad_type.out;
  auto bad_json = Run({"enqueue", "--type", "noop", "--payload", "{oops"});
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_NE(bad_json.out.find("payload"), std::string::npos) << bad_json.out;
  auto big =
      RunHerald({"enqueue", "--type", "noop", "--payload", "\"" + std::string(2000, 'x') + "\""},
                {env_[0], "HERALD_ENGINE_MAX_PAYLOAD_BYTES=1000"});
  EXPECT_EQ(big.exit_code, 2);
  EXPECT_NE(big.out.find("over the limit"), std::string::npos);
  auto bad_flag = Run({"jobs", "list", "--limit", "0"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  auto bad_config = RunHerald({"queues"}, {"HERALD_ENGINE_WORKERS=0"});
  EXPECT_EQ(bad_config.exit_code, 2);
  EXPECT_NE(bad_config.out.find("engine.workers"), std::string::npos) << bad_config.out;
}

TEST_F(CliTest, UsersAddListPasswdAndRole) {
  const std::string secret = "a long enough passphrase";
  auto add = Run({"users", "add", "--email", "Ann@Example.com", "--name", "Ann", "--role",
                  "organizer", "--password", secret});
  ASSERT_EQ(add.exit_code, 0) << add.out;
  auto list = Run({"users", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.out;
  EXPECT_NE(list.out.find("ann@example.com"), std::string::npos) << list.out;  // normalized
  EXPECT_NE(list.out.find("organizer"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(secret), std::string::npos);
  EXPECT_EQ(add.out.find(secret), std::string::npos);
  EXPECT_EQ(Run({"users", "add", "--email", "ann@example.com", "--password", secret}).exit_code,
            4);  // exists
  EXPECT_EQ(Run({"users", "role", "ann@example.com", "operator"}).exit_code, 0);
  EXPECT_NE(Run({"users", "list"}).out.find("operator"), std::string::npos);
  EXPECT_EQ(Run({"users", "role", "ann@example.com", "superuser"}).exit_code, 2);
  EXPECT_EQ(Run({"users", "passwd", "ann@example.com", "--password", "short"}).exit_code, 2);
  EXPECT_EQ(
      Run({"users", "passwd", "ann@example.com", "--password", "a brand new passphrase"}).exit_code,
      0);
  EXPECT_EQ(Run({"users", "passwd", "nobody@example.com", "--password", "a brand new passphrase"})
                .exit_code,
            3);
  EXPECT_EQ(Run({"users", "passwd", "ann@example.com"}).exit_code, 2);  // no password given
}

TEST_F(CliTest, EnqueueShowCancelRetryRoundTrip) {
  auto enq = Run({"enqueue", "--type", "noop", "--delay", "1h", "--queue", "reports"});
  ASSERT_EQ(enq.exit_code, 0) << enq.out;
  std::string id = enq.out.substr(0, 36);
  auto show = Run({"jobs", "show", id});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("\"state\":\"scheduled\""), std::string::npos) << show.out;
  EXPECT_EQ(Run({"jobs", "cancel", id}).exit_code, 0);
  EXPECT_EQ(Run({"jobs", "cancel", id}).exit_code, 4);  // already finished
  EXPECT_EQ(Run({"jobs", "retry", id}).exit_code, 0);
  EXPECT_EQ(Run({"jobs", "show", "01890a5d-ac96-774b-bcce-b302099a8057"}).exit_code, 3);
  EXPECT_EQ(Run({"jobs", "show", "not-an-id"}).exit_code, 2);
  auto list = Run({"jobs", "list", "--queue", "reports", "--json"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find(id), std::string::npos);
  auto queues = Run({"queues", "--json"});
  EXPECT_NE(queues.out.find("\"name\":\"reports\""), std::string::npos) << queues.out;
}

TEST_F(CliTest, SchedulesAddListRemove) {
  auto add =
      Run({"schedules", "add", "--name", "daily-report", "--simple",
           R"({"frequency":"daily","time":"08:00"})", "--tz", "Europe/Paris", "--type", "noop"});
  ASSERT_EQ(add.exit_code, 0) << add.out;
  EXPECT_NE(add.out.find("0 8 * * *"), std::string::npos) << add.out;
  EXPECT_EQ(
      Run({"schedules", "add", "--name", "daily-report", "--cron", "@daily", "--type", "noop"})
          .exit_code,
      4);
  auto list = Run({"schedules", "list", "--json"});
  EXPECT_NE(list.out.find("daily-report"), std::string::npos);
  EXPECT_EQ(Run({"schedules", "remove", "daily-report"}).exit_code, 0);
  EXPECT_EQ(Run({"schedules", "remove", "daily-report"}).exit_code, 3);
}

TEST_F(CliTest, SecondServerOnTheSameStoreIsRefused) {
  std::string log = dir_.File("serve.log");
  testing::Child first({"serve"}, env_, log);
  bool serving = false;
  for (int i = 0; i < 200 && !serving; ++i) {  // until the first server holds the lock
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    serving = text.find("herald serving") != std::string::npos;
    if (!serving) usleep(50'000);
  }
  ASSERT_TRUE(serving);
  auto second = Run({"serve"});
  EXPECT_EQ(second.exit_code, 5) << second.out;
  EXPECT_NE(second.out.find("already using"), std::string::npos);
}

}  // namespace
}  // namespace herald
