#include "notify/sms_providers.h"

#include <cctype>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "core/utf8.h"
#include "notify/http_provider.h"
#include "notify/sms_segments.h"

namespace herald::notify {
namespace {

namespace json = boost::json;
using Outcome = SendResult::Outcome;

// A permanent result when `text` cannot be sent by anyone; otherwise its encoding.
std::optional<SendResult> CheckText(const std::string& text, SmsEncoding* encoding) {
  Result<SmsSegments> segments = CountSmsSegments(text);
  if (!segments.ok()) {
    return SendResult::Permanent("invalid_message", std::string(segments.status().message()));
  }
  if (segments->segments == 0) return SendResult::Permanent("empty_message", "the text is empty");
  *encoding = segments->encoding;
  return std::nullopt;
}

std::optional<SendResult> CheckRecipient(const std::string& recipient) {
  if (IsE164(recipient)) return std::nullopt;
  return SendResult::Permanent("invalid_number",
                               StrCat("the recipient '", ClipProviderText(recipient.substr(0, 32)),
                                      "' is not an E.164 number (+ and 8 to 15 digits)"));
}

// --- Twilio -----------------------------------------------------------------------------------
// Sources: twilio.com/docs/usage/twilios-response (error body {code, message, more_info,
// status}); twilio.com/docs/api/errors/<code>; TundraSoft/tundra-connect wiki "Twilio-Errors";
// research notes §2.1.
SendResult ClassifyTwilio(const net::HttpResponse& r) {
  std::optional<json::object> body = ParseJsonObject(r.body);
  // 2xx means Twilio created the message: never resend it, even without a readable sid.
  if (Is2xx(r.status)) return SendResult::Sent(body ? JsonField(*body, "sid") : "");
  std::optional<int64_t> twilio_code;
  std::string message;
  if (body) {
    twilio_code = JsonIntField(*body, "code");
    message = ClipProviderText(JsonField(*body, "message"));
  }
  if (message.empty()) message = HttpStatusText(r);
  std::string code = twilio_code ? std::to_string(*twilio_code) : std::to_string(r.status);
  if (r.status == 429 || r.status >= 500) return SendResult::Retryable(code, message);
  if (r.status >= 400 && twilio_code) {
    return SendResult::Failure(TwilioErrorOutcome(static_cast<int>(*twilio_code)), code, message);
  }
  return SendResult::Retryable(code, message);  // 3xx, 401/403/404 without a code, ...
}

// --- Vonage -----------------------------------------------------------------------------------
// Sources: developer.vonage.com/en/api-errors/sms (status table);
// developer.vonage.com/en/messaging/sms/guides/troubleshooting-sms (response body);
// research notes §2.2.
SendResult ClassifyVonage(const net::HttpResponse& r) {
  if (!Is2xx(r.status)) return SendResult::Retryable(std::to_string(r.status), HttpStatusText(r));
  std::optional<json::object> body = ParseJsonObject(r.body);
  const json::value* messages = body ? body->if_contains("messages") : nullptr;
  const json::array* parts = messages != nullptr ? messages->if_array() : nullptr;
  if (parts == nullptr || parts->empty()) {
    return SendResult::Retryable(
        "invalid_response", StrCat("no messages[] in Vonage's answer: ", ClipProviderText(r.body)));
  }
  std::string first_id;
  for (const json::value& part : *parts) {
    const json::object* m = part.if_object();
    if (m == nullptr) {
      return SendResult::Retryable("invalid_response", "a messages[] entry is not an object");
    }
    const std::string status = JsonField(*m, "status");
    if (status.empty()) {
      return SendResult::Retryable("invalid_response", "a messages[] entry has no status");
    }
    if (status != "0") {
      std::string text = ClipProviderText(JsonField(*m, "error-text"));
      if (text.empty()) text = StrCat("Vonage status ", status);
      return SendResult::Failure(VonageStatusOutcome(status), status, std::move(text));
    }
    if (first_id.empty()) first_id = JsonField(*m, "message-id");
  }
  return SendResult::Sent(std::move(first_id));
}

// --- Brevo ------------------------------------------------------------------------------------
// Sources: developers.brevo.com/changelog/2025/5/1 (the /send endpoint and its
// {"messageId": 1511882900176220} answer); developers.brevo.com/docs/transactional-sms-endpoints;
// the v3 error model {code, message} and its statuses 400/401/402/403/404 (Brevo's OpenAPI, as
// generated in sendinblue_v3 ErrorModel); 429 rate limiting (Apprise plugins/brevo.py);
// research notes §2.3.
SendResult ClassifyBrevo(const net::HttpResponse& r) {
  std::optional<json::object> body = ParseJsonObject(r.body);
  if (Is2xx(r.status)) return SendResult::Sent(body ? JsonField(*body, "messageId") : "");
  std::string code = body ? JsonField(*body, "code") : "";
  if (code.empty()) code = std::to_string(r.status);
  std::string message = body ? ClipProviderText(JsonField(*body, "message")) : "";
  if (message.empty()) message = HttpStatusText(r);
  if (r.status == 400) return SendResult::Permanent(std::move(code), std::move(message));
  return SendResult::Retryable(std::move(code), std::move(message));
}

// --- Free Mobile ------------------------------------------------------------------------------
// Source: Free Mobile's instructions, copied verbatim in ericgaspar/Free_SMS_Sender README.md
// (200 "Le SMS a été envoyé sur votre mobile", 400 "Un des paramètres obligatoires est
// manquant", 402 "Trop de SMS ont été envoyés en trop peu de temps", 403 "Le service n'est pas
// activé sur l'espace abonné, ou login / clé incorrect", 500 "Erreur côté serveur. Veuillez
// réessayer ultérieurement"); research notes §2.4.
SendResult ClassifyFreeMobile(const net::HttpResponse& r) {
  const std::string code = std::to_string(r.status);
  switch (r.status) {
    case 200:
      return SendResult::Sent("");
    case 400:
      return SendResult::Permanent(code, "a required parameter is missing");
    case 402:
      return SendResult::Retryable(code, "too many SMS sent in too little time");
    case 403:
      return SendResult::Retryable(
          code, "the service is not enabled for this subscriber, or the login or key is wrong");
    case 500:
      return SendResult::Retryable(code, "server error, try again later");
    default:
      return SendResult::Retryable(code, HttpStatusText(r));
  }
}

}  // namespace

bool IsE164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') {
    return false;
  }
  for (char c : number.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Permanent: the recipient or the message is at fault, so no provider would do better.
//   21211 invalid 'To' number                 21610 recipient replied STOP (opted out)
//   21214 'To' number cannot be reached       21612 'To' number unroutable
//   21602 message body required               21614 'To' number not SMS-capable
//   21617 body over 1,600 characters          21635 'To' is a landline
//   30004 message blocked (by the recipient)  30005 unknown destination handset
//   30006 landline or unreachable carrier
// Retryable, among others: 20429 too many requests; 20003 authentication failed, 21606 'From'
// not SMS-capable, 21408 no permission for the region, 21608 unverified 'To' on a trial account
// (the account's configuration: another provider may send it); 30003 unreachable handset,
// 30007 carrier filtering, 30008 unknown error (may pass later or elsewhere).
// The research table (§2.1) marks 20003, 21606 and 21608 "no retry" at Twilio; provider.h
// classes a misconfigured provider as retryable so that the Notifier fails over.
SendResult::Outcome TwilioErrorOutcome(int code) {
  switch (code) {
    case 21211:
    case 21214:
    case 21602:
    case 21610:
    case 21612:
    case 21614:
    case 21617:
    case 21635:
    case 30004:
    case 30005:
    case 30006:
      return Outcome::kPermanent;
    default:
      return Outcome::kRetryable;
  }
}

// Vonage SMS API statuses (developer.vonage.com/en/api-errors/sms):
//   permanent  2 missing parameters (only the text can be: the others are checked at Create),
//              3 invalid parameters, 6 invalid message (e.g. unrecognised number prefix),
//              7 number barred, 12 message too long, 33 number de-activated;
//   retryable  1 throttled, 5 internal error, 10 too many binds, 13 communication failure
//              (temporary); 4 invalid credentials, 8 account barred, 9 quota (no credit),
//              11 HTTP not enabled, 14 invalid signature, 15 invalid sender, 29 non-whitelisted
//              destination (demo account) and anything else (account configuration).
SendResult::Outcome VonageStatusOutcome(std::string_view status) {
  for (std::string_view p : {"2", "3", "6", "7", "12", "33"}) {
    if (status == p) return Outcome::kPermanent;
  }
  return Outcome::kRetryable;
}

// --- TwilioSmsProvider ------------------------------------------------------------------------

Result<std::unique_ptr<TwilioSmsProvider>> TwilioSmsProvider::Create(TwilioSmsOptions options) {
  HERALD_RETURN_IF_ERROR(CheckHttpProviderOptions(options.base_url, options.timeout, "twilio"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.account_sid, "twilio", "account_sid"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.auth_token, "twilio", "auth_token"));
  for (char c : options.account_sid) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("twilio: account_sid must be letters and digits");
    }
  }
  if (options.from.empty() == options.messaging_service_sid.empty()) {
    return absl::InvalidArgumentError("twilio: set exactly one of from and messaging_service_sid");
  }
  return std::unique_ptr<TwilioSmsProvider>(new TwilioSmsProvider(std::move(options)));
}

TwilioSmsProvider::TwilioSmsProvider(TwilioSmsOptions options)
    : options_(std::move(options)), http_(options_.http) {}

SendResult TwilioSmsProvider::Send(const OutboundMessage& message) {
  if (auto bad = CheckRecipient(message.recipient)) return *bad;
  SmsEncoding encoding;
  if (auto bad = CheckText(message.text, &encoding)) return *bad;

  std::vector<std::pair<std::string, std::string>> fields = {{"To", message.recipient}};
  if (!options_.from.empty()) {
    fields.emplace_back("From", options_.from);
  } else {
    fields.emplace_back("MessagingServiceSid", options_.messaging_service_sid);
  }
  fields.emplace_back("Body", message.text);
  if (!options_.status_callback.empty()) {
    fields.emplace_back("StatusCallback", options_.status_callback);
  }

  net::HttpRequest request;
  request.url =
      StrCat(options_.base_url, "/2010-04-01/Accounts/", options_.account_sid, "/Messages.json");
  request.content_type = "application/x-www-form-urlencoded";
  request.headers = {{"Accept", "application/json"}};
  request.body = net::FormEncode(fields);
  request.basic_auth_user = options_.account_sid;
  request.basic_auth_password = options_.auth_token;
  request.timeout = options_.timeout;
  Result<net::HttpResponse> response = http_.Post(request);
  if (!response.ok()) return TransportFailure(response.status());
  return ClassifyTwilio(*response);
}

// --- VonageSmsProvider ------------------------------------------------------------------------

Result<std::unique_ptr<VonageSmsProvider>> VonageSmsProvider::Create(VonageSmsOptions options) {
  HERALD_RETURN_IF_ERROR(CheckHttpProviderOptions(options.base_url, options.timeout, "vonage"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.api_key, "vonage", "api_key"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.api_secret, "vonage", "api_secret"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.from, "vonage", "from"));
  return std::unique_ptr<VonageSmsProvider>(new VonageSmsProvider(std::move(options)));
}

VonageSmsProvider::VonageSmsProvider(VonageSmsOptions options)
    : options_(std::move(options)), http_(options_.http) {}

SendResult VonageSmsProvider::Send(const OutboundMessage& message) {
  if (auto bad = CheckRecipient(message.recipient)) return *bad;
  SmsEncoding encoding;
  if (auto bad = CheckText(message.text, &encoding)) return *bad;

  // Vonage takes international numbers without the leading '+'.
  std::vector<std::pair<std::string, std::string>> fields = {{"api_key", options_.api_key},
                                                             {"api_secret", options_.api_secret},
                                                             {"from", options_.from},
                                                             {"to", message.recipient.substr(1)},
                                                             {"text", message.text}};
  if (encoding == SmsEncoding::kUcs2) fields.emplace_back("type", "unicode");

  net::HttpRequest request;
  request.url = StrCat(options_.base_url, "/sms/json");
  request.content_type = "application/x-www-form-urlencoded";
  request.headers = {{"Accept", "application/json"}};
  request.body = net::FormEncode(fields);
  request.timeout = options_.timeout;
  Result<net::HttpResponse> response = http_.Post(request);
  if (!response.ok()) return TransportFailure(response.status());
  return ClassifyVonage(*response);
}

// --- BrevoSmsProvider -------------------------------------------------------------------------

Result<std::unique_ptr<BrevoSmsProvider>> BrevoSmsProvider::Create(BrevoSmsOptions options) {
  HERALD_RETURN_IF_ERROR(CheckHttpProviderOptions(options.base_url, options.timeout, "brevo"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.api_key, "brevo", "api_key"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.sender, "brevo", "sender"));
  return std::unique_ptr<BrevoSmsProvider>(new BrevoSmsProvider(std::move(options)));
}

BrevoSmsProvider::BrevoSmsProvider(BrevoSmsOptions options)
    : options_(std::move(options)), http_(options_.http) {}

SendResult BrevoSmsProvider::Send(const OutboundMessage& message) {
  if (auto bad = CheckRecipient(message.recipient)) return *bad;
  SmsEncoding encoding;
  if (auto bad = CheckText(message.text, &encoding)) return *bad;

  json::object body;
  body["sender"] = options_.sender;
  body["recipient"] = message.recipient;
  body["content"] = message.text;
  body["type"] = "transactional";
  // Brevo's default is false, which would not send characters outside GSM-7 as they are.
  body["unicodeEnabled"] = encoding == SmsEncoding::kUcs2;

  net::HttpRequest request;
  request.url = StrCat(options_.base_url, "/v3/transactionalSMS/send");
  request.content_type = "application/json";
  request.headers = {{"Accept", "application/json"}, {"api-key", options_.api_key}};
  request.body = json::serialize(body);
  request.timeout = options_.timeout;
  Result<net::HttpResponse> response = http_.Post(request);
  if (!response.ok()) return TransportFailure(response.status());
  return ClassifyBrevo(*response);
}

// --- FreeMobileSmsProvider --------------------------------------------------------------------

Result<std::unique_ptr<FreeMobileSmsProvider>> FreeMobileSmsProvider::Create(
    FreeMobileSmsOptions options) {
  HERALD_RETURN_IF_ERROR(CheckHttpProviderOptions(options.base_url, options.timeout, "freemobile"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.user, "freemobile", "user"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.pass, "freemobile", "pass"));
  return std::unique_ptr<FreeMobileSmsProvider>(new FreeMobileSmsProvider(std::move(options)));
}

FreeMobileSmsProvider::FreeMobileSmsProvider(FreeMobileSmsOptions options)
    : options_(std::move(options)), http_(options_.http) {}

SendResult FreeMobileSmsProvider::Send(const OutboundMessage& message) {
  // The recipient is deliberately not checked: Free Mobile only ever sends to the account's
  // own line.
  SmsEncoding encoding;
  if (auto bad = CheckText(message.text, &encoding)) return *bad;

  // GET, the method Free documents first; the key travels in the query string, so the URL is
  // never logged nor put in a result.
  net::HttpRequest request;
  request.url = StrCat(
      options_.base_url, "/sendmsg?",
      net::QueryEncode({{"user", options_.user}, {"pass", options_.pass}, {"msg", message.text}}));
  request.timeout = options_.timeout;
  Result<net::HttpResponse> response = http_.Get(request);
  if (!response.ok()) return TransportFailure(response.status());
  return ClassifyFreeMobile(*response);
}

}  // namespace herald::notify
