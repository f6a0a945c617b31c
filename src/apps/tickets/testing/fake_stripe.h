#pragma once
// FakeStripe: Stripe's PaymentIntents API (v1) on 127.0.0.1, for tests of StripeGateway over
// real loopback HTTP. It reproduces Stripe's documented wire format for two routes:
//
//   POST /v1/payment_intents        create (application/x-www-form-urlencoded body)
//   GET  /v1/payment_intents/{id}   retrieve
//   POST /v1/payment_intents/{id}/cancel  cancel (optional cancellation_reason)
//
// - Authentication: "Authorization: Bearer <api key>" (or Basic with the key as user name) must
//   carry the expected key; otherwise 401 with Stripe's error JSON (type invalid_request_error,
//   the key masked but its last 4 characters) (docs.stripe.com/api/authentication).
// - Create validates like Stripe (docs.stripe.com/api/payment_intents/create, error codes from
//   docs.stripe.com/error-codes): a missing amount or currency is 400 parameter_missing; an
//   amount that is not an integer, or is below 1, is 400 parameter_invalid_integer; above
//   99,999,999 is 400 amount_too_large; a currency that is not 3 letters is 400 "Invalid
//   currency" with param currency; a parameter outside the ones StripeGateway may send (amount,
//   currency, description, receipt_email, metadata[*], automatic_payment_methods[enabled]) is
//   400 parameter_unknown. Every error names its param.
// - Idempotency (docs.stripe.com/api/idempotent_requests, docs.stripe.com/error-low-level):
//   the response of a create that passed validation is saved under its Idempotency-Key; the
//   same key with the same parameters (compared decoded, in any order) replays it with
//   "Idempotent-Replayed: true"; the same key with other parameters is 400 of type
//   idempotency_error (what Stripe's SDKs expect: a 400 idempotency_error). Requests refused
//   before execution (authentication, validation) are not saved, as at Stripe.
// - Answers are full PaymentIntent objects (docs.stripe.com/api/payment_intents/object):
//   id "pi_" + 24 letters and digits, "object": "payment_intent", amount, currency (lower
//   case), status "requires_payment_method", client_secret id + "_secret_" + 25 more,
//   metadata, created, livemode false, automatic_payment_methods, and the other fields null.
// - Cancel (docs.stripe.com/api/payment_intents/cancel) sets status "canceled", canceled_at
//   and cancellation_reason; from succeeded or canceled it is 400 invalid_request_error
//   payment_intent_unexpected_state (docs.stripe.com/error-codes). A cancellation_reason other
//   than duplicate, fraudulent, requested_by_customer or abandoned is 400 with param
//   cancellation_reason; any other parameter is 400 parameter_unknown.
// - An unknown id is 404 resource_missing "No such payment_intent: '<id>'" (param intent); any
//   other route is 404 "Unrecognized request URL".
// - Every answer has a Request-Id header ("req_...").
//
// Scripted answers queued on server() (Enqueue: a 429, a 500, a dropped connection) take
// precedence over the fake, one request each; server().requests() records everything.
// Test-only, header-only. Thread-safe.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/status.h"
#include "net/http_client.h"
#include "net/testing/fake_http_server.h"

namespace herald::apps::tickets::testing {

class FakeStripe {
 public:
  using FakeRequest = net::testing::FakeRequest;
  using FakeResponse = net::testing::FakeResponse;

  explicit FakeStripe(std::string api_key = "sk_test_FakeStripeKey0000000000wxyz")
      : api_key_(std::move(api_key)) {
    server_.SetHandler([this](const FakeRequest& request) { return Handle(request); });
  }
  FakeStripe(const FakeStripe&) = delete;
  FakeStripe& operator=(const FakeStripe&) = delete;

  const std::string& api_key() const { return api_key_; }
  std::string url() const { return server_.url(); }
  // For scripted answers (Enqueue) and the recorded requests.
  net::testing::FakeHttpServer& server() { return server_; }
  std::vector<FakeRequest> requests() const { return server_.requests(); }
  size_t request_count() const { return server_.request_count(); }

  // PaymentIntents created so far.
  size_t intent_count() const {
    absl::MutexLock l(&mu_);
    return intents_.size();
  }
  // The stored PaymentIntent object, or nullopt.
  std::optional<boost::json::object> intent(const std::string& id) const {
    absl::MutexLock l(&mu_);
    auto it = intents_.find(id);
    if (it == intents_.end()) return std::nullopt;
    return it->second;
  }
  // Moves an intent to `status` (as the customer paying it would); false for an unknown id.
  bool SetIntentStatus(const std::string& id, std::string status) {
    absl::MutexLock l(&mu_);
    auto it = intents_.find(id);
    if (it == intents_.end()) return false;
    it->second["status"] = status;
    return true;
  }

 private:
  using Params = std::vector<std::pair<std::string, std::string>>;

  static bool IsAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  std::string RandomAlnum(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out(n, '\0');
    for (char& c : out) c = kAlphabet[absl::Uniform<size_t>(bitgen_, 0, sizeof(kAlphabet) - 1)];
    return out;
  }

  FakeResponse Json(int status, const boost::json::object& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    FakeResponse r;
    r.status = status;
    r.body = boost::json::serialize(body);
    r.headers = {{"Content-Type", "application/json"}, {"Request-Id", "req_" + RandomAlnum(14)}};
    return r;
  }

  // Stripe's error object (docs.stripe.com/api/errors). Empty code or param: left out.
  FakeResponse Error(int status, std::string_view type, std::string_view code,
                     std::string_view message, std::string_view param)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    boost::json::object error;
    if (!code.empty()) {
      error["code"] = code;
      std::string slug(code);
      std::replace(slug.begin(), slug.end(), '_', '-');
      error["doc_url"] = "https://stripe.com/docs/error-codes/" + slug;
    }
    error["message"] = message;
    if (!param.empty()) error["param"] = param;
    error["type"] = type;
    boost::json::object body;
    body["error"] = std::move(error);
    return Json(status, body);
  }

  FakeResponse Invalid(std::string_view code, std::string_view message, std::string_view param)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return Error(400, "invalid_request_error", code, message, param);
  }

  // The API key of the request, from Bearer or Basic authentication ("" if none).
  static std::string RequestKey(const FakeRequest& request) {
    const std::string auth = request.Header("authorization");
    if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
    if (auth.rfind("Basic ", 0) == 0) {
      std::string decoded = DecodeBase64(auth.substr(6));
      return decoded.substr(0, decoded.find(':'));
    }
    return "";
  }

  static std::string DecodeBase64(std::string_view in) {
    auto value = [](char c) -> int {
      if (c >= 'A' && c <= 'Z') return c - 'A';
      if (c >= 'a' && c <= 'z') return c - 'a' + 26;
      if (c >= '0' && c <= '9') return c - '0' + 52;
      if (c == '+') return 62;
      if (c == '/') return 63;
      return -1;
    };
    std::string out;
    uint32_t bits = 0;
    int count = 0;
    for (char c : in) {
      const int v = value(c);
      if (v < 0) break;
      bits = (bits << 6) | static_cast<uint32_t>(v);
      count += 6;
      if (count >= 8) {
        count -= 8;
        out.push_back(static_cast<char>((bits >> count) & 0xff));
      }
    }
    return out;
  }

  FakeResponse Handle(const FakeRequest& request) {
    absl::MutexLock l(&mu_);
    const std::string key = RequestKey(request);
    if (key.empty()) {
      return Unauthorized(
          "You did not provide an API key. You need to provide your API key in the Authorization "
          "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
          "https://stripe.com/docs/api#authentication for details, or we can help at "
          "https://support.stripe.com/.");
    }
    if (key != api_key_) {
      // Stripe masks all but the prefix and the last 4 characters.
      const size_t prefix = std::min(key.find('_', 3) + 1, key.size());
      const size_t tail = key.size() > prefix + 4 ? 4 : 0;
      std::string masked = key.substr(0, prefix) + std::string(key.size() - prefix - tail, '*') +
                           key.substr(key.size() - tail);
      return Unauthorized("Invalid API Key provided: " + masked);
    }
    const std::string path = request.Path();
    constexpr std::string_view kIntents = "/v1/payment_intents";
    if (request.method == "POST" && path == kIntents) return Create(request);
    if (request.method == "GET" && path.size() > kIntents.size() + 1 &&
        path.compare(0, kIntents.size() + 1, "/v1/payment_intents/") == 0 &&
        path.find('/', kIntents.size() + 1) == std::string::npos) {
      return Retrieve(path.substr(kIntents.size() + 1));
    }
    constexpr std::string_view kCancel = "/cancel";
    if (request.method == "POST" && path.size() > kIntents.size() + 1 + kCancel.size() &&
        path.compare(0, kIntents.size() + 1, "/v1/payment_intents/") == 0 &&
        path.compare(path.size() - kCancel.size(), kCancel.size(), kCancel) == 0) {
      const std::string id =
          path.substr(kIntents.size() + 1, path.size() - kIntents.size() - 1 - kCancel.size());
      if (id.find('/') == std::string::npos) return Cancel(id, request);
    }
    return Error(404, "invalid_request_error", "",
                 "Unrecognized request URL (" + request.method + ": " + path +
                     "). Please see https://stripe.com/docs or we can help at "
                     "https://support.stripe.com/.",
                 "");
  }

  FakeResponse Unauthorized(std::string_view message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    FakeResponse r = Invalid("", message, "");
    r.status = 401;
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"Stripe\"");
    return r;
  }

  FakeResponse Create(const FakeRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Result<Params> decoded = net::FormDecode(request.body);
    if (!decoded.ok()) return Invalid("", "Invalid request body.", "");
    Params params = std::move(*decoded);

    const std::string idempotency_key = request.Header("idempotency-key");
    Params sorted = params;
    std::sort(sorted.begin(), sorted.end());
    if (!idempotency_key.empty()) {
      auto it = saved_.find(idempotency_key);
      if (it != saved_.end()) {
        if (it->second.params != sorted) {
          return Error(400, "idempotency_error", "",
                       "Keys for idempotent requests can only be used with the same parameters "
                       "they were first used with. Try using a key other than '" +
                           idempotency_key + "' if you meant to execute a different request.",
                       "");
        }
        FakeResponse replay = it->second.response;
        replay.headers.emplace_back("Idempotent-Replayed", "true");
        return replay;
      }
    }

    std::map<std::string, std::string> fields;
    boost::json::object metadata;
    for (const auto& [name, value] : params) {
      if (name.rfind("metadata[", 0) == 0 && name.size() > 10 && name.back() == ']') {
        metadata[name.substr(9, name.size() - 10)] = value;
      } else if (name == "amount" || name == "currency" || name == "description" ||
                 name == "receipt_email" || name == "automatic_payment_methods[enabled]") {
        fields[name] = value;
      } else {
        return Invalid("parameter_unknown", "Received unknown parameter: " + name, name);
      }
    }

    auto amount_it = fields.find("amount");
    if (amount_it == fields.end()) {
      return Invalid("parameter_missing", "Missing required param: amount.", "amount");
    }
    const std::string& amount_text = amount_it->second;
    const bool digits = !amount_text.empty() && amount_text.size() <= 18 &&
                        std::all_of(amount_text.begin() + (amount_text[0] == '-' ? 1 : 0),
                                    amount_text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || amount_text == "-") {
      return Invalid("parameter_invalid_integer", "Invalid integer: " + amount_text, "amount");
    }
    const int64_t amount = std::stoll(amount_text);
    if (amount < 1) {
      return Invalid("parameter_invalid_integer", "This value must be greater than or equal to 1.",
                     "amount");
    }
    if (amount > 99'999'999) {
      return Invalid("amount_too_large", "Amount must be no more than 99999999.", "amount");
    }

    auto currency_it = fields.find("currency");
    if (currency_it == fields.end()) {
      return Invalid("parameter_missing", "Missing required param: currency.", "currency");
    }
    std::string currency = currency_it->second;
    for (char& c : currency) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (currency.size() != 3 || !std::all_of(currency.begin(), currency.end(),
                                             [](char c) { return c >= 'a' && c <= 'z'; })) {
      return Invalid("",
                     "Invalid currency: " + currency +
                         ". Stripe currently supports these currencies: usd, eur, gbp, ...",
                     "currency");
    }
    auto apm = fields.find("automatic_payment_methods[enabled]");
    if (apm != fields.end() && apm->second != "true" && apm->second != "false") {
      return Invalid("parameter_invalid_boolean", "Invalid boolean: " + apm->second,
                     "automatic_payment_methods[enabled]");
    }

    boost::json::object intent = NewIntent(amount, currency, fields, std::move(metadata));
    const std::string id(intent["id"].as_string());
    FakeResponse response = Json(200, intent);
    intents_.emplace(id, std::move(intent));
    if (!idempotency_key.empty())
      saved_.emplace(idempotency_key, Saved{std::move(sorted), response});
    return response;
  }

  boost::json::object NewIntent(int64_t amount, const std::string& currency,
                                const std::map<std::string, std::string>& fields,
                                boost::json::object metadata) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto field = [&](const char* name) -> boost::json::value {
      auto it = fields.find(name);
      if (it == fields.end()) return nullptr;
      return boost::json::value(it->second);
    };
    const std::string id = "pi_" + RandomAlnum(24);
    boost::json::object o;
    o["id"] = id;
    o["object"] = "payment_intent";
    o["amount"] = amount;
    o["amount_capturable"] = 0;
    o["amount_received"] = 0;
    o["application"] = nullptr;
    o["application_fee_amount"] = nullptr;
    auto apm = fields.find("automatic_payment_methods[enabled]");
    if (apm != fields.end() && apm->second == "true") {
      o["automatic_payment_methods"] = {{"allow_redirects", "always"}, {"enabled", true}};
    } else {
      o["automatic_payment_methods"] = nullptr;
    }
    o["canceled_at"] = nullptr;
    o["cancellation_reason"] = nullptr;
    o["capture_method"] = "automatic_async";
    o["client_secret"] = id + "_secret_" + RandomAlnum(25);
    o["confirmation_method"] = "automatic";
    o["created"] = absl::ToUnixSeconds(absl::Now());
    o["currency"] = currency;
    o["customer"] = nullptr;
    o["description"] = field("description");
    o["last_payment_error"] = nullptr;
    o["latest_charge"] = nullptr;
    o["livemode"] = false;
    o["metadata"] = std::move(metadata);
    o["next_action"] = nullptr;
    o["on_behalf_of"] = nullptr;
    o["payment_method"] = nullptr;
    o["payment_method_options"] = boost::json::object();
    o["payment_method_types"] = boost::json::array{"card"};
    o["processing"] = nullptr;
    o["receipt_email"] = field("receipt_email");
    o["review"] = nullptr;
    o["setup_future_usage"] = nullptr;
    o["shipping"] = nullptr;
    o["source"] = nullptr;
    o["statement_descriptor"] = nullptr;
    o["statement_descriptor_suffix"] = nullptr;
    o["status"] = "requires_payment_method";
    o["transfer_data"] = nullptr;
    o["transfer_group"] = nullptr;
    return o;
  }

  FakeResponse Retrieve(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = intents_.find(id);
    if (it == intents_.end()) {
      return Error(404, "invalid_request_error", "resource_missing",
                   "No such payment_intent: '" + id + "'", "intent");
    }
    return Json(200, it->second);
  }

  FakeResponse Cancel(const std::string& id, const FakeRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = intents_.find(id);
    if (it == intents_.end()) {
      return Error(404, "invalid_request_error", "resource_missing",
                   "No such payment_intent: '" + id + "'", "intent");
    }
    Result<Params> decoded = net::FormDecode(request.body);
    if (!decoded.ok()) return Invalid("", "Invalid request body.", "");
    std::string reason;
    for (const auto& [k, v] : *decoded) {
      if (k != "cancellation_reason") {
        return Invalid("parameter_unknown", "Received unknown parameter: " + k, k);
      }
      reason = v;
    }
    if (!reason.empty() && reason != "duplicate" && reason != "fraudulent" &&
        reason != "requested_by_customer" && reason != "abandoned") {
      return Invalid("",
                     "Invalid cancellation_reason: must be one of duplicate, fraudulent, "
                     "requested_by_customer, or abandoned",
                     "cancellation_reason");
    }
    boost::json::object& intent = it->second;
    const std::string status(intent["status"].as_string());
    if (status == "succeeded" || status == "canceled") {
      return Error(400, "invalid_request_error", "payment_intent_unexpected_state",
                   "You cannot cancel this PaymentIntent because it has a status of " + status +
                       ". Only a PaymentIntent with one of the following statuses may be "
                       "canceled: requires_payment_method, requires_capture, "
                       "requires_confirmation, requires_action, processing.",
                   "");
    }
    intent["status"] = "canceled";
    intent["canceled_at"] = absl::ToUnixSeconds(absl::Now());
    intent["cancellation_reason"] =
        reason.empty() ? boost::json::value(nullptr) : boost::json::value(reason);
    return Json(200, intent);
  }

  struct Saved {
    Params params;  // sorted
    FakeResponse response;
  };

  const std::string api_key_;
  mutable absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, boost::json::object> intents_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Saved> saved_ ABSL_GUARDED_BY(mu_);  // by idempotency key
  // Last: destroyed first, so its thread stops before the state above goes.
  net::testing::FakeHttpServer server_;
};

}  // namespace herald::apps::tickets::testing
