#pragma once
// Purchases: ticket sales and their payments (seed 003 flow 2, seed 002 flow 2).
//
// Process creates a purchase for tickets of one event (new tickets of given types, or
// existing pending tickets), its tickets in the "pending" state, and a payment intent through
// the PaymentGateway; it answers the intent's id and client secret. The amount is always
// computed here from the ticket types' prices in the store; an amount the client sends is
// never used. A request with an idempotency key that was already processed returns the same
// purchase and intent (a retry after a timeout or a double click buys nothing twice); the
// gateway's own idempotency key is derived from the purchase, so a retry after a gateway
// failure resumes the same purchase.
//
// The payment's outcome arrives as the inbox's domain events (webhooks/inbox.h), which move
// the purchase one way only:
//   pending -> paid | failed | expired;  failed -> paid | expired;
//   paid -> partially_refunded | refunded;  partially_refunded -> refunded
// A purchase still unpaid `hold_for` after it was made expires (the "tickets.purchase_expire"
// job, enqueued with it): its payment intent is cancelled at the gateway first, so it can no
// longer be paid (an intent already paid or being paid keeps the hold: its payment event is
// on its way); then the tickets it made are cancelled, which gives their quantity back, and
// existing tickets it was buying are released for another purchase. A payment that still
// arrives for an expired purchase issues nothing and is reported in last_error, to refund.
// payment.succeeded issues the purchase's pending tickets (in the inbox handler's transaction)
// unless the amount paid is unknown, below the purchase's or in another currency (the purchase
// then stays pending, with the reason in last_error). A purchase has at most one intent: a
// replay reads it back from the gateway and never creates another. payment.refunded (full) cancels
// the purchase's unused tickets, which revokes their codes. A payment event is matched to its
// purchase by the payment intent id, else by metadata.purchase_id (which Process sets on the
// intent); events for other payments are ignored.
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "apps/tickets/generation.h"
#include "apps/tickets/payment_gateway.h"
#include "apps/tickets/ticketing.h"
#include "core/clock.h"
#include "core/status.h"
#include "docs/documents.h"
#include "engine/engine.h"
#include "notify/notifier.h"
#include "store/store.h"
#include "webhooks/inbox.h"

namespace herald::apps::tickets {

inline constexpr std::string_view kConfirmJobType = "tickets.purchase_confirmation";
inline constexpr std::string_view kExpireJobType = "tickets.purchase_expire";
inline constexpr std::string_view kRetireIntentJobType = "tickets.purchase_retire_intent";

// Who sells: printed on invoices.
struct Seller {
  std::string name = "Herald";
  std::string address;
  std::string email;
  std::string vat_number;
};

// What a paid purchase sets off besides issuing its tickets, in the payment event's
// transaction: the generation of the tickets' PDFs (which sends each to the buyer), and the
// "tickets.purchase_confirmation" job, which makes the invoice PDF and sends the buyer the
// payment_confirmation email with it attached (once: its idempotency key is the purchase's).
// Each part may be left out (tests of the payment states alone do): without a generator no
// PDFs are made; without the engine, documents and notifier no confirmation is sent.
struct PurchaseFollowUp {
  // With the engine: an unpaid purchase releases its tickets after `hold_for` (zero: never).
  absl::Duration hold_for = absl::Minutes(30);
  TicketGenerator* generator = nullptr;
  engine::Engine* engine = nullptr;
  docs::Documents* documents = nullptr;
  notify::Notifier* notifier = nullptr;
  Seller seller;
};

enum class PurchaseStatus { kPending, kPaid, kFailed, kPartiallyRefunded, kRefunded, kExpired };
// "pending", "paid", "failed", "partially_refunded", "refunded", "expired".
std::string_view PurchaseStatusName(PurchaseStatus s);
Result<PurchaseStatus> ParsePurchaseStatus(std::string_view name);

struct PurchaseLine {
  int64_t ticket_type_id = 0;
  int64_t quantity = 1;  // 1 to 100
};

struct PurchaseRequest {
  int64_t event_id = 0;
  std::vector<PurchaseLine> lines;  // new tickets of these types; or
  std::vector<int64_t> ticket_ids;  // existing pending tickets of the event, not yet bought
  std::string currency;             // optional: must be the event's currency when given
  std::string customer_email;       // required: the guest who holds the tickets
  std::string customer_name;
  std::string description;
  std::string return_url;
  // The client's key (Idempotency-Key header): 1 to 255 visible ASCII characters, or empty.
  std::string idempotency_key;
  std::optional<int64_t> client_amount;  // what the client said it costs: recorded, not used
};

struct Purchase {
  int64_t id = 0;
  int64_t event_id = 0;
  int64_t guest_id = 0;
  std::string customer_email;
  std::string customer_name;
  int64_t amount = 0;  // minor units, computed from the store's prices
  std::string currency;
  PurchaseStatus status = PurchaseStatus::kPending;
  std::string gateway;  // "stripe" or "local"
  std::string payment_intent_id;
  int64_t amount_refunded = 0;
  std::optional<int64_t> client_amount;
  std::string last_error;  // why a payment event did not apply
  std::vector<int64_t> ticket_ids;
  std::optional<absl::Time> paid_at;
  absl::Time created_at;
  absl::Time updated_at;
};

// A ticket template bought through the payment service (seed 002 flow 2: "déblocage accès
// templates si achat"): a payment.succeeded that matches no purchase and whose metadata names
// a template of the store (`template_id`, with `event_id`, `user_id` and `ticket_count`),
// from the payment service or Stripe, with an amount and a currency. It is recorded once per
// payment. It gives `user_id` access to the template and adds `ticket_count` tickets to the
// event's licence for it (Ticketing::AddTemplateLicence), which premium templates need; a full
// refund takes both back. It unlocks nothing (active false, the reason in last_error) when
// event_id names no event, ticket_count is not 1 to 1,000,000, or the template is premium and
// the payment names no event or count, is in another currency or pays less than price ×
// ticket_count. With the follow-up's engine, documents and notifier, the customer (the
// payment's `customer.email`) of a payment that unlocked the template gets the
// payment_confirmation email with an invoice PDF of the INV-T series attached.
struct TemplatePurchase {
  int64_t id = 0;
  std::string payment_key;  // the payment service's payment_id
  int64_t template_id = 0;
  int64_t event_id = 0;  // 0 when the payment named none
  std::string user_id;   // metadata.user_id as text; may be empty
  int64_t ticket_count = 0;
  int64_t amount = 0;  // minor units, as paid
  std::string currency;
  std::string customer_email;
  std::string customer_name;
  bool active = true;  // false once refunded in full, or when it unlocked nothing
  absl::Time paid_at;
  std::string last_error;  // why it unlocked nothing
};

struct ProcessResult {
  Purchase purchase;
  std::string client_secret;  // hand to the paying customer only; never logged
  bool replayed = false;      // the idempotency key was seen before
};

class Purchases {
 public:
  static Status Migrate(store::Store& store);
  // Subscribes to the inbox's payment events. Everything must outlive this object; create it
  // before the engine starts.
  static Result<std::unique_ptr<Purchases>> Create(store::Store& store, Ticketing& ticketing,
                                                   PaymentGateway& gateway, webhooks::Inbox& inbox,
                                                   const core::Clock& clock,
                                                   PurchaseFollowUp follow_up = {});

  // InvalidArgument naming the field; NotFound for the event; FailedPrecondition for an event
  // that does not sell (not active), a sold-out type, a free purchase or an amount above the
  // gateway's limit; AlreadyExists for an idempotency key used with another request; the
  // gateway's errors (the purchase is kept: retry with the same key).
  Result<ProcessResult> Process(const PurchaseRequest& request);
  Result<Purchase> Get(int64_t id);
  Result<std::vector<Purchase>> List(int64_t event_id, const PageFilter& page);
  // A template's purchases, oldest first; only `user_id`'s when it is not empty. NotFound for
  // no such template.
  Result<std::vector<TemplatePurchase>> TemplatePurchases(int64_t template_id,
                                                          std::string_view user_id,
                                                          const PageFilter& page);

 private:
  Purchases(store::Store& store, Ticketing& ticketing, PaymentGateway& gateway,
            const core::Clock& clock, PurchaseFollowUp follow_up);
  Status OnPayment(store::Txn& txn, const webhooks::DomainEvent& event);
  Status FollowUp(store::Txn& txn, const Purchase& p);
  // A payment that matches no purchase: a template bought, or not ours.
  Status OnOtherPayment(store::Txn& txn, const webhooks::DomainEvent& event,
                        const boost::json::object& data);
  // The "tickets.purchase_confirmation" job for `payload` ({"purchase": id} or
  // {"templatePurchase": id}); nothing without the engine, documents and notifier.
  Status EnqueueConfirmation(store::Txn& txn, const boost::json::object& payload);
  Status Confirm(engine::JobContext& job);
  struct Invoice;
  Result<Invoice> PurchaseInvoice(int64_t id);
  Result<Invoice> TemplateInvoice(int64_t id);
  Status Expire(engine::JobContext& job);
  // Cancels the intent a purchase had before another payment paid it (a Checkout Session),
  // so that the buyer cannot pay twice; one paid meanwhile is recorded for a refund.
  Status RetireIntent(engine::JobContext& job);
  // Makes sure the intent can no longer be paid: nullopt once it cannot (canceled, or unknown
  // to the gateway), or the status of a payment under way, which keeps the hold. Gateway
  // errors are Unavailable (retried).
  Result<std::optional<std::string>> StopPayment(std::string_view intent_id);
  bool confirms() const {
    return follow_.engine != nullptr && follow_.documents != nullptr && follow_.notifier != nullptr;
  }

  store::Store& store_;
  Ticketing& ticketing_;
  PaymentGateway& gateway_;
  const core::Clock& clock_;
  const PurchaseFollowUp follow_;
};

}  // namespace herald::apps::tickets
