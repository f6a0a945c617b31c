#include "apps/tickets/payment_gateway.h"

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/string.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::apps::tickets {
namespace {

namespace json = boost::json;

constexpr char kCustomerNameKey[] = "customer_name";
// Stripe's text kept in an error message: enough for a sentence, bounded for logs.
constexpr size_t kMaxStripeText = 300;
constexpr size_t kMaxEmailLength = 254;  // RFC 5321's limit on a forward path, less "<>"

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("payment request: ", field, " ", problem));
}

// Valid UTF-8 of at most `max_chars` code points (0: no limit).
Status CheckText(std::string_view field, std::string_view value, size_t max_chars) {
  size_t chars = 0;
  if (!core::CountUtf8(value, chars)) return Invalid(field, "is not valid UTF-8");
  if (max_chars > 0 && chars > max_chars) {
    return Invalid(field, StrCat("is longer than ", max_chars, " characters"));
  }
  return absl::OkStatus();
}

// A plausible address: Stripe checks receipt_email itself (email_invalid); this only refuses
// what cannot be one, before a request is spent on it.
bool LooksLikeEmail(std::string_view s) {
  if (s.empty() || s.size() > kMaxEmailLength) return false;
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;  // whitespace and control characters
  }
  return true;
}

Status CheckMetadataEntry(std::string_view key, std::string_view value) {
  if (key.empty()) return Invalid("metadata", "has an empty key");
  const std::string field = StrCat("metadata key '", core::ToValidUtf8(key.substr(0, 64)), "'");
  HERALD_RETURN_IF_ERROR(CheckText(field, key, kMaxMetadataKeyChars));
  // The key is sent as metadata[key]: a bracket would nest it (Stripe's form syntax).
  if (key.find_first_of("[]") != std::string_view::npos) {
    return Invalid(field, "contains '[' or ']'");
  }
  // On create, Stripe takes an empty value as "no such key": the entry would vanish.
  if (value.empty()) return Invalid(StrCat("metadata value of '", key, "'"), "is empty");
  return CheckText(StrCat("metadata value of '", key, "'"), value, kMaxMetadataValueChars);
}

// "pi_" then letters, digits and '_': safe as a URL path segment.
bool IsValidIntentId(std::string_view id) {
  if (id.size() <= 3 || id.size() > 255 || id.substr(0, 3) != "pi_") return false;
  for (char c : id) {
    if (!IsAsciiAlnum(c) && c != '_') return false;
  }
  return true;
}

Status CheckIntentId(std::string_view id) {
  if (IsValidIntentId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "payment intent id: expected \"pi_\" followed by letters, digits and '_'");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A string member, or nullopt when absent or of another type.
std::optional<std::string> StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  const json::string* s = v != nullptr ? v->if_string() : nullptr;
  if (s == nullptr) return std::nullopt;
  return std::string(s->data(), s->size());
}

std::optional<int64_t> IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

std::optional<json::object> ParseObject(std::string_view body) {
  std::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// Never quotes the body: a PaymentIntent carries its client secret.
Result<PaymentIntent> ParsePaymentIntent(std::string_view body, std::string gateway) {
  std::optional<json::object> o = ParseObject(body);
  auto bad = [](std::string_view what) {
    return absl::InternalError(StrCat("Stripe's answer is not a PaymentIntent: ", what));
  };
  if (!o) return bad("not a JSON object");
  if (StringField(*o, "object") != "payment_intent") return bad("\"object\" is not payment_intent");
  PaymentIntent intent;
  std::optional<std::string> id = StringField(*o, "id");
  if (!id || !IsValidIntentId(*id)) return bad("no valid \"id\"");
  intent.id = std::move(*id);
  std::optional<std::string> secret = StringField(*o, "client_secret");
  if (!secret || secret->empty()) return bad("no \"client_secret\"");
  intent.client_secret = std::move(*secret);
  std::optional<std::string> status = StringField(*o, "status");
  if (!status || status->empty()) return bad("no \"status\"");
  intent.status = std::move(*status);
  std::optional<int64_t> amount = IntField(*o, "amount");
  if (!amount) return bad("no integer \"amount\"");
  intent.amount = *amount;
  std::optional<std::string> currency = StringField(*o, "currency");
  if (!currency || currency->empty()) return bad("no \"currency\"");
  intent.currency = std::move(*currency);
  intent.gateway = std::move(gateway);
  return intent;
}

std::string Clip(std::string_view s) { return core::ToValidUtf8(s.substr(0, kMaxStripeText)); }

// Letters and digits, from libsodium's CSPRNG (sodium_init must have succeeded).
std::string RandomAlnum(size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(n, '\0');
  for (char& c : out) c = kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)];
  return out;
}

net::HttpClientOptions ClientOptions(const StripeGatewayOptions& options) {
  net::HttpClientOptions http;
  http.ca_file = options.ca_file;
  http.allow_private_addresses = options.allow_private_addresses;
  return http;
}

}  // namespace

Status ValidateIntentRequest(const IntentRequest& r) {
  if (r.amount < 1 || r.amount > kMaxAmount) {
    return Invalid("amount", StrCat("must be 1 to ", kMaxAmount, " minor units"));
  }
  if (r.currency.size() != 3 || !IsAsciiLetter(r.currency[0]) || !IsAsciiLetter(r.currency[1]) ||
      !IsAsciiLetter(r.currency[2])) {
    return Invalid("currency", "must be an ISO 4217 code of 3 letters");
  }
  HERALD_RETURN_IF_ERROR(CheckText("description", r.description, 0));
  if (!r.customer_email.empty() && !LooksLikeEmail(r.customer_email)) {
    return Invalid("customer_email", "is not an email address");
  }
  HERALD_RETURN_IF_ERROR(CheckText("customer_name", r.customer_name, kMaxMetadataValueChars));
  const size_t keys = r.metadata.size() + (r.customer_name.empty() ? 0 : 1);
  if (keys > kMaxMetadataKeys) {
    return Invalid("metadata",
                   StrCat("has more than ", kMaxMetadataKeys, " keys (customer_name included)"));
  }
  absl::flat_hash_set<std::string> seen;
  for (const auto& [key, value] : r.metadata) {
    HERALD_RETURN_IF_ERROR(CheckMetadataEntry(key, value));
    if (!seen.insert(key).second) return Invalid(StrCat("metadata key '", key, "'"), "is repeated");
    if (!r.customer_name.empty() && key == kCustomerNameKey) {
      return Invalid("metadata key 'customer_name'", "is also set by customer_name");
    }
  }
  if (r.idempotency_key.empty() || r.idempotency_key.size() > kMaxIdempotencyKeyLength) {
    return Invalid("idempotency_key",
                   StrCat("must be 1 to ", kMaxIdempotencyKeyLength, " characters"));
  }
  for (char c : r.idempotency_key) {
    if (c <= 0x20 || c >= 0x7f) {
      return Invalid("idempotency_key", "must be visible ASCII characters (no spaces)");
    }
  }
  return absl::OkStatus();
}

std::string StripeCreateIntentForm(const IntentRequest& r) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(r.metadata.size() + 6);
  fields.emplace_back("amount", std::to_string(r.amount));
  fields.emplace_back("currency", Lower(r.currency));
  if (!r.description.empty()) fields.emplace_back("description", r.description);
  if (!r.customer_email.empty()) fields.emplace_back("receipt_email", r.customer_email);
  if (!r.customer_name.empty()) {
    fields.emplace_back(StrCat("metadata[", kCustomerNameKey, "]"), r.customer_name);
  }
  for (const auto& [key, value] : r.metadata) {
    fields.emplace_back(StrCat("metadata[", key, "]"), value);
  }
  // Explicit although it is the default since 2023-08-16: the intent must accept the payment
  // methods enabled in the Dashboard whatever the account's settings.
  fields.emplace_back("automatic_payment_methods[enabled]", "true");
  return net::FormEncode(fields);
}

// --- StripeGateway ----------------------------------------------------------------------------

Result<std::unique_ptr<StripeGateway>> StripeGateway::Create(StripeGatewayOptions options) {
  const std::string_view key = options.api_key;
  bool known_prefix = false;
  for (std::string_view prefix : {"sk_test_", "sk_live_", "rk_test_", "rk_live_"}) {
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) known_prefix = true;
  }
  bool clean = true;
  for (char c : key) clean = clean && (IsAsciiAlnum(c) || c == '_');
  if (!known_prefix || !clean) {
    // Never the key itself, even a wrong one: it may be a real secret pasted in the wrong place.
    return absl::InvalidArgumentError(
        "stripe: api_key must be a secret key (sk_test_..., sk_live_...) or a restricted key "
        "(rk_test_..., rk_live_...)");
  }
  std::string& url = options.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError("stripe: base_url must be an http:// or https:// URL");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stripe: timeout must be positive");
  }
  return std::unique_ptr<StripeGateway>(new StripeGateway(std::move(options)));
}

StripeGateway::StripeGateway(StripeGatewayOptions options)
    : options_(std::move(options)), http_(ClientOptions(options_)) {}

net::HttpHeaders StripeGateway::Headers() const {
  return {{"Accept", "application/json"},
          {"Authorization", StrCat("Bearer ", options_.api_key)},
          {"Stripe-Version", kStripeApiVersion}};
}

Result<PaymentIntent> StripeGateway::CreateIntent(const IntentRequest& request) {
  HERALD_RETURN_IF_ERROR(ValidateIntentRequest(request));
  net::HttpRequest http;
  http.url = StrCat(options_.base_url, "/v1/payment_intents");
  http.content_type = "application/x-www-form-urlencoded";
  http.headers = Headers();
  http.headers.emplace_back("Idempotency-Key", request.idempotency_key);
  http.body = StripeCreateIntentForm(request);
  http.timeout = options_.timeout;
  return ParseAnswer(http_.Post(http));
}

Result<PaymentIntent> StripeGateway::GetIntent(std::string_view id) {
  HERALD_RETURN_IF_ERROR(CheckIntentId(id));
  net::HttpRequest http;
  http.url = StrCat(options_.base_url, "/v1/payment_intents/", id);
  http.headers = Headers();
  http.timeout = options_.timeout;
  return ParseAnswer(http_.Get(http));
}

Result<PaymentIntent> StripeGateway::CancelIntent(std::string_view id) {
  HERALD_RETURN_IF_ERROR(CheckIntentId(id));
  net::HttpRequest http;
  http.url = StrCat(options_.base_url, "/v1/payment_intents/", id, "/cancel");
  http.content_type = "application/x-www-form-urlencoded";
  http.headers = Headers();
  http.body = "cancellation_reason=abandoned";
  http.timeout = options_.timeout;
  return ParseAnswer(http_.Post(http));
}

Result<PaymentIntent> StripeGateway::ParseAnswer(const Result<net::HttpResponse>& response) const {
  if (!response.ok()) {
    // Timeouts included: for the caller both mean "try again later, with the same key".
    return absl::UnavailableError(
        StrCat("Stripe could not be reached: ", response.status().message()));
  }
  if (response->status >= 200 && response->status < 300) {
    return ParsePaymentIntent(response->body, "stripe");
  }
  return ErrorStatus(*response);
}

// Sources: docs.stripe.com/api/errors (statuses, the error object and its types);
// docs.stripe.com/error-low-level (409, 429, 5xx and idempotency); Stripe's SDKs, which take a
// 400 (or 404) of type idempotency_error as an IdempotencyError (stripe-python
// _api_requestor.py, specific_api_error).
Status StripeGateway::ErrorStatus(const net::HttpResponse& r) const {
  // 401 and 403 messages quote the key, partly masked: none of them is passed on.
  if (r.status == 401) return absl::PermissionDeniedError("the Stripe API key was refused");
  if (r.status == 403) {
    return absl::PermissionDeniedError("the Stripe API key may not make this request (HTTP 403)");
  }

  std::string type, code, message, param;
  if (std::optional<json::object> body = ParseObject(r.body)) {
    const json::value* e = body->if_contains("error");
    if (e != nullptr && e->is_object()) {
      const json::object& error = e->get_object();
      type = StringField(error, "type").value_or("");
      code = Clip(StringField(error, "code").value_or(""));
      message = Clip(StringField(error, "message").value_or(""));
      param = Clip(StringField(error, "param").value_or(""));
    }
  }
  // Belt and braces: no Stripe message is known to quote the key in full, but none may.
  for (size_t at;
       !options_.api_key.empty() && (at = message.find(options_.api_key)) != std::string::npos;) {
    message.replace(at, options_.api_key.size(), "[api key]");
  }
  std::string detail = message.empty() ? "no error details" : message;
  if (!param.empty()) detail = StrCat(detail, " (param: ", param, ")");
  if (!code.empty()) detail = StrCat(detail, " [", code, "]");
  const std::string stripe = StrCat("Stripe (HTTP ", r.status, "): ");

  if (r.status == 409) {
    return absl::AbortedError(
        StrCat(stripe, "another request with the same idempotency key is in progress: ", detail));
  }
  if (type == "idempotency_error") {
    return absl::AbortedError(
        StrCat(stripe, "the idempotency key was already used with a different request: ", detail));
  }
  if (code == "payment_intent_unexpected_state") {
    return absl::FailedPreconditionError(StrCat(stripe, detail));
  }
  if (r.status == 402) {
    return absl::FailedPreconditionError(StrCat(stripe, "the payment failed: ", detail));
  }
  if (r.status == 404) return absl::NotFoundError(StrCat(stripe, detail));
  if (r.status == 429) return absl::UnavailableError(StrCat(stripe, "rate-limited: ", detail));
  if (r.status == 424 || r.status >= 500) {
    return absl::UnavailableError(StrCat(stripe, "Stripe failed: ", detail));
  }
  if (r.status >= 400) return absl::InvalidArgumentError(StrCat(stripe, "refused: ", detail));
  return absl::InternalError(StrCat("unexpected HTTP status ", r.status, " from Stripe"));
}

// --- LocalGateway -----------------------------------------------------------------------------

Result<std::unique_ptr<LocalGateway>> LocalGateway::Create() {
  // Thread-safe and idempotent: 0 the first time, 1 afterwards, -1 on failure.
  if (sodium_init() < 0) return absl::InternalError("local payments: libsodium failed to start");
  return std::unique_ptr<LocalGateway>(new LocalGateway());
}

Result<PaymentIntent> LocalGateway::CreateIntent(const IntentRequest& request) {
  HERALD_RETURN_IF_ERROR(ValidateIntentRequest(request));
  // The form Stripe would receive: two requests are "the same" exactly when Stripe would say so.
  std::string form = StripeCreateIntentForm(request);
  absl::MutexLock l(&mu_);
  if (auto it = keys_.find(request.idempotency_key); it != keys_.end()) {
    if (it->second.form != form) {
      return absl::AbortedError(
          "local payments: the idempotency key was already used with a different request");
    }
    return intents_.at(it->second.intent_id);
  }
  PaymentIntent intent;
  do {
    intent.id = StrCat("pi_local_", RandomAlnum(24));
  } while (intents_.contains(intent.id));
  intent.client_secret = StrCat(intent.id, "_secret_", RandomAlnum(24));
  intent.status = "requires_payment_method";
  intent.amount = request.amount;
  intent.currency = Lower(request.currency);
  intent.gateway = "local";
  keys_.emplace(request.idempotency_key, Keyed{std::move(form), intent.id});
  intents_.emplace(intent.id, intent);
  return intent;
}

Result<PaymentIntent> LocalGateway::GetIntent(std::string_view id) {
  HERALD_RETURN_IF_ERROR(CheckIntentId(id));
  absl::MutexLock l(&mu_);
  auto it = intents_.find(ToAbsl(id));
  if (it == intents_.end()) return absl::NotFoundError(StrCat("no payment intent ", id));
  return it->second;
}

Result<PaymentIntent> LocalGateway::CancelIntent(std::string_view id) {
  HERALD_RETURN_IF_ERROR(CheckIntentId(id));
  absl::MutexLock l(&mu_);
  auto it = intents_.find(ToAbsl(id));
  if (it == intents_.end()) return absl::NotFoundError(StrCat("no payment intent ", id));
  if (it->second.status == "succeeded" || it->second.status == "canceled") {
    return absl::FailedPreconditionError(
        StrCat("local payments: payment intent ", id, " is ", it->second.status));
  }
  it->second.status = "canceled";
  return it->second;
}

Status LocalGateway::SetIntentStatus(std::string_view id, std::string_view status) {
  absl::MutexLock l(&mu_);
  auto it = intents_.find(ToAbsl(id));
  if (it == intents_.end()) return absl::NotFoundError(StrCat("no payment intent ", id));
  it->second.status = std::string(status);
  return absl::OkStatus();
}

}  // namespace herald::apps::tickets
