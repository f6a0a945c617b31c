#pragma once
// SMS providers over HTTP APIs: Twilio, Vonage (legacy SMS API), Brevo (transactional SMS) and
// Free Mobile ("Notifications par SMS"). Each one builds the provider's exact request, sends it
// with an HttpClient (connections reused) and classifies the answer for the Notifier
// (provider.h):
//   kSent       the provider accepted the message; provider_message_id is its id there
//               (Free Mobile gives none: empty);
//   kPermanent  the recipient or the message is at fault and no provider would do better: an
//               invalid, unroutable, barred or opted-out number, an empty or invalid body;
//   kRetryable  everything else: rate limits, provider errors (5xx), transport failures and
//               timeouts, and a misconfigured or unfunded account (bad credentials, a sender
//               the account may not use, no credit), which another provider may get past.
// `code` is the provider's own code (Twilio's error code, Vonage's status, Brevo's error code,
// Free Mobile's HTTP status), or one of ours: "invalid_number", "invalid_message",
// "empty_message" (checked before any request), "timeout", "connection", "invalid_response".
// An unknown provider code is retryable: a retry budget wasted is better than a message lost.
//
// Before any request, Send checks (except where noted) that the recipient is an E.164 number
// (IsE164) and that the text is non-empty valid UTF-8 of at most kMaxSmsTextBytes.
// Secrets (tokens, keys, passwords) are never logged nor put in a result's message.
// The base URL of every provider can be overridden (tests point it at a local fake server).
//
// Every provider is Thread-safe: Send may be called from several workers at once.

#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/status.h"
#include "net/http_client.h"
#include "notify/provider.h"

namespace herald::notify {

// True for '+' followed by 8 to 15 digits, the first not 0 (ITU-T E.164 allows at most 15
// digits and no country code starts with 0).
bool IsE164(std::string_view number);

// ---------------------------------------------------------------------------------------------
// Twilio Programmable Messaging:
//   POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json
//   Authorization: Basic base64(account_sid:auth_token)
//   Content-Type: application/x-www-form-urlencoded; Accept: application/json
//   To=<E.164>&From=<from>&Body=<text>     (MessagingServiceSid=<sid> instead of From)
// 2xx (201 Created) is sent, the id is the JSON "sid". An error is JSON
// {"code": 21211, "message": ..., "more_info": ..., "status": 400}: code is Twilio's code
// (else the HTTP status), classified by TwilioErrorOutcome; 429 and 5xx are retryable.
struct TwilioSmsOptions {
  std::string base_url = "https://api.twilio.com";
  std::string account_sid;  // AC..., letters and digits
  std::string auth_token;
  std::string from;                   // a Twilio number, short code or alphanumeric sender id
  std::string messaging_service_sid;  // or a Messaging Service (exactly one of the two)
  std::string status_callback;        // sent as StatusCallback when set (delivery reports)
  absl::Duration timeout = absl::Seconds(15);
  net::HttpClientOptions http;
};

// kPermanent for the codes that blame the recipient or the message (see the table in
// sms_providers.cc), kRetryable for every other code. Also meant for the ErrorCode of Twilio's
// status callbacks (30003..30008).
SendResult::Outcome TwilioErrorOutcome(int code);

class TwilioSmsProvider final : public Provider {
 public:
  // InvalidArgument for a missing credential, neither or both of from and
  // messaging_service_sid, a base URL that is not http(s) or a non-positive timeout.
  static Result<std::unique_ptr<TwilioSmsProvider>> Create(TwilioSmsOptions options);

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kSms; }
  SendResult Send(const OutboundMessage& message) override;

 private:
  explicit TwilioSmsProvider(TwilioSmsOptions options);
  const TwilioSmsOptions options_;
  const std::string name_ = "twilio";
  net::HttpClient http_;
};

// ---------------------------------------------------------------------------------------------
// Vonage SMS API (legacy):
//   POST {base_url}/sms/json
//   Content-Type: application/x-www-form-urlencoded
//   api_key=..&api_secret=..&from=..&to=<E.164 without '+'>&text=..[&type=unicode]
// type=unicode is sent when the text is not GSM-7 (CountSmsSegments). The answer is HTTP 200
// even for a refused message: {"message-count": "1", "messages": [{"status": "0",
// "message-id": ...}]} with one entry per part. Sent when every part has status "0" (the id is
// the first part's message-id); otherwise the first non-zero status is the code, classified by
// VonageStatusOutcome, with its "error-text" as message. A failure after some parts were
// accepted is still reported as a failure (a retry may repeat those parts).
struct VonageSmsOptions {
  std::string base_url = "https://rest.nexmo.com";
  std::string api_key;
  std::string api_secret;
  std::string from;  // a number or an alphanumeric sender id
  absl::Duration timeout = absl::Seconds(15);
  net::HttpClientOptions http;
};

// Outcome of a non-zero Vonage SMS API status (see the table in sms_providers.cc).
SendResult::Outcome VonageStatusOutcome(std::string_view status);

class VonageSmsProvider final : public Provider {
 public:
  // InvalidArgument for a missing key, secret or sender, a base URL that is not http(s) or a
  // non-positive timeout.
  static Result<std::unique_ptr<VonageSmsProvider>> Create(VonageSmsOptions options);

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kSms; }
  SendResult Send(const OutboundMessage& message) override;

 private:
  explicit VonageSmsProvider(VonageSmsOptions options);
  const VonageSmsOptions options_;
  const std::string name_ = "vonage";
  net::HttpClient http_;
};

// ---------------------------------------------------------------------------------------------
// Brevo transactional SMS (the /send endpoint that replaced /v3/transactionalSMS/sms):
//   POST {base_url}/v3/transactionalSMS/send
//   api-key: <api_key>; Content-Type: application/json; Accept: application/json
//   {"sender": .., "recipient": "+336..", "content": .., "type": "transactional",
//    "unicodeEnabled": <true when the text is not GSM-7>}
// 2xx (201) is sent, the id is "messageId" (a number, as decimal text). Errors are JSON
// {"code": "invalid_parameter", "message": ...}: 400 is permanent; 401, 402 (credit), 403,
// 429, 5xx and anything else retryable. code is Brevo's code, else the HTTP status.
struct BrevoSmsOptions {
  std::string base_url = "https://api.brevo.com";
  std::string api_key;
  std::string sender;  // up to 11 alphanumeric or 15 numeric characters
  absl::Duration timeout = absl::Seconds(15);
  net::HttpClientOptions http;
};

class BrevoSmsProvider final : public Provider {
 public:
  // InvalidArgument for a missing key or sender, a base URL that is not http(s) or a
  // non-positive timeout.
  static Result<std::unique_ptr<BrevoSmsProvider>> Create(BrevoSmsOptions options);

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kSms; }
  SendResult Send(const OutboundMessage& message) override;

 private:
  explicit BrevoSmsProvider(BrevoSmsOptions options);
  const BrevoSmsOptions options_;
  const std::string name_ = "brevo";
  net::HttpClient http_;
};

// ---------------------------------------------------------------------------------------------
// Free Mobile "Notifications par SMS": sends ONLY to the subscriber's own Free Mobile line.
// The message's `recipient` is IGNORED (not even checked): whatever it says, the SMS goes to
// the phone of the account `user`. Meant for operator alerts, not for customers.
//   GET {base_url}/sendmsg?user=<user>&pass=<pass>&msg=<percent-encoded text>
// The answer is only the HTTP status: 200 sent (no id: provider_message_id is empty);
// 400 a parameter is missing (permanent); 402 too many SMS in too little time (retryable);
// 403 service not enabled or wrong login/key (retryable: configuration); 500 server error
// (retryable). code is the HTTP status.
struct FreeMobileSmsOptions {
  std::string base_url = "https://smsapi.free-mobile.fr";
  std::string user;  // the subscriber login
  std::string pass;  // the identification key generated with the option
  absl::Duration timeout = absl::Seconds(15);
  net::HttpClientOptions http;
};

class FreeMobileSmsProvider final : public Provider {
 public:
  // InvalidArgument for a missing user or key, a base URL that is not http(s) or a
  // non-positive timeout.
  static Result<std::unique_ptr<FreeMobileSmsProvider>> Create(FreeMobileSmsOptions options);

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kSms; }
  SendResult Send(const OutboundMessage& message) override;

 private:
  explicit FreeMobileSmsProvider(FreeMobileSmsOptions options);
  const FreeMobileSmsOptions options_;
  const std::string name_ = "freemobile";
  net::HttpClient http_;
};

}  // namespace herald::notify
