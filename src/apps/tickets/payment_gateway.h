#pragma once
// PaymentGateway: creates and reads payment intents for ticket purchases. The ticketing code
// creates one intent per purchase (POST /api/payments/process answers its id and client
// secret); the browser completes the payment with the client secret, and the outcome reaches
// Herald later as a payment webhook (not handled here). Two implementations:
//
// - StripeGateway speaks Stripe's PaymentIntents API (v1, form-encoded requests, JSON answers)
//   over HTTPS, with the API version pinned to kStripeApiVersion.
// - LocalGateway keeps intents in memory, for development and `make run` (no network).
//
// Requests (IntentRequest) are checked before anything is sent (ValidateIntentRequest): an
// invalid request is InvalidArgument naming the field, and no HTTP request is made.
//
// Idempotency: every request carries an idempotency key; one purchase must always use the same
// key, so that a retry (after a timeout, a crash, a double click) returns the intent the first
// attempt created instead of creating a second one. Reusing a key with a different request is
// Aborted, as at Stripe.
//
// Secrets: the Stripe API key and the intents' client secrets are never logged and never put
// in an error message. A client secret lets its holder complete the payment: hand it to the
// paying customer only.
//
// Errors of CreateIntent and GetIntent (both gateways, as values):
//   InvalidArgument     the request is invalid (checked here, or refused by Stripe: 400 with
//                       type invalid_request_error; the message has Stripe's message and param)
//   PermissionDenied    Stripe refused the API key (401) or its permissions (403)
//   FailedPrecondition  Stripe could not process the payment (402, card_error)
//   NotFound            GetIntent: no such intent (404, resource_missing)
//   Aborted             the idempotency key was used before with a different request (Stripe:
//                       400, type idempotency_error; never succeeds with that key), or another
//                       request with the same key is still running (Stripe: 409; retrying the
//                       same request later returns the first one's result)
//   Unavailable         Stripe could not be reached or timed out, rate-limited the request
//                       (429), or failed (5xx). After a 500, whether the intent was created is
//                       unknown: retry with the SAME key (Stripe replays a saved 500 for 24 h).
//   Internal            Stripe answered something that is not a PaymentIntent or an error
//
// Both gateways are thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/status.h"
#include "net/http_client.h"

namespace herald::apps::tickets {

struct IntentRequest {
  int64_t amount = 0;          // minor units (cents), 1 to kMaxAmount, computed by the server
  std::string currency;        // ISO 4217, 3 ASCII letters (any case); sent lower-case to Stripe
  std::string description;     // optional, valid UTF-8
  std::string customer_email;  // optional: Stripe's receipt_email
  std::string customer_name;   // optional: sent as metadata "customer_name"
  // Sent as Stripe metadata, in this order. Stripe's limits (docs.stripe.com/api/metadata):
  // at most 50 keys (customer_name included), keys of 1 to 40 characters, values of at most
  // 500 characters; keys are unique and have no '[' or ']'. Valid UTF-8.
  std::vector<std::pair<std::string, std::string>> metadata;
  // Required: 1 to 255 visible ASCII characters (docs.stripe.com/api/idempotent_requests).
  std::string idempotency_key;
};

struct PaymentIntent {
  std::string id;             // "pi_..."
  std::string client_secret;  // "pi_..._secret_..."; never logged
  // Stripe's: requires_payment_method, requires_confirmation, requires_action, processing,
  // requires_capture, succeeded, canceled.
  std::string status;
  int64_t amount = 0;
  std::string currency;  // lower case
  std::string gateway;   // "stripe" or "local"
};

// Stripe's upper bound on an amount: eight digits (docs.stripe.com/api/payment_intents/create).
inline constexpr int64_t kMaxAmount = 99'999'999;
inline constexpr size_t kMaxMetadataKeys = 50;
inline constexpr size_t kMaxMetadataKeyChars = 40;
inline constexpr size_t kMaxMetadataValueChars = 500;
inline constexpr size_t kMaxIdempotencyKeyLength = 255;

// OK, or InvalidArgument naming the first invalid field (see IntentRequest).
Status ValidateIntentRequest(const IntentRequest& request);

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  // "stripe" or "local", as in PaymentIntent::gateway.
  virtual std::string_view name() const = 0;
  // Creates the intent for `request`, or returns the one an earlier call with the same
  // idempotency key and the same request created. Errors: see the top of this file.
  virtual Result<PaymentIntent> CreateIntent(const IntentRequest& request) = 0;
  // The intent `id` as it is now (its status moves as the customer pays). InvalidArgument for
  // an id that is not "pi_" followed by letters, digits and '_'; NotFound for an unknown one.
  virtual Result<PaymentIntent> GetIntent(std::string_view id) = 0;
  // Cancels the intent as abandoned: it can no longer be paid. FailedPrecondition when its
  // status does not allow it (succeeded, or already canceled); otherwise as GetIntent.
  virtual Result<PaymentIntent> CancelIntent(std::string_view id) = 0;
};

// ---------------------------------------------------------------------------------------------
// Stripe's PaymentIntents API. Create:
//   POST {base_url}/v1/payment_intents
//   Authorization: Bearer <api_key>; Idempotency-Key: <key>; Stripe-Version: kStripeApiVersion
//   Content-Type: application/x-www-form-urlencoded; Accept: application/json
//   amount=<amount>&currency=<lower case>[&description=..][&receipt_email=..]
//   [&metadata[customer_name]=..][&metadata[<key>]=<value>...]&automatic_payment_methods[enabled]=true
// Read: GET {base_url}/v1/payment_intents/{id} with the same Authorization and Stripe-Version.
// Cancel: POST {base_url}/v1/payment_intents/{id}/cancel, form cancellation_reason=abandoned;
// Stripe allows it from requires_payment_method, requires_confirmation, requires_action,
// requires_capture and (rarely) processing, and answers 400 payment_intent_unexpected_state
// otherwise (mapped to FailedPrecondition).
// The answer is a PaymentIntent object (JSON); errors are {"error": {"type", "code", "message",
// "param"}}, mapped as at the top of this file.
// Sources: docs.stripe.com/api/payment_intents/create,
// docs.stripe.com/api/payment_intents/retrieve, docs.stripe.com/api/payment_intents/cancel,
// docs.stripe.com/error-codes, docs.stripe.com/api/errors,
// docs.stripe.com/api/idempotent_requests, docs.stripe.com/error-low-level.

// The pinned API version: the first version of Stripe's "Dahlia" release. Within a release
// later versions only add; a new release (the next name) may break, so moving this is a
// deliberate change, tested against the fake and Stripe's test mode.
inline constexpr char kStripeApiVersion[] = "2026-03-25.dahlia";

struct StripeGatewayOptions {
  // A secret key, "sk_test_..." or "sk_live_...", or a restricted key ("rk_test_...",
  // "rk_live_...") allowed to write PaymentIntents. Never logged.
  std::string api_key;
  std::string base_url = "https://api.stripe.com";  // http(s); tests point it at a fake
  absl::Duration timeout = absl::Seconds(30);       // whole request, connecting included
  std::string ca_file;  // PEM bundle to trust instead of the system store
  // False (production): connect only to public addresses, and ignore proxies from the
  // environment (net/http_client.h). Tests set it to reach the fake on 127.0.0.1.
  bool allow_private_addresses = false;
};

class StripeGateway final : public PaymentGateway {
 public:
  // InvalidArgument for a key that is missing or not a Stripe secret or restricted key, a base
  // URL that is not http(s) or a non-positive timeout. The message never contains the key.
  static Result<std::unique_ptr<StripeGateway>> Create(StripeGatewayOptions options);

  std::string_view name() const override { return "stripe"; }
  Result<PaymentIntent> CreateIntent(const IntentRequest& request) override;
  Result<PaymentIntent> GetIntent(std::string_view id) override;
  Result<PaymentIntent> CancelIntent(std::string_view id) override;

 private:
  explicit StripeGateway(StripeGatewayOptions options);
  net::HttpHeaders Headers() const;
  Status ErrorStatus(const net::HttpResponse& response) const;
  Result<PaymentIntent> ParseAnswer(const Result<net::HttpResponse>& response) const;

  const StripeGatewayOptions options_;
  net::HttpClient http_;
};

// The form body StripeGateway sends for `request` (which must be valid), in the order shown
// above. Exposed for tests and for LocalGateway, which compares requests the way Stripe does.
std::string StripeCreateIntentForm(const IntentRequest& request);

// ---------------------------------------------------------------------------------------------
// In-memory intents for development: ids "pi_local_" + 24 random letters and digits, client
// secrets id + "_secret_" + 24 more, status "requires_payment_method", from a CSPRNG
// (libsodium). Idempotency as at Stripe: the same key and the same request return the same
// intent; the same key with another request is Aborted. Keys and intents are kept for the life
// of the process (Stripe forgets keys after 24 hours).
class LocalGateway final : public PaymentGateway {
 public:
  // Internal if the random generator cannot be initialised.
  static Result<std::unique_ptr<LocalGateway>> Create();

  std::string_view name() const override { return "local"; }
  Result<PaymentIntent> CreateIntent(const IntentRequest& request) override;
  Result<PaymentIntent> GetIntent(std::string_view id) override;
  // As at Stripe: any status but succeeded and canceled becomes canceled.
  Result<PaymentIntent> CancelIntent(std::string_view id) override;
  // Development and tests: moves an intent to `status`, as the customer paying it would.
  // NotFound for an unknown id.
  Status SetIntentStatus(std::string_view id, std::string_view status);

 private:
  LocalGateway() = default;

  struct Keyed {
    std::string form;  // StripeCreateIntentForm of the first request
    std::string intent_id;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, PaymentIntent> intents_ ABSL_GUARDED_BY(mu_);  // by id
  absl::flat_hash_map<std::string, Keyed> keys_ ABSL_GUARDED_BY(mu_);  // by idempotency key
};

}  // namespace herald::apps::tickets
