#include "notify/meta_webhook.h"

#include <cctype>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace herald::notify {
namespace {

// A delivered status as Meta posts it (shape of developers.facebook.com/documentation/
// business-messaging/whatsapp/webhooks/reference/messages/status), byte for byte as signed.
constexpr char kSignedBody[] =
    R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjNBNjhBRjMwMkNBODMA","status":"delivered","timestamp":"1750263773","recipient_id":"16505551234"}]},"field":"messages"}]}]})";
constexpr char kSecret[] = "meta-app-secret";
// Computed independently: printf '%s' "$body" | openssl dgst -sha256 -hmac meta-app-secret
constexpr char kSignature[] =
    "sha256=6969ecfe86acba7c41818d01c4baceb1f825a231accc201a96af2e8025f9e659";

TEST(MetaWebhookSignature, MatchesAnIndependentlyComputedVector) {
  EXPECT_EQ(HubSignature(kSecret, kSignedBody), kSignature);
  EXPECT_TRUE(VerifyHubSignature(kSecret, kSignedBody, kSignature));
  // printf '%s' hello | openssl dgst -sha256 -hmac key; and the empty body.
  EXPECT_EQ(HubSignature("key", "hello"),
            "sha256=9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b");
  EXPECT_EQ(HubSignature("key", ""),
            "sha256=5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0");
}

TEST(MetaWebhookSignature, RejectsAWrongSecretOrATamperedBody) {
  EXPECT_FALSE(VerifyHubSignature("another-secret", kSignedBody, kSignature));
  std::string tampered = kSignedBody;
  tampered[tampered.find("delivered")] = 'D';
  EXPECT_FALSE(VerifyHubSignature(kSecret, tampered, kSignature));
  EXPECT_FALSE(VerifyHubSignature(kSecret, std::string(kSignedBody) + " ", kSignature));
  EXPECT_FALSE(VerifyHubSignature("", kSignedBody, kSignature));
  EXPECT_FALSE(VerifyHubSignature("", "", HubSignature("", "")));
}

TEST(MetaWebhookSignature, RejectsMissingOrMalformedHeaders) {
  const std::string hex = std::string(kSignature).substr(7);
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, ""));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, hex));  // no "sha256=" prefix
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "sha1=" + hex));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "SHA256=" + hex));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "sha256= " + hex));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "sha256=" + hex.substr(2)));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "sha256=" + hex + "00"));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "sha256=" + hex.substr(1) + "g"));
  EXPECT_FALSE(VerifyHubSignature(kSecret, kSignedBody, "sha256="));
  // Upper-case hex is the same signature.
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(VerifyHubSignature(kSecret, kSignedBody, "sha256=" + upper));
}

// Delivered, read and failed statuses of two messages in two changes, plus an incoming message
// (ignored), shaped as in Meta's status and messages webhook references. The failure is the
// re-engagement error as Meta reports it in errors[].
constexpr char kStatusesBody[] = R"({
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "102290129340398",
    "changes": [{
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [{
          "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjNBNjhBRjMwMkNBODMA",
          "status": "delivered",
          "timestamp": "1750263773",
          "recipient_id": "16505551234",
          "conversation": {"id": "6ceb9d929c0b6fd6c3b6c8b9a4c5f2a1",
                           "origin": {"type": "utility"}},
          "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility",
                      "type": "regular"}
        }, {
          "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjNBNjhBRjMwMkNBODMA",
          "status": "read",
          "timestamp": "1750263790",
          "recipient_id": "16505551234"
        }]
      },
      "field": "messages"
    }, {
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [{"from": "16505551234", "id": "wamid.INCOMING", "timestamp": "1749416383",
                      "type": "text", "text": {"body": "Does it come in another color?"}}]
      },
      "field": "messages"
    }, {
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [{
          "id": "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBJGQzQ1QjI3RjQ2QjE5OTlFMDkA",
          "status": "failed",
          "timestamp": "1750263801",
          "recipient_id": "33612345678",
          "errors": [{
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
          }]
        }]
      },
      "field": "messages"
    }]
  }]
})";

TEST(MetaWebhookStatuses, ParsesDeliveredReadAndFailed) {
  auto statuses = ParseWhatsAppStatuses(kStatusesBody);
  ASSERT_TRUE(statuses.ok()) << statuses.status();
  ASSERT_EQ(statuses->size(), 3u);
  const WhatsAppStatus& delivered = (*statuses)[0];
  EXPECT_EQ(delivered.message_id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjNBNjhBRjMwMkNBODMA");
  EXPECT_EQ(delivered.status, "delivered");
  EXPECT_EQ(delivered.recipient_id, "16505551234");
  EXPECT_EQ(delivered.timestamp, 1750263773);
  EXPECT_EQ(delivered.error_code, "");
  EXPECT_EQ(delivered.error_message, "");
  const WhatsAppStatus& read = (*statuses)[1];
  EXPECT_EQ(read.status, "read");
  EXPECT_EQ(read.timestamp, 1750263790);
  const WhatsAppStatus& failed = (*statuses)[2];
  EXPECT_EQ(failed.message_id, "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBJGQzQ1QjI3RjQ2QjE5OTlFMDkA");
  EXPECT_EQ(failed.status, "failed");
  EXPECT_EQ(failed.recipient_id, "33612345678");
  EXPECT_EQ(failed.timestamp, 1750263801);
  EXPECT_EQ(failed.error_code, "131047");
  EXPECT_EQ(failed.error_message,
            "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.");
}

TEST(MetaWebhookStatuses, FallsBackToTheErrorTitleThenMessage) {
  auto s = ParseWhatsAppStatuses(R"({"object":"whatsapp_business_account","entry":[{"changes":[
      {"value":{"statuses":[
        {"id":"wamid.A","status":"failed","timestamp":1750263801,"recipient_id":"1",
         "errors":[{"code":131026,"title":"Message undeliverable."}]},
        {"id":"wamid.B","status":"failed",
         "errors":[{"code":131000,"message":"Something went wrong"}]}]}}]}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].error_code, "131026");
  EXPECT_EQ((*s)[0].error_message, "Message undeliverable.");
  EXPECT_EQ((*s)[0].timestamp, 1750263801);  // a number is accepted too
  EXPECT_EQ((*s)[1].error_message, "Something went wrong");
  EXPECT_EQ((*s)[1].timestamp, 0);  // absent
}

TEST(MetaWebhookStatuses, IncomingMessagesOnlyGiveNoStatus) {
  auto s = ParseWhatsAppStatuses(R"({"object":"whatsapp_business_account","entry":[{"id":"1",
      "changes":[{"field":"messages","value":{"messages":[{"from":"1","id":"wamid.X",
      "type":"text","text":{"body":"hi"}}]}}]}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->empty());
  EXPECT_TRUE(
      ParseWhatsAppStatuses(R"({"object":"whatsapp_business_account","entry":[]})")->empty());
  EXPECT_TRUE(ParseWhatsAppStatuses(R"({"object":"whatsapp_business_account"})")->empty());
}

// A webhook body whose only change has `statuses` (JSON text) as its statuses.
std::string WithStatuses(const std::string& statuses) {
  return R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":)" +
         statuses + "}}]}]}";
}

TEST(MetaWebhookStatuses, RefusesMalformedBodies) {
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      R"("whatsapp_business_account")",
      R"({"entry":[]})",
      R"({"object":"page","entry":[]})",
      R"({"object":"whatsapp_business_account","entry":{}})",
      R"({"object":"whatsapp_business_account","entry":[1]})",
      R"({"object":"whatsapp_business_account","entry":[{"changes":{}}]})",
      R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":[]}]}]})",
      WithStatuses("{}"),
      WithStatuses(R"(["x"])"),
      WithStatuses(R"([{"status":"sent"}])"),
      WithStatuses(R"([{"id":"wamid.A"}])"),
      WithStatuses(R"([{"id":"","status":"sent"}])"),
      WithStatuses(R"([{"id":"w","status":"sent","timestamp":"17x"}])"),
      WithStatuses(R"([{"id":"w","status":"sent","timestamp":1.5}])"),
      WithStatuses(R"([{"id":"w","status":"sent","errors":{}}])"),
      "{\"object\":\"whatsapp_business_account\",\"x\":\"\xff\"}",  // not UTF-8
  };
  for (const std::string& body : bad) {
    auto s = ParseWhatsAppStatuses(body);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << body;
  }
  EXPECT_EQ(ParseWhatsAppStatuses(WithStatuses(R"([{"status":"sent"}])")).status().message(),
            "statuses[].id: required");
  EXPECT_TRUE(ParseWhatsAppStatuses(WithStatuses("[]"))->empty());
}

TEST(MetaWebhookStatuses, RefusesBodiesOverOneMebibyte) {
  std::string body = R"({"object":"whatsapp_business_account","entry":[],"pad":")";
  body += std::string(kMaxMetaWebhookBodyBytes, 'x');
  body += "\"}";
  EXPECT_EQ(ParseWhatsAppStatuses(body).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetaWebhookSubscription, EchoesTheChallengeForTheRightToken) {
  auto challenge =
      VerifySubscription("my-verify-token", "subscribe", "my-verify-token", "1158201444");
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(*challenge, "1158201444");
}

TEST(MetaWebhookSubscription, RefusesAWrongTokenOrMode) {
  EXPECT_EQ(
      VerifySubscription("my-verify-token", "subscribe", "my-verify-tokeN", "1").status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      VerifySubscription("my-verify-token", "subscribe", "my-verify-token-", "1").status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      VerifySubscription("my-verify-token", "unsubscribe", "my-verify-token", "1").status().code(),
      absl::StatusCode::kPermissionDenied);
  // An empty configured token never matches.
  EXPECT_EQ(VerifySubscription("", "subscribe", "x", "1").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(MetaWebhookSubscription, MissingOrUnsafeParametersAreInvalid) {
  EXPECT_EQ(VerifySubscription("t", "", "t", "1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifySubscription("t", "subscribe", "", "1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifySubscription("t", "subscribe", "t", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifySubscription("t", "subscribe", "t", "<script>").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifySubscription("t", "subscribe", "t", std::string(129, '1')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(VerifySubscription("t", "subscribe", "t", std::string(128, '1')).ok());
}

}  // namespace
}  // namespace herald::notify
