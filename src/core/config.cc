#include "core/config.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/log.h"
#include "core/strings.h"
#include "toml++/toml.h"

extern char** environ;  // NOLINT: POSIX declares it only with _GNU_SOURCE in <unistd.h>.

namespace herald::core {
namespace {

constexpr std::string_view kEnvPrefix = "HERALD_";
constexpr int64_t kMaxPayloadLimit = int64_t{64} << 20;  // 64 MiB

// ---------------------------------------------------------------------------------------------
// The scalar keys. One table drives the TOML reader, the environment overrides and validation,
// so a key added here is automatically settable from both sources and range-checked.

enum class Kind { kInt, kInt64, kString, kDuration };

template <Kind K>
struct FieldTypeOf;
template <>
struct FieldTypeOf<Kind::kInt> {
  using type = int;
};
template <>
struct FieldTypeOf<Kind::kInt64> {
  using type = int64_t;
};
template <>
struct FieldTypeOf<Kind::kString> {
  using type = std::string;
};
template <>
struct FieldTypeOf<Kind::kDuration> {
  using type = absl::Duration;
};

struct KeySpec {
  std::string_view section;
  std::string_view name;
  Kind kind;
  void* (*get)(Config&);
  const void* (*cget)(const Config&);
  // kInt, kInt64: inclusive range.
  int64_t min = 0;
  int64_t max = 0;
  // kDuration: lower bound, exclusive if `min_exclusive`.
  absl::Duration min_duration = absl::ZeroDuration();
  bool min_exclusive = false;
  // kString: returns a problem description, or an empty string if the value is fine.
  std::string (*check)(std::string_view) = nullptr;

  std::string Key() const { return herald::StrCat(section, ".", name); }
  std::string EnvVar() const {
    return absl::AsciiStrToUpper(herald::StrCat(kEnvPrefix, section, "_", name));
  }
};

// The static_assert keeps each key's Kind in step with its member's type in config.h.
#define HERALD_CONFIG_FIELD(sec, key, k)                                                           \
  .section = #sec, .name = #key, .kind = Kind::k,                                                  \
  .get = [](Config& c) -> void* {                                                                  \
    static_assert(std::is_same_v<decltype(c.sec.key), FieldTypeOf<Kind::k>::type>, #sec "." #key); \
    return &c.sec.key;                                                                             \
  },                                                                                               \
  .cget = [](const Config& c) -> const void* { return &c.sec.key; }

std::string CheckNonEmpty(std::string_view v) { return v.empty() ? "must not be empty" : ""; }
std::string CheckServiceSecrets(std::string_view v) {
  auto parsed = ParseServiceSecrets(v);
  return parsed.ok() ? "" : std::string(parsed.status().message());
}
std::string CheckPaymentGateway(std::string_view v) {
  return v == "local" || v == "stripe" ? "" : "must be one of local, stripe";
}
std::string CheckSecret(std::string_view v) {
  return v.empty() || v.size() >= 32 ? "" : "must be empty (generated) or at least 32 bytes";
}
std::string CheckSynchronous(std::string_view v) {
  return v == "normal" || v == "full" ? "" : "must be one of normal, full";
}
std::string CheckDocumentLocale(std::string_view v) {
  return v == "fr" || v == "en" ? "" : "must be one of fr, en";
}

std::string CheckLogLevel(std::string_view v) {
  return ParseLogLevel(v).ok() ? "" : "must be one of trace, debug, info, warn, error";
}
std::string CheckLogFormat(std::string_view v) {
  return ParseLogFormat(v).ok() ? "" : "must be one of text, json";
}

std::string CheckEmailProviders(std::string_view v) {
  if (v.empty()) return "must name at least one of smtp, log";
  for (absl::string_view p : absl::StrSplit(ToAbsl(v), ',')) {
    if (p != "smtp" && p != "log") return "must be a comma-separated list of smtp, log";
  }
  return "";
}
std::string CheckSmsProviders(std::string_view v) {
  if (v.empty()) return "must name at least one of twilio, vonage, brevo, freemobile, log";
  for (absl::string_view p : absl::StrSplit(ToAbsl(v), ',')) {
    if (p != "twilio" && p != "vonage" && p != "brevo" && p != "freemobile" && p != "log") {
      return "must be a comma-separated list of twilio, vonage, brevo, freemobile, log";
    }
  }
  return "";
}
std::string CheckWhatsAppProviders(std::string_view v) {
  for (absl::string_view p : absl::StrSplit(ToAbsl(v), ',')) {
    if (p != "whatsapp" && p != "log") return "must be a comma-separated list of whatsapp, log";
  }
  return "";
}
std::string CheckChatProviders(std::string_view v) {
  for (absl::string_view p : absl::StrSplit(ToAbsl(v), ',')) {
    if (p != "webhook" && p != "log") return "must be a comma-separated list of webhook, log";
  }
  return "";
}
std::string CheckApiVersion(std::string_view v) {
  // "v" <digits> "." <digits>, as in Meta's Graph API paths.
  const size_t dot = v.find('.');
  auto digits = [](std::string_view d) {
    return !d.empty() && d.size() <= 3 && absl::c_all_of(d, absl::ascii_isdigit);
  };
  if (v.starts_with('v') && dot != std::string_view::npos && digits(v.substr(1, dot - 1)) &&
      digits(v.substr(dot + 1))) {
    return "";
  }
  return "must look like v21.0";
}
std::string CheckProviderRates(std::string_view v) {
  if (v.empty()) return "";
  for (absl::string_view item : absl::StrSplit(ToAbsl(v), ',')) {
    const size_t eq = item.find('=');
    int rate = 0;
    if (eq == absl::string_view::npos || eq == 0 || !absl::SimpleAtoi(item.substr(eq + 1), &rate) ||
        rate < 0 || rate > 100'000) {
      return "must be a comma-separated list of name=rate (calls per second, 0 to 100000)";
    }
  }
  return "";
}
std::string CheckHttpUrl(std::string_view v) {
  return v.starts_with("https://") || v.starts_with("http://") ? "" : "must start with https://";
}
std::string CheckSmtpUrl(std::string_view v) {
  if (v.empty() || v.starts_with("smtp://") || v.starts_with("smtps://")) return "";
  return "must start with smtp:// or smtps://";
}
std::string CheckSmtpTls(std::string_view v) {
  return v == "required" || v == "opportunistic" || v == "off"
             ? ""
             : "must be one of required, opportunistic, off";
}
std::string CheckLocale(std::string_view v) {
  const bool ok = v.size() >= 2 && v.size() <= 16 && std::all_of(v.begin(), v.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
                  });
  return ok ? "" : "must be a locale such as fr, en or fr-BE";
}

const std::vector<KeySpec>& Keys() {
  static const std::vector<KeySpec>* keys = new std::vector<KeySpec>{
      {HERALD_CONFIG_FIELD(store, path, kString), .check = CheckNonEmpty},
      {HERALD_CONFIG_FIELD(store, synchronous, kString), .check = CheckSynchronous},
      {HERALD_CONFIG_FIELD(store, busy_timeout, kDuration)},
      {HERALD_CONFIG_FIELD(store, max_batch, kInt), .min = 1, .max = 100'000},
      {HERALD_CONFIG_FIELD(engine, workers, kInt), .min = 1, .max = 1024},
      {HERALD_CONFIG_FIELD(engine, lease, kDuration), .min_duration = absl::Seconds(1)},
      {HERALD_CONFIG_FIELD(engine, heartbeat, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(engine, default_timeout, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(engine, default_max_attempts, kInt), .min = 1, .max = 1000},
      {HERALD_CONFIG_FIELD(engine, max_payload_bytes, kInt64), .min = 1, .max = kMaxPayloadLimit},
      {HERALD_CONFIG_FIELD(engine, retention_succeeded, kDuration)},
      {HERALD_CONFIG_FIELD(engine, retention_failed, kDuration)},
      {HERALD_CONFIG_FIELD(engine, shutdown_grace, kDuration)},
      {HERALD_CONFIG_FIELD(scheduler, misfire_grace, kDuration)},
      {HERALD_CONFIG_FIELD(scheduler, max_catchup, kInt), .min = 1, .max = 100'000},
      {HERALD_CONFIG_FIELD(http, address, kString), .check = CheckNonEmpty},
      {HERALD_CONFIG_FIELD(http, port, kInt), .min = 0, .max = 65535},
      {HERALD_CONFIG_FIELD(http, threads, kInt), .min = 1, .max = 256},
      {HERALD_CONFIG_FIELD(http, max_body_bytes, kInt64), .min = 1, .max = kMaxPayloadLimit},
      {HERALD_CONFIG_FIELD(http, header_timeout, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(http, read_timeout, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(http, write_timeout, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(http, idle_timeout, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(http, cors_origins, kString)},
      {HERALD_CONFIG_FIELD(http, rate_limit_auth, kInt), .min = 0, .max = 1'000'000},
      {HERALD_CONFIG_FIELD(http, rate_limit_read, kInt), .min = 0, .max = 1'000'000},
      {HERALD_CONFIG_FIELD(http, rate_limit_write, kInt), .min = 0, .max = 1'000'000},
      {HERALD_CONFIG_FIELD(auth, jwt_secret, kString), .check = CheckSecret},
      {HERALD_CONFIG_FIELD(auth, token_ttl, kDuration), .min_duration = absl::Seconds(1)},
      {HERALD_CONFIG_FIELD(auth, remember_me_ttl, kDuration), .min_duration = absl::Seconds(1)},
      {HERALD_CONFIG_FIELD(auth, admin_email, kString), .check = CheckNonEmpty},
      {HERALD_CONFIG_FIELD(auth, service_secrets, kString), .check = CheckServiceSecrets},
      {HERALD_CONFIG_FIELD(notify, email_providers, kString), .check = CheckEmailProviders},
      {HERALD_CONFIG_FIELD(notify, smtp_url, kString), .check = CheckSmtpUrl},
      {HERALD_CONFIG_FIELD(notify, smtp_tls, kString), .check = CheckSmtpTls},
      {HERALD_CONFIG_FIELD(notify, smtp_username, kString)},
      {HERALD_CONFIG_FIELD(notify, smtp_password, kString)},
      {HERALD_CONFIG_FIELD(notify, from, kString), .check = CheckNonEmpty},
      {HERALD_CONFIG_FIELD(notify, smtp_pool, kInt), .min = 1, .max = 100},
      {HERALD_CONFIG_FIELD(notify, smtp_rate, kInt), .min = 0, .max = 100'000},
      {HERALD_CONFIG_FIELD(notify, smtp_timeout, kDuration), .min_duration = absl::Seconds(1)},
      {HERALD_CONFIG_FIELD(notify, attempts_per_provider, kInt), .min = 1, .max = 100},
      {HERALD_CONFIG_FIELD(notify, breaker_failures, kInt), .min = 1, .max = 1000},
      {HERALD_CONFIG_FIELD(notify, breaker_cooldown, kDuration), .min_exclusive = true},
      {HERALD_CONFIG_FIELD(notify, default_locale, kString), .check = CheckLocale},
      {HERALD_CONFIG_FIELD(notify, sms_providers, kString), .check = CheckSmsProviders},
      {HERALD_CONFIG_FIELD(notify, twilio_account_sid, kString)},
      {HERALD_CONFIG_FIELD(notify, twilio_auth_token, kString)},
      {HERALD_CONFIG_FIELD(notify, twilio_from, kString)},
      {HERALD_CONFIG_FIELD(notify, twilio_url, kString), .check = CheckHttpUrl},
      {HERALD_CONFIG_FIELD(notify, twilio_callback_url, kString)},
      {HERALD_CONFIG_FIELD(notify, vonage_api_key, kString)},
      {HERALD_CONFIG_FIELD(notify, vonage_api_secret, kString)},
      {HERALD_CONFIG_FIELD(notify, vonage_from, kString)},
      {HERALD_CONFIG_FIELD(notify, vonage_url, kString), .check = CheckHttpUrl},
      {HERALD_CONFIG_FIELD(notify, brevo_api_key, kString)},
      {HERALD_CONFIG_FIELD(notify, brevo_sender, kString)},
      {HERALD_CONFIG_FIELD(notify, brevo_url, kString), .check = CheckHttpUrl},
      {HERALD_CONFIG_FIELD(notify, freemobile_user, kString)},
      {HERALD_CONFIG_FIELD(notify, freemobile_pass, kString)},
      {HERALD_CONFIG_FIELD(notify, freemobile_url, kString), .check = CheckHttpUrl},
      {HERALD_CONFIG_FIELD(notify, whatsapp_providers, kString), .check = CheckWhatsAppProviders},
      {HERALD_CONFIG_FIELD(notify, whatsapp_phone_number_id, kString)},
      {HERALD_CONFIG_FIELD(notify, whatsapp_access_token, kString)},
      {HERALD_CONFIG_FIELD(notify, whatsapp_url, kString), .check = CheckHttpUrl},
      {HERALD_CONFIG_FIELD(notify, whatsapp_api_version, kString), .check = CheckApiVersion},
      {HERALD_CONFIG_FIELD(notify, whatsapp_app_secret, kString)},
      {HERALD_CONFIG_FIELD(notify, whatsapp_verify_token, kString)},
      {HERALD_CONFIG_FIELD(notify, chat_providers, kString), .check = CheckChatProviders},
      {HERALD_CONFIG_FIELD(notify, chat_targets, kString)},
      {HERALD_CONFIG_FIELD(notify, provider_rates, kString), .check = CheckProviderRates},
      {HERALD_CONFIG_FIELD(webhooks, stripe_secrets, kString)},
      {HERALD_CONFIG_FIELD(webhooks, stripe_tolerance, kDuration),
       .min_duration = absl::Seconds(1)},
      {HERALD_CONFIG_FIELD(webhooks, inbound_sources, kString)},
      {HERALD_CONFIG_FIELD(webhooks, allow_private_addresses, kInt), .min = 0, .max = 1},
      {HERALD_CONFIG_FIELD(webhooks, disable_after, kDuration), .min_duration = absl::Minutes(1)},
      {HERALD_CONFIG_FIELD(maintenance, cron_secret, kString)},
      {HERALD_CONFIG_FIELD(maintenance, check_schedule, kString)},
      {HERALD_CONFIG_FIELD(documents, root, kString)},
      {HERALD_CONFIG_FIELD(documents, logo, kString)},
      {HERALD_CONFIG_FIELD(documents, locale, kString), .check = CheckDocumentLocale},
      {HERALD_CONFIG_FIELD(documents, font_dir, kString)},
      {HERALD_CONFIG_FIELD(tickets, secret, kString), .check = CheckSecret},
      {HERALD_CONFIG_FIELD(tickets, scan_repeat_window, kDuration)},
      {HERALD_CONFIG_FIELD(tickets, gateway, kString), .check = CheckPaymentGateway},
      {HERALD_CONFIG_FIELD(tickets, stripe_api_key, kString)},
      {HERALD_CONFIG_FIELD(tickets, stripe_api_url, kString), .check = CheckHttpUrl},
      {HERALD_CONFIG_FIELD(tickets, hold_for, kDuration)},
      {HERALD_CONFIG_FIELD(tickets, seller_name, kString)},
      {HERALD_CONFIG_FIELD(tickets, seller_address, kString)},
      {HERALD_CONFIG_FIELD(tickets, seller_email, kString)},
      {HERALD_CONFIG_FIELD(tickets, seller_vat_number, kString)},
      {HERALD_CONFIG_FIELD(log, level, kString), .check = CheckLogLevel},
      {HERALD_CONFIG_FIELD(log, format, kString), .check = CheckLogFormat},
  };
  return *keys;
}

#undef HERALD_CONFIG_FIELD

constexpr std::array<std::string_view, 11> kSections = {
    "store",    "engine",      "scheduler", "http",    "auth", "notify",
    "webhooks", "maintenance", "documents", "tickets", "log"};

const KeySpec* FindKey(std::string_view section, std::string_view name) {
  for (const KeySpec& spec : Keys()) {
    if (spec.section == section && spec.name == name) return &spec;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Messages.

// A user-supplied value, quoted and escaped for an error message; long values are cut.
std::string Quote(std::string_view value) {
  constexpr size_t kMax = 80;
  std::string escaped = absl::CHexEscape(ToAbsl(value.substr(0, kMax)));
  return herald::StrCat("\"", escaped, value.size() > kMax ? "...\"" : "\"");
}

// Optimal string alignment distance: like Levenshtein, plus adjacent transpositions, so that
// "wrokers" is one edit from "workers".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

constexpr size_t kMaxTypos = 2;

// The candidate closest to `word` if it is within kMaxTypos edits, else empty.
std::string_view Closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_distance = kMaxTypos + 1;
  for (std::string_view candidate : candidates) {
    const size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string RangeText(const KeySpec& spec) {
  const int64_t type_max = spec.kind == Kind::kInt ? std::numeric_limits<int>::max()
                                                   : std::numeric_limits<int64_t>::max();
  if (spec.max >= type_max) return herald::StrCat("must be at least ", spec.min);
  return herald::StrCat("must be in ", spec.min, "..", spec.max);
}

// Empty if `value` satisfies the duration bound of `spec`.
std::string DurationProblem(const KeySpec& spec, absl::Duration value) {
  if (spec.min_exclusive) {
    if (value > spec.min_duration) return "";
    return herald::StrCat("must be greater than ", absl::FormatDuration(spec.min_duration),
                          ", got ", absl::FormatDuration(value));
  }
  if (value >= spec.min_duration) return "";
  if (spec.min_duration == absl::ZeroDuration()) {
    return herald::StrCat("must not be negative, got ", absl::FormatDuration(value));
  }
  return herald::StrCat("must be at least ", absl::FormatDuration(spec.min_duration), ", got ",
                        absl::FormatDuration(value));
}

// Where a value came from, for messages ("at herald.toml:3:11", "from HERALD_ENGINE_LEASE"),
// and where its errors sort: file positions in order, then the environment.
struct Origin {
  std::string where;
  uint64_t order = 0;
};
constexpr uint64_t kEnvOrder = uint64_t{1} << 62;  // after every file position
constexpr uint64_t kNoOrigin = std::numeric_limits<uint64_t>::max();
using Origins = std::map<std::string, Origin>;

// The problems found so far, reported together, sorted by where they came from.
class Problems {
 public:
  void Add(uint64_t order, std::string text) {
    problems_.push_back({order, problems_.size(), std::move(text)});
  }
  // "<key>: <problem> (<where>)", sorted by `origin`.
  void Add(std::string_view key, std::string_view problem, const Origin* origin) {
    if (origin == nullptr) {
      Add(kNoOrigin, herald::StrCat(key, ": ", problem));
    } else {
      Add(origin->order, herald::StrCat(key, ": ", problem, " (", origin->where, ")"));
    }
  }

  Status ToStatus() && {
    if (problems_.empty()) return absl::OkStatus();
    std::sort(problems_.begin(), problems_.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.order, a.seq) < std::tie(b.order, b.seq);
    });
    std::string message;
    for (const Entry& entry : problems_) {
      message.append(herald::StrCat(message.empty() ? "" : "; ", entry.text));
    }
    return absl::InvalidArgumentError(message);
  }

 private:
  struct Entry {
    uint64_t order;
    size_t seq;
    std::string text;
  };
  std::vector<Entry> problems_;
};

const Origin* FindOrigin(const Origins& origins, const std::string& key) {
  auto it = origins.find(key);
  return it == origins.end() ? nullptr : &it->second;
}

std::string QueueNameProblem() {
  return herald::StrCat("invalid queue name (use 1..", herald::kMaxNameLength,
                        " letters, digits, '_', '-', '.' or ':')");
}

// ---------------------------------------------------------------------------------------------
// Validation.

// Adds one problem per broken rule. Keys in `skip` already failed to load and are not checked
// again (their value is still the default, so a message about it would mislead).
void CheckConfig(const Config& config, const Origins& origins, const std::set<std::string>& skip,
                 Problems& problems) {
  std::set<std::string> bad(skip);
  const auto report = [&](const std::string& key, std::string_view problem) {
    problems.Add(key, problem, FindOrigin(origins, key));
    bad.insert(key);
  };

  for (const KeySpec& spec : Keys()) {
    const std::string key = spec.Key();
    if (skip.contains(key)) continue;
    std::string problem;
    switch (spec.kind) {
      case Kind::kInt:
      case Kind::kInt64: {
        const int64_t value = spec.kind == Kind::kInt
                                  ? *static_cast<const int*>(spec.cget(config))
                                  : *static_cast<const int64_t*>(spec.cget(config));
        if (value < spec.min || value > spec.max) {
          problem = herald::StrCat(RangeText(spec), ", got ", value);
        }
        break;
      }
      case Kind::kDuration:
        problem = DurationProblem(spec, *static_cast<const absl::Duration*>(spec.cget(config)));
        break;
      case Kind::kString: {
        const auto& value = *static_cast<const std::string*>(spec.cget(config));
        if (spec.check != nullptr) problem = spec.check(value);
        // A secret's value is never echoed into an error (errors are printed and logged).
        if (!problem.empty() && spec.name.find("secret") == std::string_view::npos) {
          problem.append(herald::StrCat(", got ", Quote(value)));
        }
        break;
      }
    }
    if (!problem.empty()) report(key, problem);
  }

  // Only meaningful once both values are individually valid.
  if (!bad.contains("engine.heartbeat") && !bad.contains("engine.lease") &&
      config.engine.heartbeat >= config.engine.lease) {
    const Origin* heartbeat_origin = FindOrigin(origins, "engine.heartbeat");
    const Origin* lease_origin = FindOrigin(origins, "engine.lease");
    const auto describe = [](absl::Duration value, const Origin* origin) {
      return herald::StrCat(absl::FormatDuration(value), " (", origin ? origin->where : "default",
                            ")");
    };
    problems.Add(std::min(heartbeat_origin ? heartbeat_origin->order : kNoOrigin,
                          lease_origin ? lease_origin->order : kNoOrigin),
                 herald::StrCat("engine.heartbeat: must be less than engine.lease: heartbeat is ",
                                describe(config.engine.heartbeat, heartbeat_origin), ", lease is ",
                                describe(config.engine.lease, lease_origin)));
  }
  if (!bad.contains("notify.email_providers") && !bad.contains("notify.smtp_url") &&
      config.notify.smtp_url.empty() &&
      absl::c_linear_search(
          std::vector<std::string>(absl::StrSplit(ToAbsl(config.notify.email_providers), ',')),
          "smtp")) {
    problems.Add(FindOrigin(origins, "notify.email_providers")
                     ? FindOrigin(origins, "notify.email_providers")->order
                     : kNoOrigin,
                 "notify.smtp_url: must be set when notify.email_providers lists smtp");
  }

  for (const auto& [name, queue] : config.engine.queues) {
    const std::string prefix = herald::StrCat("engine.queues.", name);
    if (skip.contains(prefix)) continue;
    if (!IsValidName(name)) {
      problems.Add(herald::StrCat("engine.queues.", Quote(name)), QueueNameProblem(),
                   FindOrigin(origins, prefix));
      continue;
    }
    const std::string concurrency_key = herald::StrCat(prefix, ".concurrency");
    if (!skip.contains(concurrency_key) && queue.concurrency < 0) {
      report(concurrency_key, herald::StrCat("must be at least 0, got ", queue.concurrency));
    }
    for (const auto& [table, rate] :
         {std::pair<std::string_view, const RateLimit&>{"rate_limit", queue.rate},
          std::pair<std::string_view, const RateLimit&>{"group_rate_limit", queue.group_rate}}) {
      const std::string limit_key = herald::StrCat(prefix, ".", table, ".limit");
      const std::string interval_key = herald::StrCat(prefix, ".", table, ".interval");
      if (!skip.contains(limit_key) && rate.limit < 0) {
        report(limit_key, herald::StrCat("must be at least 0, got ", rate.limit));
      }
      if (!skip.contains(interval_key) && rate.interval <= absl::ZeroDuration()) {
        report(interval_key,
               herald::StrCat("must be greater than 0, got ", absl::FormatDuration(rate.interval)));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Loading.

std::string_view TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

std::string_view ExpectedTypeName(Kind kind) {
  switch (kind) {
    case Kind::kInt:
    case Kind::kInt64:
      return "an integer";
    case Kind::kString:
      return "a string";
    case Kind::kDuration:
      return "a duration string such as \"30s\"";
  }
  return "";
}

// Parses a base-10 integer that must fill the whole text (environment values).
std::optional<int64_t> ParseEnvInteger(std::string_view text, bool& overflow) {
  overflow = false;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, 10);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    overflow = true;
    return std::nullopt;
  }
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

class Loader {
 public:
  explicit Loader(std::string path) : path_(std::move(path)) {}

  void ApplyToml(const toml::table& root) {
    for (const auto& [key, node] : root) {
      const std::string_view section = key.str();
      if (std::find(kSections.begin(), kSections.end(), section) == kSections.end()) {
        UnknownKey("", section, {kSections.begin(), kSections.end()}, key.source());
        continue;
      }
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        AddError(std::string(section), herald::StrCat("expected a table, got ", TomlTypeName(node)),
                 At(node.source()));
        continue;
      }
      ApplySection(section, *table);
    }
  }

  void ApplyEnv(const std::map<std::string, std::string>& env) {
    std::map<std::string, const KeySpec*> by_var;
    std::vector<std::string> var_names;
    for (const KeySpec& spec : Keys()) {
      var_names.push_back(spec.EnvVar());
      by_var[var_names.back()] = &spec;
    }
    const std::vector<std::string_view> candidates(var_names.begin(), var_names.end());

    for (const auto& [var, value] : env) {
      if (!var.starts_with(kEnvPrefix)) continue;
      if (std::find(kNonConfigEnvVars.begin(), kNonConfigEnvVars.end(), var) !=
          kNonConfigEnvVars.end()) {
        continue;
      }
      auto it = by_var.find(var);
      if (it != by_var.end()) {
        const KeySpec& spec = *it->second;
        SetFromText(spec, value, Origin{herald::StrCat("from ", var), kEnvOrder});
        continue;
      }
      if (var.starts_with("HERALD_ENGINE_QUEUES")) {
        problems_.Add(kEnvOrder,
                      herald::StrCat(var,
                                     ": unknown configuration variable: queue settings can only "
                                     "be set in the config file ([engine.queues.NAME])"));
        continue;
      }
      const std::string_view suggestion = Closest(var, candidates);
      bool looks_like_config = !suggestion.empty();
      for (std::string_view section : kSections) {
        if (var.starts_with(absl::AsciiStrToUpper(herald::StrCat(kEnvPrefix, section, "_")))) {
          looks_like_config = true;
        }
      }
      if (!looks_like_config) continue;
      std::string message = herald::StrCat(var, ": unknown configuration variable");
      if (!suggestion.empty()) message.append(herald::StrCat(", did you mean ", suggestion, "?"));
      problems_.Add(kEnvOrder, std::move(message));
    }
  }

  Result<Config> Finish() {
    CheckConfig(config_, origins_, failed_, problems_);
    HERALD_RETURN_IF_ERROR(std::move(problems_).ToStatus());
    return config_;
  }

 private:
  Origin At(const toml::source_region& where) const {
    return Origin{herald::StrCat("at ", path_, ":", where.begin.line, ":", where.begin.column),
                  (uint64_t{where.begin.line} << 32) | where.begin.column};
  }

  void AddError(const std::string& key, std::string_view problem, const Origin& origin) {
    problems_.Add(key, problem, &origin);
    failed_.insert(key);
  }

  void UnknownKey(std::string_view prefix, std::string_view name,
                  const std::vector<std::string_view>& known, const toml::source_region& where) {
    const std::string full = prefix.empty() ? std::string(name) : herald::StrCat(prefix, ".", name);
    std::string problem = "unknown key";
    const std::string_view suggestion = Closest(name, known);
    if (!suggestion.empty()) {
      problem.append(
          herald::StrCat(", did you mean ", prefix, prefix.empty() ? "" : ".", suggestion, "?"));
    }
    AddError(full, problem, At(where));
  }

  void ApplySection(std::string_view section, const toml::table& table) {
    std::vector<std::string_view> known;
    for (const KeySpec& spec : Keys()) {
      if (spec.section == section) known.push_back(spec.name);
    }
    if (section == "engine") known.push_back("queues");

    for (const auto& [key, node] : table) {
      if (section == "engine" && key.str() == "queues") {
        ApplyQueues(node);
        continue;
      }
      const KeySpec* spec = FindKey(section, key.str());
      if (spec == nullptr) {
        UnknownKey(section, key.str(), known, key.source());
        continue;
      }
      SetFromToml(*spec, node);
    }
  }

  void SetFromToml(const KeySpec& spec, const toml::node& node) {
    const std::string key = spec.Key();
    const Origin origin = At(node.source());
    origins_[key] = origin;
    switch (spec.kind) {
      case Kind::kInt:
      case Kind::kInt64:
        if (const auto* v = node.as_integer()) {
          SetInteger(spec, v->get(), origin);
          return;
        }
        break;
      case Kind::kString:
      case Kind::kDuration:
        if (const auto* v = node.as_string()) {
          SetFromText(spec, v->get(), origin);
          return;
        }
        break;
    }
    AddError(key,
             herald::StrCat("expected ", ExpectedTypeName(spec.kind), ", got ", TomlTypeName(node)),
             origin);
  }

  // Sets a string or duration from text, or an integer from decimal text (environment).
  void SetFromText(const KeySpec& spec, std::string_view text, const Origin& origin) {
    const std::string key = spec.Key();
    origins_[key] = origin;
    switch (spec.kind) {
      case Kind::kString:
        *static_cast<std::string*>(spec.get(config_)) = std::string(text);
        return;
      case Kind::kDuration: {
        Result<absl::Duration> duration = ParseDuration(text);
        if (!duration.ok()) {
          AddError(key, std::string(duration.status().message()), origin);
          return;
        }
        *static_cast<absl::Duration*>(spec.get(config_)) = *duration;
        return;
      }
      case Kind::kInt:
      case Kind::kInt64: {
        bool overflow = false;
        const std::optional<int64_t> value = ParseEnvInteger(text, overflow);
        if (overflow) {
          AddError(key, herald::StrCat(RangeText(spec), ", got ", Quote(text)), origin);
        } else if (!value.has_value()) {
          AddError(key, herald::StrCat("expected an integer, got ", Quote(text)), origin);
        } else {
          SetInteger(spec, *value, origin);
        }
        return;
      }
    }
  }

  void SetInteger(const KeySpec& spec, int64_t value, const Origin& origin) {
    // Checked here rather than only in CheckConfig because an out-of-range value may not even
    // fit the member's type.
    if (value < spec.min || value > spec.max) {
      AddError(spec.Key(), herald::StrCat(RangeText(spec), ", got ", value), origin);
      return;
    }
    if (spec.kind == Kind::kInt) {
      *static_cast<int*>(spec.get(config_)) = static_cast<int>(value);
    } else {
      *static_cast<int64_t*>(spec.get(config_)) = value;
    }
  }

  void ApplyQueues(const toml::node& node) {
    const toml::table* queues = node.as_table();
    if (queues == nullptr) {
      AddError("engine.queues", herald::StrCat("expected a table, got ", TomlTypeName(node)),
               At(node.source()));
      return;
    }
    for (const auto& [key, queue_node] : *queues) {
      const std::string name(key.str());
      const std::string prefix = herald::StrCat("engine.queues.", name);
      origins_[prefix] = At(key.source());
      if (!IsValidName(name)) {
        AddError(herald::StrCat("engine.queues.", Quote(name)), QueueNameProblem(),
                 At(key.source()));
        failed_.insert(prefix);
        continue;
      }
      const toml::table* table = queue_node.as_table();
      if (table == nullptr) {
        AddError(prefix, herald::StrCat("expected a table, got ", TomlTypeName(queue_node)),
                 At(queue_node.source()));
        continue;
      }
      QueueConfig& queue = config_.engine.queues[name];
      for (const auto& [field, value] : *table) {
        const std::string field_key = herald::StrCat(prefix, ".", field.str());
        if (field.str() == "concurrency") {
          origins_[field_key] = At(value.source());
          const auto* v = value.as_integer();
          if (v == nullptr) {
            AddError(field_key, herald::StrCat("expected an integer, got ", TomlTypeName(value)),
                     At(value.source()));
          } else if (v->get() < 0 || v->get() > std::numeric_limits<int>::max()) {
            AddError(field_key, herald::StrCat("must be at least 0, got ", v->get()),
                     At(value.source()));
          } else {
            queue.concurrency = static_cast<int>(v->get());
          }
        } else if (field.str() == "rate_limit") {
          ApplyRateLimit(field_key, value, queue.rate);
        } else if (field.str() == "group_rate_limit") {
          ApplyRateLimit(field_key, value, queue.group_rate);
        } else {
          UnknownKey(prefix, field.str(), {"concurrency", "rate_limit", "group_rate_limit"},
                     field.source());
        }
      }
    }
  }

  void ApplyRateLimit(const std::string& prefix, const toml::node& node, RateLimit& rate) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      AddError(prefix,
               herald::StrCat("expected a table such as { limit = 10, interval = \"1s\" }, got ",
                              TomlTypeName(node)),
               At(node.source()));
      return;
    }
    for (const auto& [field, value] : *table) {
      const std::string key = herald::StrCat(prefix, ".", field.str());
      const Origin origin = At(value.source());
      origins_[key] = origin;
      if (field.str() == "limit") {
        const auto* v = value.as_integer();
        if (v == nullptr) {
          AddError(key, herald::StrCat("expected an integer, got ", TomlTypeName(value)), origin);
        } else if (v->get() < 0) {
          AddError(key, herald::StrCat("must be at least 0, got ", v->get()), origin);
        } else {
          rate.limit = v->get();
        }
      } else if (field.str() == "interval") {
        const auto* v = value.as_string();
        if (v == nullptr) {
          AddError(key,
                   herald::StrCat("expected a duration string such as \"1s\", got ",
                                  TomlTypeName(value)),
                   origin);
          continue;
        }
        Result<absl::Duration> interval = ParseDuration(v->get());
        if (!interval.ok()) {
          AddError(key, std::string(interval.status().message()), origin);
        } else {
          rate.interval = *interval;
        }
      } else {
        UnknownKey(prefix, field.str(), {"limit", "interval"}, field.source());
      }
    }
  }

  std::string path_;
  Config config_;
  Origins origins_;
  std::set<std::string> failed_;
  Problems problems_;
};

Result<std::string> ReadConfigFile(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return absl::NotFoundError(herald::StrCat("config file not found: ", path));
  }
  if (ec) {
    return absl::PermissionDeniedError(
        herald::StrCat("cannot read config file ", path, ": ", ec.message()));
  }
  if (std::filesystem::is_directory(status)) {
    return absl::InvalidArgumentError(
        herald::StrCat("config file ", path, " is a directory, not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return absl::PermissionDeniedError(
        herald::StrCat("cannot read config file ", path, ": ", std::strerror(error)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(herald::StrCat("error while reading config file ", path));
  }
  return contents.str();
}

}  // namespace

Result<std::map<std::string, std::string>> ParseServiceSecrets(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    size_t colon = item.find(':');
    std::string_view name = item.substr(0, colon);
    if (colon == std::string_view::npos || !herald::IsValidName(name)) {
      return absl::InvalidArgumentError("expected name:secret pairs separated by commas");
    }
    std::string_view secret = item.substr(colon + 1);
    if (secret.size() < 32) {
      return absl::InvalidArgumentError(
          herald::StrCat("the secret of service '", name, "' is shorter than 32 bytes"));
    }
    out[std::string(name)] = std::string(secret);
  }
  return out;
}

Result<absl::Duration> ParseDuration(std::string_view text) {
  const auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(herald::StrCat("invalid duration ", Quote(text), ": ", why));
  };
  constexpr std::string_view kExpected =
      "expected a number followed by a unit (ms, s, m, h, d), e.g. \"30s\" or \"1h30m\"";
  if (text.empty()) return invalid("empty, expected e.g. \"30s\" or \"1h30m\"");
  if (text.front() == '-') return invalid("negative durations are not allowed");

  struct Unit {
    std::string_view name;
    int64_t millis;
  };
  static constexpr std::array<Unit, 5> kUnits = {
      {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
  int64_t total_ms = 0;
  size_t next_unit = 0;  // units must appear in kUnits order, each at most once
  size_t i = 0;
  while (i < text.size()) {
    const size_t digits_start = i;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == digits_start) return invalid(kExpected);
    int64_t number = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + digits_start, text.data() + i, number);
    if (ec == std::errc::result_out_of_range) return invalid("too large");
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      return invalid("fractions are not supported (use a smaller unit, e.g. \"1500ms\")");
    }
    const size_t unit_start = i;
    while (i < text.size() && absl::ascii_isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (i == text.size()) {
        return invalid(herald::StrCat("missing unit after ", text.substr(digits_start),
                                      " (use ms, s, m, h or d, e.g. \"", text.substr(digits_start),
                                      "s\")"));
      }
      return invalid(kExpected);
    }
    size_t u = 0;
    while (u < kUnits.size() && kUnits[u].name != unit) ++u;
    if (u == kUnits.size()) {
      return invalid(herald::StrCat("unknown unit ", Quote(unit), " (use ms, s, m, h or d)"));
    }
    if (u < next_unit) {
      return invalid("units must go from largest to smallest, each at most once, e.g. \"1h30m\"");
    }
    next_unit = u + 1;
    int64_t part = 0;
    if (__builtin_mul_overflow(number, kUnits[u].millis, &part) ||
        __builtin_add_overflow(total_ms, part, &total_ms)) {
      return invalid("too large");
    }
  }
  return absl::Milliseconds(total_ms);
}

Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& env) {
  Loader loader(path);
  if (!path.empty()) {
    HERALD_ASSIGN_OR_RETURN(std::string contents, ReadConfigFile(path));
    try {
      const toml::table root = toml::parse(contents, path);
      loader.ApplyToml(root);
    } catch (const toml::parse_error& e) {
      return absl::InvalidArgumentError(herald::StrCat(path, ":", e.source().begin.line, ":",
                                                       e.source().begin.column,
                                                       ": TOML syntax error: ", e.description()));
    } catch (const std::exception& e) {
      return absl::InternalError(herald::StrCat("cannot parse config file ", path, ": ", e.what()));
    }
  }
  loader.ApplyEnv(env);
  return loader.Finish();
}

Status ValidateConfig(const Config& config) {
  Problems problems;
  CheckConfig(config, {}, {}, problems);
  return std::move(problems).ToStatus();
}

std::map<std::string, std::string> HeraldEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with(kEnvPrefix)) continue;
    const size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

}  // namespace herald::core
