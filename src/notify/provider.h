#pragma once
// Provider: one way of delivering a rendered notification on one channel (an SMTP relay, an
// SMS API, the development log). The Notifier tries a channel's providers in priority order
// (notifier.h); a provider only sends and says how it went.
//
// Send never throws and never blocks longer than the provider's own timeout. Its result is
// classified so that the caller can act on it without knowing the provider:
//   kSent       accepted by the provider; provider_message_id identifies it there;
//   kRetryable  may succeed later or through another provider (timeouts, 4xx SMTP replies,
//               HTTP 429/5xx, connection failures, a misconfigured provider);
//   kPermanent  will fail again whoever sends it (5xx SMTP replies for the recipient, an
//               invalid number, an opted-out recipient): the notification fails at once.
// `code` and `message` carry the provider's own error code and text, for the status API.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "notify/mime.h"

namespace herald::notify {

enum class Channel { kEmail, kSms, kWhatsApp, kChat };

// "email", "sms", "whatsapp", "chat".
std::string_view ChannelName(Channel channel);
// InvalidArgument for any other name.
Result<Channel> ParseChannel(std::string_view name);

// WhatsApp: a template approved in Meta's WhatsApp Manager. Business-initiated messages
// outside the 24-hour customer-service window must be one.
struct WhatsAppTemplate {
  std::string name;                          // e.g. "booking_confirmation"
  std::string language;                      // Meta's code: "fr", "en_US"
  std::vector<std::string> body_parameters;  // {{1}}, {{2}}, ... in order
};

// WhatsApp: a document or an image, either at a public https link or as bytes to upload.
struct Media {
  std::string type;  // "document" or "image"
  std::string link;  // https://...; empty when `file` is set
  Attachment file;   // filename, content_type and data when uploaded
  std::string caption;
};

// A rendered notification, ready to go.
struct OutboundMessage {
  std::string notification_id;
  Channel channel = Channel::kEmail;
  std::string recipient;  // email address, E.164 phone number, or chat target name
  MailMessage mail;       // email: complete (from, to, subject, bodies, attachments)
  std::string text;       // other channels: the body (a WhatsApp media's caption if no caption)
  std::string title;      // chat: an optional heading
  std::optional<WhatsAppTemplate> whatsapp_template;  // WhatsApp: sent instead of `text`
  std::optional<Media> media;                         // WhatsApp: sent instead of `text`
};

struct SendResult {
  enum class Outcome { kSent, kRetryable, kPermanent };
  Outcome outcome = Outcome::kRetryable;
  std::string provider_message_id;  // kSent
  std::string code;                 // the provider's error code ("550", "21211", ...)
  std::string message;              // the provider's error text

  static SendResult Sent(std::string id) { return {Outcome::kSent, std::move(id), "", ""}; }
  static SendResult Retryable(std::string code, std::string message) {
    return {Outcome::kRetryable, "", std::move(code), std::move(message)};
  }
  static SendResult Permanent(std::string code, std::string message) {
    return {Outcome::kPermanent, "", std::move(code), std::move(message)};
  }
  // A failure whose class was decided by a table (kRetryable or kPermanent).
  static SendResult Failure(Outcome outcome, std::string code, std::string message) {
    return {outcome, "", std::move(code), std::move(message)};
  }
  bool sent() const { return outcome == Outcome::kSent; }
};

// Thread-safe: Send is called from several workers at once.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& name() const = 0;  // "smtp", "log", "twilio", ...
  virtual Channel channel() const = 0;
  virtual SendResult Send(const OutboundMessage& message) = 0;
};

}  // namespace herald::notify
