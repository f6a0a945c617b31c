#include "notify/whatsapp_provider.h"

#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "auth/crypto.h"
#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "core/utf8.h"
#include "notify/http_provider.h"
#include "notify/mime.h"
#include "notify/sms_providers.h"

namespace herald::notify {
namespace {

namespace json = boost::json;
using Outcome = SendResult::Outcome;

constexpr int kReEngagementRequired = 131047;
constexpr std::string_view kOutsideWindow =
    "outside the 24-hour customer-service window: the recipient has not written in the last 24 "
    "hours; send an approved template message instead";

SendResult InvalidMessage(std::string message) {
  return SendResult::Permanent("invalid_message", std::move(message));
}

// A permanent result when `text` is not valid UTF-8 or has more than `max_chars` code points.
std::optional<SendResult> CheckUtf8(std::string_view text, std::string_view what,
                                    size_t max_chars = SIZE_MAX) {
  size_t chars = 0;
  if (!core::CountUtf8(text, chars)) return InvalidMessage(StrCat("the ", what, " is not UTF-8"));
  if (chars > max_chars) {
    return InvalidMessage(
        StrCat("the ", what, " has ", chars, " characters; WhatsApp takes at most ", max_chars));
  }
  return std::nullopt;
}

bool IsTokenChar(char c) {
  // RFC 2045 token: printable ASCII except SPACE and tspecials.
  return c > 0x20 && c < 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// "type/subtype" lower-cased, without parameters; nullopt when it is not one.
std::optional<std::string> BareContentType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  const size_t slash = t.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == t.size()) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i != slash && !IsTokenChar(t[i])) return std::nullopt;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(t[i]))));
  }
  return out;
}

// A filename for a Content-Disposition quoted string, escaped as the WHATWG HTML standard
// encodes form data ("multipart/form-data encoding algorithm"): '"' as %22, CR as %0D, LF as
// %0A; other bytes, UTF-8 included, as they are.
std::string DispositionFilename(std::string_view filename) {
  std::string out;
  for (char c : filename) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A multipart/form-data boundary (RFC 2046: at most 70 characters) that occurs in none of
// `parts`. Derived from the data rather than random, so that a request is reproducible; a
// collision with the data only makes it try another.
std::string ChooseBoundary(std::string_view data, std::initializer_list<std::string_view> parts) {
  const std::string seed = auth::Sha256Hex(data);
  for (int attempt = 0;; ++attempt) {
    std::string boundary =
        StrCat("herald-", auth::Sha256Hex(StrCat(seed, "/", attempt)).substr(0, 40));
    bool clash = data.find(boundary) != std::string_view::npos;
    for (std::string_view p : parts) clash = clash || p.find(boundary) != std::string_view::npos;
    if (!clash) return boundary;
  }
}

// The multipart/form-data body of a media upload (RFC 7578), with every line break CRLF.
std::string UploadBody(const std::string& boundary, std::string_view content_type,
                       std::string_view filename, std::string_view data) {
  std::string body;
  body.reserve(data.size() + 512);
  auto field = [&](std::string_view name, std::string_view value) {
    body += StrCat("--", boundary, "\r\nContent-Disposition: form-data; name=\"", name,
                   "\"\r\n\r\n", value, "\r\n");
  };
  field("messaging_product", "whatsapp");
  field("type", content_type);
  body += StrCat("--", boundary, "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"",
                 DispositionFilename(filename), "\"\r\nContent-Type: ", content_type, "\r\n\r\n");
  body.append(data);
  body += StrCat("\r\n--", boundary, "--\r\n");
  return body;
}

// A Graph API error answer: {"error": {"message", "type", "code", "error_subcode",
// "error_data": {"details"}, "fbtrace_id"}} (research notes §2.5; pywa errors.py reads the
// same fields). Without a readable error.code the failure is retryable: an HTML 502 from a
// proxy, an empty 429, ...
SendResult ClassifyGraphError(const net::HttpResponse& r) {
  std::optional<json::object> body = ParseJsonObject(r.body);
  const json::value* error_value = body ? body->if_contains("error") : nullptr;
  const json::object* error = error_value != nullptr ? error_value->if_object() : nullptr;
  std::optional<int64_t> graph_code;
  std::string message;
  if (error != nullptr) {
    graph_code = JsonIntField(*error, "code");
    const json::value* data = error->if_contains("error_data");
    if (data != nullptr && data->is_object()) message = JsonField(data->as_object(), "details");
    if (message.empty()) message = JsonField(*error, "message");
  }
  message = ClipProviderText(message);
  if (message.empty()) message = HttpStatusText(r);
  if (!graph_code || *graph_code < INT32_MIN || *graph_code > INT32_MAX) {
    return SendResult::Retryable(std::to_string(r.status), std::move(message));
  }
  const int code = static_cast<int>(*graph_code);
  if (code == kReEngagementRequired) message = StrCat(kOutsideWindow, ". Meta: ", message);
  return SendResult::Failure(WhatsAppErrorOutcome(code), std::to_string(code), std::move(message));
}

// The answer to POST .../messages (research notes §2.5; whatsapp-api-js
// ServerSentMessageResponse): {"messaging_product": "whatsapp", "contacts": [{"input",
// "wa_id"}], "messages": [{"id": "wamid..", "message_status": "accepted"}]}.
SendResult ClassifyMessage(const net::HttpResponse& r) {
  if (!Is2xx(r.status)) return ClassifyGraphError(r);
  std::optional<json::object> body = ParseJsonObject(r.body);
  const json::value* messages = body ? body->if_contains("messages") : nullptr;
  const json::array* list = messages != nullptr ? messages->if_array() : nullptr;
  std::string id;
  if (list != nullptr && !list->empty() && list->front().is_object()) {
    id = JsonField(list->front().as_object(), "id");
  }
  if (id.empty()) {
    return SendResult::Retryable("invalid_response", StrCat("no messages[0].id in Meta's answer: ",
                                                            ClipProviderText(r.body)));
  }
  // message_status "accepted" or "held_for_quality_assessment": both are accepted for
  // delivery; what happens next arrives through the webhook.
  return SendResult::Sent(std::move(id));
}

// The answer to POST .../media: {"id": "<media id>"} (docs.kapso.ai upload-media; research notes
// §2.5). kSent carries the media id.
SendResult ClassifyUpload(const net::HttpResponse& r) {
  if (!Is2xx(r.status)) {
    SendResult failure = ClassifyGraphError(r);
    failure.message = StrCat("media upload: ", failure.message);
    return failure;
  }
  std::optional<json::object> body = ParseJsonObject(r.body);
  std::string id = body ? JsonField(*body, "id") : "";
  if (id.empty()) {
    return SendResult::Retryable("invalid_response", StrCat("no id in Meta's media upload answer: ",
                                                            ClipProviderText(r.body)));
  }
  return SendResult::Sent(std::move(id));
}

// Adds type "template" and its object to `body`; a refusal when the template cannot be sent.
std::optional<SendResult> AddTemplate(const WhatsAppTemplate& t, json::object& body) {
  if (t.name.empty() || t.language.empty()) {
    return InvalidMessage("a WhatsApp template needs a name and a language");
  }
  if (auto bad = CheckUtf8(t.name, "template name")) return *bad;
  if (auto bad = CheckUtf8(t.language, "template language")) return *bad;
  json::object tpl;
  tpl["name"] = t.name;
  tpl["language"] = json::object{{"code", t.language}};
  if (!t.body_parameters.empty()) {
    json::array parameters;
    for (const std::string& p : t.body_parameters) {
      if (auto bad = CheckUtf8(p, "template parameter")) return *bad;
      parameters.push_back(json::object{{"type", "text"}, {"text", p}});
    }
    tpl["components"] =
        json::array{json::object{{"type", "body"}, {"parameters", std::move(parameters)}}};
  }
  body["type"] = "template";
  body["template"] = std::move(tpl);
  return std::nullopt;
}

// Adds type "text" and its object to `body`; a refusal when the text cannot be sent.
std::optional<SendResult> AddText(const std::string& text, json::object& body) {
  if (text.empty()) return SendResult::Permanent("empty_message", "the text is empty");
  if (auto bad = CheckUtf8(text, "text", kMaxWhatsAppTextChars)) return *bad;
  body["type"] = "text";
  body["text"] = json::object{{"preview_url", false}, {"body", text}};
  return std::nullopt;
}

bool IsApiVersion(std::string_view v) {
  // v<digits>.<digits>, e.g. v21.0
  if (v.size() < 4 || v[0] != 'v') return false;
  const size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 1 || dot + 1 == v.size()) return false;
  for (size_t i = 1; i < v.size(); ++i) {
    if (i != dot && !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

}  // namespace

// Graph API error codes for WhatsApp (david-lev/pywa pywa/errors.py @e831c304, which follows
// developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes; research notes §2.5).
// Permanent: the recipient, the message, its template or its media is at fault, and another
// provider would send the same thing to the same WhatsApp (every WhatsApp provider ends at
// Meta), so it would fail again:
//   131047  re-engagement message: more than 24 hours since the recipient last replied; only a
//           template may be sent (Send's message says so)
//   131026  message undeliverable: not a WhatsApp number, terms of service not accepted, an old
//           WhatsApp version
//   131051  unsupported message type
//   131030  recipient not in the allowed list (a test number may only send to its 5 numbers)
//   131008  required parameter missing             131009  parameter value invalid
//   100     invalid parameter (Graph API)
//   132000  template parameter count mismatch      132001  template does not exist in that
//                                                          language, or is not approved
//   132005  template text too long (once filled)   132007  template content violates a policy
//   132012  template parameter format mismatch     132015  template paused (low quality)
//   132016  template disabled (paused too often)
//   131052  media download error                   131053  media upload error
// The two media errors are permanent because they blame the media itself: a type or size Meta
// does not accept, a file it cannot process, a link it cannot fetch. Resending the same media
// through any provider gives the same answer; a link that was only briefly unreachable is the
// exception we accept (the failure then says why, with Meta's details).
// Retryable, among others: 0 (authentication), 3 (capability), 10 (permission), 190 (access
// token expired), 200-299 (API permission): the configuration, which another provider may get
// past; 4 (app call limit), 80007 (account rate limit), 130429 (throughput), 131048 (spam rate
// limit), 131056 (too many messages to the same recipient): rate limits; 131000 (unknown),
// 131016 (service unavailable), 131057 (maintenance): Meta's side; 368 and 131031 (account
// restricted or locked), 131042 (payment issue): the account; and every unknown code.
SendResult::Outcome WhatsAppErrorOutcome(int code) {
  switch (code) {
    case 100:
    case 131008:
    case 131009:
    case 131026:
    case 131030:
    case 131047:
    case 131051:
    case 131052:
    case 131053:
    case 132000:
    case 132001:
    case 132005:
    case 132007:
    case 132012:
    case 132015:
    case 132016:
      return Outcome::kPermanent;
    default:
      return Outcome::kRetryable;
  }
}

Result<std::unique_ptr<WhatsAppProvider>> WhatsAppProvider::Create(WhatsAppOptions options) {
  HERALD_RETURN_IF_ERROR(CheckHttpProviderOptions(options.base_url, options.timeout, "whatsapp"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.phone_number_id, "whatsapp", "phone_number_id"));
  HERALD_RETURN_IF_ERROR(RequireOption(options.access_token, "whatsapp", "access_token"));
  // The id goes into the URL path: digits only, as Meta issues them (Apprise checks the same).
  for (char c : options.phone_number_id) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("whatsapp: phone_number_id must be digits");
    }
  }
  for (char c : options.access_token) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(
          "whatsapp: access_token must be printable ASCII without spaces");
    }
  }
  if (!IsApiVersion(options.api_version)) {
    return absl::InvalidArgumentError("whatsapp: api_version must look like v21.0");
  }
  return std::unique_ptr<WhatsAppProvider>(new WhatsAppProvider(std::move(options)));
}

WhatsAppProvider::WhatsAppProvider(WhatsAppOptions options)
    : options_(std::move(options)),
      url_prefix_(
          StrCat(options_.base_url, "/", options_.api_version, "/", options_.phone_number_id, "/")),
      http_(options_.http) {}

Result<net::HttpResponse> WhatsAppProvider::Post(std::string_view edge, std::string content_type,
                                            std::string body) {
  net::HttpRequest request;
  request.url = StrCat(url_prefix_, edge);
  request.content_type = std::move(content_type);
  request.headers = {{"Accept", "application/json"},
                     {"Authorization", StrCat("Bearer ", options_.access_token)}};
  request.body = std::move(body);
  request.timeout = options_.timeout;
  return http_.Post(request);
}

SendResult WhatsAppProvider::Upload(const Attachment& file, const std::string& content_type) {
  const std::string filename = file.filename.empty() ? "file" : file.filename;
  const std::string boundary = ChooseBoundary(file.data, {content_type, filename});
  Result<net::HttpResponse> response = Post("media", StrCat("multipart/form-data; boundary=", boundary),
                                       UploadBody(boundary, content_type, filename, file.data));
  if (!response.ok()) return TransportFailure(response.status());
  return ClassifyUpload(*response);
}

SendResult WhatsAppProvider::Redact(SendResult result) const {
  const std::string& token = options_.access_token;
  for (size_t at = result.message.find(token); at != std::string::npos;
       at = result.message.find(token, at)) {
    result.message.replace(at, token.size(), "[redacted]");
  }
  return result;
}

std::optional<SendResult> WhatsAppProvider::AddMedia(const Media& media, const std::string& text,
                                                     json::object& body) {
  const bool image = media.type == "image";
  if (!image && media.type != "document") {
    return InvalidMessage(StrCat("WhatsApp media must be an image or a document, not '",
                                 ClipProviderText(media.type.substr(0, 32)), "'"));
  }
  const bool upload = !media.file.data.empty();
  if (upload && !media.link.empty()) {
    return InvalidMessage("a WhatsApp media has either a link or a file's bytes, not both");
  }
  if (!upload && media.link.empty()) {
    return InvalidMessage("a WhatsApp media needs a link or a file's bytes");
  }
  const std::string& caption = media.caption.empty() ? text : media.caption;
  if (auto bad = CheckUtf8(caption, "caption", kMaxWhatsAppCaptionChars)) return *bad;
  if (auto bad = CheckUtf8(media.file.filename, "filename")) return *bad;

  json::object object;
  if (upload) {
    const std::optional<std::string> type = BareContentType(
        media.file.content_type.empty() ? GuessContentType(media.file.filename)
                                        : std::string_view(media.file.content_type));
    if (!type) {
      return InvalidMessage(StrCat("'", ClipProviderText(media.file.content_type.substr(0, 64)),
                                   "' is not a content type"));
    }
    const size_t size = media.file.data.size();
    if (image && *type != "image/jpeg" && *type != "image/png") {
      return InvalidMessage(
          StrCat("a WhatsApp image must be image/jpeg or image/png, not ", *type));
    }
    const size_t limit = image ? kMaxWhatsAppImageBytes : kMaxWhatsAppDocumentBytes;
    if (size > limit) {
      return InvalidMessage(
          StrCat("the ", media.type, " has ", size, " bytes; WhatsApp takes at most ", limit));
    }
    SendResult uploaded = Upload(media.file, *type);
    if (!uploaded.sent()) return uploaded;
    object["id"] = uploaded.provider_message_id;
  } else {
    if (!media.link.starts_with("https://") && !media.link.starts_with("http://")) {
      return InvalidMessage("a WhatsApp media link must be an http(s) URL");
    }
    if (auto bad = CheckUtf8(media.link, "media link")) return *bad;
    object["link"] = media.link;
  }
  if (!caption.empty()) object["caption"] = caption;
  if (!image && !media.file.filename.empty()) object["filename"] = media.file.filename;
  body["type"] = media.type;
  body[media.type] = std::move(object);
  return std::nullopt;
}

SendResult WhatsAppProvider::Send(const OutboundMessage& message) {
  if (!IsE164(message.recipient)) {
    return SendResult::Permanent(
        "invalid_number",
        StrCat("the recipient '", ClipProviderText(message.recipient.substr(0, 32)),
               "' is not an E.164 number (+ and 8 to 15 digits)"));
  }
  json::object body;
  body["messaging_product"] = "whatsapp";
  body["recipient_type"] = "individual";
  body["to"] = message.recipient;

  std::optional<SendResult> refused;
  if (message.whatsapp_template) {
    refused = AddTemplate(*message.whatsapp_template, body);
  } else if (message.media) {
    refused = AddMedia(*message.media, message.text, body);
  } else {
    refused = AddText(message.text, body);
  }
  if (refused) return Redact(*std::move(refused));

  Result<net::HttpResponse> response = Post("messages", "application/json", json::serialize(body));
  if (!response.ok()) return Redact(TransportFailure(response.status()));
  return Redact(ClassifyMessage(*response));
}

}  // namespace herald::notify
