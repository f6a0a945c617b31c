#pragma once
// Meta's webhook for the WhatsApp Cloud API: the request signature, the delivery statuses of
// the messages WhatsAppProvider sent, and the subscription handshake.
//
// Signature (research notes §2.5; hexdocs.pm/whatsapp_sdk WhatsApp.Webhook; Meta's "Webhooks"
// guide, "Validating payloads"): every POST carries
//   X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>
// computed over the body bytes exactly as received (verify before parsing).
//
// Statuses (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/
// reference/messages/status):
//   {"object": "whatsapp_business_account", "entry": [{"id": <WABA id>, "changes": [{"field":
//    "messages", "value": {"messaging_product": "whatsapp", "metadata": {...}, "statuses": [
//    {"id": "wamid..", "status": "delivered", "timestamp": "1750263773", "recipient_id":
//     "16505551234", "conversation": {...}, "pricing": {...}}]}}]}]}
// A failed status adds "errors": [{"code": 131050, "title": .., "message": .., "error_data":
// {"details": ..}, "href": ..}]. A change without "statuses" (an incoming message) is ignored,
// as are value-level "errors" (not about one message).
//
// Meta retries a delivery that is not answered 200, and may deliver a status more than once or
// out of order: consumers must be idempotent.
//
// All functions are thread-safe (no shared state).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace herald::notify {

inline constexpr size_t kMaxMetaWebhookBodyBytes = 1024 * 1024;

// "sha256=" followed by the lowercase hex HMAC-SHA256 of `body` under `app_secret`.
std::string HubSignature(std::string_view app_secret, std::string_view body);

// Whether `header` (the X-Hub-Signature-256 value) is the signature of `body` under
// `app_secret`, compared in constant time. False for an empty secret and for a missing or
// malformed header (no "sha256=" prefix, not 64 hex digits; hex of either case is accepted).
bool VerifyHubSignature(std::string_view app_secret, std::string_view body,
                        std::string_view header);

struct WhatsAppStatus {
  std::string message_id;     // "wamid..."
  std::string status;         // sent, delivered, read, failed, deleted (as Meta sends it)
  std::string recipient_id;   // the recipient's WhatsApp id (its number without '+')
  int64_t timestamp = 0;      // unix seconds (Meta sends a string); 0 when absent
  std::string error_code;     // failed: errors[0].code as text
  std::string error_message;  // failed: errors[0].error_data.details, else title, else message
};

// Every statuses[] entry of every entry[].changes[].value of a webhook body, in order.
// InvalidArgument for a body over kMaxMetaWebhookBodyBytes, one that is not a JSON object, an
// "object" other than "whatsapp_business_account", a member of the wrong JSON type where the
// structure above expects an array or an object, a status without "id" or "status", or a
// timestamp that is not an integer (as a number or as a string of digits).
Result<std::vector<WhatsAppStatus>> ParseWhatsAppStatuses(std::string_view body);

// The subscription handshake: Meta calls GET <callback>?hub.mode=subscribe&
// hub.verify_token=<token>&hub.challenge=<challenge> and expects the challenge back (200,
// text/plain). Returns `challenge` when `mode` is "subscribe" and `token` equals
// `verify_token` (the one configured in Meta's App Dashboard: compared in constant time, and
// never matched when empty). InvalidArgument when a parameter is missing (empty) or the
// challenge is not 1 to 128 characters of [A-Za-z0-9._-] (Meta sends digits; anything else is
// not echoed back). PermissionDenied for any other mode or a wrong token.
Result<std::string> VerifySubscription(std::string_view verify_token, std::string_view mode,
                                       std::string_view token, std::string_view challenge);

}  // namespace herald::notify
