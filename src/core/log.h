#pragma once
// Structured logging over spdlog: one line per record, either logfmt-like text
//
//   2026-01-01T00:00:00.123Z INFO job started queue=emails attempt=2 note="two words"
//
// or one JSON object per line
//
//   {"ts":"2026-01-01T00:00:00.123Z","level":"info","msg":"job started","queue":"emails",...}
//
// Timestamps are UTC with milliseconds and come from a core::Clock (the real clock unless a
// test installs another). A record is always exactly one line: control characters in the
// message and in values are escaped in both formats, and JSON output is valid UTF-8 (invalid
// bytes become U+FFFD).
//
// Secrets: a field whose key contains, case-insensitively, "password", "passwd", "secret",
// "token", "authorization", "api_key", "apikey", "credential", "private_key" or "cookie" is
// written as "[redacted]". Messages are never redacted, so never put a secret in a message.
//
// Before InitLogging is called, records go to stderr as text at level info.
// All functions here are thread-safe.

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/clock.h"
#include "core/status.h"
#include "spdlog/common.h"

namespace herald::core {

enum class LogFormat { kText, kJson };

// Parses "trace", "debug", "info", "warn", "error". InvalidArgument otherwise.
Result<spdlog::level::level_enum> ParseLogLevel(std::string_view level);
// Parses "text" or "json". InvalidArgument otherwise.
Result<LogFormat> ParseLogFormat(std::string_view format);

// Configures the process logger: minimum level, format, output to stderr (or to the stream
// installed by SetLogSinkForTesting). Meant to be called once at start-up with the values of
// Config::log; calling it again reconfigures. On error (unknown level or format) nothing
// changes and InvalidArgument names the bad value.
Status InitLogging(std::string_view level, std::string_view format);

// One structured field. Build it from a key and a string, integer, floating-point number,
// bool, absl::Duration ("1m30s"), absl::Time (RFC 3339 UTC) or Status ("OK" or
// "NOT_FOUND: ..."). In JSON, integers, finite numbers and bools are written unquoted.
//
// `key` is not copied: it must outlive the Log call (string literals always do). Keys should be
// snake_case; in text output characters other than [A-Za-z0-9_.-] are replaced by '_'. In JSON a
// key that collides with "ts", "level" or "msg" is written with a leading underscore.
struct LogField {
  enum class Kind { kString, kNumber, kBool };

  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v == nullptr ? "" : v) {}
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) LogField(std::string_view k, T v)
      : key(k), value(std::to_string(v)), kind(Kind::kNumber) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), kind(Kind::kBool) {}
  LogField(std::string_view k, double v);
  LogField(std::string_view k, absl::Duration v);
  LogField(std::string_view k, absl::Time v);
  LogField(std::string_view k, const Status& v);

  std::string_view key;
  std::string value;
  Kind kind = Kind::kString;
};

// True if a field with this key is written as "[redacted]" (see the list above).
bool IsSecretKey(std::string_view key);

// Writes one record if `level` is at or above the configured level.
void Log(spdlog::level::level_enum level, std::string_view message,
         std::initializer_list<LogField> fields = {});

inline void LogTrace(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log(spdlog::level::trace, message, fields);
}
inline void LogDebug(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log(spdlog::level::debug, message, fields);
}
inline void LogInfo(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log(spdlog::level::info, message, fields);
}
inline void LogWarn(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log(spdlog::level::warn, message, fields);
}
inline void LogError(std::string_view message, std::initializer_list<LogField> fields = {}) {
  Log(spdlog::level::err, message, fields);
}

// Tags every record this thread writes while the scope lives with `request_id`, unless the
// record has a "request_id" field of its own: the HTTP server opens one around each piece of
// a request's work, so every log line of a request carries its id, whichever module writes
// it. The scope keeps its own copy of the id (the request's may change under another thread
// once its work is handed on). Scopes nest; the innermost wins.
class LogRequestScope {
 public:
  explicit LogRequestScope(std::string_view request_id);
  ~LogRequestScope();
  LogRequestScope(const LogRequestScope&) = delete;
  LogRequestScope& operator=(const LogRequestScope&) = delete;

 private:
  const std::string id_;
  const std::string* previous_;
};

// True if a record at `level` would be written (to skip building expensive fields).
bool LogEnabled(spdlog::level::level_enum level);

// Test hook: sends records to `out` instead of stderr (nullptr restores stderr) and takes
// timestamps from `clock` (nullptr restores the real clock). Keeps the level and format.
// `out` and `clock` must outlive their use; the stream is written under a lock and flushed
// after each record. Not for production code.
void SetLogSinkForTesting(std::ostream* out, const Clock* clock = nullptr);

}  // namespace herald::core
