#include "core/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::core {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using Env = std::map<std::string, std::string>;

std::string Message(const Status& status) { return std::string(status.message()); }

// Writes `contents` to a file named after the running test under the test temp dir.
std::string WriteFile(const std::string& contents, const std::string& suffix = "") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path = (std::filesystem::path(::testing::TempDir()) /
                            (std::string("herald_config_") + info->name() + suffix + ".toml"))
                               .string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  EXPECT_TRUE(out.good()) << path;
  return path;
}

Result<Config> LoadText(const std::string& contents, const Env& env = {}) {
  return LoadConfig(WriteFile(contents), env);
}

// The InvalidArgument message of loading `contents`, or a failure if it loads.
std::string LoadError(const std::string& contents, const Env& env = {}) {
  Result<Config> config = LoadText(contents, env);
  EXPECT_FALSE(config.ok()) << "loaded without error:\n" << contents;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return Message(config.status());
}

std::string EnvError(const Env& env) {
  Result<Config> config = LoadConfig("", env);
  EXPECT_FALSE(config.ok());
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return Message(config.status());
}

// The repository root: HERALD_SOURCE_DIR if the build defines it, else three levels above this
// file (src/core/config_test.cc), which CMake compiles by absolute path.
std::filesystem::path SourceDir() {
#ifdef HERALD_SOURCE_DIR
  return std::filesystem::path(HERALD_SOURCE_DIR);
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
#endif
}

std::string ExampleFilePath() { return (SourceDir() / "herald.example.toml").string(); }

std::string ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// --- Durations -------------------------------------------------------------------------------

TEST(Config, ParseDurationAcceptsUnitsAndCombinations) {
  const std::vector<std::pair<std::string, absl::Duration>> cases = {
      {"0s", absl::ZeroDuration()},
      {"0ms", absl::ZeroDuration()},
      {"250ms", absl::Milliseconds(250)},
      {"30s", absl::Seconds(30)},
      {"5m", absl::Minutes(5)},
      {"24h", absl::Hours(24)},
      {"7d", absl::Hours(7 * 24)},
      {"1h30m", absl::Minutes(90)},
      {"1d2h3m4s5ms",
       absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4) + absl::Milliseconds(5)},
      {"1500ms", absl::Milliseconds(1500)},
      {"90s", absl::Seconds(90)},
      {"007s", absl::Seconds(7)},
  };
  for (const auto& [text, expected] : cases) {
    Result<absl::Duration> d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status();
    EXPECT_EQ(*d, expected) << text;
  }
}

TEST(Config, ParseDurationRejectsBadInputWithClearMessages) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"-5s", "negative"},
      {"-1h30m", "negative"},
      {"30", "missing unit"},
      {"1h30", "missing unit after 30"},
      {"s", "expected a number followed by a unit"},
      {"abc", "expected a number followed by a unit"},
      {"30x", "unknown unit \"x\""},
      {"30sec", "unknown unit \"sec\""},
      {"30 s", "expected a number followed by a unit"},
      {" 30s", "expected a number followed by a unit"},
      {"30s ", "expected a number followed by a unit"},
      {"+30s", "expected a number followed by a unit"},
      {"1.5h", "fractions are not supported"},
      {"30m1h", "largest to smallest"},
      {"1m1m", "largest to smallest"},
      {"99999999999999999999s", "too large"},
      {"9223372036854775807d", "too large"},
      {"106751991168d", "too large"},
  };
  for (const auto& [text, expected] : cases) {
    Result<absl::Duration> d = ParseDuration(text);
    ASSERT_FALSE(d.ok()) << text << " parsed as " << *d;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(d.status()), HasSubstr(expected)) << text;
    EXPECT_THAT(Message(d.status()), HasSubstr("invalid duration")) << text;
  }
}

TEST(Config, ParseDurationAcceptsTheLargestRepresentableTotal) {
  Result<absl::Duration> d = ParseDuration("9223372036854775807ms");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, absl::Milliseconds(INT64_MAX));
}

// --- Defaults and files ----------------------------------------------------------------------

TEST(Config, DefaultsAreValid) {
  Result<Config> config = LoadConfig("", {});
  ASSERT_TRUE(config.ok()) << config.status();
  const Config defaults;
  EXPECT_EQ(config->store.path, defaults.store.path);
  EXPECT_EQ(config->store.synchronous, "normal");
  EXPECT_EQ(config->store.busy_timeout, absl::Seconds(5));
  EXPECT_EQ(config->store.max_batch, 4096);
  EXPECT_EQ(config->engine.workers, 4);
  EXPECT_EQ(config->engine.lease, absl::Seconds(30));
  EXPECT_EQ(config->engine.heartbeat, absl::Seconds(10));
  EXPECT_EQ(config->engine.max_payload_bytes, 1 << 20);
  EXPECT_TRUE(config->engine.queues.empty());
  EXPECT_EQ(config->scheduler.max_catchup, 1000);
  EXPECT_EQ(config->log.level, "info");
  EXPECT_EQ(config->log.format, "text");
  EXPECT_TRUE(ValidateConfig(Config{}).ok());
}

TEST(Config, EmptyFileGivesDefaults) {
  Result<Config> config = LoadText("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine.workers, 4);
}

TEST(Config, ExampleFileLoadsAndMatchesDefaults) {
  const std::string path = ExampleFilePath();
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  Result<Config> config = LoadConfig(path, {});
  ASSERT_TRUE(config.ok()) << config.status();
  const Config defaults;
  EXPECT_EQ(config->store.path, defaults.store.path);
  EXPECT_EQ(config->store.synchronous, defaults.store.synchronous);
  EXPECT_EQ(config->store.busy_timeout, defaults.store.busy_timeout);
  EXPECT_EQ(config->store.max_batch, defaults.store.max_batch);
  EXPECT_EQ(config->engine.workers, defaults.engine.workers);
  EXPECT_EQ(config->engine.lease, defaults.engine.lease);
  EXPECT_EQ(config->engine.heartbeat, defaults.engine.heartbeat);
  EXPECT_EQ(config->engine.default_timeout, defaults.engine.default_timeout);
  EXPECT_EQ(config->engine.default_max_attempts, defaults.engine.default_max_attempts);
  EXPECT_EQ(config->engine.max_payload_bytes, defaults.engine.max_payload_bytes);
  EXPECT_EQ(config->engine.retention_succeeded, defaults.engine.retention_succeeded);
  EXPECT_EQ(config->engine.retention_failed, defaults.engine.retention_failed);
  EXPECT_EQ(config->engine.shutdown_grace, defaults.engine.shutdown_grace);
  EXPECT_EQ(config->scheduler.misfire_grace, defaults.scheduler.misfire_grace);
  EXPECT_EQ(config->scheduler.max_catchup, defaults.scheduler.max_catchup);
  EXPECT_EQ(config->log.level, defaults.log.level);
  EXPECT_EQ(config->log.format, defaults.log.format);
  ASSERT_EQ(config->engine.queues.size(), 2u);
  EXPECT_EQ(config->engine.queues.at("emails").concurrency, 8);
  EXPECT_EQ(config->engine.queues.at("webhooks").group_rate.limit, 5);
}

TEST(Config, DocumentationShowsTheExampleFileAndEveryVariable) {
  const std::string doc = ReadWholeFile(SourceDir() / "docs" / "CONFIGURATION.md");
  const std::string example = ReadWholeFile(ExampleFilePath());
  EXPECT_THAT(doc, HasSubstr("```toml\n" + example + "```\n"))
      << "docs/CONFIGURATION.md must quote herald.example.toml verbatim";
  for (const char* var :
       {"HERALD_STORE_PATH", "HERALD_STORE_SYNCHRONOUS", "HERALD_STORE_BUSY_TIMEOUT",
        "HERALD_STORE_MAX_BATCH", "HERALD_ENGINE_WORKERS", "HERALD_ENGINE_LEASE",
        "HERALD_ENGINE_HEARTBEAT", "HERALD_ENGINE_DEFAULT_TIMEOUT",
        "HERALD_ENGINE_DEFAULT_MAX_ATTEMPTS", "HERALD_ENGINE_MAX_PAYLOAD_BYTES",
        "HERALD_ENGINE_RETENTION_SUCCEEDED", "HERALD_ENGINE_RETENTION_FAILED",
        "HERALD_ENGINE_SHUTDOWN_GRACE", "HERALD_SCHEDULER_MISFIRE_GRACE",
        "HERALD_SCHEDULER_MAX_CATCHUP", "HERALD_LOG_LEVEL", "HERALD_LOG_FORMAT"}) {
    EXPECT_THAT(doc, HasSubstr(std::string("`") + var + "`")) << var;
  }
  for (std::string_view var : kNonConfigEnvVars) {
    EXPECT_THAT(doc, HasSubstr("`" + std::string(var) + "`")) << var;
  }
}

TEST(Config, FullFileIsParsed) {
  Result<Config> config = LoadText(R"(
[store]
path = "/var/lib/herald/h.db"
synchronous = "full"
busy_timeout = "250ms"
max_batch = 100

[engine]
workers = 16
lease = "1m"
heartbeat = "20s"
default_timeout = "2h"
default_max_attempts = 10
max_payload_bytes = 2_000_000
retention_succeeded = "1d"
retention_failed = "30d"
shutdown_grace = "45s"

[engine.queues.emails]
concurrency = 8
rate_limit = { limit = 100, interval = "1m" }
group_rate_limit = { limit = 3, interval = "10s" }

[engine.queues.reports]
concurrency = 0

[engine.queues.sms.rate_limit]
limit = 1
interval = "200ms"

[scheduler]
misfire_grace = "0s"
max_catchup = 50

[log]
level = "debug"
format = "json"
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->store.path, "/var/lib/herald/h.db");
  EXPECT_EQ(config->store.synchronous, "full");
  EXPECT_EQ(config->store.busy_timeout, absl::Milliseconds(250));
  EXPECT_EQ(config->store.max_batch, 100);
  EXPECT_EQ(config->engine.workers, 16);
  EXPECT_EQ(config->engine.lease, absl::Minutes(1));
  EXPECT_EQ(config->engine.heartbeat, absl::Seconds(20));
  EXPECT_EQ(config->engine.default_timeout, absl::Hours(2));
  EXPECT_EQ(config->engine.default_max_attempts, 10);
  EXPECT_EQ(config->engine.max_payload_bytes, 2'000'000);
  EXPECT_EQ(config->engine.retention_succeeded, absl::Hours(24));
  EXPECT_EQ(config->engine.retention_failed, absl::Hours(24 * 30));
  EXPECT_EQ(config->engine.shutdown_grace, absl::Seconds(45));
  ASSERT_EQ(config->engine.queues.size(), 3u);
  const QueueConfig& emails = config->engine.queues.at("emails");
  EXPECT_EQ(emails.concurrency, 8);
  EXPECT_EQ(emails.rate.limit, 100);
  EXPECT_EQ(emails.rate.interval, absl::Minutes(1));
  EXPECT_EQ(emails.group_rate.limit, 3);
  EXPECT_EQ(emails.group_rate.interval, absl::Seconds(10));
  const QueueConfig& reports = config->engine.queues.at("reports");
  EXPECT_EQ(reports.concurrency, 0);
  EXPECT_EQ(reports.rate.limit, 0);
  EXPECT_EQ(reports.rate.interval, absl::Seconds(1));
  const QueueConfig& sms = config->engine.queues.at("sms");
  EXPECT_EQ(sms.rate.limit, 1);
  EXPECT_EQ(sms.rate.interval, absl::Milliseconds(200));
  EXPECT_EQ(config->scheduler.misfire_grace, absl::ZeroDuration());
  EXPECT_EQ(config->scheduler.max_catchup, 50);
  EXPECT_EQ(config->log.level, "debug");
  EXPECT_EQ(config->log.format, "json");
}

TEST(Config, MissingFileIsNotFoundNamingThePath) {
  const std::string path = ::testing::TempDir() + "/herald_config_does_not_exist.toml";
  Result<Config> config = LoadConfig(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(config.status()), HasSubstr(path));
}

TEST(Config, DirectoryIsRejected) {
  Result<Config> config = LoadConfig(::testing::TempDir(), {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(config.status()), HasSubstr("is a directory"));
}

TEST(Config, SyntaxErrorGivesLineAndColumn) {
  const std::string path = WriteFile("[engine]\nworkers = 4\nlease = = \"30s\"\n");
  Result<Config> config = LoadConfig(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(config.status()), HasSubstr(path + ":3:"));
  EXPECT_THAT(Message(config.status()), HasSubstr("TOML syntax error"));
}

TEST(Config, DuplicateKeyIsASyntaxError) {
  const std::string message = LoadError("[engine]\nworkers = 4\nworkers = 5\n");
  EXPECT_THAT(message, HasSubstr(":3:"));
  EXPECT_THAT(message, HasSubstr("TOML syntax error"));
}

TEST(Config, InvalidUtf8IsASyntaxError) {
  EXPECT_THAT(LoadError("[log]\nlevel = \"\xff\xfe\"\n"), HasSubstr("TOML syntax error"));
}

// --- Unknown keys and types ------------------------------------------------------------------

TEST(Config, UnknownKeyInSectionIsNamedWithSuggestionAndLocation) {
  const std::string path = WriteFile("[engine]\nworkers = 4\nwrokers = 8\n");
  Result<Config> config = LoadConfig(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(config.status()),
              AllOf(HasSubstr("engine.wrokers: unknown key"),
                    HasSubstr("did you mean engine.workers?"), HasSubstr(path + ":3:1")));
}

TEST(Config, UnknownKeysAnywhereAreErrors) {
  EXPECT_THAT(LoadError("[engin]\nworkers = 4\n"),
              AllOf(HasSubstr("engin: unknown key"), HasSubstr("did you mean engine?")));
  EXPECT_THAT(LoadError("title = \"x\"\n"), HasSubstr("title: unknown key"));
  EXPECT_THAT(LoadError("[store]\nfile = \"x.db\"\n"), HasSubstr("store.file: unknown key"));
  EXPECT_THAT(LoadError("[scheduler]\ntimezone = \"UTC\"\n"),
              HasSubstr("scheduler.timezone: unknown key"));
  EXPECT_THAT(LoadError("[log]\nlevl = \"info\"\n"),
              AllOf(HasSubstr("log.levl: unknown key"), HasSubstr("did you mean log.level?")));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nconcurency = 3\n"),
              AllOf(HasSubstr("engine.queues.emails.concurency: unknown key"),
                    HasSubstr("did you mean engine.queues.emails.concurrency?")));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nrate_limit = { limit = 1, per = \"1s\" }\n"),
              HasSubstr("engine.queues.emails.rate_limit.per: unknown key"));
  EXPECT_THAT(LoadError("[engine.queues.emails.group_rate_limit]\nlimt = 1\n"),
              AllOf(HasSubstr("engine.queues.emails.group_rate_limit.limt: unknown key"),
                    HasSubstr("did you mean engine.queues.emails.group_rate_limit.limit?")));
}

TEST(Config, UnknownKeyFarFromAnyKnownKeyHasNoSuggestion) {
  EXPECT_THAT(
      LoadError("[engine]\ncompletely_different = 1\n"),
      AllOf(HasSubstr("engine.completely_different: unknown key"), Not(HasSubstr("did you mean"))));
}

TEST(Config, TypeMismatchesNameTheKeyAndExpectedType) {
  EXPECT_THAT(LoadError("[engine]\nworkers = \"four\"\n"),
              HasSubstr("engine.workers: expected an integer, got string"));
  EXPECT_THAT(LoadError("[engine]\nworkers = 4.5\n"),
              HasSubstr("engine.workers: expected an integer, got float"));
  EXPECT_THAT(LoadError("[engine]\nlease = 30\n"),
              HasSubstr("engine.lease: expected a duration string such as \"30s\", got integer"));
  EXPECT_THAT(LoadError("[log]\nlevel = 3\n"),
              HasSubstr("log.level: expected a string, got integer"));
  EXPECT_THAT(LoadError("[store]\npath = [\"a\"]\n"),
              HasSubstr("store.path: expected a string, got array"));
  EXPECT_THAT(LoadError("[store]\nsynchronous = true\n"),
              HasSubstr("store.synchronous: expected a string, got boolean"));
  EXPECT_THAT(LoadError("store = 5\n"), HasSubstr("store: expected a table, got integer"));
  EXPECT_THAT(LoadError("[engine]\nqueues = 3\n"),
              HasSubstr("engine.queues: expected a table, got integer"));
  EXPECT_THAT(LoadError("[engine.queues]\nemails = 3\n"),
              HasSubstr("engine.queues.emails: expected a table, got integer"));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nconcurrency = \"8\"\n"),
              HasSubstr("engine.queues.emails.concurrency: expected an integer, got string"));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nrate_limit = 100\n"),
              HasSubstr("engine.queues.emails.rate_limit: expected a table"));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nrate_limit = { limit = \"1\" }\n"),
              HasSubstr("engine.queues.emails.rate_limit.limit: expected an integer, got string"));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nrate_limit = { limit = 1, interval = 1 }\n"),
              HasSubstr("engine.queues.emails.rate_limit.interval: expected a duration string"));
  EXPECT_THAT(LoadError("[[engine]]\nworkers = 4\n"),
              HasSubstr("engine: expected a table, got array"));
}

TEST(Config, BadDurationInFileNamesTheKey) {
  EXPECT_THAT(LoadError("[engine]\nlease = \"30\"\n"),
              AllOf(HasSubstr("engine.lease: invalid duration \"30\""), HasSubstr("missing unit")));
  EXPECT_THAT(LoadError("[engine.queues.emails]\nrate_limit = { limit = 1, interval = \"1x\" }\n"),
              HasSubstr("engine.queues.emails.rate_limit.interval: invalid duration"));
}

TEST(Config, ErrorsCarryTheFileLocation) {
  const std::string path = WriteFile("[engine]\n\nworkers = 0\n");
  Result<Config> config = LoadConfig(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(Message(config.status()),
              HasSubstr("engine.workers: must be in 1..1024, got 0 (at " + path + ":3:11)"));
}

TEST(Config, AllProblemsAreReportedTogether) {
  const std::string message =
      LoadError("[engine]\nwrokers = 8\nworkers = 0\n[log]\nformat = \"xml\"\n");
  EXPECT_THAT(message, AllOf(HasSubstr("engine.wrokers: unknown key"),
                             HasSubstr("engine.workers: must be in 1..1024"),
                             HasSubstr("log.format: must be one of text, json")));
  // "; " separates problems and appears nowhere inside one.
  EXPECT_EQ(std::count(message.begin(), message.end(), ';'), 2) << message;
}

TEST(Config, ProblemsAreListedInFileOrderThenEnvironment) {
  const std::string message = LoadError(
      "[log]\nformat = \"xml\"\n[engine]\nworkers = 0\nwrokers = 8\n[engine.queues.q]\n"
      "concurrency = -1\n",
      {{"HERALD_STORE_MAX_BATCH", "0"}});
  const std::vector<std::string> expected_order = {"log.format", "engine.workers", "engine.wrokers",
                                                   "engine.queues.q.concurrency",
                                                   "store.max_batch"};
  size_t last = 0;
  for (const std::string& key : expected_order) {
    const size_t at = message.find(key + ":");
    ASSERT_NE(at, std::string::npos) << key << " in " << message;
    EXPECT_GE(at, last) << key << " out of order in " << message;
    last = at;
  }
}

TEST(Config, NoHeartbeatComparisonWhenTheLeaseIsItselfInvalid) {
  EXPECT_THAT(
      LoadError("[engine]\nlease = \"500ms\"\n"),
      AllOf(HasSubstr("engine.lease: must be at least 1s"), Not(HasSubstr("engine.heartbeat"))));
}

// --- Validation ranges -----------------------------------------------------------------------

TEST(Config, OutOfRangeValuesNameTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[engine]\nworkers = 0", "engine.workers: must be in 1..1024, got 0"},
      {"[engine]\nworkers = 1025", "engine.workers: must be in 1..1024, got 1025"},
      {"[engine]\nworkers = -3", "engine.workers: must be in 1..1024, got -3"},
      {"[engine]\nworkers = 9999999999", "engine.workers: must be in 1..1024, got 9999999999"},
      {"[engine]\nlease = \"999ms\"", "engine.lease: must be at least 1s, got 999ms"},
      {"[engine]\nheartbeat = \"0s\"", "engine.heartbeat: must be greater than 0, got 0"},
      {"[engine]\nlease = \"10s\"\nheartbeat = \"10s\"",
       "engine.heartbeat: must be less than engine.lease"},
      {"[engine]\nlease = \"5s\"", "engine.heartbeat: must be less than engine.lease"},
      {"[engine]\ndefault_timeout = \"0ms\"",
       "engine.default_timeout: must be greater than 0, got 0"},
      {"[engine]\ndefault_max_attempts = 0", "engine.default_max_attempts: must be in 1..1000"},
      {"[engine]\ndefault_max_attempts = 1001", "engine.default_max_attempts: must be in 1..1000"},
      {"[engine]\nmax_payload_bytes = 0", "engine.max_payload_bytes: must be in 1..67108864"},
      {"[engine]\nmax_payload_bytes = 67108865",
       "engine.max_payload_bytes: must be in 1..67108864, got 67108865"},
      {"[store]\nsynchronous = \"off\"",
       "store.synchronous: must be one of normal, full, got \"off\""},
      {"[store]\npath = \"\"", "store.path: must not be empty"},
      {"[store]\nmax_batch = 0", "store.max_batch: must be in 1..100000"},
      {"[store]\nmax_batch = 100001", "store.max_batch: must be in 1..100000"},
      {"[log]\nlevel = \"verbose\"",
       "log.level: must be one of trace, debug, info, warn, error, got \"verbose\""},
      {"[log]\nlevel = \"INFO\"", "log.level: must be one of"},
      {"[log]\nformat = \"xml\"", "log.format: must be one of text, json, got \"xml\""},
      {"[scheduler]\nmax_catchup = 0", "scheduler.max_catchup: must be in 1..100000"},
      {"[scheduler]\nmax_catchup = 100001", "scheduler.max_catchup: must be in 1..100000"},
      {"[engine.queues.emails]\nconcurrency = -1",
       "engine.queues.emails.concurrency: must be at least 0, got -1"},
      {"[engine.queues.emails]\nrate_limit = { limit = -1 }",
       "engine.queues.emails.rate_limit.limit: must be at least 0, got -1"},
      {"[engine.queues.emails]\nrate_limit = { limit = 5, interval = \"0s\" }",
       "engine.queues.emails.rate_limit.interval: must be greater than 0"},
      {"[engine.queues.emails]\ngroup_rate_limit = { limit = -2 }",
       "engine.queues.emails.group_rate_limit.limit: must be at least 0"},
      {"[engine.queues.\"bad name\"]\nconcurrency = 1",
       "engine.queues.\"bad name\": invalid queue name"},
      {"[engine.queues.\"\"]\nconcurrency = 1", "engine.queues.\"\": invalid queue name"},
  };
  for (const auto& [toml, expected] : cases) {
    EXPECT_THAT(LoadError(toml + "\n"), HasSubstr(expected)) << toml;
  }
}

TEST(Config, BoundaryValuesAreAccepted) {
  Result<Config> config = LoadText(R"(
[store]
max_batch = 100000
busy_timeout = "0s"
[engine]
workers = 1024
lease = "1s"
heartbeat = "1ms"
default_max_attempts = 1000
max_payload_bytes = 67108864
retention_succeeded = "0s"
shutdown_grace = "0s"
[engine.queues."a-b_c.d:e"]
concurrency = 0
rate_limit = { limit = 0, interval = "1ms" }
[scheduler]
misfire_grace = "0s"
max_catchup = 1
[log]
level = "trace"
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine.workers, 1024);
  EXPECT_EQ(config->engine.max_payload_bytes, 64 << 20);
  EXPECT_TRUE(config->engine.queues.contains("a-b_c.d:e"));
}

TEST(Config, ValidateConfigChecksConfigsBuiltInCode) {
  Config config;
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.engine.workers = 0;
  config.engine.retention_failed = absl::Seconds(-1);
  config.engine.queues["bad name"].concurrency = 1;
  config.engine.queues["ok"].rate.interval = absl::ZeroDuration();
  const Status status = ValidateConfig(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), AllOf(HasSubstr("engine.workers: must be in 1..1024, got 0"),
                                     HasSubstr("engine.retention_failed: must not be negative"),
                                     HasSubstr("engine.queues.\"bad name\": invalid queue name"),
                                     HasSubstr("engine.queues.ok.rate_limit.interval: must be "
                                               "greater than 0")));
}

// --- Environment -----------------------------------------------------------------------------

TEST(Config, EnvironmentOverridesBeatTheFile) {
  const std::string path = WriteFile(R"(
[store]
path = "from-file.db"
[engine]
workers = 2
lease = "20s"
[log]
format = "text"
)");
  Result<Config> config = LoadConfig(path, {{"HERALD_STORE_PATH", "/env/h.db"},
                                            {"HERALD_ENGINE_WORKERS", "8"},
                                            {"HERALD_ENGINE_LEASE", "10s"},
                                            {"HERALD_ENGINE_HEARTBEAT", "2s"},
                                            {"HERALD_LOG_FORMAT", "json"},
                                            {"HERALD_SCHEDULER_MISFIRE_GRACE", "2m"},
                                            {"PATH", "/usr/bin"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->store.path, "/env/h.db");
  EXPECT_EQ(config->engine.workers, 8);
  EXPECT_EQ(config->engine.lease, absl::Seconds(10));
  EXPECT_EQ(config->engine.heartbeat, absl::Seconds(2));
  EXPECT_EQ(config->log.format, "json");
  EXPECT_EQ(config->scheduler.misfire_grace, absl::Minutes(2));
}

TEST(Config, EveryScalarKeyHasAnEnvironmentVariable) {
  Result<Config> config = LoadConfig("", {{"HERALD_STORE_PATH", "x.db"},
                                          {"HERALD_STORE_SYNCHRONOUS", "full"},
                                          {"HERALD_STORE_BUSY_TIMEOUT", "1s"},
                                          {"HERALD_STORE_MAX_BATCH", "10"},
                                          {"HERALD_ENGINE_WORKERS", "3"},
                                          {"HERALD_ENGINE_LEASE", "2m"},
                                          {"HERALD_ENGINE_HEARTBEAT", "1m"},
                                          {"HERALD_ENGINE_DEFAULT_TIMEOUT", "5m"},
                                          {"HERALD_ENGINE_DEFAULT_MAX_ATTEMPTS", "7"},
                                          {"HERALD_ENGINE_MAX_PAYLOAD_BYTES", "1024"},
                                          {"HERALD_ENGINE_RETENTION_SUCCEEDED", "1h"},
                                          {"HERALD_ENGINE_RETENTION_FAILED", "2d"},
                                          {"HERALD_ENGINE_SHUTDOWN_GRACE", "5s"},
                                          {"HERALD_SCHEDULER_MISFIRE_GRACE", "90s"},
                                          {"HERALD_SCHEDULER_MAX_CATCHUP", "12"},
                                          {"HERALD_LOG_LEVEL", "warn"},
                                          {"HERALD_LOG_FORMAT", "json"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->store.path, "x.db");
  EXPECT_EQ(config->store.synchronous, "full");
  EXPECT_EQ(config->store.busy_timeout, absl::Seconds(1));
  EXPECT_EQ(config->store.max_batch, 10);
  EXPECT_EQ(config->engine.workers, 3);
  EXPECT_EQ(config->engine.lease, absl::Minutes(2));
  EXPECT_EQ(config->engine.heartbeat, absl::Minutes(1));
  EXPECT_EQ(config->engine.default_timeout, absl::Minutes(5));
  EXPECT_EQ(config->engine.default_max_attempts, 7);
  EXPECT_EQ(config->engine.max_payload_bytes, 1024);
  EXPECT_EQ(config->engine.retention_succeeded, absl::Hours(1));
  EXPECT_EQ(config->engine.retention_failed, absl::Hours(48));
  EXPECT_EQ(config->engine.shutdown_grace, absl::Seconds(5));
  EXPECT_EQ(config->scheduler.misfire_grace, absl::Seconds(90));
  EXPECT_EQ(config->scheduler.max_catchup, 12);
  EXPECT_EQ(config->log.level, "warn");
  EXPECT_EQ(config->log.format, "json");
}

TEST(Config, EnvironmentErrorsNameTheVariable) {
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_WORKERS", "eight"}}),
              HasSubstr("engine.workers: expected an integer, got \"eight\" (from "
                        "HERALD_ENGINE_WORKERS)"));
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_WORKERS", "0"}}),
              HasSubstr("engine.workers: must be in 1..1024, got 0 (from HERALD_ENGINE_WORKERS)"));
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_WORKERS", "99999999999999999999"}}),
              HasSubstr("engine.workers: must be in 1..1024, got \"99999999999999999999\" (from "
                        "HERALD_ENGINE_WORKERS)"));
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_LEASE", "10"}}),
              AllOf(HasSubstr("engine.lease: invalid duration \"10\""),
                    HasSubstr("(from HERALD_ENGINE_LEASE)")));
  EXPECT_THAT(EnvError({{"HERALD_LOG_FORMAT", "xml"}}),
              HasSubstr("log.format: must be one of text, json, got \"xml\" (from "
                        "HERALD_LOG_FORMAT)"));
  EXPECT_THAT(EnvError({{"HERALD_STORE_PATH", ""}}),
              HasSubstr("store.path: must not be empty, got \"\" (from HERALD_STORE_PATH)"));
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_LEASE", "5s"}}),
              AllOf(HasSubstr("engine.heartbeat: must be less than engine.lease"),
                    HasSubstr("lease is 5s (from HERALD_ENGINE_LEASE)"),
                    HasSubstr("heartbeat is 10s (default)")));
}

TEST(Config, EnvironmentIntegersAreStrictDecimal) {
  for (const std::string text : {"8x", " 8", "8 ", "+8", "0x10", "", "1e3", "8.0"}) {
    EXPECT_THAT(EnvError({{"HERALD_ENGINE_WORKERS", text}}),
                HasSubstr("engine.workers: expected an integer"))
        << text;
  }
}

TEST(Config, UnknownConfigLikeVariablesAreErrors) {
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_WROKERS", "8"}}),
              AllOf(HasSubstr("HERALD_ENGINE_WROKERS: unknown configuration variable"),
                    HasSubstr("did you mean HERALD_ENGINE_WORKERS?")));
  EXPECT_THAT(EnvError({{"HERALD_ENGIN_WORKERS", "8"}}),
              HasSubstr("HERALD_ENGIN_WORKERS: unknown configuration variable, did you mean "
                        "HERALD_ENGINE_WORKERS?"));
  EXPECT_THAT(EnvError({{"HERALD_LOG_FILE", "x.log"}}),
              HasSubstr("HERALD_LOG_FILE: unknown configuration variable"));
  EXPECT_THAT(EnvError({{"HERALD_ENGINE_QUEUES_EMAILS_CONCURRENCY", "3"}}),
              HasSubstr("queue settings can only be set in the config file"));
}

TEST(Config, AllowlistedAndUnrelatedVariablesAreIgnored) {
  Result<Config> config = LoadConfig("", {{"HERALD_CONFIG", "/etc/herald.toml"},
                                          {"HERALD_ADMIN_PASSWORD", "hunter2"},
                                          {"HERALD_SOMETHING_ELSE", "x"},
                                          {"HOME", "/root"},
                                          {"herald_engine_workers", "0"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine.workers, 4);
}

TEST(Config, EnvironmentErrorsAndFileErrorsAreReportedTogether) {
  const std::string message = LoadError("[engine]\nworkers = 0\n", {{"HERALD_LOG_LEVEL", "loud"}});
  EXPECT_THAT(message,
              AllOf(HasSubstr("engine.workers: must be in 1..1024"),
                    HasSubstr("log.level: must be one of"), HasSubstr("(from HERALD_LOG_LEVEL)")));
}

TEST(Config, EnvironmentFixesAnInvalidFileValue) {
  Result<Config> config = LoadText("[engine]\nlease = \"30s\"\nheartbeat = \"40s\"\n",
                                   {{"HERALD_ENGINE_HEARTBEAT", "5s"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->engine.heartbeat, absl::Seconds(5));
}

TEST(Config, HeraldEnvironmentReadsOnlyHeraldVariables) {
  ASSERT_EQ(setenv("HERALD_CONFIG_TEST_PROBE", "a=b", 1), 0);
  ASSERT_EQ(setenv("NOT_HERALD_CONFIG_TEST_PROBE", "x", 1), 0);
  const std::map<std::string, std::string> env = HeraldEnvironment();
  unsetenv("HERALD_CONFIG_TEST_PROBE");
  unsetenv("NOT_HERALD_CONFIG_TEST_PROBE");
  ASSERT_TRUE(env.contains("HERALD_CONFIG_TEST_PROBE"));
  EXPECT_EQ(env.at("HERALD_CONFIG_TEST_PROBE"), "a=b");
  for (const auto& [name, value] : env) EXPECT_TRUE(name.starts_with("HERALD_")) << name;
}

TEST(Config, ServiceSecretsParseAndErrorsNeverShowTheSecret) {
  auto ok =
      ParseServiceSecrets("payments:" + std::string(32, 'p') + ", tickets:" + std::string(40, 't'));
  ASSERT_FALSE(ok.ok());  // a space before a name is not part of a valid name
  ok = ParseServiceSecrets("payments:" + std::string(32, 'p') + ",tickets:" + std::string(40, 't'));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->at("payments"), std::string(32, 'p'));
  EXPECT_EQ(ok->size(), 2u);
  auto short_secret = LoadConfig("", {{"HERALD_AUTH_SERVICE_SECRETS", "payments:hunter2"}});
  ASSERT_FALSE(short_secret.ok());
  EXPECT_NE(std::string(short_secret.status().message()).find("payments"), std::string::npos);
  EXPECT_EQ(std::string(short_secret.status().message()).find("hunter2"), std::string::npos)
      << short_secret.status();
  auto short_jwt = LoadConfig("", {{"HERALD_AUTH_JWT_SECRET", "tooshort"}});
  ASSERT_FALSE(short_jwt.ok());
  EXPECT_EQ(std::string(short_jwt.status().message()).find("tooshort"), std::string::npos);
}

}  // namespace
}  // namespace herald::core
