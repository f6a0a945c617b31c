#include "webhooks/dispatcher.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/string.hpp"
#include "boost/json/value.hpp"
#include "core/log.h"
#include "core/rfc3339.h"
#include "core/strings.h"
#include "engine/job_table.h"
#include "net/http_client.h"
#include "net/ip_address.h"
#include "webhooks/signatures.h"

namespace herald::webhooks {
namespace {

namespace json = boost::json;
using engine::table::FromMicros;
using engine::table::OptTime;
using engine::table::RowTime;
using engine::table::ToMicros;
using store::Row;
using store::Txn;
using store::Value;

constexpr store::Migration kMigrations[] = {
    {1, "webhooks outbound", R"sql(
CREATE TABLE webhook_endpoints (
  id               TEXT PRIMARY KEY,
  url              TEXT NOT NULL,
  description      TEXT NOT NULL,
  event_types      TEXT NOT NULL,
  enabled          INTEGER NOT NULL,
  disabled_reason  TEXT NOT NULL,
  min_interval_us  INTEGER NOT NULL,
  timeout_us       INTEGER NOT NULL,
  secret           TEXT NOT NULL,
  failing_since    INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE TABLE webhook_messages (
  id          TEXT PRIMARY KEY,
  event_type  TEXT NOT NULL,
  payload     TEXT NOT NULL,
  dedupe_key  TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id                TEXT PRIMARY KEY,
  message_id        TEXT NOT NULL,
  endpoint_id       TEXT NOT NULL,
  status            TEXT NOT NULL,
  attempts          INTEGER NOT NULL,
  job_seq           INTEGER NOT NULL,
  next_attempt_at   INTEGER,
  last_status_code  INTEGER NOT NULL,
  last_error        TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id);
CREATE TABLE webhook_attempts (
  delivery_id    TEXT NOT NULL,
  number         INTEGER NOT NULL,
  at             INTEGER NOT NULL,
  status_code    INTEGER NOT NULL,
  latency_us     INTEGER NOT NULL,
  error          TEXT NOT NULL,
  response_body  TEXT NOT NULL,
  PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;
CREATE TABLE webhook_dedupe (
  dedupe_key  TEXT PRIMARY KEY,
  message_id  TEXT NOT NULL,
  expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
};

constexpr size_t kMaxPayloadBytes = 256 * 1024;
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxDescriptionBytes = 500;
constexpr size_t kMaxEventTypes = 64;
constexpr size_t kMaxEventTypeBytes = 128;
constexpr size_t kMaxDedupeKeyBytes = 256;
constexpr size_t kMaxLoggedBody = 1024;
constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);
constexpr int kMaxAttempts = 1 + static_cast<int>(std::size(kRetrySchedule));

constexpr std::string_view kEndpointColumns =
    "id, url, description, event_types, enabled, disabled_reason, min_interval_us, timeout_us,"
    " secret, failing_since, created_at, updated_at";
constexpr std::string_view kDeliveryColumns =
    "d.id, d.message_id, d.endpoint_id, m.event_type, d.status, d.attempts, d.next_attempt_at,"
    " d.last_status_code, d.last_error, d.created_at, d.updated_at";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool IsValidEventType(std::string_view type) {
  return !type.empty() && type.size() <= kMaxEventTypeBytes &&
         std::all_of(type.begin(), type.end(), IsNameChar);
}

// "*", an event type, or a prefix ending in ".*".
bool IsValidSubscription(std::string_view s) {
  if (s == "*") return true;
  if (s.size() > 2 && s.ends_with(".*")) return IsValidEventType(s.substr(0, s.size() - 1));
  return IsValidEventType(s);
}

bool Subscribed(const std::vector<std::string>& subscriptions, std::string_view type) {
  if (subscriptions.empty()) return true;
  for (const std::string& s : subscriptions) {
    if (s == "*" || s == type) return true;
    if (s.ends_with(".*") && type.starts_with(std::string_view(s).substr(0, s.size() - 1))) {
      return true;
    }
  }
  return false;
}

Status ValidateUrl(std::string_view url, bool allow_private) {
  if (url.empty() || url.size() > kMaxUrlBytes) {
    return absl::InvalidArgumentError("url: 1 to 2048 characters");
  }
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return absl::InvalidArgumentError("url: must start with https:// or http://");
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return absl::InvalidArgumentError("url: no spaces or controls");
  }
  const std::string_view host = net::UrlHost(url);
  if (host.empty() || host == "[]") return absl::InvalidArgumentError("url: no host");
  if (allow_private) return absl::OkStatus();
  std::string lower(host);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "localhost" || lower.ends_with(".localhost") ||
      net::IsPublicIpLiteral(host) == std::optional<bool>(false)) {
    return absl::InvalidArgumentError(
        "url: the host is not a public address (loopback, private and link-local addresses are "
        "refused; see webhooks.allow_private_addresses)");
  }
  return absl::OkStatus();
}

Status ValidateEndpoint(Endpoint& e, bool allow_private) {
  HERALD_RETURN_IF_ERROR(ValidateUrl(e.url, allow_private));
  if (e.description.size() > kMaxDescriptionBytes) {
    return absl::InvalidArgumentError("description: at most 500 bytes");
  }
  if (e.event_types.size() > kMaxEventTypes) {
    return absl::InvalidArgumentError("eventTypes: at most 64");
  }
  for (const std::string& t : e.event_types) {
    if (!IsValidSubscription(t)) {
      return absl::InvalidArgumentError(
          "eventTypes: each is an event type of [A-Za-z0-9_.-] (at most 128), a prefix ending "
          "in .* or *");
    }
  }
  std::sort(e.event_types.begin(), e.event_types.end());
  e.event_types.erase(std::unique(e.event_types.begin(), e.event_types.end()), e.event_types.end());
  if (e.min_interval < absl::ZeroDuration() || e.min_interval > absl::Hours(1)) {
    return absl::InvalidArgumentError("minInterval: 0 to 1 hour");
  }
  if (e.timeout < absl::Seconds(1) || e.timeout > absl::Seconds(60)) {
    return absl::InvalidArgumentError("timeout: 1 to 60 seconds");
  }
  if (!e.secret.empty() && !DecodeStandardSecret(e.secret).ok()) {
    return absl::InvalidArgumentError("secret: whsec_ followed by 24 to 64 bytes in base64");
  }
  return absl::OkStatus();
}

core::RateLimit RateFor(const Endpoint& e) {
  if (e.min_interval <= absl::ZeroDuration()) return {0, absl::Seconds(1)};
  return {1, e.min_interval};
}

Result<Endpoint> EndpointFromRow(const Row& r) {
  Endpoint e;
  e.id = r.Text(0);
  e.url = r.Text(1);
  e.description = r.Text(2);
  for (absl::string_view t : absl::StrSplit(ToAbsl(r.Text(3)), ',', absl::SkipEmpty())) {
    e.event_types.emplace_back(ToStd(t));
  }
  e.enabled = r.Int(4) != 0;
  e.disabled_reason = r.Text(5);
  e.min_interval = absl::Microseconds(r.Int(6));
  e.timeout = absl::Microseconds(r.Int(7));
  e.secret = r.Text(8);
  e.failing_since = RowTime(r, 9);
  e.created_at = FromMicros(r.Int(10));
  e.updated_at = FromMicros(r.Int(11));
  return e;
}

Result<DeliveryStatus> ParseStatus(std::string_view s) {
  if (s == "pending") return DeliveryStatus::kPending;
  if (s == "succeeded") return DeliveryStatus::kSucceeded;
  if (s == "failed") return DeliveryStatus::kFailed;
  return absl::DataLossError(StrCat("unknown delivery status '", s, "'"));
}

Result<Delivery> DeliveryFromRow(const Row& r) {
  Delivery d;
  d.id = r.Text(0);
  d.message_id = r.Text(1);
  d.endpoint_id = r.Text(2);
  d.event_type = r.Text(3);
  HERALD_ASSIGN_OR_RETURN(d.status, ParseStatus(r.Text(4)));
  d.attempts = static_cast<int>(r.Int(5));
  d.next_attempt_at = RowTime(r, 6);
  d.last_status_code = static_cast<int>(r.Int(7));
  d.last_error = r.Text(8);
  d.created_at = FromMicros(r.Int(9));
  d.updated_at = FromMicros(r.Int(10));
  return d;
}

std::string JoinTypes(const std::vector<std::string>& types) {
  std::vector<absl::string_view> views;
  for (const std::string& t : types) views.push_back(ToAbsl(t));
  return absl::StrJoin(views, ",");
}

// Retry-After: delta-seconds or an HTTP date (RFC 9110 section 10.2.3). nullopt if absent or
// unreadable.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now) {
  if (value.empty() || value.size() > 64) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return kMaxRetryAfter;
    return absl::Seconds(std::stoll(std::string(value)));
  }
  absl::Time at;
  std::string err;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", ToAbsl(value), absl::UTCTimeZone(), &at,
                       &err)) {
    return std::nullopt;
  }
  return std::max(at - now, absl::ZeroDuration());
}

// What one attempt came to.
struct Outcome {
  int status_code = 0;
  std::string error;  // empty on success
  std::string response_body;
  bool success = false;
  bool gone = false;
  std::optional<absl::Duration> retry_after;
};

}  // namespace

std::string_view DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kSucceeded:
      return "succeeded";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "pending";
}

class Dispatcher::Impl {
 public:
  Impl(store::Store& store, engine::Engine& engine, const core::Clock& clock,
       DispatcherOptions options)
      : store_(store),
        engine_(engine),
        clock_(clock),
        options_(std::move(options)),
        ids_(clock),
        http_(HttpOptions(options_)) {}

  Status Start() {
    HERALD_ASSIGN_OR_RETURN(std::vector<Endpoint> endpoints, ListEndpoints());
    for (const Endpoint& e : endpoints) {
      engine_.SetGroupRate(kDeliveryQueue, e.id, RateFor(e));
    }
    engine_.RegisterHandler(std::string(kDeliveryJobType),
                            [this](engine::JobContext& job) { return Deliver(job); });
    return absl::OkStatus();
  }

  // --- endpoints --------------------------------------------------------------------------

  Result<Endpoint> CreateEndpoint(Endpoint e) {
    e.id = StrCat("ep_", ids_.Next().ToString());
    HERALD_RETURN_IF_ERROR(ValidateEndpoint(e, options_.allow_private_addresses));
    if (e.secret.empty()) {
      HERALD_ASSIGN_OR_RETURN(e.secret, NewStandardSecret());
    }
    e.disabled_reason.clear();
    e.failing_since.reset();
    e.created_at = e.updated_at = clock_.Now();
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) {
      return WriteEndpoint(
          txn, e,
          "INSERT INTO webhook_endpoints (url, description, event_types, enabled,"
          " disabled_reason, min_interval_us, timeout_us, secret, failing_since,"
          " created_at, updated_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }));
    engine_.SetGroupRate(kDeliveryQueue, e.id, RateFor(e));
    return e;
  }

  Result<Endpoint> UpdateEndpoint(const Endpoint& in) {
    Endpoint e = in;
    HERALD_RETURN_IF_ERROR(ValidateEndpoint(e, options_.allow_private_addresses));
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(Endpoint old, LoadEndpoint(txn, e.id));
      e.secret = old.secret;
      e.created_at = old.created_at;
      e.updated_at = clock_.Now();
      if (e.enabled) {
        e.disabled_reason.clear();
        e.failing_since = old.enabled ? old.failing_since : std::nullopt;
      } else {
        e.disabled_reason = old.enabled ? "disabled by a user" : old.disabled_reason;
        e.failing_since = old.failing_since;
      }
      return WriteEndpoint(txn, e,
                           "UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?,"
                           " enabled = ?, disabled_reason = ?, min_interval_us = ?, timeout_us = ?,"
                           " secret = ?, failing_since = ?, created_at = ?, updated_at = ?"
                           " WHERE id = ?");
    }));
    engine_.SetGroupRate(kDeliveryQueue, e.id, RateFor(e));
    return e;
  }

  Status DeleteEndpoint(std::string_view id) {
    const int64_t now = ToMicros(clock_.Now());
    return store_.Write([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(int64_t n,
                              txn.Exec("DELETE FROM webhook_endpoints WHERE id = ?", {id}));
      if (n == 0) return absl::NotFoundError(StrCat("no endpoint ", id.substr(0, 128)));
      // Its pending deliveries stop; their log stays.
      return txn
          .Exec(
              "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint deleted',"
              " next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = "
              "'pending'",
              {now, id})
          .status();
    });
  }

  Result<Endpoint> GetEndpoint(std::string_view id) {
    Endpoint e;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(e, LoadEndpoint(txn, id));
      return absl::OkStatus();
    }));
    return e;
  }

  Result<std::vector<Endpoint>> ListEndpoints() {
    std::vector<Endpoint> out;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      const std::string sql =
          StrCat("SELECT ", kEndpointColumns, " FROM webhook_endpoints ORDER BY id");
      HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Endpoint>(txn, sql, {}, EndpointFromRow));
      return absl::OkStatus();
    }));
    return out;
  }

  Result<Endpoint> RotateSecret(std::string_view id) {
    HERALD_ASSIGN_OR_RETURN(std::string secret, NewStandardSecret());
    Endpoint e;
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(e, LoadEndpoint(txn, id));
      e.secret = secret;
      e.updated_at = clock_.Now();
      const int64_t updated = ToMicros(e.updated_at);
      return txn
          .Exec("UPDATE webhook_endpoints SET secret = ?, updated_at = ? WHERE id = ?",
                {e.secret, updated, e.id})
          .status();
    }));
    return e;
  }

  // --- publishing -------------------------------------------------------------------------

  Result<PublishResult> Publish(Txn& txn, const OutboundEvent& event) {
    HERALD_RETURN_IF_ERROR(ValidateEvent(event));
    const absl::Time now = clock_.Now();
    const int64_t now_us = ToMicros(now);
    PublishResult result;
    result.message_id = StrCat("msg_", ids_.Next().ToString());
    if (!event.dedupe_key.empty()) {
      // One row per key; it is taken over only once its window has passed. The single writer
      // (or, on PostgreSQL, the row lock of the upsert) makes concurrent publishers agree.
      const int64_t expires = ToMicros(now + event.dedupe_window);
      HERALD_ASSIGN_OR_RETURN(
          int64_t n, txn.Exec("INSERT INTO webhook_dedupe (dedupe_key, message_id, expires_at)"
                              " VALUES (?, ?, ?) ON CONFLICT (dedupe_key) DO UPDATE SET"
                              " message_id = excluded.message_id, expires_at = excluded.expires_at"
                              " WHERE webhook_dedupe.expires_at <= ?",
                              {event.dedupe_key, result.message_id, expires, now_us}));
      if (n == 0) {
        result.deduplicated = true;
        result.message_id.clear();
        HERALD_RETURN_IF_ERROR(
            txn.Query("SELECT message_id FROM webhook_dedupe WHERE dedupe_key = ?",
                      {event.dedupe_key}, [&](const Row& r) {
                        result.dedupe_message_id = r.Text(0);
                        return false;
                      }));
        return result;
      }
    }
    HERALD_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO webhook_messages (id, event_type, payload,"
                 " dedupe_key, created_at) VALUES (?, ?, ?, ?, ?)",
                 {result.message_id, event.type, event.payload_json, event.dedupe_key, now_us})
            .status());
    std::vector<Endpoint> targets;
    const std::string sql = StrCat("SELECT ", kEndpointColumns,
                                   " FROM webhook_endpoints WHERE enabled = 1 ORDER BY id");
    HERALD_RETURN_IF_ERROR(store::QueryEach(txn, sql, {}, EndpointFromRow, [&](Endpoint&& e) {
      if (Subscribed(e.event_types, event.type)) targets.push_back(std::move(e));
      return true;
    }));
    for (const Endpoint& e : targets) {
      const std::string id = StrCat("dlv_", ids_.Next().ToString());
      HERALD_RETURN_IF_ERROR(
          txn.Exec("INSERT INTO webhook_deliveries (id, message_id, endpoint_id, status, attempts,"
                   " job_seq, next_attempt_at, last_status_code, last_error, created_at,"
                   " updated_at) VALUES (?, ?, ?, 'pending', 0, 1, ?, 0, '', ?, ?)",
                   {id, result.message_id, e.id, now_us, now_us, now_us})
              .status());
      HERALD_RETURN_IF_ERROR(EnqueueDelivery(txn, id, e.id, 1, std::nullopt));
      result.delivery_ids.push_back(id);
    }
    return result;
  }

  Result<PublishResult> Publish(const OutboundEvent& event) {
    PublishResult result;
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(result, Publish(txn, event));
      return absl::OkStatus();
    }));
    return result;
  }

  // --- deliveries -------------------------------------------------------------------------

  Result<std::vector<Delivery>> ListDeliveries(const DeliveryFilter& f) {
    if (f.limit < 1 || f.limit > 1000) return absl::InvalidArgumentError("limit: 1 to 1000");
    const std::string status(f.status ? DeliveryStatusName(*f.status) : "");
    const int64_t limit = f.limit;
    std::vector<Delivery> out;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      const std::string sql =
          StrCat("SELECT ", kDeliveryColumns,
                 " FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id"
                 " WHERE (? = '' OR d.endpoint_id = ?) AND (? = '' OR d.status = ?)"
                 " AND (? = '' OR d.id < ?) ORDER BY d.id DESC LIMIT ?");
      const Value p[] = {f.endpoint_id, f.endpoint_id, status, status,
                         f.before_id,   f.before_id,   limit};
      HERALD_ASSIGN_OR_RETURN(out, store::QueryAll<Delivery>(txn, sql, p, DeliveryFromRow));
      return absl::OkStatus();
    }));
    return out;
  }

  Result<Delivery> GetDelivery(std::string_view id) {
    Delivery d;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(d, LoadDelivery(txn, id));
      return txn.Query(
          "SELECT number, at, status_code, latency_us, error, response_body FROM webhook_attempts"
          " WHERE delivery_id = ? ORDER BY number",
          {id}, [&](const Row& r) {
            d.attempt_log.push_back(Attempt{
                static_cast<int>(r.Int(0)), FromMicros(r.Int(1)), static_cast<int>(r.Int(2)),
                absl::Microseconds(r.Int(3)), std::string(r.Text(4)), std::string(r.Text(5))});
            return true;
          });
    }));
    return d;
  }

  Result<Delivery> Redeliver(std::string_view id) {
    Delivery d;
    HERALD_RETURN_IF_ERROR(store_.Write([&](Txn& txn) -> Status {
      HERALD_ASSIGN_OR_RETURN(d, LoadDelivery(txn, id));
      HERALD_ASSIGN_OR_RETURN(Endpoint e, LoadEndpoint(txn, d.endpoint_id));
      if (!e.enabled) {
        return absl::FailedPreconditionError(
            StrCat("endpoint ", e.id, " is disabled (", e.disabled_reason, "): enable it first"));
      }
      int64_t seq = 0;
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT job_seq FROM webhook_deliveries WHERE id = ?", {id}, [&](const Row& r) {
            seq = r.Int(0) + 1;
            return false;
          }));
      const absl::Time now = clock_.Now();
      const int64_t now_us = ToMicros(now);
      HERALD_RETURN_IF_ERROR(
          txn.Exec("UPDATE webhook_deliveries SET status = 'pending', job_seq = ?,"
                   " next_attempt_at = ?, updated_at = ? WHERE id = ?",
                   {seq, now_us, now_us, id})
              .status());
      d.status = DeliveryStatus::kPending;
      d.next_attempt_at = now;
      d.updated_at = now;
      return EnqueueDelivery(txn, d.id, d.endpoint_id, seq, std::nullopt);
    }));
    return d;
  }

 private:
  static net::HttpClientOptions HttpOptions(const DispatcherOptions& o) {
    net::HttpClientOptions h;
    h.max_idle = 16;
    h.max_response_bytes = o.max_response_bytes;
    h.ca_file = o.ca_file;
    h.user_agent = "herald-webhooks";
    h.allow_private_addresses = o.allow_private_addresses;
    return h;
  }

  Status ValidateEvent(const OutboundEvent& event) const {
    if (!IsValidEventType(event.type)) {
      return absl::InvalidArgumentError("type: 1 to 128 characters of [A-Za-z0-9_.-]");
    }
    if (event.payload_json.size() > kMaxPayloadBytes) {
      return absl::InvalidArgumentError("data: at most 256 KiB");
    }
    boost::system::error_code ec;
    const json::value v = json::parse(event.payload_json, ec);
    if (ec || !v.is_object()) return absl::InvalidArgumentError("data: must be a JSON object");
    if (event.dedupe_key.size() > kMaxDedupeKeyBytes) {
      return absl::InvalidArgumentError("dedupeKey: at most 256 bytes");
    }
    if (!event.dedupe_key.empty() && (event.dedupe_window <= absl::ZeroDuration() ||
                                      event.dedupe_window > absl::Hours(24 * 366))) {
      return absl::InvalidArgumentError("dedupeWindow: more than 0 and at most 366 days");
    }
    return absl::OkStatus();
  }

  Status WriteEndpoint(Txn& txn, const Endpoint& e, std::string_view sql) {
    const std::string types = JoinTypes(e.event_types);
    const Value p[] = {e.url,
                       e.description,
                       types,
                       int64_t{e.enabled ? 1 : 0},
                       e.disabled_reason,
                       absl::ToInt64Microseconds(e.min_interval),
                       absl::ToInt64Microseconds(e.timeout),
                       e.secret,
                       OptTime(e.failing_since),
                       ToMicros(e.created_at),
                       ToMicros(e.updated_at),
                       e.id};
    return txn.Exec(sql, p).status();
  }

  static Result<Endpoint> LoadEndpoint(Txn& txn, std::string_view id) {
    std::optional<Endpoint> e;
    const std::string sql =
        StrCat("SELECT ", kEndpointColumns, " FROM webhook_endpoints WHERE id = ?");
    const Value p[] = {id};
    HERALD_RETURN_IF_ERROR(store::QueryEach(txn, sql, p, EndpointFromRow, [&](Endpoint&& v) {
      e = std::move(v);
      return false;
    }));
    if (!e) return absl::NotFoundError(StrCat("no endpoint ", id.substr(0, 128)));
    return std::move(*e);
  }

  static Result<Delivery> LoadDelivery(Txn& txn, std::string_view id) {
    std::optional<Delivery> d;
    const std::string sql =
        StrCat("SELECT ", kDeliveryColumns,
               " FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id"
               " WHERE d.id = ?");
    const Value p[] = {id};
    HERALD_RETURN_IF_ERROR(store::QueryEach(txn, sql, p, DeliveryFromRow, [&](Delivery&& v) {
      d = std::move(v);
      return false;
    }));
    if (!d) return absl::NotFoundError(StrCat("no delivery ", id.substr(0, 128)));
    return std::move(*d);
  }

  Status EnqueueDelivery(Txn& txn, std::string_view delivery_id, std::string_view endpoint_id,
                         int64_t seq, std::optional<absl::Time> run_at) {
    engine::JobSpec spec;
    spec.queue = std::string(kDeliveryQueue);
    spec.type = std::string(kDeliveryJobType);
    spec.payload = StrCat(R"({"delivery":")", delivery_id, R"(","seq":)", seq, "}");
    spec.group_key = std::string(endpoint_id);
    spec.run_at = run_at;
    spec.max_attempts = 5;  // store errors only: HTTP failures follow kRetrySchedule
    return engine_.Enqueue(txn, spec).status();
  }

  absl::Duration Jittered(absl::Duration d) {
    absl::MutexLock l(&rng_mu_);
    return d * absl::Uniform(rng_, 0.8, 1.2);
  }

  // The delivery handler: one attempt, then its record, the endpoint's health and the next
  // attempt's job in one transaction.
  Status Deliver(engine::JobContext& job) {
    boost::system::error_code ec;
    const json::value v = json::parse(job.payload(), ec);
    if (ec || !v.is_object() || !v.as_object().contains("delivery") ||
        !v.as_object().at("delivery").is_string() || !v.as_object().contains("seq") ||
        !v.as_object().at("seq").is_int64()) {
      return absl::InvalidArgumentError("webhook.deliver: payload {delivery, seq} expected");
    }
    const std::string delivery_id(v.as_object().at("delivery").as_string());
    const int64_t seq = v.as_object().at("seq").as_int64();

    // What to send.
    struct Work {
      Delivery delivery;
      int64_t seq = 0;
      std::optional<Endpoint> endpoint;
      std::string payload;
      absl::Time message_at;
    } w;
    bool found = false;
    HERALD_RETURN_IF_ERROR(store_.Read([&](Txn& txn) -> Status {
      Result<Delivery> d = LoadDelivery(txn, delivery_id);
      if (!d.ok())
        return d.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : d.status();
      found = true;
      w.delivery = std::move(*d);
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT d.job_seq, m.payload, m.created_at FROM webhook_deliveries d JOIN"
                    " webhook_messages m ON m.id = d.message_id WHERE d.id = ?",
                    {delivery_id}, [&](const Row& r) {
                      w.seq = r.Int(0);
                      w.payload = r.Text(1);
                      w.message_at = FromMicros(r.Int(2));
                      return false;
                    }));
      Result<Endpoint> e = LoadEndpoint(txn, w.delivery.endpoint_id);
      if (e.ok()) w.endpoint = std::move(*e);
      return absl::OkStatus();
    }));
    // Gone, finished, or superseded by a later job (a redelivery).
    if (!found || w.seq != seq || w.delivery.status != DeliveryStatus::kPending) {
      return absl::OkStatus();
    }
    const absl::Time now = clock_.Now();
    if (!w.endpoint || !w.endpoint->enabled) {
      return Finish(w.delivery, seq, now, "failed",
                    w.endpoint ? StrCat("endpoint disabled: ", w.endpoint->disabled_reason)
                               : std::string("endpoint deleted"));
    }
    const Endpoint& e = *w.endpoint;
    Outcome o = Send(e, w.delivery, w.payload, w.message_at, now);
    const absl::Time after = clock_.Now();
    return Record(e, w.delivery, seq, now, after - now, std::move(o));
  }

  Outcome Send(const Endpoint& e, const Delivery& d, const std::string& payload,
               absl::Time message_at, absl::Time now) {
    Outcome o;
    Result<std::string> key = DecodeStandardSecret(e.secret);
    if (!key.ok()) {
      o.error = "the endpoint's secret is unreadable";
      return o;
    }
    const int64_t ts = absl::ToUnixSeconds(now);
    net::HttpRequest request;
    request.url = e.url;
    request.content_type = "application/json";
    request.body =
        StrCat(R"({"type":)", json::serialize(json::string(d.event_type)), R"(,"timestamp":")",
               core::FormatRfc3339(message_at), R"(","data":)", payload, "}");
    request.headers = {{"webhook-id", d.id},
                       {"webhook-timestamp", std::to_string(ts)},
                       {"webhook-signature", StandardSignature(*key, d.id, ts, request.body)}};
    request.timeout = e.timeout;
    Result<net::HttpResponse> response = http_.Post(request);
    if (!response.ok()) {
      o.error = response.status().code() == absl::StatusCode::kDeadlineExceeded
                    ? StrCat("timeout after ", absl::FormatDuration(e.timeout))
                    : std::string(response.status().message()).substr(0, 512);
      return o;
    }
    o.status_code = response->status;
    o.response_body = response->body.substr(0, kMaxLoggedBody);
    if (response->status >= 200 && response->status < 300) {
      o.success = true;
      return o;
    }
    o.gone = response->status == 410;
    if (response->status == 429 || response->status == 503) {
      o.retry_after = ParseRetryAfter(response->Header("retry-after"), now);
    }
    o.error = response->status >= 300 && response->status < 400
                  ? StrCat("HTTP ", response->status, " (redirects are not followed)")
                  : StrCat("HTTP ", response->status);
    return o;
  }

  Status Record(const Endpoint& e, const Delivery& d, int64_t seq, absl::Time now,
                absl::Duration latency, Outcome o) {
    const int64_t now_us = ToMicros(now);
    return store_.Write([&](Txn& txn) -> Status {
      // Read again what other attempts may have changed while this one was in flight (with
      // worker threads, attempts to one endpoint overlap, and a redelivery can start another
      // attempt of this delivery): the attempt count, whether this job still owns the delivery,
      // and the endpoint's health. The values read before sending may be stale.
      int64_t attempts = d.attempts;
      bool current = false;
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT attempts, job_seq, status FROM webhook_deliveries WHERE id = ?", {d.id},
                    [&](const Row& r) {
                      attempts = r.Int(0);
                      current = r.Int(1) == seq && r.Text(2) == "pending";
                      return false;
                    }));
      std::optional<absl::Time> endpoint_failing_since;
      bool endpoint_enabled = false;
      HERALD_RETURN_IF_ERROR(
          txn.Query("SELECT failing_since, enabled FROM webhook_endpoints WHERE id = ?", {e.id},
                    [&](const Row& r) {
                      endpoint_failing_since = RowTime(r, 0);
                      endpoint_enabled = r.Int(1) != 0;
                      return false;
                    }));
      const int attempt = static_cast<int>(attempts) + 1;
      const int64_t number = attempt;
      const int64_t code = o.status_code;
      const int64_t latency_us = absl::ToInt64Microseconds(latency);
      HERALD_RETURN_IF_ERROR(
          txn.Exec("INSERT OR REPLACE INTO webhook_attempts (delivery_id, number, at, status_code,"
                   " latency_us, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   {d.id, number, now_us, code, latency_us, o.error, o.response_body})
              .status());
      // Superseded (a redelivery, or the endpoint's deletion, while in flight): the attempt is
      // logged and counts for the endpoint's health, but the delivery belongs to the newer job.
      auto update_delivery = [&](std::string_view status, int64_t new_seq,
                                 std::optional<absl::Time> next, std::string_view error) -> Status {
        if (!current) {
          return txn.Exec("UPDATE webhook_deliveries SET attempts = ? WHERE id = ?", {number, d.id})
              .status();
        }
        return UpdateDelivery(txn, d.id, status, number, new_seq, next, code, error, now_us);
      };
      if (o.success) {
        HERALD_RETURN_IF_ERROR(
            txn.Exec("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?", {e.id})
                .status());
        return update_delivery("succeeded", seq, std::nullopt, "");
      }
      const absl::Time failing_since = endpoint_failing_since.value_or(now);
      std::string disable;
      if (!endpoint_enabled) {
        // Disabled (or deleted) meanwhile: keep the reason it has.
      } else if (o.gone) {
        disable = "410 Gone: the receiver asked to stop";
      } else if (now - failing_since >= options_.disable_after) {
        disable = StrCat("failing without a success since ", core::FormatRfc3339(failing_since));
      }
      const int64_t since_us = ToMicros(failing_since);
      HERALD_RETURN_IF_ERROR(
          txn.Exec("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?", {since_us, e.id})
              .status());
      if (!disable.empty()) {
        HERALD_RETURN_IF_ERROR(
            txn.Exec("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?,"
                     " updated_at = ? WHERE id = ?",
                     {disable, now_us, e.id})
                .status());
        core::LogWarn("webhook endpoint disabled", {{"endpoint", e.id}, {"reason", disable}});
        return update_delivery("failed", seq, std::nullopt,
                               StrCat(o.error, "; endpoint disabled: ", disable));
      }
      if (attempt >= kMaxAttempts) {
        return update_delivery("failed", seq, std::nullopt, StrCat(o.error, "; no attempts left"));
      }
      if (!current) return update_delivery("", seq, std::nullopt, "");
      absl::Duration wait = Jittered(kRetrySchedule[attempt - 1]);
      if (o.retry_after) wait = std::max(wait, std::min(*o.retry_after, kMaxRetryAfter));
      const absl::Time next = now + wait;
      HERALD_RETURN_IF_ERROR(update_delivery("pending", seq + 1, next, o.error));
      return EnqueueDelivery(txn, d.id, e.id, seq + 1, next);
    });
  }

  Status Finish(const Delivery& d, int64_t seq, absl::Time now, std::string_view status,
                const std::string& error) {
    return store_.Write([&](Txn& txn) {
      return UpdateDelivery(txn, d.id, status, d.attempts, seq, std::nullopt, d.last_status_code,
                            error, ToMicros(now));
    });
  }

  static Status UpdateDelivery(Txn& txn, std::string_view id, std::string_view status,
                               int64_t attempts, int64_t seq, std::optional<absl::Time> next,
                               int64_t code, std::string_view error, int64_t now_us) {
    const Value p[] = {status, attempts, seq, OptTime(next), code, error, now_us, id};
    return txn
        .Exec(
            "UPDATE webhook_deliveries SET status = ?, attempts = ?, job_seq = ?,"
            " next_attempt_at = ?, last_status_code = ?, last_error = ?, updated_at = ?"
            " WHERE id = ?",
            p)
        .status();
  }

  store::Store& store_;
  engine::Engine& engine_;
  const core::Clock& clock_;
  const DispatcherOptions options_;
  core::IdGenerator ids_;
  net::HttpClient http_;
  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);
};

Status Dispatcher::Migrate(store::Store& store) { return store.Migrate("webhooks", kMigrations); }

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(store::Store& store, engine::Engine& engine,
                                                       const core::Clock& clock,
                                                       DispatcherOptions options) {
  if (options.disable_after <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("webhooks: disable_after must be positive");
  }
  auto impl = std::make_unique<Impl>(store, engine, clock, std::move(options));
  HERALD_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(impl)));
}

Dispatcher::Dispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dispatcher::~Dispatcher() = default;

Result<Endpoint> Dispatcher::CreateEndpoint(Endpoint endpoint) {
  return impl_->CreateEndpoint(std::move(endpoint));
}
Result<Endpoint> Dispatcher::UpdateEndpoint(const Endpoint& endpoint) {
  return impl_->UpdateEndpoint(endpoint);
}
Status Dispatcher::DeleteEndpoint(std::string_view id) { return impl_->DeleteEndpoint(id); }
Result<Endpoint> Dispatcher::GetEndpoint(std::string_view id) { return impl_->GetEndpoint(id); }
Result<std::vector<Endpoint>> Dispatcher::ListEndpoints() { return impl_->ListEndpoints(); }
Result<Endpoint> Dispatcher::RotateSecret(std::string_view id) { return impl_->RotateSecret(id); }
Result<PublishResult> Dispatcher::Publish(store::Txn& txn, const OutboundEvent& event) {
  return impl_->Publish(txn, event);
}
Result<PublishResult> Dispatcher::Publish(const OutboundEvent& event) {
  return impl_->Publish(event);
}
Result<std::vector<Delivery>> Dispatcher::ListDeliveries(const DeliveryFilter& filter) {
  return impl_->ListDeliveries(filter);
}
Result<Delivery> Dispatcher::GetDelivery(std::string_view id) { return impl_->GetDelivery(id); }
Result<Delivery> Dispatcher::Redeliver(std::string_view id) { return impl_->Redeliver(id); }

}  // namespace herald::webhooks
