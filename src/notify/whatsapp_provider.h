#pragma once
// WhatsAppProvider: WhatsApp messages through Meta's WhatsApp Cloud API (Graph API). It builds
// the exact request, sends it with an HttpClient (connections reused) and classifies the answer
// for the Notifier (provider.h). Sources: research notes §2.5; developers.facebook.com
// /docs/whatsapp/cloud-api/reference/messages and .../reference/media; Apprise
// plugins/whatsapp.py (the request Apprise sends).
//
// Request (one per message, two when a file is uploaded first):
//   POST {base_url}/{api_version}/{phone_number_id}/messages
//   Authorization: Bearer <access_token>; Content-Type: application/json
//   {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+33612345678",
//    "type": <type>, <type>: {...}}
// "to" is the recipient's E.164 number WITH its '+': Meta's "WhatsApp user phone number
// formats" section of the messages reference recommends the plus sign and country calling
// code, because without the '+' Meta prepends the business number's own calling code (a
// message can then go to the wrong person). Apprise sends "+<digits>" too.
//
// The message is, in this order of precedence:
//   - a template (OutboundMessage::whatsapp_template): type "template",
//       {"name": .., "language": {"code": ..}, "components": [{"type": "body", "parameters":
//       [{"type": "text", "text": ..}, ...]}]}   ("components" only when there are parameters);
//   - a media (OutboundMessage::media): type "image" or "document", {"link": ..} or
//       {"id": <uploaded media id>}, "caption" (the media's caption, else the message's text,
//       when not empty: at most 1024 characters) and, for a document, "filename" (the file's
//       name, when set). `link` (http or https) and `file.data` are exclusive. A file is
//       uploaded first:
//         POST {base_url}/{api_version}/{phone_number_id}/media
//         Content-Type: multipart/form-data; boundary=<a boundary that occurs in no part>
//         parts: messaging_product=whatsapp, type=<content type>, file (filename, content type,
//         the raw bytes)  ->  {"id": "<media id>"}
//       The content type is the file's, else guessed from its filename (GuessContentType).
//       Limits checked before the upload (Meta's supported media): an image must be
//       image/jpeg or image/png and at most kMaxWhatsAppImageBytes; a document at most
//       kMaxWhatsAppDocumentBytes. Every retry uploads again (Meta keeps uploads 30 days).
//   - otherwise text: type "text", {"preview_url": false, "body": <text>}, at most
//       kMaxWhatsAppTextChars characters.
//
// Answers:
//   2xx {"messaging_product": "whatsapp", "contacts": [...], "messages": [{"id": "wamid..",
//       "message_status": "accepted"}]}: kSent with messages[0].id. "held_for_quality_assessment"
//       is sent as well: accepted is not delivered, delivery comes through the webhook
//       (meta_webhook.h). A 2xx without messages[0].id is retryable "invalid_response".
//   error {"error": {"message", "type", "code", "error_subcode", "error_data": {"details"},
//       "fbtrace_id"}}: `code` is error.code as text (else the HTTP status), `message`
//       error_data.details when present, else error.message; the outcome is
//       WhatsAppErrorOutcome(error.code). Without a readable error.code (an HTML 502, an empty
//       429, ...) the failure is retryable.
// Codes of ours, decided before any request (kPermanent): "invalid_number" (not E.164),
// "empty_message" (no text, template or media), "invalid_message" (too long, invalid UTF-8, a
// media type other than image or document, a file too large or of the wrong type, a link that
// is not http(s), a template without name or language). After a request (kRetryable):
// "timeout", "connection", "http_client" (TransportFailure, http_provider.h) and
// "invalid_response".
//
// The access token is never logged nor put in a result's message (it is redacted should Meta
// ever echo it). `timeout` bounds each request: an upload and its message are two requests.
//
// Thread-safe: Send may be called from several workers at once.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "boost/json/object.hpp"
#include "core/status.h"
#include "net/http_client.h"
#include "notify/provider.h"

namespace herald::notify {

inline constexpr size_t kMaxWhatsAppTextChars = 4096;     // text.body, in code points
inline constexpr size_t kMaxWhatsAppCaptionChars = 1024;  // media caption, in code points
inline constexpr size_t kMaxWhatsAppImageBytes = 5 * 1024 * 1024;
inline constexpr size_t kMaxWhatsAppDocumentBytes = 100 * 1024 * 1024;

struct WhatsAppOptions {
  std::string base_url = "https://graph.facebook.com";
  std::string api_version = "v21.0";  // part of the path: v<digits>.<digits>
  std::string phone_number_id;        // the business number's id in Meta (digits), not the number
  std::string access_token;           // a system user or app access token
  absl::Duration timeout = absl::Seconds(15);  // per HTTP request
  net::HttpClientOptions http;
};

// The outcome of a Graph API error code (see the table in whatsapp_provider.cc): kPermanent
// for the codes that blame the recipient, the message, its template or its media; kRetryable
// for every other code, unknown ones included. Also meant for the errors[].code of a failed
// status in Meta's webhook (meta_webhook.h).
SendResult::Outcome WhatsAppErrorOutcome(int code);

class WhatsAppProvider final : public Provider {
 public:
  // InvalidArgument for a missing phone_number_id or access_token, a phone_number_id that is
  // not digits, an access token with spaces or control characters, a base URL that is not
  // http(s), an api_version not of the form v<digits>.<digits> or a non-positive timeout.
  static Result<std::unique_ptr<WhatsAppProvider>> Create(WhatsAppOptions options);

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kWhatsApp; }
  SendResult Send(const OutboundMessage& message) override;

 private:
  explicit WhatsAppProvider(WhatsAppOptions options);
  // POSTs to {base}/{version}/{phone_number_id}/{edge}.
  Result<net::HttpResponse> Post(std::string_view edge, std::string content_type, std::string body);
  // Uploads `file` as `content_type`: kSent with the media id as provider_message_id, or the
  // failure to report.
  SendResult Upload(const Attachment& file, const std::string& content_type);
  // Adds type "image" or "document" and its object to `body`, uploading the file first if
  // there is one; a refusal or the upload's failure otherwise. `text` is the caption by default.
  std::optional<SendResult> AddMedia(const Media& media, const std::string& text,
                                     boost::json::object& body);
  // Removes the access token from a result's message.
  SendResult Redact(SendResult result) const;

  const WhatsAppOptions options_;
  const std::string name_ = "whatsapp";
  const std::string url_prefix_;  // {base_url}/{api_version}/{phone_number_id}/
  net::HttpClient http_;
};

}  // namespace herald::notify
