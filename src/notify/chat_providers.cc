#include "notify/chat_providers.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"
#include "core/utf8.h"
#include "net/ip_address.h"
#include "notify/http_provider.h"
#include "notify/rate_pacer.h"

namespace herald::notify {
namespace {

namespace json = boost::json;

constexpr size_t kMaxTargetNameLength = 64;
// Limits: see the header for their sources.
constexpr size_t kSlackMaxCharacters = 35'000;
constexpr size_t kTeamsMaxBytes = 28'000;
constexpr size_t kChimeMaxCharacters = 4'096;
// Only this much of an error answer is scanned for parts of the URL: results keep at most
// kMaxProviderText bytes of it, and scanning a 1 MiB body for every part would be wasted work.
constexpr size_t kMaxScannedAnswer = 64 * 1024;
constexpr std::string_view kRedacted = "<redacted>";

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Calls `f` with every piece of `s` between `separator`s (empty pieces included).
template <typename F>
void ForEachPiece(std::string_view s, char separator, F f) {
  for (;;) {
    const size_t end = s.find(separator);
    f(s.substr(0, end));
    if (end == std::string_view::npos) return;
    s.remove_prefix(end + 1);
  }
}

std::optional<ChatKind> ParseChatKind(std::string_view name) {
  for (ChatKind kind : {ChatKind::kSlack, ChatKind::kTeams, ChatKind::kChime, ChatKind::kGeneric}) {
    if (name == ChatKindName(kind)) return kind;
  }
  return std::nullopt;
}

// http:// or https://, a non-empty host, no space or control character. Never quoted in errors.
bool IsValidWebhookUrl(std::string_view url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) return false;
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return !net::UrlHost(url).empty();
}

constexpr std::string_view kUrlRule =
    "the URL must start with http:// or https://, name a host and contain no space (the URL is "
    "not shown: it holds a secret)";

// One "name=kind:url" item of notify.chat_targets, already trimmed. `position` counts from 1.
Result<ChatTarget> ParseChatTargetItem(std::string_view item, size_t position) {
  const std::string item_label = StrCat("notify.chat_targets: item ", position);
  if (item.empty()) return absl::InvalidArgumentError(StrCat(item_label, " is empty"));
  const size_t eq = item.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(item_label, " is not name=kind:url"));
  }
  // An invalid name is not quoted either: it may be a URL whose query holds an '='.
  const std::string_view name = item.substr(0, eq);
  if (!IsValidChatTargetName(name)) {
    return absl::InvalidArgumentError(
        StrCat(item_label, ": the name must be 1 to 64 characters of [A-Za-z0-9_.-]"));
  }
  const std::string label = StrCat("notify.chat_targets: target '", name, "'");
  const std::string_view rest = item.substr(eq + 1);
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat(label, " is not name=kind:url"));
  }
  const std::optional<ChatKind> kind = ParseChatKind(rest.substr(0, colon));
  if (!kind) {
    return absl::InvalidArgumentError(
        StrCat(label, ": the kind must be slack, teams, chime or generic"));
  }
  const std::string_view url = rest.substr(colon + 1);
  if (!IsValidWebhookUrl(url)) return absl::InvalidArgumentError(StrCat(label, ": ", kUrlRule));
  return ChatTarget{std::string(name), *kind, std::string(url), DefaultChatRatePerSecond(*kind)};
}

// The parts of a webhook URL that must not appear in a result, lower-cased, longest first: the
// URL itself, the host and user info, the path and query, and each path segment and query value
// long enough to be a token (shorter ones would only blank out ordinary words of an answer).
std::vector<std::string> SecretUrlParts(std::string_view url) {
  std::vector<std::string> parts;
  auto add = [&parts](std::string_view part, size_t min_length) {
    if (part.empty() || part.size() < min_length) return;
    std::string lower(part);
    for (char& c : lower) c = AsciiLower(c);
    parts.push_back(std::move(lower));
  };
  add(url, 1);
  const size_t scheme_end = url.find("://");
  const std::string_view rest =
      scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  add(rest, 1);
  const size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  add(authority, 4);
  std::string_view host = authority;
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view user_info = authority.substr(0, at);
    add(user_info, 4);
    ForEachPiece(user_info, ':', [&](std::string_view piece) { add(piece, 4); });
    host = authority.substr(at + 1);
  }
  if (host.starts_with('[')) {
    host = host.substr(1, host.find(']') - 1);  // an IPv6 literal, as curl prints it
  } else {
    host = host.substr(0, host.find(':'));
  }
  add(host, 4);
  add(tail, 6);
  const std::string_view path = tail.substr(0, tail.find_first_of("?#"));
  add(path, 6);
  ForEachPiece(path, '/', [&](std::string_view segment) { add(segment, 6); });
  if (const size_t q = tail.find('?'); q != std::string_view::npos) {
    std::string_view query = tail.substr(q + 1);
    query = query.substr(0, query.find('#'));
    add(query, 6);
    ForEachPiece(query, '&', [&](std::string_view pair) {
      const size_t eq = pair.find('=');
      add(eq == std::string_view::npos ? pair : pair.substr(eq + 1), 6);
    });
  }
  std::sort(parts.begin(), parts.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  return parts;
}

// `text` with every occurrence of a part (ASCII case-insensitive) replaced by kRedacted; at each
// position the longest part wins.
std::string Redact(std::string_view text, const std::vector<std::string>& lower_parts) {
  auto matches_at = [text](size_t i, const std::string& part) {
    if (text.size() - i < part.size()) return false;
    for (size_t j = 0; j < part.size(); ++j) {
      if (AsciiLower(text[i + j]) != part[j]) return false;
    }
    return true;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t matched = 0;
    for (const std::string& part : lower_parts) {
      if (matches_at(i, part)) {
        matched = part.size();
        break;
      }
    }
    if (matched > 0) {
      out.append(kRedacted);
      i += matched;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// Code points of valid UTF-8 (checked before any body is built).
size_t CountCharacters(std::string_view s) {
  size_t count = 0;
  core::CountUtf8(s, count);
  return count;
}

SendResult TooLong(ChatKind kind, size_t size, size_t limit, std::string_view unit) {
  return SendResult::Permanent("too_long", StrCat("the ", ChatKindName(kind), " message is ", size,
                                                  " ", unit, ", over the limit of ", limit));
}

// --- Bodies -----------------------------------------------------------------------------------

// Slack's escaping of its control characters (see the header).
std::string SlackEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string SlackText(const OutboundMessage& m) {
  if (m.title.empty()) return SlackEscape(m.text);
  return StrCat("*", SlackEscape(m.title), "*\n", SlackEscape(m.text));
}

json::object TextBlock(std::string_view text) {
  json::object block;
  block["type"] = "TextBlock";
  block["text"] = text;
  return block;
}

std::string TeamsBody(const OutboundMessage& m) {
  json::array blocks;
  if (!m.title.empty()) {
    json::object title = TextBlock(m.title);
    title["weight"] = "Bolder";
    title["size"] = "Large";
    title["wrap"] = true;
    blocks.emplace_back(std::move(title));
  }
  json::object text = TextBlock(m.text);
  text["wrap"] = true;
  blocks.emplace_back(std::move(text));

  json::object card;
  card["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json";
  card["type"] = "AdaptiveCard";
  card["version"] = "1.4";
  card["body"] = std::move(blocks);
  json::object msteams;
  msteams["width"] = "full";
  card["msteams"] = std::move(msteams);

  json::object attachment;
  attachment["contentType"] = "application/vnd.microsoft.card.adaptive";
  attachment["contentUrl"] = nullptr;
  attachment["content"] = std::move(card);
  json::array attachments;
  attachments.emplace_back(std::move(attachment));

  json::object message;
  message["type"] = "message";
  message["attachments"] = std::move(attachments);
  return json::serialize(message);
}

std::string ChimeContent(const OutboundMessage& m) {
  return m.title.empty() ? m.text : StrCat(m.title, "\n", m.text);
}

std::string GenericBody(const OutboundMessage& m, const std::string& target) {
  json::object body;
  body["id"] = m.notification_id;
  body["target"] = target;
  if (!m.title.empty()) body["title"] = m.title;
  body["text"] = m.text;
  return json::serialize(body);
}

// --- Answers ----------------------------------------------------------------------------------
// Sources for each table: see the header.

// Slack answers errors with a bare token ("channel_not_found").
bool IsSlackErrorToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

SendResult ClassifySlack(const net::HttpResponse& r, const std::string& notification_id) {
  if (Is2xx(r.status)) return SendResult::Sent(notification_id);
  const std::string_view answer = Trim(r.body);
  std::string code = IsSlackErrorToken(answer) ? std::string(answer) : std::to_string(r.status);
  std::string message = answer.empty() ? HttpStatusText(r) : ClipProviderText(answer);
  switch (r.status) {
    case 400:  // invalid_payload, user_not_found
    case 403:  // action_prohibited
    case 404:  // channel_not_found
    case 410:  // channel_is_archived
      return SendResult::Permanent(std::move(code), std::move(message));
    default:  // 429 rate_limited, 5xx rollup_error, anything unexpected
      return SendResult::Retryable(std::move(code), std::move(message));
  }
}

SendResult ClassifyTeams(const net::HttpResponse& r, const std::string& notification_id) {
  if (Is2xx(r.status)) return SendResult::Sent(notification_id);  // 200, 202 Accepted
  switch (r.status) {
    case 400:
    case 401:
    case 403:
    case 404:
    case 413:
      return SendResult::Permanent(std::to_string(r.status), HttpStatusText(r));
    default:
      return SendResult::Retryable(std::to_string(r.status), HttpStatusText(r));
  }
}

SendResult ClassifyChime(const net::HttpResponse& r, const std::string& notification_id) {
  if (Is2xx(r.status)) return SendResult::Sent(notification_id);
  std::string_view meaning;
  switch (r.status) {
    case 401:
      meaning = "invalid webhook token";
      break;
    case 403:
      meaning = "webhook disabled or revoked";
      break;
    case 404:
      meaning = "unknown webhook";
      break;
    default:
      return SendResult::Retryable(std::to_string(r.status), HttpStatusText(r));
  }
  return SendResult::Permanent(std::to_string(r.status),
                               StrCat(meaning, " (", HttpStatusText(r), ")"));
}

SendResult ClassifyGeneric(const net::HttpResponse& r, const std::string& notification_id) {
  if (Is2xx(r.status)) return SendResult::Sent(notification_id);
  const bool permanent = r.status >= 400 && r.status < 500 && r.status != 408 && r.status != 429;
  return SendResult::Failure(
      permanent ? SendResult::Outcome::kPermanent : SendResult::Outcome::kRetryable,
      std::to_string(r.status), HttpStatusText(r));
}

}  // namespace

std::string_view ChatKindName(ChatKind kind) {
  switch (kind) {
    case ChatKind::kSlack:
      return "slack";
    case ChatKind::kTeams:
      return "teams";
    case ChatKind::kChime:
      return "chime";
    case ChatKind::kGeneric:
      return "generic";
  }
  return "generic";
}

int DefaultChatRatePerSecond(ChatKind kind) {
  switch (kind) {
    case ChatKind::kSlack:
      return 1;
    case ChatKind::kTeams:
      return 4;
    case ChatKind::kChime:
      return 1;
    case ChatKind::kGeneric:
      return 0;
  }
  return 0;
}

bool IsValidChatTargetName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTargetNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Result<std::vector<ChatTarget>> ParseChatTargets(std::string_view spec) {
  std::vector<ChatTarget> targets;
  if (Trim(spec).empty()) return targets;
  size_t position = 0;
  for (std::string_view rest = spec;;) {
    const size_t comma = rest.find(',');
    HERALD_ASSIGN_OR_RETURN(ChatTarget target,
                            ParseChatTargetItem(Trim(rest.substr(0, comma)), ++position));
    for (const ChatTarget& t : targets) {
      if (t.name == target.name) {
        return absl::InvalidArgumentError(
            StrCat("notify.chat_targets: target '", t.name, "' is defined twice"));
      }
    }
    targets.push_back(std::move(target));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return targets;
}

// --- ChatWebhookProvider ----------------------------------------------------------------------

struct ChatWebhookProvider::Target {
  Target(ChatTarget target, const core::Clock& clock)
      : config(std::move(target)),
        pacer(clock, config.rate_per_second),
        secret_parts(SecretUrlParts(config.url)) {}

  const ChatTarget config;
  RatePacer pacer;
  const std::vector<std::string> secret_parts;  // see SecretUrlParts
};

Result<std::unique_ptr<ChatWebhookProvider>> ChatWebhookProvider::Create(ChatWebhookOptions options,
                                                                         const core::Clock& clock) {
  if (options.targets.empty()) {
    return absl::InvalidArgumentError("chat webhook: at least one target is required");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("chat webhook: the timeout must be positive");
  }
  for (size_t i = 0; i < options.targets.size(); ++i) {
    const ChatTarget& target = options.targets[i];
    if (!IsValidChatTargetName(target.name)) {
      return absl::InvalidArgumentError(StrCat("chat webhook: the name of target ", i + 1,
                                               " must be 1 to 64 characters of [A-Za-z0-9_.-]"));
    }
    const std::string label = StrCat("chat webhook: target '", target.name, "'");
    for (size_t j = 0; j < i; ++j) {
      if (options.targets[j].name == target.name) {
        return absl::InvalidArgumentError(StrCat(label, " is defined twice"));
      }
    }
    if (!IsValidWebhookUrl(target.url)) {
      return absl::InvalidArgumentError(StrCat(label, ": ", kUrlRule));
    }
    if (target.rate_per_second < 0) {
      return absl::InvalidArgumentError(
          StrCat(label, ": the rate must be 0 (unlimited) or more per second"));
    }
  }
  return std::unique_ptr<ChatWebhookProvider>(new ChatWebhookProvider(std::move(options), clock));
}

ChatWebhookProvider::ChatWebhookProvider(ChatWebhookOptions options, const core::Clock& clock)
    : timeout_(options.timeout), http_(options.http) {
  for (ChatTarget& target : options.targets) {
    std::string name = target.name;
    targets_.emplace(std::move(name), std::make_unique<Target>(std::move(target), clock));
  }
}

ChatWebhookProvider::~ChatWebhookProvider() = default;

bool ChatWebhookProvider::HasTarget(std::string_view name) const {
  return targets_.find(name) != targets_.end();
}

SendResult ChatWebhookProvider::Send(const OutboundMessage& message) {
  const auto it = targets_.find(std::string_view(message.recipient));
  if (it == targets_.end()) {
    return SendResult::Permanent("unknown_target",
                                 StrCat("no chat target is named '",
                                        ClipProviderText(message.recipient.substr(0, 64)), "'"));
  }
  Target& target = *it->second;
  const ChatKind kind = target.config.kind;
  if (message.text.empty()) return SendResult::Permanent("empty_message", "the text is empty");
  size_t ignored = 0;
  if (!core::CountUtf8(message.text, ignored) || !core::CountUtf8(message.title, ignored)) {
    return SendResult::Permanent("invalid_message", "the title or the text is not valid UTF-8");
  }

  // Refused before pacing, so that a message nobody can send does not use the target's turn.
  std::string body;
  switch (kind) {
    case ChatKind::kSlack: {
      const std::string text = SlackText(message);
      const size_t characters = CountCharacters(text);
      if (characters > kSlackMaxCharacters) {
        return TooLong(kind, characters, kSlackMaxCharacters, "characters");
      }
      json::object o;
      o["text"] = text;
      body = json::serialize(o);
      break;
    }
    case ChatKind::kTeams:
      body = TeamsBody(message);
      if (body.size() > kTeamsMaxBytes) return TooLong(kind, body.size(), kTeamsMaxBytes, "bytes");
      break;
    case ChatKind::kChime: {
      const std::string content = ChimeContent(message);
      const size_t characters = CountCharacters(content);
      if (characters > kChimeMaxCharacters) {
        return TooLong(kind, characters, kChimeMaxCharacters, "characters");
      }
      json::object o;
      o["Content"] = content;
      body = json::serialize(o);
      break;
    }
    case ChatKind::kGeneric:
      body = GenericBody(message, target.config.name);
      break;
  }

  target.pacer.Wait();

  net::HttpRequest request;
  request.url = target.config.url;
  request.content_type = "application/json";
  request.body = std::move(body);
  request.timeout = timeout_;
  Result<net::HttpResponse> response = http_.Post(request);
  if (!response.ok()) {
    // curl's message may name the host (and, for some errors, more of the URL).
    const Status& s = response.status();
    return TransportFailure(
        Status(s.code(), ToAbsl(Redact(ToStd(s.message()), target.secret_parts))));
  }
  if (!Is2xx(response->status)) {
    // The answer goes into the result: a webhook may echo its own URL.
    const std::string_view answer = std::string_view(response->body).substr(0, kMaxScannedAnswer);
    response->body = Redact(answer, target.secret_parts);
  }
  switch (kind) {
    case ChatKind::kSlack:
      return ClassifySlack(*response, message.notification_id);
    case ChatKind::kTeams:
      return ClassifyTeams(*response, message.notification_id);
    case ChatKind::kChime:
      return ClassifyChime(*response, message.notification_id);
    case ChatKind::kGeneric:
      return ClassifyGeneric(*response, message.notification_id);
  }
  return ClassifyGeneric(*response, message.notification_id);
}

}  // namespace herald::notify
