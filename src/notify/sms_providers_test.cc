#include "notify/sms_providers.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "net/testing/fake_http_server.h"

namespace herald::notify {
namespace {

using Outcome = SendResult::Outcome;
using net::testing::FakeHttpServer;
using net::testing::FakeRequest;
using net::testing::FakeResponse;

OutboundMessage Sms(std::string to, std::string text) {
  OutboundMessage m;
  m.notification_id = "n-1";
  m.channel = Channel::kSms;
  m.recipient = std::move(to);
  m.text = std::move(text);
  return m;
}

FakeResponse Answer(int status, std::string body) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Decodes an application/x-www-form-urlencoded body (or a query string).
std::map<std::string, std::string> ParseForm(std::string_view s) {
  auto decode = [](std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        out.push_back(' ');
      } else if (in[i] == '%' && i + 2 < in.size()) {
        out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(in[i]);
      }
    }
    return out;
  };
  std::map<std::string, std::string> fields;
  while (!s.empty()) {
    const size_t amp = s.find('&');
    std::string_view pair = s.substr(0, amp);
    const size_t eq = pair.find('=');
    fields[decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return fields;
}

// A text with an accent, '+', '€' (GSM-7 extension) and spaces: GSM-7 as a whole.
constexpr char kText[] = "Café à 10h + 1€";
constexpr char kTextForm[] = "Caf%C3%A9+%C3%A0+10h+%2B+1%E2%82%AC";
constexpr char kTextQuery[] = "Caf%C3%A9%20%C3%A0%2010h%20%2B%201%E2%82%AC";
// A text that needs UCS-2 (U+2705 is outside GSM-7).
constexpr char kUnicodeText[] = "Réservation confirmée ✅";

// =============================================================================================
// E.164
// =============================================================================================

TEST(IsE164, AcceptsPlusAndEightToFifteenDigits) {
  EXPECT_TRUE(IsE164("+33612345678"));
  EXPECT_TRUE(IsE164("+15017122661"));
  EXPECT_TRUE(IsE164("+12345678"));         // 8 digits
  EXPECT_TRUE(IsE164("+123456789012345"));  // 15 digits
  EXPECT_FALSE(IsE164(""));
  EXPECT_FALSE(IsE164("+"));
  EXPECT_FALSE(IsE164("0612345678"));
  EXPECT_FALSE(IsE164("33612345678"));
  EXPECT_FALSE(IsE164("+1234567"));           // 7 digits
  EXPECT_FALSE(IsE164("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(IsE164("+0612345678"));        // no country code starts with 0
  EXPECT_FALSE(IsE164("+33 6 12 34 56 78"));
  EXPECT_FALSE(IsE164("+3361234567a"));
  EXPECT_FALSE(IsE164("whatsapp:+33612345678"));
}

// =============================================================================================
// Twilio
// =============================================================================================

constexpr char kTwilioSid[] = "AC0123456789abcdef0123456789abcdef";

std::unique_ptr<TwilioSmsProvider> MakeTwilio(const std::string& base_url,
                                              bool messaging_service = false) {
  TwilioSmsOptions o;
  o.base_url = base_url + "/";  // a trailing slash is tolerated
  o.account_sid = kTwilioSid;
  o.auth_token = "secret-token";
  if (messaging_service) {
    o.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
  } else {
    o.from = "+15017122661";
  }
  return std::move(TwilioSmsProvider::Create(std::move(o))).value();
}

// 201 Created, shaped as in twilio.com/docs/usage/twilios-response (Message resource, JSON).
constexpr char kTwilioCreated[] = R"({
  "account_sid": "AC0123456789abcdef0123456789abcdef", "api_version": "2010-04-01",
  "body": "Café à 10h + 1€", "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
  "date_sent": null, "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000", "direction": "outbound-api",
  "error_code": null, "error_message": null, "from": "+15017122661",
  "messaging_service_sid": null, "num_media": "0", "num_segments": "0", "price": null,
  "price_unit": "USD", "sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "status": "queued",
  "subresource_uris": {"media": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f/Media.json"},
  "to": "+33612345678",
  "uri": "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SM1f0e8ae6ade43cb3c0ce4525424e404f.json"
})";

TEST(TwilioSmsProvider, SendsTheExactRequestAndReturnsTheSid) {
  FakeHttpServer server;
  server.Enqueue(Answer(201, kTwilioCreated));
  auto twilio = MakeTwilio(server.url());
  EXPECT_EQ(twilio->name(), "twilio");
  EXPECT_EQ(twilio->channel(), Channel::kSms);

  const SendResult r = twilio->Send(Sms("+33612345678", kText));
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
  EXPECT_EQ(r.provider_message_id, "SM1f0e8ae6ade43cb3c0ce4525424e404f");

  ASSERT_EQ(server.request_count(), 1u);
  const FakeRequest req = server.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, std::string("/2010-04-01/Accounts/") + kTwilioSid + "/Messages.json");
  // base64("AC0123456789abcdef0123456789abcdef:secret-token")
  EXPECT_EQ(req.Header("authorization"),
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpzZWNyZXQtdG9rZW4=");
  EXPECT_EQ(req.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.Header("accept"), "application/json");
  EXPECT_EQ(req.body, std::string("To=%2B33612345678&From=%2B15017122661&Body=") + kTextForm);
  const auto form = ParseForm(req.body);
  EXPECT_EQ(form.size(), 3u);
  EXPECT_EQ(form.at("Body"), kText);
}

TEST(TwilioSmsProvider, UsesTheMessagingServiceInsteadOfFrom) {
  FakeHttpServer server;
  server.Enqueue(Answer(201, kTwilioCreated));
  auto twilio = MakeTwilio(server.url(), /*messaging_service=*/true);
  ASSERT_TRUE(twilio->Send(Sms("+33612345678", "Hi")).sent());
  EXPECT_EQ(server.requests()[0].body,
            "To=%2B33612345678&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&Body=Hi");
}

// Error bodies: {code, message, more_info, status} (twilio.com/docs/usage/twilios-response);
// messages as Twilio words them (twilio.com/docs/api/errors/<code>).
TEST(TwilioSmsProvider, InvalidToNumber21211IsPermanent) {
  FakeHttpServer server;
  server.Enqueue(Answer(400, R"({"code": 21211,
    "message": "The 'To' number +166321456 is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})"));
  const SendResult r = MakeTwilio(server.url())->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "21211");
  EXPECT_EQ(r.message, "The 'To' number +166321456 is not a valid phone number.");
}

TEST(TwilioSmsProvider, OptedOut21610IsPermanent) {
  FakeHttpServer server;
  server.Enqueue(Answer(400, R"({"code": 21610,
    "message": "Attempt to send to unsubscribed recipient",
    "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})"));
  const SendResult r = MakeTwilio(server.url())->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "21610");
}

TEST(TwilioSmsProvider, TooManyRequests20429IsRetryable) {
  FakeHttpServer server;
  FakeResponse busy = Answer(429, R"({"code": 20429, "message": "Too Many Requests",
    "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})");
  busy.headers = {{"Retry-After", "1"}};
  server.Enqueue(busy);
  const SendResult r = MakeTwilio(server.url())->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "20429");
  EXPECT_EQ(r.message, "Too Many Requests");
}

TEST(TwilioSmsProvider, AuthenticationFailureIsRetryableConfiguration) {
  FakeHttpServer server;
  server.Enqueue(
      Answer(401, R"({"code": 20003, "detail": "Your AccountSid or AuthToken was incorrect.",
    "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401})"));
  const SendResult r = MakeTwilio(server.url())->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "20003");
  EXPECT_EQ(r.message.find("secret-token"), std::string::npos);
}

TEST(TwilioSmsProvider, ServerErrorsAndUnreadableBodiesAreRetryable) {
  FakeHttpServer server;
  server.Enqueue(Answer(500, "<html>oops</html>"));
  server.Enqueue(Answer(503, ""));
  server.Enqueue(Answer(400, "not json"));
  auto twilio = MakeTwilio(server.url());
  SendResult r = twilio->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "500");
  EXPECT_EQ(r.message, "HTTP 500: <html>oops</html>");
  r = twilio->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "503");
  r = twilio->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "400");
}

TEST(TwilioSmsProvider, ErrorCodeTable) {
  for (int code : {21211, 21214, 21602, 21610, 21612, 21614, 21617, 21635, 30004, 30005, 30006}) {
    EXPECT_EQ(TwilioErrorOutcome(code), Outcome::kPermanent) << code;
  }
  for (int code : {20003, 20429, 21408, 21606, 21608, 30003, 30007, 30008, 30410, 12345}) {
    EXPECT_EQ(TwilioErrorOutcome(code), Outcome::kRetryable) << code;
  }
}

TEST(TwilioSmsProvider, RefusesEmptyOrInvalidTextWithoutARequest) {
  FakeHttpServer server;
  auto twilio = MakeTwilio(server.url());
  SendResult r = twilio->Send(Sms("+33612345678", ""));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "empty_message");
  r = twilio->Send(Sms("+33612345678", "bad \xff byte"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "invalid_message");
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(TwilioSmsProvider, CreateValidatesOptions) {
  TwilioSmsOptions o;
  o.account_sid = kTwilioSid;
  o.auth_token = "t";
  EXPECT_FALSE(TwilioSmsProvider::Create(o).ok());  // neither from nor service
  o.from = "+15017122661";
  EXPECT_TRUE(TwilioSmsProvider::Create(o).ok());
  o.messaging_service_sid = "MG1";
  EXPECT_FALSE(TwilioSmsProvider::Create(o).ok());  // both
  o.messaging_service_sid = "";
  o.account_sid = "AC/../x";
  EXPECT_FALSE(TwilioSmsProvider::Create(o).ok());
  o.account_sid = kTwilioSid;
  o.auth_token = "";
  EXPECT_FALSE(TwilioSmsProvider::Create(o).ok());
  o.auth_token = "t";
  o.base_url = "api.twilio.com";
  EXPECT_FALSE(TwilioSmsProvider::Create(o).ok());
  o.base_url = "https://api.twilio.com";
  o.timeout = absl::ZeroDuration();
  EXPECT_FALSE(TwilioSmsProvider::Create(o).ok());
}

// =============================================================================================
// Vonage
// =============================================================================================

std::unique_ptr<VonageSmsProvider> MakeVonage(const std::string& base_url) {
  VonageSmsOptions o;
  o.base_url = base_url;
  o.api_key = "abcd1234";
  o.api_secret = "s3cr3t+/=";
  o.from = "Herald";
  return std::move(VonageSmsProvider::Create(std::move(o))).value();
}

// The success body of developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms.
constexpr char kVonageSent[] = R"({
  "message-count": "1",
  "messages": [{"to": "447700900000", "message-id": "0C000000217B7F02", "status": "0",
                "remaining-balance": "15.53590000", "message-price": "0.03330000",
                "network": "23410"}]
})";

// An error body: {"message-count", "messages": [{"status", "error-text"}]} (Vonage's SMS API
// OpenAPI Error schema), still with HTTP 200.
std::string VonageError(const std::string& status, const std::string& text) {
  return R"({"message-count": "1", "messages": [{"status": ")" + status + R"(", "error-text": ")" +
         text + R"("}]})";
}

TEST(VonageSmsProvider, SendsTheExactGsm7Request) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kVonageSent));
  auto vonage = MakeVonage(server.url());
  EXPECT_EQ(vonage->name(), "vonage");
  EXPECT_EQ(vonage->channel(), Channel::kSms);
  const SendResult r = vonage->Send(Sms("+447700900000", kText));
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
  EXPECT_EQ(r.provider_message_id, "0C000000217B7F02");

  ASSERT_EQ(server.request_count(), 1u);
  const FakeRequest req = server.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/sms/json");
  EXPECT_EQ(req.Header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.Header("authorization"), "");
  EXPECT_EQ(req.body,
            std::string("api_key=abcd1234&api_secret=s3cr3t%2B%2F%3D&from=Herald&to=447700900000"
                        "&text=") +
                kTextForm);
}

TEST(VonageSmsProvider, SendsTypeUnicodeWhenTheTextIsNotGsm7) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, kVonageSent));
  ASSERT_TRUE(MakeVonage(server.url())->Send(Sms("+447700900000", kUnicodeText)).sent());
  const auto form = ParseForm(server.requests()[0].body);
  EXPECT_EQ(form.at("type"), "unicode");
  EXPECT_EQ(form.at("text"), kUnicodeText);
  EXPECT_TRUE(server.requests()[0].body.ends_with("&type=unicode"));
}

TEST(VonageSmsProvider, StatusInsideA200IsClassified) {
  struct Case {
    std::string status;
    std::string text;
    Outcome outcome;
  };
  // Statuses and texts of developer.vonage.com/en/api-errors/sms.
  const std::vector<Case> cases = {
      {"1", "Throttled", Outcome::kRetryable},
      {"2", "Missing Parameters", Outcome::kPermanent},
      {"3", "Invalid Parameters", Outcome::kPermanent},
      {"4", "Invalid Credentials", Outcome::kRetryable},
      {"5", "Internal Error", Outcome::kRetryable},
      {"6", "Invalid Message", Outcome::kPermanent},
      {"7", "Number Barred", Outcome::kPermanent},
      {"8", "Partner Account Barred", Outcome::kRetryable},
      {"9", "Partner Quota Violation", Outcome::kRetryable},
      {"10", "Too Many Existing Binds", Outcome::kRetryable},
      {"12", "Message Too Long", Outcome::kPermanent},
      {"15", "Illegal Sender Address - rejected", Outcome::kRetryable},
      {"29", "Non-Whitelisted Destination", Outcome::kRetryable},
  };
  FakeHttpServer server;
  auto vonage = MakeVonage(server.url());
  for (const Case& c : cases) {
    server.Enqueue(Answer(200, VonageError(c.status, c.text)));
    const SendResult r = vonage->Send(Sms("+447700900000", "Hi"));
    EXPECT_EQ(r.outcome, c.outcome) << c.status;
    EXPECT_EQ(r.code, c.status);
    EXPECT_EQ(r.message, c.text);
  }
}

TEST(VonageSmsProvider, EveryPartMustBeAccepted) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, R"({"message-count": "2", "messages": [
      {"to": "447700900000", "message-id": "0C00000021A", "status": "0"},
      {"to": "447700900000", "message-id": "0C00000021B", "status": "0"}]})"));
  server.Enqueue(Answer(200, R"({"message-count": "2", "messages": [
      {"to": "447700900000", "message-id": "0C00000021C", "status": "0"},
      {"status": "1", "error-text": "Throttled"}]})"));
  auto vonage = MakeVonage(server.url());
  SendResult r = vonage->Send(Sms("+447700900000", std::string(200, 'a')));
  EXPECT_EQ(r.outcome, Outcome::kSent);
  EXPECT_EQ(r.provider_message_id, "0C00000021A");
  r = vonage->Send(Sms("+447700900000", std::string(200, 'a')));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "1");
}

TEST(VonageSmsProvider, UnreadableAnswersAndHttpErrorsAreRetryable) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, "garbage"));
  server.Enqueue(Answer(200, R"({"message-count": "0", "messages": []})"));
  server.Enqueue(Answer(500, ""));
  auto vonage = MakeVonage(server.url());
  SendResult r = vonage->Send(Sms("+447700900000", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "invalid_response");
  r = vonage->Send(Sms("+447700900000", "Hi"));
  EXPECT_EQ(r.code, "invalid_response");
  r = vonage->Send(Sms("+447700900000", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "500");
}

TEST(VonageSmsProvider, StatusTable) {
  for (const char* s : {"2", "3", "6", "7", "12", "33"}) {
    EXPECT_EQ(VonageStatusOutcome(s), Outcome::kPermanent) << s;
  }
  for (const char* s : {"1", "4", "5", "8", "9", "10", "11", "13", "14", "15", "29", "99"}) {
    EXPECT_EQ(VonageStatusOutcome(s), Outcome::kRetryable) << s;
  }
}

// =============================================================================================
// Brevo
// =============================================================================================

std::unique_ptr<BrevoSmsProvider> MakeBrevo(const std::string& base_url) {
  BrevoSmsOptions o;
  o.base_url = base_url;
  o.api_key = "xkeysib-0123";
  o.sender = "MyShop";
  return std::move(BrevoSmsProvider::Create(std::move(o))).value();
}

TEST(BrevoSmsProvider, SendsTheExactRequestAndReturnsTheMessageId) {
  FakeHttpServer server;
  // The /send endpoint's answer (developers.brevo.com/changelog/2025/5/1).
  server.Enqueue(Answer(201, R"({"messageId": 1511882900176220})"));
  auto brevo = MakeBrevo(server.url());
  EXPECT_EQ(brevo->name(), "brevo");
  const SendResult r = brevo->Send(Sms("+33612345678", kText));
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
  EXPECT_EQ(r.provider_message_id, "1511882900176220");

  ASSERT_EQ(server.request_count(), 1u);
  const FakeRequest req = server.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v3/transactionalSMS/send");
  EXPECT_EQ(req.Header("api-key"), "xkeysib-0123");
  EXPECT_EQ(req.Header("content-type"), "application/json");
  EXPECT_EQ(req.Header("accept"), "application/json");
  EXPECT_EQ(req.Header("authorization"), "");
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(req.body, ec);
  ASSERT_FALSE(ec) << req.body;
  const boost::json::object& o = body.as_object();
  EXPECT_EQ(o.size(), 5u);
  EXPECT_EQ(o.at("sender"), "MyShop");
  EXPECT_EQ(o.at("recipient"), "+33612345678");
  EXPECT_EQ(o.at("content"), kText);
  EXPECT_EQ(o.at("type"), "transactional");
  EXPECT_EQ(o.at("unicodeEnabled"), false);
}

TEST(BrevoSmsProvider, EnablesUnicodeWhenTheTextIsNotGsm7) {
  FakeHttpServer server;
  server.Enqueue(Answer(201, R"({"messageId": 42})"));
  ASSERT_TRUE(MakeBrevo(server.url())->Send(Sms("+33612345678", kUnicodeText)).sent());
  const boost::json::value body = boost::json::parse(server.requests()[0].body);
  EXPECT_EQ(body.at("unicodeEnabled"), true);
  EXPECT_EQ(body.at("content"), kUnicodeText);
}

// Error model {code, message} of Brevo's v3 API.
TEST(BrevoSmsProvider, ClassifiesErrors) {
  struct Case {
    int http;
    std::string body;
    Outcome outcome;
    std::string code;
  };
  const std::vector<Case> cases = {
      {400, R"({"code": "invalid_parameter", "message": "recipient is invalid"})",
       Outcome::kPermanent, "invalid_parameter"},
      {400, R"({"code": "missing_parameter", "message": "content is missing"})",
       Outcome::kPermanent, "missing_parameter"},
      {401, R"({"code": "unauthorized", "message": "Key not found"})", Outcome::kRetryable,
       "unauthorized"},
      {402, R"({"code": "not_enough_credits", "message": "Not enough credits"})",
       Outcome::kRetryable, "not_enough_credits"},
      {403, R"({"code": "permission_denied", "message": "Permission denied"})", Outcome::kRetryable,
       "permission_denied"},
      {429, R"({"message": "Too many requests"})", Outcome::kRetryable, "429"},
      {500, "", Outcome::kRetryable, "500"},
      {502, "<html>Bad Gateway</html>", Outcome::kRetryable, "502"},
  };
  FakeHttpServer server;
  auto brevo = MakeBrevo(server.url());
  for (const Case& c : cases) {
    server.Enqueue(Answer(c.http, c.body));
    const SendResult r = brevo->Send(Sms("+33612345678", "Hi"));
    EXPECT_EQ(r.outcome, c.outcome) << c.http << " " << c.body;
    EXPECT_EQ(r.code, c.code) << c.http;
    EXPECT_FALSE(r.message.empty());
    EXPECT_EQ(r.message.find("xkeysib"), std::string::npos);
  }
}

// =============================================================================================
// Free Mobile
// =============================================================================================

std::unique_ptr<FreeMobileSmsProvider> MakeFreeMobile(const std::string& base_url) {
  FreeMobileSmsOptions o;
  o.base_url = base_url;
  o.user = "12345678";
  o.pass = "AbCdEfGhIjKlMn";
  return std::move(FreeMobileSmsProvider::Create(std::move(o))).value();
}

TEST(FreeMobileSmsProvider, SendsTheExactRequestAndIgnoresTheRecipient) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, ""));
  server.Enqueue(Answer(200, ""));
  auto freemobile = MakeFreeMobile(server.url());
  EXPECT_EQ(freemobile->name(), "freemobile");
  EXPECT_EQ(freemobile->channel(), Channel::kSms);
  SendResult r = freemobile->Send(Sms("+33612345678", kText));
  EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
  EXPECT_EQ(r.provider_message_id, "");
  // Not a number at all: Free Mobile sends to the subscriber's own line anyway.
  r = freemobile->Send(Sms("not a number", kText));
  EXPECT_EQ(r.outcome, Outcome::kSent);

  ASSERT_EQ(server.request_count(), 2u);
  for (const FakeRequest& req : server.requests()) {
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.Path(), "/sendmsg");
    EXPECT_EQ(req.Query(), std::string("user=12345678&pass=AbCdEfGhIjKlMn&msg=") + kTextQuery);
    EXPECT_EQ(req.body, "");
    EXPECT_EQ(req.Header("authorization"), "");
    EXPECT_EQ(ParseForm(req.Query()).at("msg"), kText);
  }
}

// Status codes of Free Mobile's instructions (ericgaspar/Free_SMS_Sender README.md).
TEST(FreeMobileSmsProvider, ClassifiesStatusCodes) {
  struct Case {
    int http;
    Outcome outcome;
  };
  const std::vector<Case> cases = {{400, Outcome::kPermanent},
                                   {402, Outcome::kRetryable},
                                   {403, Outcome::kRetryable},
                                   {500, Outcome::kRetryable},
                                   {404, Outcome::kRetryable}};
  FakeHttpServer server;
  auto freemobile = MakeFreeMobile(server.url());
  for (const Case& c : cases) {
    server.Enqueue(Answer(c.http, ""));
    const SendResult r = freemobile->Send(Sms("", "Alerte"));
    EXPECT_EQ(r.outcome, c.outcome) << c.http;
    EXPECT_EQ(r.code, std::to_string(c.http));
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(FreeMobileSmsProvider, TransportErrorsDoNotLeakTheKey) {
  std::string url;
  {
    FakeHttpServer closed;
    url = closed.url();
  }
  const SendResult r = MakeFreeMobile(url)->Send(Sms("", "Alerte"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "connection");
  EXPECT_EQ(r.message.find("AbCdEfGhIjKlMn"), std::string::npos) << r.message;
}

// =============================================================================================
// Every provider: transport failures, recipient checks, concurrency
// =============================================================================================

struct ProviderCase {
  std::string name;
  std::function<std::unique_ptr<Provider>(const std::string& base_url, absl::Duration timeout)>
      make;
  FakeResponse success;
  bool checks_recipient = true;
};

std::vector<ProviderCase> AllProviders() {
  return {
      {"twilio",
       [](const std::string& url, absl::Duration timeout) -> std::unique_ptr<Provider> {
         TwilioSmsOptions o;
         o.base_url = url;
         o.account_sid = kTwilioSid;
         o.auth_token = "secret-token";
         o.from = "+15017122661";
         o.timeout = timeout;
         return std::move(TwilioSmsProvider::Create(std::move(o))).value();
       },
       Answer(201, kTwilioCreated)},
      {"vonage",
       [](const std::string& url, absl::Duration timeout) -> std::unique_ptr<Provider> {
         VonageSmsOptions o;
         o.base_url = url;
         o.api_key = "k";
         o.api_secret = "s";
         o.from = "Herald";
         o.timeout = timeout;
         return std::move(VonageSmsProvider::Create(std::move(o))).value();
       },
       Answer(200, kVonageSent)},
      {"brevo",
       [](const std::string& url, absl::Duration timeout) -> std::unique_ptr<Provider> {
         BrevoSmsOptions o;
         o.base_url = url;
         o.api_key = "k";
         o.sender = "Herald";
         o.timeout = timeout;
         return std::move(BrevoSmsProvider::Create(std::move(o))).value();
       },
       Answer(201, R"({"messageId": 1})")},
      {"freemobile",
       [](const std::string& url, absl::Duration timeout) -> std::unique_ptr<Provider> {
         FreeMobileSmsOptions o;
         o.base_url = url;
         o.user = "u";
         o.pass = "p";
         o.timeout = timeout;
         return std::move(FreeMobileSmsProvider::Create(std::move(o))).value();
       },
       Answer(200, ""), /*checks_recipient=*/false},
  };
}

class EverySmsProvider : public ::testing::TestWithParam<ProviderCase> {};

TEST_P(EverySmsProvider, ConnectionRefusedIsRetryable) {
  std::string url;
  {
    FakeHttpServer closed;
    url = closed.url();
  }
  const SendResult r = GetParam().make(url, absl::Seconds(5))->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "connection");
  EXPECT_FALSE(r.message.empty());
}

TEST_P(EverySmsProvider, TimeoutIsRetryable) {
  FakeHttpServer server;
  FakeResponse slow = GetParam().success;
  slow.delay = std::chrono::milliseconds(3000);
  server.SetDefault(slow);
  auto provider = GetParam().make(server.url(), absl::Milliseconds(200));
  const absl::Time start = absl::Now();
  const SendResult r = provider->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "timeout");
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_P(EverySmsProvider, ConnectionClosedWithoutAnswerIsRetryable) {
  FakeHttpServer server;
  FakeResponse drop;
  drop.close_without_response = true;
  server.Enqueue(drop);
  const SendResult r =
      GetParam().make(server.url(), absl::Seconds(5))->Send(Sms("+33612345678", "Hi"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "connection");
}

TEST_P(EverySmsProvider, InvalidNumberIsPermanentAndSendsNothing) {
  FakeHttpServer server;
  server.SetDefault(GetParam().success);
  auto provider = GetParam().make(server.url(), absl::Seconds(5));
  const std::vector<std::string> invalid = {"",           "0612345678",        "+0612345678",
                                            "+1234567",   "+1234567890123456", "+33 6 12 34 56 78",
                                            "33612345678"};
  for (const std::string& to : invalid) {
    const SendResult r = provider->Send(Sms(to, "Hi"));
    if (GetParam().checks_recipient) {
      EXPECT_EQ(r.outcome, Outcome::kPermanent) << to;
      EXPECT_EQ(r.code, "invalid_number") << to;
    } else {
      // Free Mobile ignores the recipient: the SMS goes to the subscriber's own line.
      EXPECT_EQ(r.outcome, Outcome::kSent) << to;
    }
  }
  EXPECT_EQ(server.request_count(), GetParam().checks_recipient ? 0u : invalid.size());
}

TEST_P(EverySmsProvider, EightThreadsSendThroughOneProvider) {
  FakeHttpServer server;
  server.SetDefault(GetParam().success);
  auto provider = GetParam().make(server.url(), absl::Seconds(10));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::vector<std::vector<SendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        results[t].push_back(provider->Send(
            Sms("+33612345678", "msg " + std::to_string(t) + "-" + std::to_string(i))));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const auto& per_thread : results) {
    ASSERT_EQ(per_thread.size(), static_cast<size_t>(kPerThread));
    for (const SendResult& r : per_thread) {
      EXPECT_EQ(r.outcome, Outcome::kSent) << r.code << " " << r.message;
    }
  }
  EXPECT_EQ(server.request_count(), static_cast<size_t>(kThreads * kPerThread));
  // Each text arrived exactly once.
  std::map<std::string, int> seen;
  for (const FakeRequest& req : server.requests()) {
    seen[req.method == "GET" ? req.Query() : req.body]++;
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
  // Connections are reused: never more than one per concurrent sender.
  EXPECT_LE(server.connections(), kThreads);
}

INSTANTIATE_TEST_SUITE_P(SmsProviders, EverySmsProvider, ::testing::ValuesIn(AllProviders()),
                         [](const ::testing::TestParamInfo<ProviderCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace herald::notify
