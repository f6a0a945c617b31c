#pragma once
// Dispatcher: outbound webhooks. Endpoints subscribe to event types; Publish turns one event
// into one message and one delivery per subscribed, enabled endpoint, durably and, when given
// the caller's transaction, atomically with the caller's own changes. Each delivery runs as an
// engine job (queue "webhooks", type "webhook.deliver", group key = the endpoint id) that POSTs
//
//   {"type": <event type>, "timestamp": <RFC 3339 of the message>, "data": <payload>}
//
// signed with Standard Webhooks headers (webhook-id = the delivery id, stable across retries;
// webhook-timestamp = the attempt's Unix seconds; webhook-signature = "v1,<base64 HMAC>" under
// the endpoint's secret; see signatures.h).
//
// Delivery rules (sources in docs/WEBHOOKS.md):
// - 2xx within the endpoint's timeout is success. Redirects are not followed: a 3xx is a
//   failure. 410 Gone disables the endpoint at once and fails the delivery.
// - Any other status or a transport failure is retried on kRetrySchedule with +/-20 % jitter;
//   a Retry-After (seconds or HTTP date) on 429 or 503 is honoured when it asks for longer,
//   capped at one day. After the last attempt the delivery is "failed".
// - An endpoint that has failed without a single success for `disable_after` (default 5 days,
//   Svix's rule) is disabled.
// - Rate limit per endpoint: at most one request per `min_interval` (default 200 ms, seed 004),
//   enforced by the engine's per-group rate limit, so a throttled endpoint holds back no other.
// - Deduplication: an event with a dedupe key is published at most once per dedupe window; the
//   store enforces it (one row per key, replaced only once its window has passed), so it holds
//   across restarts and between concurrent publishers.
// - SSRF: URLs must be http(s); the address actually connected to must be public (no loopback,
//   private, link-local, CGNAT, multicast or unspecified address, IPv4 or IPv6) unless
//   `allow_private_addresses` is set. Checked when an endpoint is saved (literal addresses) and
//   at every connection (after DNS resolution).
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/status.h"
#include "engine/engine.h"
#include "store/store.h"

namespace herald::webhooks {

inline constexpr std::string_view kDeliveryQueue = "webhooks";
inline constexpr std::string_view kDeliveryJobType = "webhook.deliver";

// Delays before attempts 2, 3, ...: the Standard Webhooks example schedule (immediately, 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: ten attempts over about 3 days).
inline constexpr absl::Duration kRetrySchedule[] = {
    absl::Seconds(5), absl::Minutes(5), absl::Minutes(30), absl::Hours(2),  absl::Hours(5),
    absl::Hours(10),  absl::Hours(14),  absl::Hours(20),   absl::Hours(24),
};

struct Endpoint {
  std::string id;  // "ep_<uuid>", assigned on create
  std::string url;
  std::string description;
  // Exact event types or prefixes ending in ".*" ("maintenance.*"); empty: every event.
  std::vector<std::string> event_types;
  bool enabled = true;
  std::string disabled_reason;  // why it was disabled ("410 Gone", "failing since ...")
  absl::Duration min_interval = absl::Milliseconds(200);  // zero: unlimited
  absl::Duration timeout = absl::Seconds(15);
  // "whsec_" + base64; generated on create when empty. Never logged.
  std::string secret;
  std::optional<absl::Time> failing_since;  // first failure since the last success
  absl::Time created_at;
  absl::Time updated_at;
};

struct OutboundEvent {
  std::string type;          // 1 to 128 characters of [A-Za-z0-9_.-]
  std::string payload_json;  // the "data" object: a JSON object, at most 256 KiB
  // Optional: at most one publication per key within `dedupe_window` (which must then be
  // positive).
  std::string dedupe_key;
  absl::Duration dedupe_window = absl::ZeroDuration();
};

struct PublishResult {
  std::string message_id;  // "msg_<uuid>"; empty when deduplicated
  bool deduplicated = false;
  std::string dedupe_message_id;  // when deduplicated: the message that holds the key
  std::vector<std::string> delivery_ids;
};

enum class DeliveryStatus { kPending, kSucceeded, kFailed };
std::string_view DeliveryStatusName(DeliveryStatus status);  // "pending", "succeeded", "failed"

struct Attempt {
  int number = 0;
  absl::Time at;
  int status_code = 0;  // 0: no response
  absl::Duration latency;
  std::string error;          // transport error or reason, empty on success
  std::string response_body;  // first 1 KiB
};

struct Delivery {
  std::string id;  // "dlv_<uuid>", also the webhook-id header
  std::string message_id;
  std::string endpoint_id;
  std::string event_type;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  std::optional<absl::Time> next_attempt_at;
  int last_status_code = 0;
  std::string last_error;
  absl::Time created_at;
  absl::Time updated_at;
  std::vector<Attempt> attempt_log;  // filled by GetDelivery only
};

struct DeliveryFilter {
  std::string endpoint_id;
  std::optional<DeliveryStatus> status;
  std::string before_id;  // cursor: the last id of the previous page (newest first)
  int limit = 50;
};

struct DispatcherOptions {
  bool allow_private_addresses = false;  // SSRF protection off (development and tests only)
  absl::Duration disable_after = absl::Hours(24 * 5);
  size_t max_response_bytes = 64 * 1024;
  std::string ca_file;  // PEM bundle to trust instead of the system store
};

class Dispatcher {
 public:
  static Status Migrate(store::Store& store);

  // Registers the delivery handler with `engine` and applies each endpoint's rate limit. The
  // store, engine and clock must outlive the dispatcher.
  static Result<std::unique_ptr<Dispatcher>> Create(store::Store& store, engine::Engine& engine,
                                                    const core::Clock& clock,
                                                    DispatcherOptions options = {});
  ~Dispatcher();

  // Endpoints. InvalidArgument names the bad field; NotFound for an unknown id.
  Result<Endpoint> CreateEndpoint(Endpoint endpoint);
  // Replaces url, description, event_types, enabled, min_interval and timeout; re-enabling
  // clears disabled_reason and failing_since. The secret is kept (RotateSecret changes it).
  Result<Endpoint> UpdateEndpoint(const Endpoint& endpoint);
  Status DeleteEndpoint(std::string_view id);
  Result<Endpoint> GetEndpoint(std::string_view id);
  Result<std::vector<Endpoint>> ListEndpoints();
  // A new secret; deliveries signed after this use it.
  Result<Endpoint> RotateSecret(std::string_view id);

  // Publishes in the caller's transaction: the message, its deliveries and their jobs commit
  // with the caller's changes or not at all.
  Result<PublishResult> Publish(store::Txn& txn, const OutboundEvent& event);
  // Publishes in a transaction of its own.
  Result<PublishResult> Publish(const OutboundEvent& event);

  Result<std::vector<Delivery>> ListDeliveries(const DeliveryFilter& filter);
  // With its attempt log.
  Result<Delivery> GetDelivery(std::string_view id);
  // Sends the delivery again now, whatever its status (a new attempt, same webhook-id).
  // FailedPrecondition if its endpoint is disabled.
  Result<Delivery> Redeliver(std::string_view id);

 private:
  class Impl;
  explicit Dispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::webhooks
