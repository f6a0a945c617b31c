#pragma once
// Chat notifications through incoming webhooks: Slack, Microsoft Teams (Workflows), Amazon Chime
// (deprecated) and a generic JSON webhook. A notification on the chat channel names a target
// ("ops") as its recipient; the operator maps each name to a webhook in notify.chat_targets.
// One provider, "webhook", serves every target: it builds the kind's JSON, POSTs it with an
// HttpClient (connections reused) and classifies the answer for the Notifier (provider.h):
//   kSent       the webhook accepted the message: any 2xx (none of these webhooks returns an id,
//               so provider_message_id is the notification id);
//   kPermanent  the target is misconfigured in a way no retry fixes (deleted, archived or
//               revoked webhook, a channel the webhook may not post to) or the message cannot be
//               sent (empty, invalid UTF-8, over the kind's size limit);
//   kRetryable  everything else: rate limits (429), server errors, transport failures and
//               timeouts, unexpected statuses.
// `code` is Slack's error token ("channel_not_found") when Slack answers with one, else the HTTP
// status, or one of ours: "unknown_target", "empty_message", "invalid_message", "too_long"
// (checked before any request), "timeout", "connection", "http_client" (transport failures,
// from TransportFailure in http_provider.h).
//
// A webhook URL is a secret (whoever has it can post): it is never logged, and no result's code
// or message contains it or any part of it (host, path segments, query values), whatever curl or
// the webhook answered.
//
// Each target has its own RatePacer (rate_pacer.h) on the injected Clock: Send waits for the
// target's turn before posting, so with many workers sending to one target, Send may block
// longer than the HTTP timeout. The Clock must outlive the provider.
//
// Wire formats (every request: POST <url>, Content-Type: application/json):
//
// Slack incoming webhook (api.slack.com/messaging/webhooks):
//   {"text": "*<title>*\n<text>"}                 ({"text": "<text>"} without a title)
//   &, < and > in the title and the text are sent as &amp; &lt; &gt;, Slack's documented
//   escaping (api.slack.com/reference/surfaces/formatting#escaping): Slack parses <...> as
//   links and mentions, so without it a data value such as "<!channel>" would notify the whole
//   channel, or "<https://evil|click>" would show a disguised link.
//   At most 35,000 characters (code points) of "text" as sent, escapes included: Apprise's
//   limit (caronc/apprise apprise/plugins/slack.py, body_maxlen = 35000, "maximum allowable
//   characters"), under Slack's 40,000-character truncation of message text.
//   Answers (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks): 200
//   "ok" is sent; 400 invalid_payload / user_not_found, 403 action_prohibited, 404
//   channel_not_found, 410 channel_is_archived are permanent (the target's configuration: no
//   retry fixes it), with Slack's body as message; 429 (rate_limited, api.slack.com/docs/
//   rate-limits), 5xx (rollup_error) and any other status are retryable.
//   Default pace: 1 message per second per webhook (api.slack.com/docs/rate-limits).
//
// Microsoft Teams, Workflows / Power Automate "When a Teams webhook request is received" (the
// Office 365 connector MessageCard webhooks are retired and not supported):
//   {"type": "message", "attachments": [{
//     "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
//     "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
//       "type": "AdaptiveCard", "version": "1.4",
//       "body": [{"type": "TextBlock", "text": <title>, "weight": "Bolder", "size": "Large",
//                 "wrap": true},                                   (only with a title)
//                {"type": "TextBlock", "text": <text>, "wrap": true}],
//       "msteams": {"width": "full"}}}]}
//   (caronc/apprise apprise/plugins/workflows.py; the root must be a "message" with
//   attachments: prometheus/alertmanager#3920.) At most 28,000 bytes serialized: Teams refuses
//   messages over 28 KB (learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/
//   how-to/add-incoming-webhook). Answers: 200 and 202 (Accepted) are sent; 400, 401, 403,
//   404 and 413 are permanent; 429, 5xx and any other status retryable.
//   Default pace: 4 requests per second (Teams throttles a webhook above that, same page).
//
// Amazon Chime incoming webhook -- DEPRECATED: AWS ended support for Amazon Chime on
// 2026-02-20 (docs.aws.amazon.com/chime/latest/dg/webhooks.html); kept for the rooms that still
// work, to be removed.
//   {"Content": "<title>\n<text>"}                ({"Content": "<text>"} without a title)
//   At most 4,096 characters (code points) of Content (caronc/apprise apprise/plugins/chime.py,
//   body_maxlen = 4096). Chime has no documented escaping: "@All" or "@Present" in the text
//   alerts the room. Answers (same plugin): 200 sent; 401 invalid token, 403 webhook disabled
//   or revoked, 404 unknown webhook are permanent; 429, 5xx and any other status retryable.
//   Default pace: 1 per second (Apprise's default pacing; AWS documents no rate).
//
// Generic JSON webhook (Herald's own format, for in-house receivers):
//   {"id": <notification_id>, "target": <target name>, "title": <title>, "text": <text>}
//   ("title" omitted when empty). No size limit. 2xx is sent; 4xx except 408 and 429 is
//   permanent; anything else retryable. Not paced by default.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/clock.h"
#include "core/status.h"
#include "net/http_client.h"
#include "notify/provider.h"

namespace herald::notify {

enum class ChatKind { kSlack, kTeams, kChime, kGeneric };

// "slack", "teams", "chime", "generic".
std::string_view ChatKindName(ChatKind kind);

// The pace each kind's service documents: slack 1, teams 4, chime 1, generic 0 (unlimited).
int DefaultChatRatePerSecond(ChatKind kind);

// A named chat webhook.
struct ChatTarget {
  std::string name;  // what notifications name as their recipient ("ops")
  ChatKind kind = ChatKind::kGeneric;
  std::string url;  // a secret: never logged, never in a result message
  // Messages per second, bursting up to that many; 0 is unlimited. ParseChatTargets sets
  // DefaultChatRatePerSecond(kind); code that builds a target by hand should do the same.
  int rate_per_second = 0;
};

// True for 1 to 64 characters of [A-Za-z0-9_.-].
bool IsValidChatTargetName(std::string_view name);

// Parses notify.chat_targets: comma-separated "name=kind:url" items, e.g.
// "ops=slack:https://hooks.slack.com/services/T/B/X,finance=teams:https://prod-1.westeurope.
// logic.azure.com/workflows/...". Spaces around items are trimmed; the name, kind and URL are
// taken as written. Names are valid (IsValidChatTargetName) and unique; kind is a ChatKindName;
// the URL starts with http:// or https://, has a host and no space or control character. Each
// target gets its kind's default rate. An empty (or all-space) spec gives an empty list.
// InvalidArgument for anything else, naming the item by its name (by its position when the
// name itself is invalid) and never quoting the URL, which holds a secret.
Result<std::vector<ChatTarget>> ParseChatTargets(std::string_view spec);

struct ChatWebhookOptions {
  std::vector<ChatTarget> targets;
  absl::Duration timeout = absl::Seconds(15);  // per request, once the pacer let it through
  net::HttpClientOptions http;
};

// Thread-safe: Send may be called from several workers at once.
class ChatWebhookProvider final : public Provider {
 public:
  // InvalidArgument for no targets, an invalid or duplicate name, a bad URL (as in
  // ParseChatTargets), a negative rate or a non-positive timeout. `clock` paces the targets and
  // must outlive the provider.
  static Result<std::unique_ptr<ChatWebhookProvider>> Create(ChatWebhookOptions options,
                                                             const core::Clock& clock);
  ~ChatWebhookProvider() override;

  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::kChat; }
  // Posts message.title and message.text to the target named message.recipient; see the top
  // of this file. Blocks for the target's pace, then for at most the timeout.
  SendResult Send(const OutboundMessage& message) override;

  // Whether a target has this name (the recipients of chat notifications are checked with it
  // when they are submitted).
  bool HasTarget(std::string_view name) const;

 private:
  struct Target;
  ChatWebhookProvider(ChatWebhookOptions options, const core::Clock& clock);

  const std::string name_ = "webhook";
  const absl::Duration timeout_;
  net::HttpClient http_;
  // Built by the constructor, never changed afterwards: read without a lock.
  std::map<std::string, std::unique_ptr<Target>, std::less<>> targets_;
};

}  // namespace herald::notify
