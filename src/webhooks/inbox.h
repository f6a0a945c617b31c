#pragma once
// Inbox: inbound webhook events (Stripe, and the payment and ticket services of seeds 002 and
// 003), each stored once and handled by a job.
//
// Accept stores an event keyed by (provider, event id) and enqueues its handling job
// ("webhook.inbound") in the same transaction: an event is either stored and will be handled,
// or not stored at all. A second delivery of the same event is answered as a duplicate and
// changes nothing (providers retry and sometimes deliver twice: dedupe on the event id, kept
// for good, not for a few minutes).
//
// The handler translates the provider's event into domain events for the business modules:
//   payment.succeeded, payment.failed, payment.refunded (data.full true or false),
//   ticket.generated
// through a one-way payment state machine kept per payment (the PaymentIntent id, else the
// Checkout Session id, else the payment service's id):
//   none, pending -> paid | failed;  failed -> paid;  paid -> partially_refunded | refunded;
//   partially_refunded -> partially_refunded (more refunded) | refunded.
// An event that would move a payment backwards (Stripe does not order its events) changes
// nothing and emits nothing; a refund seen before the payment moves the payment straight to
// refunded, and the late payment event is then ignored. Stripe rules (docs.stripe.com/checkout/
// fulfillment): checkout.session.completed acts only when payment_status is paid or
// no_payment_required (unpaid waits for async_payment_succeeded/failed); charge.refunded is
// full when `refunded` is true or amount_refunded >= amount.
//
// Subscribers run inside the handler's transaction, so their effects commit with the state
// change; an error rolls both back and the job retries. Domain events are also published to
// outbound webhook endpoints subscribed to them when a Dispatcher is given.
//
// Thread-safe; subscribe before the engine starts.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/status.h"
#include "engine/engine.h"
#include "store/store.h"
#include "webhooks/dispatcher.h"

namespace herald::webhooks {

inline constexpr std::string_view kInboundJobType = "webhook.inbound";

// The providers whose events the inbox translates. Any other provider is a Standard Webhooks
// source (POST /api/webhooks/inbound/{name}): its events are relayed as domain events of
// their own type, with their "data".
inline constexpr std::string_view kStripe = "stripe";
inline constexpr std::string_view kPaymentService = "payment-service";
inline constexpr std::string_view kTicketService = "ticket-service";

// A provider or source name: 1 to 64 characters of [a-z0-9_-].
bool IsValidSourceName(std::string_view name);

struct InboundEvent {
  std::string provider;  // kStripe, kPaymentService, kTicketService or a source: [a-z0-9_-]{1,64}
  std::string event_id;  // the provider's id; 1 to 255 bytes
  std::string type;      // "checkout.session.completed", "payment.completed", ...
  absl::Time created;    // when the provider says the event happened
  std::string payload;   // the raw body, a JSON object
};

struct AcceptResult {
  bool duplicate = false;
  std::string job_id;  // empty for a duplicate
};

struct StoredEvent {
  std::string provider;
  std::string event_id;
  std::string type;
  absl::Time created;
  absl::Time received_at;
  std::string status;   // "received", "handled", "ignored" (no action for this type or state)
  std::string outcome;  // what the handler did, in words
};

struct DomainEvent {
  std::string type;  // "payment.succeeded", "payment.failed", "payment.refunded", ...
  std::string provider;
  std::string source_event_id;
  absl::Time occurred;    // the provider event's `created`
  std::string entity_id;  // the payment key, or the ticket id
  std::string data_json;  // a JSON object: amounts, currency, metadata, customer...
};

using DomainHandler = std::function<Status(store::Txn&, const DomainEvent&)>;

struct PaymentState {
  std::string key;
  std::string state;   // pending, paid, failed, partially_refunded, refunded
  int64_t amount = 0;  // minor units as the provider sent them (0 if unknown)
  int64_t amount_refunded = 0;
  std::string currency;
  std::string last_event_id;
  absl::Time updated_at;
};

class Inbox {
 public:
  static Status Migrate(store::Store& store);
  // Registers the handler with `engine`. `outbound` may be null. All must outlive the inbox.
  static Result<std::unique_ptr<Inbox>> Create(store::Store& store, engine::Engine& engine,
                                               const core::Clock& clock, Dispatcher* outbound);
  ~Inbox();

  // InvalidArgument for a bad provider name, id or type, or a payload that is not a JSON
  // object (at most 1 MiB).
  Result<AcceptResult> Accept(const InboundEvent& event);

  // `type` is a domain event type or "*".
  void Subscribe(std::string type, DomainHandler handler);

  // The newest `limit` (1 to 1000) events; `provider` may be empty (all).
  Result<std::vector<StoredEvent>> List(std::string_view provider, int limit);
  Result<std::optional<PaymentState>> GetPayment(std::string_view key);

 private:
  class Impl;
  explicit Inbox(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::webhooks
