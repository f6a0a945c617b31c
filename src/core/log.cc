#include "core/log.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/rfc3339.h"
#include "core/strings.h"
#include "core/utf8.h"
#include "spdlog/logger.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace herald::core {
namespace {

// The request id of the thread's innermost LogRequestScope, or null.
thread_local const std::string* t_request_id = nullptr;

constexpr std::string_view kRedacted = "[redacted]";

// Everything a record needs, replaced as a whole on reconfiguration so a Log call never sees
// a half-updated state.
struct LoggerState {
  std::shared_ptr<spdlog::logger> logger;
  LogFormat format = LogFormat::kText;
  const Clock* clock = nullptr;
};

struct Settings {
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kText;
  std::ostream* out = nullptr;   // nullptr: stderr
  const Clock* clock = nullptr;  // nullptr: Clock::Real()
};

class Registry {
 public:
  static Registry& Get() {
    // Leaked on purpose: records may be written from static destructors of other objects.
    static Registry* registry = new Registry();
    return *registry;
  }

  std::shared_ptr<const LoggerState> State() const {
    absl::ReaderMutexLock lock(&mu_);
    return state_;
  }

  // Changes the settings with `change` and publishes a new state; concurrent updates are
  // serialised so that none is lost. On error nothing changes.
  Status Update(absl::FunctionRef<void(Settings&)> change) ABSL_LOCKS_EXCLUDED(update_mu_, mu_) {
    absl::MutexLock update_lock(&update_mu_);
    Settings settings = settings_;
    change(settings);
    auto state = std::make_shared<LoggerState>();
    try {
      spdlog::sink_ptr sink;
      if (settings.out != nullptr) {
        sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*settings.out,
                                                                /*force_flush=*/true);
      } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      }
      // Lines are fully formatted by Log(); spdlog adds only the end of line.
      sink->set_pattern("%v");
      state->logger = std::make_shared<spdlog::logger>("herald", std::move(sink));
      state->logger->set_level(settings.level);
      state->logger->flush_on(spdlog::level::trace);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("cannot configure logging: ", e.what()));
    }
    state->format = settings.format;
    state->clock = settings.clock != nullptr ? settings.clock : &Clock::Real();
    settings_ = settings;
    std::shared_ptr<const LoggerState> previous;  // released after the lock: flushes its sink
    {
      absl::MutexLock lock(&mu_);
      previous = std::exchange(state_, std::move(state));
    }
    return absl::OkStatus();
  }

 private:
  Registry() {
    // The default configuration cannot fail short of memory exhaustion, which aborts anyway.
    Status status = Update([](Settings&) {});
    (void)status;
  }

  absl::Mutex update_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  Settings settings_ ABSL_GUARDED_BY(update_mu_);
  mutable absl::Mutex mu_;
  std::shared_ptr<const LoggerState> state_ ABSL_GUARDED_BY(mu_);
};

std::string_view LevelName(spdlog::level::level_enum level, bool upper) {
  switch (level) {
    case spdlog::level::trace:
      return upper ? "TRACE" : "trace";
    case spdlog::level::debug:
      return upper ? "DEBUG" : "debug";
    case spdlog::level::info:
      return upper ? "INFO" : "info";
    case spdlog::level::warn:
      return upper ? "WARN" : "warn";
    case spdlog::level::err:
      return upper ? "ERROR" : "error";
    case spdlog::level::critical:
      return upper ? "CRITICAL" : "critical";
    default:
      return upper ? "OFF" : "off";
  }
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

// Escapes control characters so that a record stays on one line. Used for text messages
// (unquoted) and text values (inside quotes, where `quote` and backslash are escaped too).
void AppendTextEscaped(std::string& out, std::string_view s, bool quoted) {
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '"':
      case '\\':
        if (quoted) out.push_back('\\');
        out.push_back(ch);
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(&out, "\\x%02x", c);
        } else {
          out.push_back(ch);
        }
    }
  }
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (const char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) return true;
  }
  return false;
}

void AppendTextKey(std::string& out, std::string_view key) {
  if (key.empty()) {
    out.push_back('_');
    return;
  }
  for (const char c : key) {
    out.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                          c == '-'
                      ? c
                      : '_');
  }
}

std::string FormatTimestamp(absl::Time t) { return FormatRfc3339(t); }

// Each of `fields`, then `extra` if not null.
void ForEachField(std::initializer_list<LogField> fields, const LogField* extra,
                  absl::FunctionRef<void(const LogField&)> fn) {
  for (const LogField& field : fields) fn(field);
  if (extra != nullptr) fn(*extra);
}

std::string FormatText(absl::Time now, spdlog::level::level_enum level, std::string_view message,
                       std::initializer_list<LogField> fields, const LogField* extra) {
  std::string line = FormatTimestamp(now);
  line.push_back(' ');
  line.append(LevelName(level, /*upper=*/true));
  line.push_back(' ');
  AppendTextEscaped(line, message, /*quoted=*/false);
  ForEachField(fields, extra, [&](const LogField& field) {
    line.push_back(' ');
    AppendTextKey(line, field.key);
    line.push_back('=');
    const std::string_view value = IsSecretKey(field.key) ? kRedacted : field.value;
    if (NeedsQuotes(value)) {
      line.push_back('"');
      AppendTextEscaped(line, value, /*quoted=*/true);
      line.push_back('"');
    } else {
      AppendTextEscaped(line, value, /*quoted=*/false);
    }
  });
  return line;
}

std::string FormatJson(absl::Time now, spdlog::level::level_enum level, std::string_view message,
                       std::initializer_list<LogField> fields, const LogField* extra) {
  std::string line = "{\"ts\":";
  AppendJsonString(line, FormatTimestamp(now));
  line.append(",\"level\":");
  AppendJsonString(line, LevelName(level, /*upper=*/false));
  line.append(",\"msg\":");
  AppendJsonString(line, message);
  ForEachField(fields, extra, [&](const LogField& field) {
    line.push_back(',');
    if (field.key == "ts" || field.key == "level" || field.key == "msg") {
      AppendJsonString(line, std::string("_").append(field.key));
    } else {
      AppendJsonString(line, field.key);
    }
    line.push_back(':');
    if (IsSecretKey(field.key)) {
      AppendJsonString(line, kRedacted);
    } else if (field.kind == LogField::Kind::kString) {
      AppendJsonString(line, field.value);
    } else {
      // Numbers and bools were produced by the LogField constructors and are valid JSON.
      line.append(field.value);
    }
  });
  line.push_back('}');
  return line;
}

}  // namespace

LogField::LogField(std::string_view k, double v) : key(k) {
  if (std::isfinite(v)) {
    // Shortest text that reads back as the same double.
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof(buf), v);
    value.assign(buf, result.ptr);
    kind = Kind::kNumber;
  } else {
    value = std::isnan(v) ? "NaN" : (v > 0 ? "Inf" : "-Inf");
  }
}

LogField::LogField(std::string_view k, absl::Duration v) : key(k), value(absl::FormatDuration(v)) {}

LogField::LogField(std::string_view k, absl::Time v) : key(k) {
  value = absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", v, absl::UTCTimeZone());
}

LogField::LogField(std::string_view k, const Status& v) : key(k), value(v.ToString()) {}

Result<spdlog::level::level_enum> ParseLogLevel(std::string_view level) {
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 5> kLevels = {
      {{"trace", spdlog::level::trace},
       {"debug", spdlog::level::debug},
       {"info", spdlog::level::info},
       {"warn", spdlog::level::warn},
       {"error", spdlog::level::err}}};
  for (const auto& [name, value] : kLevels) {
    if (name == level) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", absl::CHexEscape(ToAbsl(level)),
                   "\" (expected one of trace, debug, info, warn, error)"));
}

Result<LogFormat> ParseLogFormat(std::string_view format) {
  if (format == "text") return LogFormat::kText;
  if (format == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log format \"", absl::CHexEscape(ToAbsl(format)), "\" (expected text or json)"));
}

Status InitLogging(std::string_view level, std::string_view format) {
  HERALD_ASSIGN_OR_RETURN(spdlog::level::level_enum parsed_level, ParseLogLevel(level));
  HERALD_ASSIGN_OR_RETURN(LogFormat parsed_format, ParseLogFormat(format));
  return Registry::Get().Update([&](Settings& settings) {
    settings.level = parsed_level;
    settings.format = parsed_format;
  });
}

void SetLogSinkForTesting(std::ostream* out, const Clock* clock) {
  Status status = Registry::Get().Update([&](Settings& settings) {
    settings.out = out;
    settings.clock = clock;
  });
  (void)status;  // Only fails when out of memory; a test would notice missing output.
}

bool IsSecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 10> kSecretWords = {
      "password", "passwd", "secret",     "token",       "authorization",
      "api_key",  "apikey", "credential", "private_key", "cookie"};
  const std::string lower = absl::AsciiStrToLower(ToAbsl(key));
  for (std::string_view word : kSecretWords) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

bool LogEnabled(spdlog::level::level_enum level) {
  return Registry::Get().State()->logger->should_log(level);
}

LogRequestScope::LogRequestScope(std::string_view request_id)
    : id_(request_id), previous_(t_request_id) {
  t_request_id = &id_;
}

LogRequestScope::~LogRequestScope() { t_request_id = previous_; }

void Log(spdlog::level::level_enum level, std::string_view message,
         std::initializer_list<LogField> fields) {
  const std::shared_ptr<const LoggerState> state = Registry::Get().State();
  if (!state->logger->should_log(level)) return;
  const absl::Time now = state->clock->Now();
  // The request's id, unless the record names one itself.
  std::optional<LogField> request_id;
  if (t_request_id != nullptr && std::none_of(fields.begin(), fields.end(), [](const LogField& f) {
        return f.key == "request_id";
      })) {
    request_id.emplace("request_id", std::string_view(*t_request_id));
  }
  const LogField* extra = request_id ? &*request_id : nullptr;
  const std::string line = state->format == LogFormat::kJson
                               ? FormatJson(now, level, message, fields, extra)
                               : FormatText(now, level, message, fields, extra);
  // spdlog reports its own failures through its error handler and does not throw here.
  state->logger->log(level, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace herald::core
