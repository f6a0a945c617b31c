#include "notify/twilio_callback.h"

#include "gtest/gtest.h"
#include "net/http_client.h"

namespace herald::notify {
namespace {

// The example of https://www.twilio.com/docs/usage/security#validating-requests (auth token
// 12345); the expected value was also computed independently with Python's hmac module.
const FormParams kExample = {{"CallSid", "CA1234567890ABCDE"},
                             {"Caller", "+12349013030"},
                             {"Digits", "1234"},
                             {"From", "+12349013030"},
                             {"To", "+18005551212"}};
constexpr char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";

TEST(TwilioSignature, MatchesTheDocumentedExample) {
  EXPECT_EQ(TwilioSignature("12345", kUrl, kExample), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  // Parameter order as received does not matter: they are sorted by name.
  FormParams shuffled(kExample.rbegin(), kExample.rend());
  EXPECT_TRUE(VerifyTwilioSignature("12345", kUrl, shuffled, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST(TwilioSignature, RejectsAnyChange) {
  const std::string good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
  FormParams tampered = kExample;
  tampered[2].second = "1235";
  EXPECT_FALSE(VerifyTwilioSignature("12345", kUrl, tampered, good));
  EXPECT_FALSE(VerifyTwilioSignature("12345", "https://mycompany.com/myapp.php", kExample, good));
  EXPECT_FALSE(VerifyTwilioSignature("54321", kUrl, kExample, good));
  EXPECT_FALSE(VerifyTwilioSignature("12345", kUrl, kExample, ""));
  EXPECT_FALSE(VerifyTwilioSignature("12345", kUrl, kExample, good.substr(1)));
  EXPECT_FALSE(VerifyTwilioSignature("", kUrl, kExample, good));
}

TEST(ParseTwilioStatus, ReadsTheStatusFields) {
  auto s = ParseTwilioStatus({{"MessageSid", "SM1"},
                              {"MessageStatus", "undelivered"},
                              {"ErrorCode", "30003"},
                              {"AccountSid", "AC1"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->message_sid, "SM1");
  EXPECT_EQ(s->status, "undelivered");
  EXPECT_EQ(s->error_code, "30003");
  EXPECT_EQ(ParseTwilioStatus({{"MessageStatus", "sent"}}).status().message(),
            "MessageSid: required");
  EXPECT_EQ(ParseTwilioStatus({{"MessageSid", "SM1"}}).status().message(),
            "MessageStatus: required");
}

TEST(FormDecode, DecodesPlusPercentAndKeepsOrder) {
  auto f = net::FormDecode("To=%2B33612345678&Body=Fête+de+la+musique&Body=2&Empty=&&x=%e2%82%ac");
  ASSERT_TRUE(f.ok()) << f.status();
  const FormParams expected = {{"To", "+33612345678"},
                               {"Body", "Fête de la musique"},
                               {"Body", "2"},
                               {"Empty", ""},
                               {"x", "€"}};
  EXPECT_EQ(*f, expected);
  EXPECT_TRUE(net::FormDecode("")->empty());
  EXPECT_EQ(*net::FormDecode(net::FormEncode(expected)), expected);
}

TEST(FormDecode, RefusesMalformedBodies) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "noequals", "a=1&b", "%G0=1"}) {
    EXPECT_EQ(net::FormDecode(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(net::FormDecode(std::string((1 << 20) + 1, 'a')).ok());
}

}  // namespace
}  // namespace herald::notify
