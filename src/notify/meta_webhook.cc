#include "notify/meta_webhook.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "auth/crypto.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "notify/http_provider.h"

namespace herald::notify {
namespace {

namespace json = boost::json;

constexpr std::string_view kSignaturePrefix = "sha256=";
constexpr size_t kMaxChallengeChars = 128;

// `o[key]` as an array or object: nullptr when absent, InvalidArgument when of another type.
Result<const json::array*> ArrayMember(const json::object& o, std::string_view key,
                                       std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) return absl::InvalidArgumentError(StrCat(where, ".", key, ": not an array"));
  return &v->get_array();
}

Result<const json::object*> ObjectAt(const json::value& v, std::string_view where) {
  if (!v.is_object()) return absl::InvalidArgumentError(StrCat(where, ": not an object"));
  return &v.get_object();
}

// A unix timestamp as Meta sends it ("1750263773"), or as a number.
Result<int64_t> Timestamp(const json::object& status) {
  const json::value* v = status.if_contains("timestamp");
  if (v == nullptr) return 0;
  if (std::optional<int64_t> n = JsonIntField(status, "timestamp")) return *n;
  const json::string* s = v->if_string();
  if (s != nullptr && !s->empty() && s->size() <= 18) {
    int64_t n = 0;
    bool digits = true;
    for (char c : *s) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (digits) return n;
  }
  return absl::InvalidArgumentError("statuses[].timestamp: not an integer");
}

Result<WhatsAppStatus> ParseStatus(const json::object& o) {
  WhatsAppStatus s;
  s.message_id = JsonField(o, "id");
  s.status = JsonField(o, "status");
  s.recipient_id = JsonField(o, "recipient_id");
  if (s.message_id.empty()) return absl::InvalidArgumentError("statuses[].id: required");
  if (s.status.empty()) return absl::InvalidArgumentError("statuses[].status: required");
  HERALD_ASSIGN_OR_RETURN(s.timestamp, Timestamp(o));
  HERALD_ASSIGN_OR_RETURN(const json::array* errors, ArrayMember(o, "errors", "statuses[]"));
  if (errors != nullptr && !errors->empty() && errors->front().is_object()) {
    const json::object& e = errors->front().get_object();
    s.error_code = JsonField(e, "code");
    const json::value* data = e.if_contains("error_data");
    if (data != nullptr && data->is_object()) {
      s.error_message = JsonField(data->get_object(), "details");
    }
    if (s.error_message.empty()) s.error_message = JsonField(e, "title");
    if (s.error_message.empty()) s.error_message = JsonField(e, "message");
    s.error_message = ClipProviderText(s.error_message);
  }
  return s;
}

bool IsChallengeChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::string HubSignature(std::string_view app_secret, std::string_view body) {
  return StrCat(kSignaturePrefix, auth::HexEncode(auth::HmacSha256(app_secret, body)));
}

bool VerifyHubSignature(std::string_view app_secret, std::string_view body,
                        std::string_view header) {
  if (app_secret.empty() || !header.starts_with(kSignaturePrefix)) return false;
  header.remove_prefix(kSignaturePrefix.size());
  if (header.size() != 64) return false;
  const std::optional<std::string> received = auth::HexDecode(header);
  if (!received) return false;
  return auth::ConstantTimeEquals(auth::HmacSha256(app_secret, body), *received);
}

Result<std::vector<WhatsAppStatus>> ParseWhatsAppStatuses(std::string_view body) {
  if (body.size() > kMaxMetaWebhookBodyBytes) {
    return absl::InvalidArgumentError("the webhook body is over 1 MiB");
  }
  boost::system::error_code ec;
  // Boost.JSON rejects invalid UTF-8 and nesting deeper than 32 by default.
  const json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return absl::InvalidArgumentError("the body is not a JSON object");
  const json::object& top = root.get_object();
  if (JsonField(top, "object") != "whatsapp_business_account") {
    return absl::InvalidArgumentError("object: not \"whatsapp_business_account\"");
  }
  std::vector<WhatsAppStatus> out;
  HERALD_ASSIGN_OR_RETURN(const json::array* entries, ArrayMember(top, "entry", "body"));
  if (entries == nullptr) return out;
  for (const json::value& entry_value : *entries) {
    HERALD_ASSIGN_OR_RETURN(const json::object* entry, ObjectAt(entry_value, "entry[]"));
    HERALD_ASSIGN_OR_RETURN(const json::array* changes, ArrayMember(*entry, "changes", "entry[]"));
    if (changes == nullptr) continue;
    for (const json::value& change_value : *changes) {
      HERALD_ASSIGN_OR_RETURN(const json::object* change, ObjectAt(change_value, "changes[]"));
      const json::value* value = change->if_contains("value");
      if (value == nullptr) continue;
      HERALD_ASSIGN_OR_RETURN(const json::object* v, ObjectAt(*value, "changes[].value"));
      HERALD_ASSIGN_OR_RETURN(const json::array* statuses, ArrayMember(*v, "statuses", "value"));
      if (statuses == nullptr) continue;  // an incoming message, or another field
      for (const json::value& status_value : *statuses) {
        HERALD_ASSIGN_OR_RETURN(const json::object* status, ObjectAt(status_value, "statuses[]"));
        HERALD_ASSIGN_OR_RETURN(WhatsAppStatus parsed, ParseStatus(*status));
        out.push_back(std::move(parsed));
      }
    }
  }
  return out;
}

Result<std::string> VerifySubscription(std::string_view verify_token, std::string_view mode,
                                       std::string_view token, std::string_view challenge) {
  if (mode.empty()) return absl::InvalidArgumentError("hub.mode: required");
  if (token.empty()) return absl::InvalidArgumentError("hub.verify_token: required");
  if (challenge.empty()) return absl::InvalidArgumentError("hub.challenge: required");
  if (challenge.size() > kMaxChallengeChars) {
    return absl::InvalidArgumentError("hub.challenge: too long");
  }
  for (char c : challenge) {
    if (!IsChallengeChar(c)) {
      return absl::InvalidArgumentError("hub.challenge: only letters, digits, '.', '_' and '-'");
    }
  }
  // Digests of equal length, so that the time taken tells nothing about the token, not even
  // its length; computed whatever the mode.
  const bool token_ok = auth::ConstantTimeEquals(auth::Sha256(verify_token), auth::Sha256(token)) &&
                        !verify_token.empty();
  if (mode != "subscribe" || !token_ok) {
    return absl::PermissionDeniedError("hub.verify_token or hub.mode refused");
  }
  return std::string(challenge);
}

}  // namespace herald::notify
