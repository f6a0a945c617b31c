#include "core/log.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "boost/json.hpp"
#include "core/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace herald::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// 2026-01-01T00:00:00.123Z
const absl::Time kStart = absl::FromUnixSeconds(1'767'225'600) + absl::Milliseconds(123);

// Captures records for one test at level info, text format, on a manual clock; restores
// stderr, the real clock and the defaults afterwards.
class LogCapture {
 public:
  LogCapture() : clock_(kStart) {
    EXPECT_TRUE(InitLogging("info", "text").ok());
    SetLogSinkForTesting(&out_, &clock_);
  }
  ~LogCapture() {
    SetLogSinkForTesting(nullptr);
    EXPECT_TRUE(InitLogging("info", "text").ok());
  }

  std::string Text() const { return out_.str(); }
  ManualClock& clock() { return clock_; }

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n');
    EXPECT_EQ(lines.back(), "") << "output must end with a newline";
    lines.pop_back();
    return lines;
  }

  boost::json::object OnlyJsonLine() const {
    const std::vector<std::string> lines = Lines();
    EXPECT_THAT(lines, SizeIs(1));
    if (lines.size() != 1) return {};
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(lines[0], ec);
    EXPECT_FALSE(ec) << ec.message() << ": " << lines[0];
    EXPECT_TRUE(value.is_object()) << lines[0];
    return value.is_object() ? value.as_object() : boost::json::object{};
  }

 private:
  std::ostringstream out_;
  ManualClock clock_;
};

TEST(Log, TextFormatIsOneExactLine) {
  LogCapture capture;
  LogInfo("job started", {{"queue", "emails"}, {"attempt", 2}, {"note", "two words"}});
  EXPECT_THAT(capture.Lines(), ElementsAre("2026-01-01T00:00:00.123Z INFO job started queue=emails "
                                           "attempt=2 note=\"two words\""));
}

TEST(Log, ARequestScopeTagsTheThreadsRecordsUnlessTheyNameTheirOwn) {
  LogCapture capture;
  LogInfo("before");
  {
    const std::string outer = "req-1";
    LogRequestScope scope(outer);
    LogInfo("login", {{"user_id", "u1"}});
    LogInfo("explicit", {{"request_id", "other"}});
    std::thread([] { LogInfo("another thread"); }).join();
    {
      const std::string inner = "req-2";
      LogRequestScope nested(inner);
      LogInfo("nested");
    }
    LogInfo("outer again");
  }
  LogInfo("after");
  EXPECT_THAT(capture.Lines(),
              ElementsAre("2026-01-01T00:00:00.123Z INFO before",
                          "2026-01-01T00:00:00.123Z INFO login user_id=u1 request_id=req-1",
                          "2026-01-01T00:00:00.123Z INFO explicit request_id=other",
                          "2026-01-01T00:00:00.123Z INFO another thread",
                          "2026-01-01T00:00:00.123Z INFO nested request_id=req-2",
                          "2026-01-01T00:00:00.123Z INFO outer again request_id=req-1",
                          "2026-01-01T00:00:00.123Z INFO after"));
}

TEST(Log, TextFormatWithoutFields) {
  LogCapture capture;
  LogWarn("disk almost full");
  LogError("boom");
  EXPECT_THAT(capture.Lines(), ElementsAre("2026-01-01T00:00:00.123Z WARN disk almost full",
                                           "2026-01-01T00:00:00.123Z ERROR boom"));
}

TEST(Log, TimestampsComeFromTheClock) {
  LogCapture capture;
  LogInfo("a");
  capture.clock().Advance(absl::Hours(25) + absl::Milliseconds(5));
  LogInfo("b");
  EXPECT_THAT(capture.Lines(),
              ElementsAre("2026-01-01T00:00:00.123Z INFO a", "2026-01-02T01:00:00.128Z INFO b"));
}

TEST(Log, TextFormatEscapesSoARecordStaysOnOneLine) {
  LogCapture capture;
  LogInfo("line one\nline two\r\tend", {{"quote", "say \"hi\""},
                                        {"path", "C:\\dir"},
                                        {"empty", ""},
                                        {"multi", "a\nb"},
                                        {"eq", "a=b"},
                                        {"bell", "\x07"},
                                        {"bad key", "v"}});
  EXPECT_THAT(capture.Lines(),
              ElementsAre("2026-01-01T00:00:00.123Z INFO line one\\nline two\\r\\tend "
                          "quote=\"say \\\"hi\\\"\" path=\"C:\\\\dir\" empty=\"\" "
                          "multi=\"a\\nb\" eq=\"a=b\" bell=\"\\x07\" bad_key=v"));
}

TEST(Log, MessageBracesAreNotFormatDirectives) {
  LogCapture capture;
  LogInfo("payload {} {0} %s", {{"json", "{\"a\":1}"}});
  EXPECT_THAT(capture.Lines(), ElementsAre("2026-01-01T00:00:00.123Z INFO payload {} {0} %s "
                                           "json=\"{\\\"a\\\":1}\""));
}

TEST(Log, JsonFormatIsAnExactObjectPerLine) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("info", "json").ok());
  LogInfo("job started", {{"queue", "emails"}, {"attempt", 2}, {"ok", true}});
  EXPECT_THAT(capture.Lines(),
              ElementsAre("{\"ts\":\"2026-01-01T00:00:00.123Z\",\"level\":\"info\","
                          "\"msg\":\"job started\",\"queue\":\"emails\",\"attempt\":2,"
                          "\"ok\":true}"));
}

TEST(Log, JsonLinesParseBackWithTheirFields) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("debug", "json").ok());
  const std::string nasty = std::string("quote \" backslash \\ newline \n tab \t nul ") +
                            std::string(1, '\0') + " bell \x07 del \x7f \xc3\xa9 \xe2\x82\xac";
  LogDebug("multi\nline \"message\"", {{"text", nasty},
                                       {"count", int64_t{-42}},
                                       {"big", std::numeric_limits<uint64_t>::max()},
                                       {"ratio", 0.25},
                                       {"nan", std::nan("")},
                                       {"flag", false},
                                       {"elapsed", absl::Milliseconds(1500)},
                                       {"at", kStart},
                                       {"error", absl::NotFoundError("no such job")}});
  const boost::json::object record = capture.OnlyJsonLine();
  EXPECT_EQ(record.at("ts").as_string(), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(record.at("level").as_string(), "debug");
  EXPECT_EQ(record.at("msg").as_string(), "multi\nline \"message\"");
  EXPECT_EQ(std::string(record.at("text").as_string()), nasty);
  EXPECT_EQ(record.at("count").as_int64(), -42);
  EXPECT_EQ(record.at("big").as_uint64(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(record.at("ratio").as_double(), 0.25);
  EXPECT_EQ(record.at("nan").as_string(), "NaN");
  EXPECT_EQ(record.at("flag").as_bool(), false);
  EXPECT_EQ(record.at("elapsed").as_string(), "1.5s");
  EXPECT_EQ(record.at("at").as_string(), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(record.at("error").as_string(), "NOT_FOUND: no such job");
  // No raw control characters anywhere in the line.
  const std::string line = capture.Lines().at(0);
  for (const char c : line) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << static_cast<int>(c);
  }
}

TEST(Log, JsonReplacesInvalidUtf8) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("info", "json").ok());
  LogInfo("bytes", {{"raw",
                     "a\xff"
                     "b\xc3"},
                    {"surrogate", "\xed\xa0\x80"}});
  const boost::json::object record = capture.OnlyJsonLine();
  EXPECT_EQ(record.at("raw").as_string(),
            "a\xef\xbf\xbd"
            "b\xef\xbf\xbd");
  EXPECT_EQ(record.at("surrogate").as_string(), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(Log, JsonFieldsThatCollideWithReservedKeysArePrefixed) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("info", "json").ok());
  LogInfo("real", {{"msg", "fake"}, {"level", "fake"}, {"ts", "fake"}});
  const boost::json::object record = capture.OnlyJsonLine();
  EXPECT_EQ(record.at("msg").as_string(), "real");
  EXPECT_EQ(record.at("level").as_string(), "info");
  EXPECT_EQ(record.at("_msg").as_string(), "fake");
  EXPECT_EQ(record.at("_level").as_string(), "fake");
  EXPECT_EQ(record.at("_ts").as_string(), "fake");
}

TEST(Log, SecretsAreRedactedInText) {
  LogCapture capture;
  LogInfo("login", {{"user", "ada"},
                    {"password", "hunter2"},
                    {"DB_PASSWORD", "pw1"},
                    {"Authorization", "Bearer abc.def"},
                    {"api_key", "k1"},
                    {"X-ApiKey", "k2"},
                    {"refresh_token", "t1"},
                    {"client_secret", "s1"}});
  EXPECT_THAT(capture.Lines(), ElementsAre("2026-01-01T00:00:00.123Z INFO login user=ada "
                                           "password=[redacted] DB_PASSWORD=[redacted] "
                                           "Authorization=[redacted] api_key=[redacted] "
                                           "X-ApiKey=[redacted] refresh_token=[redacted] "
                                           "client_secret=[redacted]"));
}

TEST(Log, SecretsAreRedactedInJson) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("info", "json").ok());
  LogInfo("login", {{"user", "ada"}, {"password", "hunter2"}, {"auth_token", 12345}});
  const boost::json::object record = capture.OnlyJsonLine();
  EXPECT_EQ(record.at("user").as_string(), "ada");
  EXPECT_EQ(record.at("password").as_string(), "[redacted]");
  EXPECT_EQ(record.at("auth_token").as_string(), "[redacted]");
  EXPECT_THAT(capture.Text(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(capture.Text(), Not(HasSubstr("12345")));
}

TEST(Log, IsSecretKeyMatchesCaseInsensitiveSubstrings) {
  for (const char* key :
       {"password", "Password", "smtp_password", "passwd", "secret", "webhook_secret", "token",
        "ACCESS_TOKEN", "authorization", "proxy-authorization", "api_key", "APIKEY", "private_key",
        "cookie", "credentials"}) {
    EXPECT_TRUE(IsSecretKey(key)) << key;
  }
  for (const char* key : {"user", "queue", "job_id", "pass", "key", "api", ""}) {
    EXPECT_FALSE(IsSecretKey(key)) << key;
  }
}

TEST(Log, LevelFiltering) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("warn", "text").ok());
  LogTrace("t");
  LogDebug("d");
  LogInfo("i");
  LogWarn("w");
  LogError("e");
  Log(spdlog::level::critical, "c");
  EXPECT_THAT(capture.Lines(),
              ElementsAre("2026-01-01T00:00:00.123Z WARN w", "2026-01-01T00:00:00.123Z ERROR e",
                          "2026-01-01T00:00:00.123Z CRITICAL c"));
  EXPECT_FALSE(LogEnabled(spdlog::level::info));
  EXPECT_TRUE(LogEnabled(spdlog::level::warn));
}

TEST(Log, TraceLevelEnablesEverything) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("trace", "text").ok());
  LogTrace("t");
  LogDebug("d");
  EXPECT_THAT(capture.Lines(),
              ElementsAre("2026-01-01T00:00:00.123Z TRACE t", "2026-01-01T00:00:00.123Z DEBUG d"));
}

TEST(Log, ErrorLevelDropsWarnings) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("error", "json").ok());
  LogWarn("w");
  EXPECT_THAT(capture.Lines(), IsEmpty());
  LogError("e");
  EXPECT_EQ(capture.OnlyJsonLine().at("level").as_string(), "error");
}

TEST(Log, InvalidSettingsAreRejectedAndChangeNothing) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("warn", "text").ok());
  Status status = InitLogging("verbose", "json");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown log level \"verbose\""));
  status = InitLogging("info", "xml");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("unknown log format \"xml\""));
  LogInfo("dropped");
  LogWarn("kept");
  EXPECT_THAT(capture.Lines(), ElementsAre("2026-01-01T00:00:00.123Z WARN kept"));
}

TEST(Log, ParseLevelAndFormat) {
  EXPECT_EQ(*ParseLogLevel("trace"), spdlog::level::trace);
  EXPECT_EQ(*ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(*ParseLogLevel("info"), spdlog::level::info);
  EXPECT_EQ(*ParseLogLevel("warn"), spdlog::level::warn);
  EXPECT_EQ(*ParseLogLevel("error"), spdlog::level::err);
  EXPECT_FALSE(ParseLogLevel("warning").ok());
  EXPECT_FALSE(ParseLogLevel("INFO").ok());
  EXPECT_FALSE(ParseLogLevel("").ok());
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("JSON").ok());
}

TEST(Log, FieldConstructors) {
  EXPECT_EQ(LogField("k", 7).value, "7");
  EXPECT_EQ(LogField("k", 7).kind, LogField::Kind::kNumber);
  EXPECT_EQ(LogField("k", std::numeric_limits<int64_t>::min()).value, "-9223372036854775808");
  EXPECT_EQ(LogField("k", 1.5).value, "1.5");
  EXPECT_EQ(LogField("k", 0.1).value, "0.1");
  EXPECT_EQ(LogField("k", std::numeric_limits<double>::infinity()).value, "Inf");
  EXPECT_EQ(LogField("k", std::numeric_limits<double>::infinity()).kind, LogField::Kind::kString);
  EXPECT_EQ(LogField("k", true).value, "true");
  EXPECT_EQ(LogField("k", true).kind, LogField::Kind::kBool);
  EXPECT_EQ(LogField("k", "text").kind, LogField::Kind::kString);
  EXPECT_EQ(LogField("k", std::string("s")).value, "s");
  EXPECT_EQ(LogField("k", std::string_view("sv")).value, "sv");
  EXPECT_EQ(LogField("k", static_cast<const char*>(nullptr)).value, "");
  EXPECT_EQ(LogField("k", absl::Minutes(90)).value, "1h30m");
  EXPECT_EQ(LogField("k", absl::FromUnixSeconds(0)).value, "1970-01-01T00:00:00Z");
  EXPECT_EQ(LogField("k", absl::OkStatus()).value, "OK");
}

TEST(Log, ConcurrentRecordsAreNotInterleaved) {
  LogCapture capture;
  ASSERT_TRUE(InitLogging("info", "json").ok());
  constexpr int kThreads = 4;
  constexpr int kRecords = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kRecords; ++i) {
        LogInfo("record", {{"thread", t}, {"i", i}, {"padding", std::string(100, 'x')}});
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = capture.Lines();
  ASSERT_THAT(lines, SizeIs(kThreads * kRecords));
  for (const std::string& line : lines) {
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    EXPECT_EQ(value.at("msg").as_string(), "record");
  }
}

}  // namespace
}  // namespace herald::core
