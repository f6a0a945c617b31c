#include "notify/chat_providers.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "core/clock.h"
#include "core/strings.h"
#include "gtest/gtest.h"
#include "net/testing/fake_http_server.h"

namespace herald::notify {
namespace {

namespace json = boost::json;
using Outcome = SendResult::Outcome;
using net::testing::FakeHttpServer;
using net::testing::FakeRequest;
using net::testing::FakeResponse;

// The secret part of every webhook URL in these tests: no error or result may contain it.
constexpr char kSecret[] = "XsEcReTtOkEn42";
const std::string kSlackPath = StrCat("/services/T0001/B0002/", kSecret);
const std::string kTeamsPath =
    StrCat("/workflows/wf1/triggers/manual/paths/invoke?api-version=2016-06-01&sig=", kSecret);
const std::string kChimePath = StrCat("/incomingwebhooks/hook-1?token=", kSecret);
const std::string kGenericPath = StrCat("/hooks/", kSecret);

ChatTarget Target(std::string name, ChatKind kind, std::string url, int rate_per_second = 0) {
  return ChatTarget{std::move(name), kind, std::move(url), rate_per_second};
}

std::unique_ptr<ChatWebhookProvider> MakeProvider(std::vector<ChatTarget> targets,
                                                  const core::Clock& clock,
                                                  absl::Duration timeout = absl::Seconds(10)) {
  ChatWebhookOptions options;
  options.targets = std::move(targets);
  options.timeout = timeout;
  Result<std::unique_ptr<ChatWebhookProvider>> provider =
      ChatWebhookProvider::Create(std::move(options), clock);
  EXPECT_TRUE(provider.ok()) << provider.status();
  return provider.ok() ? *std::move(provider) : nullptr;
}

// Unpaced (rate 0) targets of every kind, on one fake server.
std::unique_ptr<ChatWebhookProvider> MakeAllKinds(const FakeHttpServer& server,
                                                  const core::Clock& clock,
                                                  absl::Duration timeout = absl::Seconds(10)) {
  return MakeProvider({Target("slack", ChatKind::kSlack, server.url() + kSlackPath),
                       Target("teams", ChatKind::kTeams, server.url() + kTeamsPath),
                       Target("chime", ChatKind::kChime, server.url() + kChimePath),
                       Target("generic", ChatKind::kGeneric, server.url() + kGenericPath)},
                      clock, timeout);
}

OutboundMessage Chat(std::string target, std::string text, std::string title = "") {
  OutboundMessage m;
  m.notification_id = "n-1";
  m.channel = Channel::kChat;
  m.recipient = std::move(target);
  m.text = std::move(text);
  m.title = std::move(title);
  return m;
}

FakeResponse Answer(int status, std::string body) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = {{"Content-Type", "text/plain"}};
  return r;
}

// Waits (in real time, bounded) until the server has received `count` requests.
bool WaitForRequests(const FakeHttpServer& server, size_t count, absl::Duration limit) {
  const absl::Time deadline = absl::Now() + limit;
  while (server.request_count() < count) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void ExpectJsonRequest(const FakeRequest& r, const std::string& target, std::string_view json) {
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, target);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(json::parse(r.body), json::parse(json)) << r.body;
}

// =============================================================================================
// Targets
// =============================================================================================

TEST(ChatKinds, NamesAndDefaultRates) {
  EXPECT_EQ(ChatKindName(ChatKind::kSlack), "slack");
  EXPECT_EQ(ChatKindName(ChatKind::kTeams), "teams");
  EXPECT_EQ(ChatKindName(ChatKind::kChime), "chime");
  EXPECT_EQ(ChatKindName(ChatKind::kGeneric), "generic");
  EXPECT_EQ(DefaultChatRatePerSecond(ChatKind::kSlack), 1);
  EXPECT_EQ(DefaultChatRatePerSecond(ChatKind::kTeams), 4);
  EXPECT_EQ(DefaultChatRatePerSecond(ChatKind::kChime), 1);
  EXPECT_EQ(DefaultChatRatePerSecond(ChatKind::kGeneric), 0);
}

TEST(ChatTargets, ParsesEveryKindWithItsDefaultRate) {
  const std::string teams_url =
      "https://prod-1.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/"
      "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S1g";
  Result<std::vector<ChatTarget>> targets = ParseChatTargets(
      StrCat("  ops=slack:https://hooks.slack.com/services/T1/B2/X3 , finance=teams:", teams_url,
             ",legacy=chime:https://hooks.chime.aws/incomingwebhooks/id-1?token=tok\t,",
             "In-house_1.x=generic:http://user:pw@10.0.0.5:8080/hook "));
  ASSERT_TRUE(targets.ok()) << targets.status();
  ASSERT_EQ(targets->size(), 4u);
  const std::vector<ChatTarget>& t = *targets;
  EXPECT_EQ(t[0].name, "ops");
  EXPECT_EQ(t[0].kind, ChatKind::kSlack);
  EXPECT_EQ(t[0].url, "https://hooks.slack.com/services/T1/B2/X3");
  EXPECT_EQ(t[0].rate_per_second, 1);
  EXPECT_EQ(t[1].name, "finance");
  EXPECT_EQ(t[1].kind, ChatKind::kTeams);
  EXPECT_EQ(t[1].url, teams_url);
  EXPECT_EQ(t[1].rate_per_second, 4);
  EXPECT_EQ(t[2].name, "legacy");
  EXPECT_EQ(t[2].kind, ChatKind::kChime);
  EXPECT_EQ(t[2].url, "https://hooks.chime.aws/incomingwebhooks/id-1?token=tok");
  EXPECT_EQ(t[2].rate_per_second, 1);
  EXPECT_EQ(t[3].name, "In-house_1.x");
  EXPECT_EQ(t[3].kind, ChatKind::kGeneric);
  EXPECT_EQ(t[3].url, "http://user:pw@10.0.0.5:8080/hook");
  EXPECT_EQ(t[3].rate_per_second, 0);
}

TEST(ChatTargets, EmptySpecIsAnEmptyList) {
  for (std::string_view spec : {"", "   ", " \t "}) {
    Result<std::vector<ChatTarget>> targets = ParseChatTargets(spec);
    ASSERT_TRUE(targets.ok()) << targets.status();
    EXPECT_TRUE(targets->empty());
  }
}

TEST(ChatTargets, RejectsBadItemsWithoutQuotingTheUrl) {
  struct Case {
    std::string spec;
    std::string expected;  // a fragment of the error
  };
  const std::string s = kSecret;
  const std::vector<Case> cases = {
      {"ops", "item 1 is not name=kind:url"},
      {"https://hooks.slack.com/services/T/B/" + s, "item 1 is not name=kind:url"},
      {"slack:https://hooks.chime.aws/incomingwebhooks/x?token=" + s, "item 1: the name"},
      {"=slack:https://x.example/" + s, "item 1: the name"},
      {std::string(65, 'a') + "=slack:https://x.example/" + s, "item 1: the name"},
      {"ops =slack:https://x.example/" + s, "item 1: the name"},
      {"a=generic:http://x.example/a,b c=slack:https://x.example/" + s, "item 2: the name"},
      {"ops=slak:https://x.example/" + s, "target 'ops': the kind"},
      {"ops=SLACK:https://x.example/" + s, "target 'ops': the kind"},
      {"ops=https://hooks.slack.com/services/T/B/" + s, "target 'ops': the kind"},
      {"ops=slack", "target 'ops' is not name=kind:url"},
      {"ops=slack:", "target 'ops': the URL"},
      {"ops=slack:ftp://x.example/" + s, "target 'ops': the URL"},
      {"ops=slack:hooks.slack.com/services/" + s, "target 'ops': the URL"},
      {"ops=slack:https:///" + s, "target 'ops': the URL"},
      {"ops=slack:https://user@/" + s, "target 'ops': the URL"},
      {"ops=slack:https://x.example/" + s + " tail", "target 'ops': the URL"},
      {"ops=slack:https://x.example/" + s + "\x01", "target 'ops': the URL"},
      {"a=generic:http://x.example/" + s + ",,b=generic:http://y.example/" + s, "item 2 is empty"},
      {"a=generic:http://x.example/" + s + ",", "item 2 is empty"},
      {"ops=slack:https://x.example/" + s + ",ops=teams:https://y.example/" + s,
       "target 'ops' is defined twice"},
  };
  for (const Case& c : cases) {
    Result<std::vector<ChatTarget>> targets = ParseChatTargets(c.spec);
    ASSERT_FALSE(targets.ok()) << c.spec;
    EXPECT_EQ(targets.status().code(), absl::StatusCode::kInvalidArgument) << c.spec;
    const std::string message(targets.status().message());
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.spec << " -> " << message;
    EXPECT_EQ(message.find(kSecret), std::string::npos) << c.spec << " -> " << message;
    EXPECT_EQ(message.find("example"), std::string::npos) << c.spec << " -> " << message;
  }
}

TEST(ChatTargets, NameRule) {
  EXPECT_TRUE(IsValidChatTargetName("ops"));
  EXPECT_TRUE(IsValidChatTargetName("A-z_0.9"));
  EXPECT_TRUE(IsValidChatTargetName(std::string(64, 'x')));
  EXPECT_FALSE(IsValidChatTargetName(""));
  EXPECT_FALSE(IsValidChatTargetName(std::string(65, 'x')));
  EXPECT_FALSE(IsValidChatTargetName("a:b"));
  EXPECT_FALSE(IsValidChatTargetName("a b"));
  EXPECT_FALSE(IsValidChatTargetName("é"));
}

// =============================================================================================
// ChatWebhookProvider: creation, checks before any request
// =============================================================================================

TEST(ChatWebhookProvider, CreateValidatesOptions) {
  core::ManualClock clock;
  auto create = [&clock](std::vector<ChatTarget> targets,
                         absl::Duration timeout = absl::Seconds(1)) {
    ChatWebhookOptions options;
    options.targets = std::move(targets);
    options.timeout = timeout;
    return ChatWebhookProvider::Create(std::move(options), clock).status();
  };
  const std::string url = StrCat("https://hooks.example/", kSecret);
  EXPECT_TRUE(create({Target("ops", ChatKind::kSlack, url, 1)}).ok());
  struct Case {
    Status status;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {create({}), "at least one target"},
      {create({Target("ops", ChatKind::kSlack, url)}, absl::ZeroDuration()), "timeout"},
      {create({Target("ops", ChatKind::kSlack, url)}, absl::Seconds(-1)), "timeout"},
      {create({Target("ops", ChatKind::kSlack, url), Target("ops", ChatKind::kTeams, url)}),
       "'ops' is defined twice"},
      {create({Target("bad name", ChatKind::kSlack, url)}), "name of target 1"},
      {create({Target("ops", ChatKind::kSlack, StrCat("ftp://hooks.example/", kSecret))}),
       "'ops': the URL"},
      {create({Target("ops", ChatKind::kSlack, "")}), "'ops': the URL"},
      {create({Target("ops", ChatKind::kSlack, url, -1)}), "'ops': the rate"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << c.expected;
    const std::string message(c.status.message());
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_EQ(message.find(kSecret), std::string::npos) << message;
  }
}

TEST(ChatWebhookProvider, NameChannelAndTargets) {
  core::ManualClock clock;
  auto provider = MakeProvider({Target("ops", ChatKind::kSlack, "https://hooks.example/x", 1),
                                Target("finance", ChatKind::kTeams, "https://t.example/y", 4)},
                               clock);
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "webhook");
  EXPECT_EQ(provider->channel(), Channel::kChat);
  EXPECT_TRUE(provider->HasTarget("ops"));
  EXPECT_TRUE(provider->HasTarget("finance"));
  EXPECT_FALSE(provider->HasTarget("Ops"));
  EXPECT_FALSE(provider->HasTarget(""));
}

TEST(ChatWebhookProvider, UnknownTargetIsPermanentWithoutARequest) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  const SendResult r = provider->Send(Chat("nobody", "hello"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "unknown_target");
  EXPECT_NE(r.message.find("'nobody'"), std::string::npos) << r.message;
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(ChatWebhookProvider, EmptyOrInvalidTextIsPermanentWithoutARequest) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  for (std::string target : {"slack", "teams", "chime", "generic"}) {
    SendResult r = provider->Send(Chat(target, ""));
    EXPECT_EQ(r.outcome, Outcome::kPermanent) << target;
    EXPECT_EQ(r.code, "empty_message") << target;
    r = provider->Send(Chat(target, "", "A title alone"));
    EXPECT_EQ(r.code, "empty_message") << target;
    r = provider->Send(Chat(target, "bad \xff byte"));
    EXPECT_EQ(r.outcome, Outcome::kPermanent) << target;
    EXPECT_EQ(r.code, "invalid_message") << target;
    r = provider->Send(Chat(target, "fine", "cut \xc3"));
    EXPECT_EQ(r.code, "invalid_message") << target;
  }
  EXPECT_EQ(server.request_count(), 0u);
}

// =============================================================================================
// Slack
// =============================================================================================

TEST(ChatSlack, SendsTheTitleInBoldThenTheText) {
  FakeHttpServer server;
  server.Enqueue(Answer(200, "ok"));
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  const SendResult r = provider->Send(Chat("slack", "Backup done.\nAll good ✅", "Nightly"));
  EXPECT_EQ(r.outcome, Outcome::kSent);
  EXPECT_EQ(r.provider_message_id, "n-1");  // Slack answers only "ok"
  ASSERT_EQ(server.request_count(), 1u);
  ExpectJsonRequest(server.requests()[0], kSlackPath,
                    R"({"text": "*Nightly*\nBackup done.\nAll good ✅"})");
}

TEST(ChatSlack, WithoutATitleSendsOnlyTheText) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  EXPECT_TRUE(provider->Send(Chat("slack", "Plain *text*")).sent());
  ASSERT_EQ(server.request_count(), 1u);
  ExpectJsonRequest(server.requests()[0], kSlackPath, R"({"text": "Plain *text*"})");
}

// A data value must not become a mention or a link: Slack's control characters are escaped.
TEST(ChatSlack, EscapesAmpersandAndAngleBrackets) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  EXPECT_TRUE(provider->Send(Chat("slack", "Customer: <!channel> & co", "<https://x|y>")).sent());
  ASSERT_EQ(server.request_count(), 1u);
  ExpectJsonRequest(server.requests()[0], kSlackPath,
                    R"({"text": "*&lt;https://x|y&gt;*\nCustomer: &lt;!channel&gt; &amp; co"})");
}

TEST(ChatSlack, ClassifiesDocumentedAnswers) {
  struct Case {
    int status;
    std::string body;
    Outcome outcome;
    std::string code;
  };
  const std::vector<Case> cases = {
      {400, "invalid_payload", Outcome::kPermanent, "invalid_payload"},
      {400, "user_not_found", Outcome::kPermanent, "user_not_found"},
      {403, "action_prohibited", Outcome::kPermanent, "action_prohibited"},
      {404, "channel_not_found\n", Outcome::kPermanent, "channel_not_found"},
      {410, "channel_is_archived", Outcome::kPermanent, "channel_is_archived"},
      {404, "<html><body>Not Found</body></html>", Outcome::kPermanent, "404"},
      {429, "rate_limited", Outcome::kRetryable, "rate_limited"},
      {500, "rollup_error", Outcome::kRetryable, "rollup_error"},
      {503, "", Outcome::kRetryable, "503"},
      {302, "", Outcome::kRetryable, "302"},
      {401, "invalid_token", Outcome::kRetryable, "invalid_token"},
  };
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  for (const Case& c : cases) {
    server.Enqueue(Answer(c.status, c.body));
    const SendResult r = provider->Send(Chat("slack", "hello"));
    EXPECT_EQ(r.outcome, c.outcome) << c.status << " " << c.body;
    EXPECT_EQ(r.code, c.code) << c.status << " " << c.body;
    EXPECT_FALSE(r.message.empty());
    if (c.code == c.body) {
      EXPECT_EQ(r.message, c.body);
    }
  }
  EXPECT_EQ(server.request_count(), cases.size());
}

// 35,000 characters (code points) of text as sent, escapes included.
TEST(ChatSlack, TooLongIsPermanentWithoutARequest) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  std::string limit;
  for (int i = 0; i < 35'000; ++i) limit += "é";  // 70,000 bytes
  EXPECT_TRUE(provider->Send(Chat("slack", limit)).sent());
  EXPECT_EQ(server.request_count(), 1u);

  SendResult r = provider->Send(Chat("slack", limit + "x"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "too_long");
  r = provider->Send(Chat("slack", std::string(34'999, 'a'), "T"));  // "*T*\n" adds 4
  EXPECT_EQ(r.code, "too_long");
  r = provider->Send(Chat("slack", std::string(7'001, '&')));  // 35,005 once escaped
  EXPECT_EQ(r.code, "too_long");
  EXPECT_EQ(server.request_count(), 1u);
}

// =============================================================================================
// Microsoft Teams (Workflows)
// =============================================================================================

TEST(ChatTeams, SendsAnAdaptiveCardWithTheTitleAndTheText) {
  FakeHttpServer server;
  server.Enqueue(Answer(202, ""));
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  const SendResult r = provider->Send(Chat("teams", "Invoice 42 is **overdue** <b>", "Billing"));
  EXPECT_EQ(r.outcome, Outcome::kSent);
  EXPECT_EQ(r.provider_message_id, "n-1");
  ASSERT_EQ(server.request_count(), 1u);
  ExpectJsonRequest(server.requests()[0], kTeamsPath, R"({
    "type": "message",
    "attachments": [{
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
          {"type": "TextBlock", "text": "Billing", "weight": "Bolder", "size": "Large",
           "wrap": true},
          {"type": "TextBlock", "text": "Invoice 42 is **overdue** <b>", "wrap": true}
        ],
        "msteams": {"width": "full"}
      }
    }]
  })");
}

TEST(ChatTeams, WithoutATitleTheCardHasOneTextBlock) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  EXPECT_TRUE(provider->Send(Chat("teams", "Just text")).sent());
  ASSERT_EQ(server.request_count(), 1u);
  const json::value body = json::parse(server.requests()[0].body);
  EXPECT_EQ(body.at("attachments").at(0).at("content").at("body"),
            json::parse(R"([{"type": "TextBlock", "text": "Just text", "wrap": true}])"));
}

TEST(ChatTeams, ClassifiesAnswers) {
  struct Case {
    int status;
    Outcome outcome;
  };
  const std::vector<Case> cases = {
      {200, Outcome::kSent},      {202, Outcome::kSent},      {400, Outcome::kPermanent},
      {401, Outcome::kPermanent}, {403, Outcome::kPermanent}, {404, Outcome::kPermanent},
      {413, Outcome::kPermanent}, {429, Outcome::kRetryable}, {500, Outcome::kRetryable},
      {502, Outcome::kRetryable}, {409, Outcome::kRetryable}, {301, Outcome::kRetryable},
  };
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  for (const Case& c : cases) {
    server.Enqueue(Answer(c.status, R"({"error":{"code":"X","message":"why"}})"));
    const SendResult r = provider->Send(Chat("teams", "hello"));
    EXPECT_EQ(r.outcome, c.outcome) << c.status;
    if (c.outcome != Outcome::kSent) {
      EXPECT_EQ(r.code, std::to_string(c.status));
      EXPECT_NE(r.message.find("why"), std::string::npos) << r.message;
    }
  }
}

// Teams refuses messages over 28 KB: the serialized card is checked.
TEST(ChatTeams, TooLongIsPermanentWithoutARequest) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  EXPECT_TRUE(provider->Send(Chat("teams", std::string(27'000, 'a'))).sent());
  const SendResult r = provider->Send(Chat("teams", std::string(28'000, 'a')));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "too_long");
  EXPECT_EQ(server.request_count(), 1u);
}

// =============================================================================================
// Amazon Chime (deprecated)
// =============================================================================================

TEST(ChatChime, SendsContentWithTheTitleOnItsOwnLine) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  EXPECT_TRUE(provider->Send(Chat("chime", "Disk at 91%", "Alert")).sent());
  EXPECT_TRUE(provider->Send(Chat("chime", "No title")).sent());
  ASSERT_EQ(server.request_count(), 2u);
  ExpectJsonRequest(server.requests()[0], kChimePath, R"({"Content": "Alert\nDisk at 91%"})");
  ExpectJsonRequest(server.requests()[1], kChimePath, R"({"Content": "No title"})");
}

TEST(ChatChime, ClassifiesAnswers) {
  struct Case {
    int status;
    Outcome outcome;
  };
  const std::vector<Case> cases = {{200, Outcome::kSent},      {401, Outcome::kPermanent},
                                   {403, Outcome::kPermanent}, {404, Outcome::kPermanent},
                                   {429, Outcome::kRetryable}, {500, Outcome::kRetryable},
                                   {400, Outcome::kRetryable}};
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  for (const Case& c : cases) {
    server.Enqueue(Answer(c.status, ""));
    const SendResult r = provider->Send(Chat("chime", "hello"));
    EXPECT_EQ(r.outcome, c.outcome) << c.status;
    if (c.outcome != Outcome::kSent) {
      EXPECT_EQ(r.code, std::to_string(c.status));
    }
  }
  server.Enqueue(Answer(403, ""));
  EXPECT_NE(provider->Send(Chat("chime", "hello")).message.find("revoked"), std::string::npos);
}

// 4,096 characters (code points) of Content, the title line included.
TEST(ChatChime, TooLongIsCountedInCharacters) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  std::string accents;
  for (int i = 0; i < 4'096; ++i) accents += "é";
  EXPECT_TRUE(provider->Send(Chat("chime", accents)).sent());
  EXPECT_TRUE(provider->Send(Chat("chime", std::string(4'094, 'a'), "T")).sent());
  SendResult r = provider->Send(Chat("chime", std::string(4'095, 'a'), "T"));
  EXPECT_EQ(r.outcome, Outcome::kPermanent);
  EXPECT_EQ(r.code, "too_long");
  r = provider->Send(Chat("chime", accents + "x"));
  EXPECT_EQ(r.code, "too_long");
  EXPECT_EQ(server.request_count(), 2u);
}

// =============================================================================================
// Generic
// =============================================================================================

TEST(ChatGeneric, SendsIdTargetTitleAndText) {
  FakeHttpServer server;
  server.Enqueue(Answer(204, ""));
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  SendResult r = provider->Send(Chat("generic", "Body <unescaped> & raw", "Heading"));
  EXPECT_EQ(r.outcome, Outcome::kSent);
  EXPECT_EQ(r.provider_message_id, "n-1");
  r = provider->Send(Chat("generic", "No title"));
  EXPECT_TRUE(r.sent());
  ASSERT_EQ(server.request_count(), 2u);
  ExpectJsonRequest(server.requests()[0], kGenericPath,
                    R"({"id": "n-1", "target": "generic", "title": "Heading",
                        "text": "Body <unescaped> & raw"})");
  ExpectJsonRequest(server.requests()[1], kGenericPath,
                    R"({"id": "n-1", "target": "generic", "text": "No title"})");
}

TEST(ChatGeneric, ClassifiesAnswers) {
  struct Case {
    int status;
    Outcome outcome;
  };
  const std::vector<Case> cases = {
      {200, Outcome::kSent},      {201, Outcome::kSent},      {400, Outcome::kPermanent},
      {404, Outcome::kPermanent}, {410, Outcome::kPermanent}, {408, Outcome::kRetryable},
      {429, Outcome::kRetryable}, {500, Outcome::kRetryable}, {503, Outcome::kRetryable},
      {301, Outcome::kRetryable},
  };
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  for (const Case& c : cases) {
    server.Enqueue(Answer(c.status, "answer"));
    const SendResult r = provider->Send(Chat("generic", "hello"));
    EXPECT_EQ(r.outcome, c.outcome) << c.status;
    if (c.outcome != Outcome::kSent) {
      EXPECT_EQ(r.code, std::to_string(c.status));
      EXPECT_EQ(r.message, StrCat("HTTP ", c.status, ": answer"));
    }
  }
}

// =============================================================================================
// Transport failures and secrecy of the URL
// =============================================================================================

TEST(ChatWebhookProvider, ConnectionFailureIsRetryableAndHidesTheUrl) {
  std::string url;
  {
    FakeHttpServer closed;
    url = closed.url();
  }
  core::ManualClock clock;
  auto provider = MakeProvider({Target("ops", ChatKind::kSlack, url + kSlackPath)}, clock);
  const SendResult r = provider->Send(Chat("ops", "hello"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "connection");
  EXPECT_FALSE(r.message.empty());
  EXPECT_EQ(r.message.find(kSecret), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("127.0.0.1"), std::string::npos) << r.message;
}

TEST(ChatWebhookProvider, TimeoutIsRetryable) {
  FakeHttpServer server;
  FakeResponse slow;
  slow.delay = std::chrono::milliseconds(5000);
  server.Enqueue(slow);
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock, absl::Milliseconds(300));
  const SendResult r = provider->Send(Chat("teams", "hello"));
  EXPECT_EQ(r.outcome, Outcome::kRetryable);
  EXPECT_EQ(r.code, "timeout");
  EXPECT_EQ(r.message.find(kSecret), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("127.0.0.1"), std::string::npos) << r.message;
}

// A webhook that echoes its own URL in an error does not leak it into the result.
TEST(ChatWebhookProvider, AnswersEchoingTheUrlAreRedacted) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  struct Case {
    std::string target;
    std::string echoed;
  };
  const std::vector<Case> cases = {
      {"slack", StrCat("no webhook at ", server.url(), kSlackPath)},
      {"teams", StrCat(R"({"error":{"message":"bad signature )", kSecret, R"("}})")},
      {"chime", StrCat("token ", kSecret, " revoked")},
      {"generic", StrCat("POST ", kGenericPath, " refused by HTTP://127.0.0.1")},
  };
  for (const Case& c : cases) {
    server.Enqueue(Answer(404, c.echoed));
    const SendResult r = provider->Send(Chat(c.target, "hello"));
    EXPECT_EQ(r.outcome, Outcome::kPermanent) << c.target;
    EXPECT_EQ(r.message.find(kSecret), std::string::npos) << c.target << ": " << r.message;
    EXPECT_EQ(r.message.find("127.0.0.1"), std::string::npos) << c.target << ": " << r.message;
    EXPECT_NE(r.message.find("<redacted>"), std::string::npos) << c.target << ": " << r.message;
  }
}

// =============================================================================================
// Pacing (on a ManualClock; real time only bounds the waits)
// =============================================================================================

TEST(ChatPacing, SecondSlackMessageWaitsForTheClock) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeProvider(
      {Target("ops", ChatKind::kSlack, server.url() + kSlackPath, /*rate_per_second=*/1)}, clock);
  ASSERT_TRUE(provider->Send(Chat("ops", "first")).sent());
  ASSERT_EQ(server.request_count(), 1u);

  SendResult second;
  std::thread sender([&] { second = provider->Send(Chat("ops", "second")); });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server.request_count(), 1u) << "sent before its turn";
  clock.Advance(absl::Milliseconds(500));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server.request_count(), 1u) << "sent after half a second";
  clock.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(WaitForRequests(server, 2, absl::Seconds(30)));
  sender.join();
  EXPECT_TRUE(second.sent());
}

TEST(ChatPacing, TeamsLetsFourThroughPerSecond) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeProvider(
      {Target("t", ChatKind::kTeams, server.url() + kTeamsPath, /*rate_per_second=*/4)}, clock);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(provider->Send(Chat("t", "burst")).sent());
  SendResult fifth;
  std::thread sender([&] { fifth = provider->Send(Chat("t", "fifth")); });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(server.request_count(), 4u);
  clock.Advance(absl::Milliseconds(250));
  EXPECT_TRUE(WaitForRequests(server, 5, absl::Seconds(30)));
  sender.join();
  EXPECT_TRUE(fifth.sent());
}

TEST(ChatPacing, TargetsArePacedIndependently) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeProvider({Target("a", ChatKind::kSlack, server.url() + "/a", 1),
                                Target("b", ChatKind::kSlack, server.url() + "/b", 1),
                                Target("free", ChatKind::kGeneric, server.url() + "/free", 0)},
                               clock);
  EXPECT_TRUE(provider->Send(Chat("a", "one")).sent());
  EXPECT_TRUE(provider->Send(Chat("b", "one")).sent());  // a's turn does not hold b
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(provider->Send(Chat("free", "unlimited")).sent());
  EXPECT_EQ(server.request_count(), 7u);
}

TEST(ChatWebhookProvider, ConcurrentSendsAllArrive) {
  FakeHttpServer server;
  core::ManualClock clock;
  auto provider = MakeAllKinds(server, clock);
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  std::vector<int> sent(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string target = t % 2 == 0 ? "generic" : "slack";
      for (int i = 0; i < kEach; ++i) sent[t] += provider->Send(Chat(target, "hi")).sent();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(sent[t], kEach);
  EXPECT_EQ(server.request_count(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace herald::notify
