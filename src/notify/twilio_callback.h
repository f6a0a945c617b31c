#pragma once
// Twilio message status callbacks: the request signature and the status fields.
//
// Signature (https://www.twilio.com/docs/usage/security#validating-requests): the
// X-Twilio-Signature header is base64(HMAC-SHA1(auth token, URL + every POST parameter
// sorted by name, each as name followed by value, no separators)), where URL is the callback
// URL exactly as Twilio called it (the StatusCallback Herald gave with the message).
// Compared in constant time.
//
// Status (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
// MessageSid, MessageStatus (queued, sending, sent, delivered, undelivered, failed, read),
// ErrorCode when it failed.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace herald::notify {

using FormParams = std::vector<std::pair<std::string, std::string>>;

std::string TwilioSignature(std::string_view auth_token, std::string_view url,
                            const FormParams& params);
bool VerifyTwilioSignature(std::string_view auth_token, std::string_view url,
                           const FormParams& params, std::string_view signature);

struct TwilioStatus {
  std::string message_sid;
  std::string status;      // as Twilio sends it
  std::string error_code;  // "" unless undelivered or failed
};
// InvalidArgument naming the missing field (MessageSid, MessageStatus).
Result<TwilioStatus> ParseTwilioStatus(const FormParams& params);

}  // namespace herald::notify
