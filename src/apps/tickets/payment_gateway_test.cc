#include "apps/tickets/payment_gateway.h"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "apps/tickets/testing/fake_stripe.h"
#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "net/testing/fake_http_server.h"

namespace herald::apps::tickets {
namespace {

using net::testing::FakeRequest;
using net::testing::FakeResponse;
using testing::FakeStripe;

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

IntentRequest Purchase(std::string key = "purchase-42") {
  IntentRequest r;
  r.amount = 1500;
  r.currency = "EUR";
  r.description = "2 tickets - Jazz night";
  r.customer_email = "ana@example.com";
  r.customer_name = "Ana García";
  r.metadata = {{"order_id", "ord_42"}, {"event_id", "evt_7"}};
  r.idempotency_key = std::move(key);
  return r;
}

bool IsAlnum(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

FakeResponse StripeError(int status, std::string type, std::string code, std::string message,
                         std::string param = "") {
  boost::json::object error{{"type", type}, {"message", message}};
  if (!code.empty()) error["code"] = code;
  if (!param.empty()) error["param"] = param;
  FakeResponse r;
  r.status = status;
  r.body = boost::json::serialize(boost::json::object{{"error", error}});
  return r;
}

std::unique_ptr<StripeGateway> StripeFor(const FakeStripe& fake, std::string key = "",
                                         absl::Duration timeout = absl::Seconds(10)) {
  StripeGatewayOptions options;
  options.api_key = key.empty() ? fake.api_key() : std::move(key);
  options.base_url = fake.url();
  options.timeout = timeout;
  options.allow_private_addresses = true;
  Result<std::unique_ptr<StripeGateway>> gateway = StripeGateway::Create(std::move(options));
  EXPECT_TRUE(gateway.ok()) << gateway.status();
  return std::move(*gateway);
}

// =============================================================================================
// ValidateIntentRequest

TEST(ValidateIntentRequest, AcceptsAFullRequest) {
  EXPECT_TRUE(ValidateIntentRequest(Purchase()).ok());
}

TEST(ValidateIntentRequest, CountsMetadataLimitsInCharactersNotBytes) {
  IntentRequest r = Purchase();
  std::string key;
  for (int i = 0; i < 40; ++i) key += "é";  // 40 characters, 80 bytes
  std::string value;
  for (int i = 0; i < 500; ++i) value += "€";  // 500 characters, 1500 bytes
  r.metadata = {{key, value}};
  EXPECT_TRUE(ValidateIntentRequest(r).ok()) << ValidateIntentRequest(r);
  r.metadata[0].first += "é";
  EXPECT_EQ(ValidateIntentRequest(r).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateIntentRequest, AcceptsFiftyMetadataKeysCustomerNameIncluded) {
  IntentRequest r = Purchase();
  r.metadata.clear();
  for (int i = 0; i < 49; ++i) r.metadata.emplace_back(StrCat("k", i), "v");
  EXPECT_TRUE(ValidateIntentRequest(r).ok());
  r.metadata.emplace_back("k49", "v");  // 51 with customer_name
  Status s = ValidateIntentRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(s).find("metadata"), std::string::npos) << s;
  r.customer_name.clear();  // 50 without it
  EXPECT_TRUE(ValidateIntentRequest(r).ok());
}

// Each case breaks one field; the message must name it.
struct InvalidCase {
  const char* name;
  const char* field;  // expected in the message
  void (*mutate)(IntentRequest&);
};

const InvalidCase kInvalidCases[] = {
    {"ZeroAmount", "amount", [](IntentRequest& r) { r.amount = 0; }},
    {"NegativeAmount", "amount", [](IntentRequest& r) { r.amount = -500; }},
    {"AmountOverEightDigits", "amount", [](IntentRequest& r) { r.amount = kMaxAmount + 1; }},
    {"EmptyCurrency", "currency", [](IntentRequest& r) { r.currency = ""; }},
    {"TwoLetterCurrency", "currency", [](IntentRequest& r) { r.currency = "eu"; }},
    {"CurrencyWithDigit", "currency", [](IntentRequest& r) { r.currency = "e1r"; }},
    {"CurrencyFourLetters", "currency", [](IntentRequest& r) { r.currency = "euro"; }},
    {"DescriptionNotUtf8", "description", [](IntentRequest& r) { r.description = "caf\xe9"; }},
    {"EmailWithoutAt", "customer_email", [](IntentRequest& r) { r.customer_email = "ana"; }},
    {"EmailWithSpace", "customer_email",
     [](IntentRequest& r) { r.customer_email = "ana @example.com"; }},
    {"EmailWithNewline", "customer_email",
     [](IntentRequest& r) { r.customer_email = "ana@example.com\r\nBcc: x@y.z"; }},
    {"NameTooLong", "customer_name",
     [](IntentRequest& r) { r.customer_name = std::string(501, 'a'); }},
    {"FiftyOneMetadataKeys", "metadata",
     [](IntentRequest& r) {
       r.customer_name.clear();
       r.metadata.clear();
       for (int i = 0; i < 51; ++i) r.metadata.emplace_back(StrCat("k", i), "v");
     }},
    {"MetadataKeyTooLong", "metadata key",
     [](IntentRequest& r) { r.metadata.emplace_back(std::string(41, 'k'), "v"); }},
    {"MetadataValueTooLong", "metadata value",
     [](IntentRequest& r) { r.metadata.emplace_back("k", std::string(501, 'v')); }},
    {"MetadataEmptyKey", "metadata", [](IntentRequest& r) { r.metadata.emplace_back("", "v"); }},
    {"MetadataEmptyValue", "metadata value",
     [](IntentRequest& r) { r.metadata.emplace_back("k", ""); }},
    {"MetadataKeyWithBracket", "metadata key",
     [](IntentRequest& r) { r.metadata.emplace_back("a][b", "v"); }},
    {"MetadataRepeatedKey", "metadata key 'order_id'",
     [](IntentRequest& r) { r.metadata.emplace_back("order_id", "other"); }},
    {"MetadataCustomerNameTwice", "customer_name",
     [](IntentRequest& r) { r.metadata.emplace_back("customer_name", "Bob"); }},
    {"MetadataValueNotUtf8", "metadata value",
     [](IntentRequest& r) { r.metadata.emplace_back("k", "\xff"); }},
    {"MissingIdempotencyKey", "idempotency_key",
     [](IntentRequest& r) { r.idempotency_key.clear(); }},
    {"IdempotencyKeyTooLong", "idempotency_key",
     [](IntentRequest& r) { r.idempotency_key = std::string(256, 'k'); }},
    {"IdempotencyKeyWithSpace", "idempotency_key",
     [](IntentRequest& r) { r.idempotency_key = "purchase 42"; }},
    {"IdempotencyKeyWithNewline", "idempotency_key",
     [](IntentRequest& r) { r.idempotency_key = "p42\r\nX-Evil: 1"; }},
};

class InvalidRequest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidRequest, IsRefusedNamingTheField) {
  IntentRequest r = Purchase();
  GetParam().mutate(r);
  Status s = ValidateIntentRequest(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(s).find(GetParam().field), std::string::npos) << s;
}

INSTANTIATE_TEST_SUITE_P(All, InvalidRequest, ::testing::ValuesIn(kInvalidCases),
                         [](const auto& info) { return std::string(info.param.name); });

// =============================================================================================
// What both gateways promise, run against each: StripeGateway over HTTP to FakeStripe, and
// LocalGateway.

class PaymentGatewayContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "stripe") {
      fake_ = std::make_unique<FakeStripe>();
      gateway_ = StripeFor(*fake_);
    } else {
      Result<std::unique_ptr<LocalGateway>> local = LocalGateway::Create();
      ASSERT_TRUE(local.ok()) << local.status();
      gateway_ = std::move(*local);
    }
  }
  // HTTP requests the fake saw (0 for the local gateway).
  size_t http_requests() const { return fake_ ? fake_->request_count() : 0; }

  std::unique_ptr<FakeStripe> fake_;
  std::unique_ptr<PaymentGateway> gateway_;
};

TEST_P(PaymentGatewayContract, CreatesAnIntentAwaitingPayment) {
  Result<PaymentIntent> intent = gateway_->CreateIntent(Purchase());
  ASSERT_TRUE(intent.ok()) << intent.status();
  EXPECT_EQ(gateway_->name(), GetParam());
  EXPECT_EQ(intent->gateway, GetParam());
  EXPECT_EQ(intent->id.rfind("pi_", 0), 0u) << intent->id;
  EXPECT_EQ(intent->client_secret.rfind(intent->id + "_secret_", 0), 0u);
  EXPECT_GT(intent->client_secret.size(), intent->id.size() + 8 + 20);
  EXPECT_EQ(intent->status, "requires_payment_method");
  EXPECT_EQ(intent->amount, 1500);
  EXPECT_EQ(intent->currency, "eur");
}

TEST_P(PaymentGatewayContract, GetIntentReturnsTheCreatedIntent) {
  Result<PaymentIntent> created = gateway_->CreateIntent(Purchase());
  ASSERT_TRUE(created.ok()) << created.status();
  Result<PaymentIntent> got = gateway_->GetIntent(created->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->client_secret, created->client_secret);
  EXPECT_EQ(got->status, "requires_payment_method");
  EXPECT_EQ(got->amount, 1500);
  EXPECT_EQ(got->currency, "eur");
  EXPECT_EQ(got->gateway, GetParam());
}

TEST_P(PaymentGatewayContract, RetryWithTheSameKeyReturnsTheSameIntent) {
  Result<PaymentIntent> first = gateway_->CreateIntent(Purchase("k-1"));
  Result<PaymentIntent> retry = gateway_->CreateIntent(Purchase("k-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->id, first->id);
  EXPECT_EQ(retry->client_secret, first->client_secret);
  // Another purchase (another key) is another intent.
  Result<PaymentIntent> other = gateway_->CreateIntent(Purchase("k-2"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->id, first->id);
  EXPECT_NE(other->client_secret, first->client_secret);
  if (fake_) {
    EXPECT_EQ(fake_->intent_count(), 2u);
  }
}

TEST_P(PaymentGatewayContract, ReusedKeyWithADifferentAmountIsAborted) {
  ASSERT_TRUE(gateway_->CreateIntent(Purchase("k-1")).ok());
  IntentRequest changed = Purchase("k-1");
  changed.amount = 3000;
  Result<PaymentIntent> intent = gateway_->CreateIntent(changed);
  EXPECT_EQ(intent.status().code(), absl::StatusCode::kAborted) << intent.status();
  EXPECT_NE(Message(intent.status()).find("idempotency key"), std::string::npos);
  // Metadata is part of the request too.
  IntentRequest other_metadata = Purchase("k-1");
  other_metadata.metadata[0].second = "ord_43";
  EXPECT_EQ(gateway_->CreateIntent(other_metadata).status().code(), absl::StatusCode::kAborted);
  if (fake_) {
    EXPECT_EQ(fake_->intent_count(), 1u);
  }
}

TEST_P(PaymentGatewayContract, InvalidRequestIsRefusedBeforeAnyHttpCall) {
  IntentRequest r = Purchase();
  r.amount = 0;
  EXPECT_EQ(gateway_->CreateIntent(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Purchase();
  r.idempotency_key.clear();
  EXPECT_EQ(gateway_->CreateIntent(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Purchase();
  r.metadata.emplace_back(std::string(41, 'k'), "v");
  EXPECT_EQ(gateway_->CreateIntent(r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(http_requests(), 0u);
}

TEST_P(PaymentGatewayContract, UnknownIntentIsNotFound) {
  Result<PaymentIntent> intent = gateway_->GetIntent("pi_3DoesNotExist000000000000");
  EXPECT_EQ(intent.status().code(), absl::StatusCode::kNotFound) << intent.status();
}

TEST_P(PaymentGatewayContract, MalformedIdIsRefusedBeforeAnyHttpCall) {
  for (std::string_view id :
       {"", "pi_", "ch_123", "pi_a/../../v1/customers", "pi_a?expand=x", "pi_a b", "pi_\xc3\xa9"}) {
    EXPECT_EQ(gateway_->GetIntent(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
  }
  EXPECT_EQ(http_requests(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Gateways, PaymentGatewayContract, ::testing::Values("stripe", "local"),
                         [](const auto& info) { return info.param; });

// =============================================================================================
// StripeGateway: the wire format

TEST(StripeGateway, CreateSendsTheDocumentedRequest) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  Result<PaymentIntent> intent = gateway->CreateIntent(Purchase());
  ASSERT_TRUE(intent.ok()) << intent.status();

  std::vector<FakeRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 1u);
  const FakeRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/payment_intents");
  EXPECT_EQ(r.Header("authorization"), "Bearer " + fake.api_key());
  EXPECT_EQ(r.Header("idempotency-key"), "purchase-42");
  EXPECT_EQ(r.Header("stripe-version"), kStripeApiVersion);
  EXPECT_EQ(r.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.Header("accept"), "application/json");
  EXPECT_EQ(r.body,
            "amount=1500&currency=eur&description=2+tickets+-+Jazz+night"
            "&receipt_email=ana%40example.com"
            "&metadata%5Bcustomer_name%5D=Ana+Garc%C3%ADa"
            "&metadata%5Border_id%5D=ord_42&metadata%5Bevent_id%5D=evt_7"
            "&automatic_payment_methods%5Benabled%5D=true");
  EXPECT_EQ(r.body, StripeCreateIntentForm(Purchase()));

  // What Stripe (the fake) understood from it.
  std::optional<boost::json::object> stored = fake.intent(intent->id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ((*stored)["amount"].as_int64(), 1500);
  EXPECT_EQ((*stored)["currency"].as_string(), "eur");
  EXPECT_EQ((*stored)["description"].as_string(), "2 tickets - Jazz night");
  EXPECT_EQ((*stored)["receipt_email"].as_string(), "ana@example.com");
  EXPECT_EQ((*stored)["metadata"].as_object().at("customer_name").as_string(), "Ana García");
  EXPECT_EQ((*stored)["metadata"].as_object().at("order_id").as_string(), "ord_42");
  EXPECT_EQ((*stored)["automatic_payment_methods"].as_object().at("enabled").as_bool(), true);
  EXPECT_EQ((*stored)["client_secret"].as_string(), intent->client_secret);
}

TEST(StripeGateway, OptionalFieldsAreLeftOutWhenEmpty) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  IntentRequest r;
  r.amount = 990;
  r.currency = "usd";
  r.idempotency_key = "p-1";
  ASSERT_TRUE(gateway->CreateIntent(r).ok());
  ASSERT_EQ(fake.request_count(), 1u);
  EXPECT_EQ(fake.requests()[0].body,
            "amount=990&currency=usd&automatic_payment_methods%5Benabled%5D=true");
}

TEST(StripeGateway, MetadataWithSpecialCharactersIsEncodedAndRoundTrips) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  IntentRequest r = Purchase();
  r.description = "50% off & more = fun + Ümlauts";
  r.metadata = {{"seat & row", "A=1&B=2 c"}, {"ville", "Orléans"}, {"plus+key", "a+b%20"}};
  Result<PaymentIntent> intent = gateway->CreateIntent(r);
  ASSERT_TRUE(intent.ok()) << intent.status();

  const std::string body = fake.requests().at(0).body;
  EXPECT_NE(body.find("description=50%25+off+%26+more+%3D+fun+%2B+%C3%9Cmlauts"), std::string::npos)
      << body;
  EXPECT_NE(body.find("metadata%5Bseat+%26+row%5D=A%3D1%26B%3D2+c"), std::string::npos) << body;
  EXPECT_NE(body.find("metadata%5Bville%5D=Orl%C3%A9ans"), std::string::npos) << body;
  EXPECT_NE(body.find("metadata%5Bplus%2Bkey%5D=a%2Bb%2520"), std::string::npos) << body;

  std::optional<boost::json::object> stored = fake.intent(intent->id);
  ASSERT_TRUE(stored.has_value());
  const boost::json::object& metadata = (*stored)["metadata"].as_object();
  EXPECT_EQ(metadata.at("seat & row").as_string(), "A=1&B=2 c");
  EXPECT_EQ(metadata.at("ville").as_string(), "Orléans");
  EXPECT_EQ(metadata.at("plus+key").as_string(), "a+b%20");
  EXPECT_EQ((*stored)["description"].as_string(), "50% off & more = fun + Ümlauts");
}

TEST(StripeGateway, RetrySendsTheSameKeyAndBodyAndStripeReplays) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  Result<PaymentIntent> first = gateway->CreateIntent(Purchase());
  Result<PaymentIntent> retry = gateway->CreateIntent(Purchase());
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_EQ(retry->id, first->id);
  std::vector<FakeRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].Header("idempotency-key"), requests[0].Header("idempotency-key"));
  EXPECT_EQ(requests[1].body, requests[0].body);
  EXPECT_EQ(fake.intent_count(), 1u);
}

TEST(StripeGateway, ReusedKeyIsAbortedWithStripesMessage) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  ASSERT_TRUE(gateway->CreateIntent(Purchase()).ok());
  IntentRequest changed = Purchase();
  changed.amount = 1600;
  Status s = gateway->CreateIntent(changed).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_NE(Message(s).find("Keys for idempotent requests can only be used with the same "
                            "parameters"),
            std::string::npos)
      << s;
}

TEST(StripeGateway, ConflictWithARequestInProgressIsAborted) {
  FakeStripe fake;
  fake.server().Enqueue(StripeError(
      409, "idempotency_error", "",
      "There is currently another in-progress request using this Idempotent Key (that probably "
      "means you submitted twice, and the other request is still going through): purchase-42. "
      "Please try again later."));
  auto gateway = StripeFor(fake);
  Status s = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_NE(Message(s).find("in progress"), std::string::npos) << s;
}

TEST(StripeGateway, WrongKeyIsPermissionDeniedAndNeverEchoed) {
  FakeStripe fake;
  const std::string wrong = "sk_test_WrongKey1234567890abcdefgh";
  auto gateway = StripeFor(fake, wrong);
  Status create = gateway->CreateIntent(Purchase()).status();
  Status get = gateway->GetIntent("pi_123").status();
  for (const Status& s : {create, get}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
    EXPECT_EQ(Message(s), "the Stripe API key was refused");
    EXPECT_EQ(Message(s).find(wrong), std::string::npos);
    EXPECT_EQ(Message(s).find("efgh"), std::string::npos);  // not even Stripe's masked form
  }
  // Stripe did answer 401, with the key masked.
  EXPECT_EQ(fake.request_count(), 2u);
  EXPECT_EQ(fake.requests()[0].Header("authorization"), "Bearer " + wrong);
}

TEST(StripeGateway, ForbiddenIsPermissionDenied) {
  FakeStripe fake;
  fake.server().Enqueue(StripeError(
      403, "invalid_request_error", "",
      "The provided key 'rk_test_****efgh' does not have the required permissions for this "
      "endpoint on account 'acct_1'."));
  auto gateway = StripeFor(fake);
  Status s = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Message(s).find("efgh"), std::string::npos) << s;
}

TEST(StripeGateway, RateLimitIsUnavailable) {
  FakeStripe fake;
  fake.server().Enqueue(StripeError(429, "invalid_request_error", "rate_limit",
                                    "Request rate limit exceeded. Learn more about rate limits "
                                    "here https://stripe.com/docs/rate-limits."));
  auto gateway = StripeFor(fake);
  Status s = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(Message(s).find("rate-limited"), std::string::npos) << s;
  // Rate limiting runs before idempotency at Stripe: the retry creates the intent.
  Result<PaymentIntent> retry = gateway->CreateIntent(Purchase());
  EXPECT_TRUE(retry.ok()) << retry.status();
}

TEST(StripeGateway, ServerErrorsAreUnavailable) {
  FakeStripe fake;
  fake.server().Enqueue(StripeError(500, "api_error", "", "An unknown error occurred"));
  FakeResponse html;
  html.status = 502;
  html.body = "<html>Bad Gateway</html>";
  html.headers = {{"Content-Type", "text/html"}};
  fake.server().Enqueue(html);
  auto gateway = StripeFor(fake);
  Status s500 = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(s500.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(Message(s500).find("An unknown error occurred"), std::string::npos) << s500;
  Status s502 = gateway->GetIntent("pi_123").status();
  EXPECT_EQ(s502.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(Message(s502).find("502"), std::string::npos) << s502;
}

TEST(StripeGateway, TransportFailuresAreUnavailable) {
  FakeStripe fake;
  FakeResponse dropped;
  dropped.close_without_response = true;
  fake.server().Enqueue(dropped);
  FakeResponse slow;
  slow.delay = std::chrono::milliseconds(2000);
  fake.server().Enqueue(slow);
  auto gateway = StripeFor(fake, "", absl::Milliseconds(300));
  EXPECT_EQ(gateway->CreateIntent(Purchase()).status().code(), absl::StatusCode::kUnavailable);
  Status timeout = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(timeout.code(), absl::StatusCode::kUnavailable) << timeout;
  // Nothing listens on port 1.
  StripeGatewayOptions options;
  options.api_key = "sk_test_abc";
  options.base_url = "http://127.0.0.1:1";
  options.allow_private_addresses = true;
  auto closed = StripeGateway::Create(options);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ((*closed)->GetIntent("pi_1").status().code(), absl::StatusCode::kUnavailable);
}

TEST(StripeGateway, StripeValidationErrorIsInvalidArgumentWithMessageAndParam) {
  FakeStripe fake;
  fake.server().Enqueue(StripeError(400, "invalid_request_error", "amount_too_small",
                                    "Amount must be at least €0.50 eur", "amount"));
  auto gateway = StripeFor(fake);
  Status s = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(s).find("Amount must be at least €0.50 eur"), std::string::npos) << s;
  EXPECT_NE(Message(s).find("param: amount"), std::string::npos) << s;
  EXPECT_NE(Message(s).find("amount_too_small"), std::string::npos) << s;
}

TEST(StripeGateway, CardErrorIsFailedPrecondition) {
  FakeStripe fake;
  fake.server().Enqueue(
      StripeError(402, "card_error", "card_declined", "Your card was declined.", "payment_method"));
  auto gateway = StripeFor(fake);
  Status s = gateway->CreateIntent(Purchase()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Message(s).find("Your card was declined."), std::string::npos) << s;
}

TEST(StripeGateway, GetIntentSendsTheDocumentedRequestAndSeesStatusChanges) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  Result<PaymentIntent> created = gateway->CreateIntent(Purchase());
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(fake.SetIntentStatus(created->id, "succeeded"));  // the customer paid

  Result<PaymentIntent> got = gateway->GetIntent(created->id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status, "succeeded");
  EXPECT_EQ(got->amount, 1500);

  std::vector<FakeRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/v1/payment_intents/" + created->id);
  EXPECT_EQ(requests[1].Header("authorization"), "Bearer " + fake.api_key());
  EXPECT_EQ(requests[1].Header("stripe-version"), kStripeApiVersion);
  EXPECT_EQ(requests[1].Header("idempotency-key"), "");
  EXPECT_EQ(requests[1].body, "");
}

TEST(StripeGateway, CancelSendsTheDocumentedRequestAndRefusesAPaidIntent) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  Result<PaymentIntent> created = gateway->CreateIntent(Purchase());
  ASSERT_TRUE(created.ok()) << created.status();
  Result<PaymentIntent> canceled = gateway->CancelIntent(created->id);
  ASSERT_TRUE(canceled.ok()) << canceled.status();
  EXPECT_EQ(canceled->status, "canceled");
  EXPECT_EQ(fake.intent(created->id)->at("cancellation_reason").as_string(), "abandoned");
  std::vector<FakeRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].target, "/v1/payment_intents/" + created->id + "/cancel");
  EXPECT_EQ(requests[1].body, "cancellation_reason=abandoned");
  EXPECT_EQ(requests[1].Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[1].Header("stripe-version"), kStripeApiVersion);

  // Twice, or once paid: Stripe's payment_intent_unexpected_state.
  Status again = gateway->CancelIntent(created->id).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_NE(Message(again).find("payment_intent_unexpected_state"), std::string::npos) << again;
  Result<PaymentIntent> paid = gateway->CreateIntent(Purchase("another-key"));
  ASSERT_TRUE(paid.ok());
  ASSERT_TRUE(fake.SetIntentStatus(paid->id, "succeeded"));
  EXPECT_EQ(gateway->CancelIntent(paid->id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(gateway->CancelIntent("pi_Unknown").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(gateway->CancelIntent("not an id").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StripeGateway, NotFoundCarriesStripesMessage) {
  FakeStripe fake;
  auto gateway = StripeFor(fake);
  Status s = gateway->GetIntent("pi_Unknown").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(s).find("No such payment_intent: 'pi_Unknown'"), std::string::npos) << s;
}

TEST(StripeGateway, AnswerThatIsNotAnIntentIsInternalAndKeepsTheSecretOut) {
  FakeStripe fake;
  FakeResponse partial;
  partial.body =
      R"({"id":"pi_1","object":"payment_intent","client_secret":"pi_1_secret_TopSecret"})";
  fake.server().Enqueue(partial);
  FakeResponse not_json;
  not_json.body = "pi_1_secret_TopSecret";
  fake.server().Enqueue(not_json);
  auto gateway = StripeFor(fake);
  for (int i = 0; i < 2; ++i) {
    Status s = gateway->CreateIntent(Purchase()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
    EXPECT_EQ(Message(s).find("TopSecret"), std::string::npos) << s;
  }
}

TEST(StripeGateway, CreateChecksItsOptionsWithoutEchoingTheKey) {
  auto create = [](std::string key, std::string url = "https://api.stripe.com",
                   absl::Duration timeout = absl::Seconds(5)) {
    StripeGatewayOptions options;
    options.api_key = std::move(key);
    options.base_url = std::move(url);
    options.timeout = timeout;
    return StripeGateway::Create(std::move(options)).status();
  };
  EXPECT_TRUE(create("sk_test_abc").ok());
  EXPECT_TRUE(create("sk_live_abc").ok());
  EXPECT_TRUE(create("rk_live_abc").ok());
  for (std::string key : {"", "sk_test_", "pk_test_PublishableKey", "whsec_abc",
                          "sk_live_abc\r\nX-Evil: 1", "sk_live_abc def"}) {
    Status s = create(key);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << key;
    if (key.size() > 8) {  // longer than the bare prefixes the message names
      EXPECT_EQ(Message(s).find(key), std::string::npos) << s;
    }
  }
  EXPECT_EQ(create("sk_test_abc", "ftp://api.stripe.com").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create("sk_test_abc", "https://api.stripe.com", absl::ZeroDuration()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StripeGateway, RefusesPrivateAddressesUnlessAllowed) {
  FakeStripe fake;
  StripeGatewayOptions options;
  options.api_key = fake.api_key();
  options.base_url = fake.url() + "/";  // a trailing slash is dropped
  auto gateway = StripeGateway::Create(options);
  ASSERT_TRUE(gateway.ok());
  EXPECT_EQ((*gateway)->CreateIntent(Purchase()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake.request_count(), 0u);
}

// =============================================================================================
// FakeStripe answers like Stripe (checked with plain HTTP requests, as another client would).

class FakeStripeWire : public ::testing::Test {
 protected:
  net::HttpResponse Post(std::string body, std::string key = "", std::string idem = "") {
    net::HttpRequest r;
    r.url = fake_.url() + "/v1/payment_intents";
    r.content_type = "application/x-www-form-urlencoded";
    r.body = std::move(body);
    r.headers = {{"Authorization", "Bearer " + (key.empty() ? fake_.api_key() : key)}};
    if (!idem.empty()) r.headers.emplace_back("Idempotency-Key", idem);
    Result<net::HttpResponse> response = http_.Post(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : net::HttpResponse{};
  }
  static boost::json::object Error(const net::HttpResponse& r) {
    return boost::json::parse(r.body).as_object().at("error").as_object();
  }

  FakeStripe fake_;
  net::HttpClient http_;
};

TEST_F(FakeStripeWire, ValidatesParametersLikeStripe) {
  struct Case {
    std::string body, code, param;
  };
  for (const Case& c : std::vector<Case>{
           {"currency=eur", "parameter_missing", "amount"},
           {"amount=12.5&currency=eur", "parameter_invalid_integer", "amount"},
           {"amount=abc&currency=eur", "parameter_invalid_integer", "amount"},
           {"amount=0&currency=eur", "parameter_invalid_integer", "amount"},
           {"amount=100000000&currency=eur", "amount_too_large", "amount"},
           {"amount=100", "parameter_missing", "currency"},
           {"amount=100&currency=euro", "", "currency"},
           {"amount=100&currency=eur&customer_email=a%40b.c", "parameter_unknown",
            "customer_email"},
       }) {
    net::HttpResponse r = Post(c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    boost::json::object e = Error(r);
    EXPECT_EQ(e.at("type").as_string(), "invalid_request_error") << c.body;
    EXPECT_EQ(e.at("param").as_string(), c.param) << c.body;
    if (!c.code.empty()) {
      EXPECT_EQ(e.at("code").as_string(), c.code) << c.body;
    }
  }
  EXPECT_EQ(fake_.intent_count(), 0u);
}

TEST_F(FakeStripeWire, AuthenticatesAndMasksTheKey) {
  net::HttpResponse r = Post("amount=100&currency=eur", "sk_test_SomebodyElse9876");
  EXPECT_EQ(r.status, 401);
  const std::string message(Error(r).at("message").as_string());
  EXPECT_NE(message.find("Invalid API Key provided: sk_test_"), std::string::npos) << message;
  EXPECT_NE(message.find("9876"), std::string::npos) << message;
  EXPECT_EQ(message.find("SomebodyElse"), std::string::npos) << message;

  net::HttpRequest anonymous;  // no Authorization at all
  anonymous.url = fake_.url() + "/v1/payment_intents/pi_1";
  Result<net::HttpResponse> none = http_.Get(anonymous);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->status, 401);
  EXPECT_NE(std::string(Error(*none).at("message").as_string()).find("did not provide an API key"),
            std::string::npos);

  net::HttpRequest basic;  // curl -u sk_test_...: works at Stripe too
  basic.url = fake_.url() + "/v1/charges";
  basic.basic_auth_user = fake_.api_key();
  Result<net::HttpResponse> unknown_route = http_.Get(basic);
  ASSERT_TRUE(unknown_route.ok()) << unknown_route.status();
  EXPECT_EQ(unknown_route->status, 404);  // authenticated, then an unknown route
  EXPECT_NE(std::string(Error(*unknown_route).at("message").as_string())
                .find("Unrecognized request URL (GET: /v1/charges)"),
            std::string::npos);
}

TEST_F(FakeStripeWire, IdempotencyReplaysAndRefusesOtherParameters) {
  net::HttpResponse first = Post("amount=100&currency=eur", "", "key-1");
  net::HttpResponse replay = Post("currency=eur&amount=100", "", "key-1");  // order is free
  net::HttpResponse other = Post("amount=200&currency=eur", "", "key-1");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(replay.Header("idempotent-replayed"), "true");
  EXPECT_EQ(first.Header("idempotent-replayed"), "");
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(Error(other).at("type").as_string(), "idempotency_error");
  // A refused request is not saved: the key stays free for a valid one.
  EXPECT_EQ(Post("amount=0&currency=eur", "", "key-2").status, 400);
  EXPECT_EQ(Post("amount=300&currency=eur", "", "key-2").status, 200);
  EXPECT_EQ(fake_.intent_count(), 2u);
}

TEST_F(FakeStripeWire, AnswersFullPaymentIntents) {
  net::HttpResponse r = Post("amount=100&currency=EUR&metadata%5Ba%5D=b", "", "k");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("request-id").rfind("req_", 0), 0u);
  boost::json::object o = boost::json::parse(r.body).as_object();
  const std::string id(o.at("id").as_string());
  EXPECT_EQ(id.size(), 27u);
  EXPECT_TRUE(IsAlnum(id.substr(3)));
  EXPECT_EQ(o.at("object").as_string(), "payment_intent");
  EXPECT_EQ(o.at("currency").as_string(), "eur");
  EXPECT_EQ(o.at("status").as_string(), "requires_payment_method");
  EXPECT_EQ(o.at("livemode").as_bool(), false);
  EXPECT_TRUE(o.at("created").is_int64());
  EXPECT_EQ(o.at("metadata").as_object().at("a").as_string(), "b");
  EXPECT_TRUE(o.at("customer").is_null());
  EXPECT_EQ(std::string(o.at("client_secret").as_string()).rfind(id + "_secret_", 0), 0u);
}

// =============================================================================================
// LocalGateway specifics

TEST(LocalGateway, IdsAndSecretsHaveTheDocumentedShape) {
  auto gateway = LocalGateway::Create();
  ASSERT_TRUE(gateway.ok());
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    Result<PaymentIntent> intent = (*gateway)->CreateIntent(Purchase(StrCat("k", i)));
    ASSERT_TRUE(intent.ok()) << intent.status();
    ASSERT_EQ(intent->id.size(), 9u + 24u) << intent->id;
    EXPECT_EQ(intent->id.substr(0, 9), "pi_local_");
    EXPECT_TRUE(IsAlnum(intent->id.substr(9))) << intent->id;
    ASSERT_EQ(intent->client_secret.size(), intent->id.size() + 8 + 24);
    EXPECT_EQ(intent->client_secret.substr(0, intent->id.size() + 8), intent->id + "_secret_");
    EXPECT_TRUE(IsAlnum(intent->client_secret.substr(intent->id.size() + 8)));
    EXPECT_TRUE(seen.insert(intent->id).second);
    EXPECT_TRUE(seen.insert(intent->client_secret).second);
  }
}

TEST(LocalGateway, CancelFollowsStripesStates) {
  auto gateway = LocalGateway::Create();
  ASSERT_TRUE(gateway.ok());
  LocalGateway& local = **gateway;
  PaymentIntent open = local.CreateIntent(Purchase("k1")).value();
  EXPECT_EQ(local.CancelIntent(open.id).value().status, "canceled");
  EXPECT_EQ(local.GetIntent(open.id).value().status, "canceled");
  EXPECT_EQ(local.CancelIntent(open.id).status().code(), absl::StatusCode::kFailedPrecondition);
  PaymentIntent paid = local.CreateIntent(Purchase("k2")).value();
  ASSERT_TRUE(local.SetIntentStatus(paid.id, "succeeded").ok());
  EXPECT_EQ(local.CancelIntent(paid.id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(local.CancelIntent("pi_local_nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(local.SetIntentStatus("pi_local_nope", "succeeded").code(),
            absl::StatusCode::kNotFound);
}

TEST(LocalGateway, ConcurrentRetriesCreateOneIntentPerKey) {
  auto gateway = LocalGateway::Create();
  ASSERT_TRUE(gateway.ok());
  LocalGateway& local = **gateway;
  constexpr int kThreads = 8, kKeys = 10, kRounds = 20;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        Result<PaymentIntent> intent = local.CreateIntent(Purchase(StrCat("key-", i % kKeys)));
        if (intent.ok()) ids[t].push_back(intent->id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> distinct;
  size_t total = 0;
  for (const auto& list : ids) {
    total += list.size();
    distinct.insert(list.begin(), list.end());
  }
  EXPECT_EQ(total, size_t{kThreads * kRounds});
  EXPECT_EQ(distinct.size(), size_t{kKeys});
  for (const std::string& id : distinct) EXPECT_TRUE(local.GetIntent(id).ok()) << id;
}

TEST(LocalGateway, CurrencyCaseDoesNotMakeADifferentRequest) {
  auto gateway = LocalGateway::Create();
  ASSERT_TRUE(gateway.ok());
  IntentRequest upper = Purchase("k"), lower = Purchase("k");
  upper.currency = "EUR";
  lower.currency = "eur";
  Result<PaymentIntent> a = (*gateway)->CreateIntent(upper);
  Result<PaymentIntent> b = (*gateway)->CreateIntent(lower);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
}

}  // namespace
}  // namespace herald::apps::tickets
