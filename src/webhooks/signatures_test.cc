#include "webhooks/signatures.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/crypto.h"
#include "boost/json.hpp"
#include "core/strings.h"
#include "gtest/gtest.h"
#include "webhooks/testing/sign_js.h"

namespace herald::webhooks {
namespace {

namespace json = boost::json;
using testing::JsonLines;
using testing::NodeRun;
using testing::PeersInstalled;
using testing::RunSignJs;

// research/ticketing.md section 2.1, computed there with Python hmac and Node crypto.
constexpr std::string_view kStripeSecret = "whsec_test_secret";
constexpr int64_t kStripeTimestamp = 1700000000;
constexpr std::string_view kStripeBody =
    R"({"id":"evt_test_1","object":"event","type":"checkout.session.completed"})";
constexpr std::string_view kStripeV1 =
    "ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08";

// The official Standard Webhooks test vector (C# test verifyWebhookSignWorks).
constexpr std::string_view kStandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kStandardId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kStandardTimestamp = 1614265330;
constexpr std::string_view kStandardBody = R"({"test": 2432232314})";
constexpr std::string_view kStandardSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

constexpr absl::Duration kTolerance = absl::Minutes(5);

absl::Time At(int64_t unix_seconds) { return absl::FromUnixSeconds(unix_seconds); }

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

std::string StandardKey() {
  Result<std::string> key = DecodeStandardSecret(kStandardSecret);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *key : std::string();
}

// ---------------------------------------------------------------------------------------------
// Stripe

TEST(StripeSignature, MatchesTheFixedVector) {
  EXPECT_EQ(StripeSignature(kStripeSecret, kStripeTimestamp, kStripeBody), kStripeV1);
  EXPECT_EQ(StripeSignatureHeaderValue(kStripeSecret, kStripeTimestamp, kStripeBody),
            StrCat("t=1700000000,v1=", kStripeV1));
  // The key is the secret string with its prefix, not anything decoded from it.
  EXPECT_EQ(StripeSignature(kStripeSecret, kStripeTimestamp, kStripeBody),
            auth::HexEncode(auth::HmacSha256(kStripeSecret, StrCat("1700000000.", kStripeBody))));
}

TEST(VerifyStripeSignature, AcceptsTheFixedVectorWithinTheToleranceBothWays) {
  const std::string header = StrCat("t=1700000000,v1=", kStripeV1);
  const std::vector<std::string> secrets = {std::string(kStripeSecret)};
  for (int64_t now : {kStripeTimestamp, kStripeTimestamp - 300, kStripeTimestamp + 300}) {
    EXPECT_TRUE(VerifyStripeSignature(header, kStripeBody, secrets, At(now), kTolerance).ok())
        << now;
  }
  // Sub-second parts of `now` are dropped, as the reference libraries do.
  EXPECT_TRUE(VerifyStripeSignature(header, kStripeBody, secrets,
                                    At(kStripeTimestamp + 300) + absl::Milliseconds(999),
                                    kTolerance)
                  .ok());
}

TEST(VerifyStripeSignature, RefusesAChangedBody) {
  const std::vector<std::string> secrets = {std::string(kStripeSecret)};
  const std::string header =
      StripeSignatureHeaderValue(kStripeSecret, kStripeTimestamp, kStripeBody);
  std::string body(kStripeBody);
  for (size_t i = 0; i < body.size(); ++i) {
    std::string changed = body;
    changed[i] = static_cast<char>(changed[i] ^ 1);
    Status s = VerifyStripeSignature(header, changed, secrets, At(kStripeTimestamp), kTolerance);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << i;
    EXPECT_EQ(Message(s), "no signature matches") << i;
  }
  EXPECT_FALSE(
      VerifyStripeSignature(header, body + " ", secrets, At(kStripeTimestamp), kTolerance).ok());
  EXPECT_FALSE(VerifyStripeSignature(header, "", secrets, At(kStripeTimestamp), kTolerance).ok());
}

TEST(VerifyStripeSignature, RefusesTimestampsOutsideTheToleranceEitherWay) {
  const std::vector<std::string> secrets = {std::string(kStripeSecret)};
  const std::string header =
      StripeSignatureHeaderValue(kStripeSecret, kStripeTimestamp, kStripeBody);
  for (int64_t now : {kStripeTimestamp + 301, kStripeTimestamp - 301, int64_t{0}}) {
    Status s = VerifyStripeSignature(header, kStripeBody, secrets, At(now), kTolerance);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << now;
    EXPECT_EQ(Message(s), "timestamp outside the tolerance") << now;
  }
  // Extreme clocks saturate rather than overflow.
  EXPECT_FALSE(
      VerifyStripeSignature(header, kStripeBody, secrets, absl::InfiniteFuture(), kTolerance).ok());
  EXPECT_FALSE(
      VerifyStripeSignature(header, kStripeBody, secrets, absl::InfinitePast(), kTolerance).ok());
}

TEST(VerifyStripeSignature, RefusesAWrongSecret) {
  const std::vector<std::string> secrets = {"whsec_other_secret"};
  Status s = VerifyStripeSignature(StrCat("t=1700000000,v1=", kStripeV1), kStripeBody, secrets,
                                   At(kStripeTimestamp), kTolerance);
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_EQ(Message(s), "no signature matches");
  // A signature with the right MAC but another timestamp does not verify either.
  s = VerifyStripeSignature(StrCat("t=1700000001,v1=", kStripeV1), kStripeBody,
                            std::vector<std::string>{std::string(kStripeSecret)},
                            At(kStripeTimestamp), kTolerance);
  EXPECT_EQ(Message(s), "no signature matches");
}

TEST(VerifyStripeSignature, RefusesAMissingHeader) {
  Status s = VerifyStripeSignature("", kStripeBody, std::vector<std::string>{"whsec_x"},
                                   At(kStripeTimestamp), kTolerance);
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_EQ(Message(s), "missing Stripe-Signature header");
}

TEST(VerifyStripeSignature, RefusesCallerMistakesWithInvalidArgument) {
  const std::string header = StrCat("t=1700000000,v1=", kStripeV1);
  const std::vector<std::string> secrets = {std::string(kStripeSecret)};
  for (absl::Duration tolerance : {absl::ZeroDuration(), absl::Seconds(-1)}) {
    EXPECT_TRUE(absl::IsInvalidArgument(
        VerifyStripeSignature(header, kStripeBody, secrets, At(kStripeTimestamp), tolerance)));
  }
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyStripeSignature(
      header, kStripeBody, std::vector<std::string>{}, At(kStripeTimestamp), kTolerance)));
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyStripeSignature(
      header, kStripeBody, std::vector<std::string>{""}, At(kStripeTimestamp), kTolerance)));
}

TEST(VerifyStripeSignature, AcceptsAnyMatchingV1AndAnyConfiguredSecret) {
  const std::string good = StripeSignature(kStripeSecret, kStripeTimestamp, kStripeBody);
  const std::string other = StripeSignature("whsec_old", kStripeTimestamp, kStripeBody);
  const std::vector<std::string> secrets = {std::string(kStripeSecret)};
  // Stripe rolling the endpoint secret: two v1 values, one valid, in either order.
  for (const std::string& header :
       {StrCat("t=1700000000,v1=", other, ",v1=", good),
        StrCat("t=1700000000,v1=", good, ",v1=", other),
        StrCat("v1=", other, ", v0=", other, ", t=1700000000 ,v1=", good, ",scheme=x")}) {
    EXPECT_TRUE(
        VerifyStripeSignature(header, kStripeBody, secrets, At(kStripeTimestamp), kTolerance).ok())
        << header;
  }
  // The receiver rolling: two secrets configured, the header signed with the second.
  const std::vector<std::string> two = {"whsec_new_one", std::string(kStripeSecret)};
  EXPECT_TRUE(VerifyStripeSignature(StrCat("t=1700000000,v1=", good), kStripeBody, two,
                                    At(kStripeTimestamp), kTolerance)
                  .ok());
  // Uppercase hex decodes to the same MAC.
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(VerifyStripeSignature(StrCat("t=1700000000,v1=", upper), kStripeBody, secrets,
                                    At(kStripeTimestamp), kTolerance)
                  .ok());
}

TEST(ParseStripeSignatureHeader, ReadsTimestampAndV1Entries) {
  Result<StripeSignatureHeader> h = ParseStripeSignatureHeader(
      StrCat(" t=1700000000 , v1=", kStripeV1, ",v0=zz,v1=", std::string(64, '0'), ",foo=bar"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->timestamp, kStripeTimestamp);
  ASSERT_EQ(h->v1.size(), 2u);
  EXPECT_EQ(auth::HexEncode(h->v1[0]), kStripeV1);
  EXPECT_EQ(h->v1[1], std::string(32, '\0'));
}

TEST(ParseStripeSignatureHeader, RefusesMalformedHeaders) {
  const std::string v1 = StrCat("v1=", kStripeV1);
  struct Case {
    std::string header;
    std::string reason;
  };
  std::vector<Case> cases = {
      {v1, "no t"},
      {"t=1700000000", "no v1 signature"},
      {"t=1700000000,v0=" + std::string(kStripeV1), "no v1 signature"},
      {StrCat("t=1700000000,t=1700000000,", v1), "more than one t"},
      {StrCat("t=,", v1), "t must be 1 to 12 digits"},
      {StrCat("t=-1,", v1), "t must be 1 to 12 digits"},
      {StrCat("t=1700000000.5,", v1), "t must be 1 to 12 digits"},
      {StrCat("t=1234567890123,", v1), "t must be 1 to 12 digits"},
      {StrCat("t= 1700000000,", v1), "t must be 1 to 12 digits"},
      {"t=1700000000,v1=" + std::string(kStripeV1.substr(1)), "v1 must be 64 hex digits"},
      {StrCat("t=1700000000,", v1, "0"), "v1 must be 64 hex digits"},
      {"t=1700000000,v1=" + std::string(63, 'a') + "g", "v1 must be 64 hex digits"},
      {StrCat("t=1700000000,", v1, ",v1=potato"), "v1 must be 64 hex digits"},
      {"t=1700000000,v1=", "v1 must be 64 hex digits"},
      {StrCat("t=1700000000,", v1, ","), "expected key=value items"},
      {StrCat("t=1700000000,,", v1), "expected key=value items"},
      {StrCat("t=1700000000,=x,", v1), "expected key=value items"},
      {StrCat("t=1700000000,garbage,", v1), "expected key=value items"},
      {StrCat("t=1700000000;", v1), "t must be 1 to 12 digits"},
      {"", "expected key=value items"},
      {std::string(kMaxSignatureHeaderBytes + 1, 'x'), "header too long"},
  };
  std::string many = "t=1700000000";
  for (size_t i = 0; i < kMaxSignatureEntries; ++i) many += "," + v1;
  cases.push_back({many, "too many items"});
  for (const Case& c : cases) {
    Result<StripeSignatureHeader> h = ParseStripeSignatureHeader(c.header);
    ASSERT_FALSE(h.ok()) << c.header;
    EXPECT_TRUE(absl::IsInvalidArgument(h.status())) << c.header;
    EXPECT_EQ(Message(h.status()), c.reason) << c.header;
    // Through the verifier: Unauthenticated, the same reason, never the header itself.
    Status s = VerifyStripeSignature(c.header, kStripeBody,
                                     std::vector<std::string>{std::string(kStripeSecret)},
                                     At(kStripeTimestamp), kTolerance);
    if (c.header.empty()) continue;
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << c.header;
    EXPECT_EQ(Message(s), "malformed Stripe-Signature header: " + c.reason) << c.header;
  }
  // The most entries allowed still parse.
  std::string most = "t=1700000000";
  for (size_t i = 1; i < kMaxSignatureEntries; ++i) most += "," + v1;
  EXPECT_TRUE(ParseStripeSignatureHeader(most).ok());
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks

TEST(DecodeStandardSecret, AcceptsTheOfficialTestKeyWithOrWithoutPrefix) {
  Result<std::string> key = DecodeStandardSecret(kStandardSecret);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 24u);
  Result<std::string> bare = DecodeStandardSecret(kStandardSecret.substr(6));
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(*bare, *key);
}

TEST(DecodeStandardSecret, AcceptsOnly24To64BytesOfStrictBase64) {
  EXPECT_TRUE(DecodeStandardSecret("whsec_" + auth::Base64Encode(std::string(64, 'k'))).ok());
  for (size_t n : {size_t{0}, size_t{1}, size_t{23}, size_t{65}, size_t{128}}) {
    Result<std::string> key =
        DecodeStandardSecret("whsec_" + auth::Base64Encode(std::string(n, 'k')));
    EXPECT_TRUE(absl::IsInvalidArgument(key.status())) << n;
  }
  const std::string good(kStandardSecret.substr(6));
  for (const std::string& bad :
       {"whsec_" + good + "\n", "whsec_ " + good, "whsec_" + good.substr(1), "whsec_" + good + "=",
        "whsk_" + good, "whsec_" + good.substr(0, 10) + "-_" + good.substr(12)}) {
    Result<std::string> key = DecodeStandardSecret(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(key.status())) << bad;
    // The message never quotes the secret.
    EXPECT_EQ(Message(key.status()).find(good.substr(2, 8)), std::string::npos);
  }
}

TEST(NewStandardSecret, MakesFreshSecretsThatDecodeTo32Bytes) {
  Result<std::string> a = NewStandardSecret();
  Result<std::string> b = NewStandardSecret();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->starts_with("whsec_")) << *a;
  EXPECT_NE(*a, *b);
  Result<std::string> key = DecodeStandardSecret(*a);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 32u);
}

TEST(StandardSignature, MatchesTheOfficialVector) {
  EXPECT_EQ(StandardSignature(StandardKey(), kStandardId, kStandardTimestamp, kStandardBody),
            kStandardSignature);
}

StandardWebhookHeaders VectorHeaders() { return {kStandardId, "1614265330", kStandardSignature}; }

TEST(VerifyStandardWebhook, AcceptsTheOfficialVectorWithinTheToleranceBothWays) {
  const std::vector<std::string> keys = {StandardKey()};
  for (int64_t now : {kStandardTimestamp, kStandardTimestamp - 300, kStandardTimestamp + 300}) {
    EXPECT_TRUE(
        VerifyStandardWebhook(VectorHeaders(), kStandardBody, keys, At(now), kTolerance).ok())
        << now;
  }
}

TEST(VerifyStandardWebhook, RefusesAChangedBodyIdOrTimestamp) {
  const std::vector<std::string> keys = {StandardKey()};
  std::string body(kStandardBody);
  for (size_t i = 0; i < body.size(); ++i) {
    std::string changed = body;
    changed[i] = static_cast<char>(changed[i] ^ 1);
    Status s =
        VerifyStandardWebhook(VectorHeaders(), changed, keys, At(kStandardTimestamp), kTolerance);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << i;
    EXPECT_EQ(Message(s), "no signature matches") << i;
  }
  StandardWebhookHeaders h = VectorHeaders();
  h.id = "msg_p5jXN8AQM9LWM0D4loKWxJeK";
  EXPECT_EQ(
      Message(VerifyStandardWebhook(h, kStandardBody, keys, At(kStandardTimestamp), kTolerance)),
      "no signature matches");
  h = VectorHeaders();
  h.timestamp = "1614265331";
  EXPECT_EQ(
      Message(VerifyStandardWebhook(h, kStandardBody, keys, At(kStandardTimestamp), kTolerance)),
      "no signature matches");
}

TEST(VerifyStandardWebhook, RefusesTimestampsOutsideTheToleranceEitherWay) {
  const std::vector<std::string> keys = {StandardKey()};
  for (int64_t now : {kStandardTimestamp + 301, kStandardTimestamp - 301}) {
    Status s = VerifyStandardWebhook(VectorHeaders(), kStandardBody, keys, At(now), kTolerance);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << now;
    EXPECT_EQ(Message(s), "timestamp outside the tolerance") << now;
  }
}

TEST(VerifyStandardWebhook, RefusesAWrongKey) {
  const std::vector<std::string> keys = {std::string(32, 'k')};
  Status s = VerifyStandardWebhook(VectorHeaders(), kStandardBody, keys, At(kStandardTimestamp),
                                   kTolerance);
  EXPECT_TRUE(absl::IsUnauthenticated(s));
  EXPECT_EQ(Message(s), "no signature matches");
}

TEST(VerifyStandardWebhook, RefusesMissingHeaders) {
  const std::vector<std::string> keys = {StandardKey()};
  const std::pair<StandardWebhookHeaders, std::string> cases[] = {
      {{"", "1614265330", kStandardSignature}, "missing webhook-id header"},
      {{kStandardId, "", kStandardSignature}, "missing webhook-timestamp header"},
      {{kStandardId, "1614265330", ""}, "missing webhook-signature header"},
  };
  for (const auto& [headers, reason] : cases) {
    Status s =
        VerifyStandardWebhook(headers, kStandardBody, keys, At(kStandardTimestamp), kTolerance);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << reason;
    EXPECT_EQ(Message(s), reason);
  }
}

TEST(VerifyStandardWebhook, RefusesMalformedHeaders) {
  const std::vector<std::string> keys = {StandardKey()};
  const std::string sig(kStandardSignature);
  const std::string b64 = sig.substr(3);
  const std::string long_id(kMaxStandardIdBytes + 1, 'm');
  struct Case {
    std::string id, timestamp, signature, reason;
  };
  std::vector<Case> cases = {
      {"msg.1", "1614265330", sig, "malformed webhook-id header"},
      {long_id, "1614265330", sig, "malformed webhook-id header"},
      {std::string(kStandardId), "1614265330.0", sig, "malformed webhook-timestamp header"},
      {std::string(kStandardId), "-1614265330", sig, "malformed webhook-timestamp header"},
      {std::string(kStandardId), " 1614265330", sig, "malformed webhook-timestamp header"},
      {std::string(kStandardId), "1614265330123", sig, "malformed webhook-timestamp header"},
      {std::string(kStandardId), "2021-02-25T15:02:10Z", sig, "malformed webhook-timestamp header"},
  };
  const std::string prefix = "malformed webhook-signature header: ";
  const std::pair<std::string, std::string> signatures[] = {
      {"v1a," + b64, "no v1 signature"},
      {"v2,abc", "no v1 signature"},
      {"   ", "no v1 signature"},
      {b64, "expected version,signature entries"},
      {"," + b64, "expected version,signature entries"},
      {sig + ",", "v1 must be the base64 of 32 bytes"},
      {"v1=" + b64, "expected version,signature entries"},
      {"v1," + b64.substr(0, b64.size() - 1), "v1 must be the base64 of 32 bytes"},
      {"v1," + b64.substr(0, b64.size() - 4), "v1 must be the base64 of 32 bytes"},
      {"v1,AAAA" + b64, "v1 must be the base64 of 32 bytes"},
      {"v1,potato", "v1 must be the base64 of 32 bytes"},
      {"v1,", "v1 must be the base64 of 32 bytes"},
      {sig + ",v1,x", "v1 must be the base64 of 32 bytes"},
      {sig + "\t", "v1 must be the base64 of 32 bytes"},
      {std::string(kMaxSignatureHeaderBytes + 1, ' '), "header too long"},
  };
  for (const auto& [signature, reason] : signatures) {
    cases.push_back({std::string(kStandardId), "1614265330", signature, prefix + reason});
    Result<std::vector<std::string>> parsed = ParseStandardSignatureHeader(signature);
    ASSERT_FALSE(parsed.ok()) << signature;
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << signature;
    EXPECT_EQ(Message(parsed.status()), reason) << signature;
  }
  std::string many;
  for (size_t i = 0; i <= kMaxSignatureEntries; ++i) many += "v1a,xyz ";
  cases.push_back({std::string(kStandardId), "1614265330", many, prefix + "too many signatures"});
  for (const Case& c : cases) {
    Status s = VerifyStandardWebhook({c.id, c.timestamp, c.signature}, kStandardBody, keys,
                                     At(kStandardTimestamp), kTolerance);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << c.signature;
    EXPECT_EQ(Message(s), c.reason) << c.id << " " << c.timestamp << " " << c.signature;
  }
}

TEST(VerifyStandardWebhook, AcceptsAnyMatchingV1AndAnyConfiguredKey) {
  const std::string key = StandardKey();
  const std::string other_key(32, 'o');
  const std::string other =
      StandardSignature(other_key, kStandardId, kStandardTimestamp, kStandardBody);
  const std::string sig(kStandardSignature);
  const std::vector<std::string> keys = {key};
  // The sender rotating: several entries, other versions ignored, spaces tolerated.
  for (const std::string& header :
       {other + " " + sig, sig + " " + other, "v1a,bm90IGNoZWNrZWQ= " + sig,
        "  " + other + "   v2,??? " + sig + " "}) {
    EXPECT_TRUE(VerifyStandardWebhook({kStandardId, "1614265330", header}, kStandardBody, keys,
                                      At(kStandardTimestamp), kTolerance)
                    .ok())
        << header;
  }
  // The receiver rotating: two keys, the header signed with the second.
  const std::vector<std::string> two = {other_key + "x", key};
  EXPECT_TRUE(
      VerifyStandardWebhook(VectorHeaders(), kStandardBody, two, At(kStandardTimestamp), kTolerance)
          .ok());
  // The most entries allowed.
  std::string most;
  for (size_t i = 1; i < kMaxSignatureEntries; ++i) most += other + " ";
  most += sig;
  EXPECT_TRUE(VerifyStandardWebhook({kStandardId, "1614265330", most}, kStandardBody, keys,
                                    At(kStandardTimestamp), kTolerance)
                  .ok());
}

TEST(VerifyStandardWebhook, RefusesCallerMistakesWithInvalidArgument) {
  const std::vector<std::string> keys = {StandardKey()};
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyStandardWebhook(
      VectorHeaders(), kStandardBody, keys, At(kStandardTimestamp), absl::ZeroDuration())));
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyStandardWebhook(VectorHeaders(), kStandardBody,
                                                            std::vector<std::string>{},
                                                            At(kStandardTimestamp), kTolerance)));
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyStandardWebhook(VectorHeaders(), kStandardBody,
                                                            std::vector<std::string>{""},
                                                            At(kStandardTimestamp), kTolerance)));
}

// ---------------------------------------------------------------------------------------------
// Against the official packages (tests/peers/webhooks/sign.js, stripe and standardwebhooks on
// npm). These tests fail, not skip, when Node or the packages are missing: the install script
// runs `npm ci` there.

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::string();
  return std::string(v->as_string().data(), v->as_string().size());
}

// Payloads that exercise the bytes: UTF-8 (é as 2 bytes, € as 3), a newline, pretty-printed
// JSON, an empty body, and something that is not JSON.
const std::vector<std::string>& PeerPayloads() {
  static const std::vector<std::string> payloads = {
      std::string(kStripeBody),
      std::string(kStandardBody),
      "{\"name\":\"Ren\xc3\xa9\",\"amount\":\"12 \xe2\x82\xac\"}",
      "{\n  \"id\": \"evt_2\",\n  \"note\": \"line one\\nline two\"\n}\n",
      "caf\xc3\xa9 \xe2\x82\xac\r\nnot json at all",
      "",
  };
  return payloads;
}

TEST(OfficialPackages, TheirSignaturesVerifyAndEqualOursByteForByte) {
  ASSERT_TRUE(PeersInstalled());
  Result<std::string> fresh_secret = NewStandardSecret();
  ASSERT_TRUE(fresh_secret.ok());
  const std::vector<std::string> standard_secrets = {std::string(kStandardSecret), *fresh_secret};
  const std::vector<std::string> stripe_secrets = {std::string(kStripeSecret),
                                                   "whsec_\xc3\xa9t\xc3\xa9-secret"};
  struct Case {
    std::string payload, stripe_secret, standard_secret, id;
    int64_t timestamp;
  };
  std::vector<Case> cases;
  std::vector<json::object> input;
  int n = 0;
  for (const std::string& payload : PeerPayloads()) {
    for (size_t s = 0; s < 2; ++s) {
      Case c{payload, stripe_secrets[s], standard_secrets[s], StrCat("msg_", ++n),
             kStripeTimestamp + n * 1000};
      json::object o;
      o["payload"] = c.payload;
      o["timestamp"] = c.timestamp;
      o["stripe_secret"] = c.stripe_secret;
      o["standard_secret"] = c.standard_secret;
      o["id"] = c.id;
      input.push_back(std::move(o));
      cases.push_back(std::move(c));
    }
  }
  // The official vectors themselves, through the packages.
  {
    Case c{std::string(kStandardBody), std::string(kStripeSecret), std::string(kStandardSecret),
           std::string(kStandardId), kStandardTimestamp};
    json::object o;
    o["payload"] = c.payload;
    o["timestamp"] = c.timestamp;
    o["stripe_secret"] = c.stripe_secret;
    o["standard_secret"] = c.standard_secret;
    o["id"] = c.id;
    input.push_back(std::move(o));
    cases.push_back(std::move(c));
  }

  const NodeRun run = RunSignJs("sign", input);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<json::object> results = JsonLines(run.out);
  ASSERT_EQ(results.size(), cases.size()) << run.out << run.err;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE(StrCat("case ", i, " payload ", json::serialize(json::string(c.payload))));
    const std::string stripe_header = Str(results[i], "stripe_header");
    const std::string standard_signature = Str(results[i], "standard_signature");
    EXPECT_EQ(stripe_header, StripeSignatureHeaderValue(c.stripe_secret, c.timestamp, c.payload));
    EXPECT_TRUE(VerifyStripeSignature(stripe_header, c.payload,
                                      std::vector<std::string>{c.stripe_secret}, At(c.timestamp),
                                      kTolerance)
                    .ok());
    Result<std::string> key = DecodeStandardSecret(c.standard_secret);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(standard_signature, StandardSignature(*key, c.id, c.timestamp, c.payload));
    const std::string timestamp = StrCat(c.timestamp);
    EXPECT_TRUE(VerifyStandardWebhook({c.id, timestamp, standard_signature}, c.payload,
                                      std::vector<std::string>{*key}, At(c.timestamp), kTolerance)
                    .ok());
  }
  EXPECT_EQ(Str(results.back(), "standard_signature"), kStandardSignature);
}

// Our signatures, checked by the packages' own verifiers. Those read the real clock (5-minute
// tolerance), so this test signs with the real time rather than an injected clock.
std::vector<json::object> OurSignedCases(int64_t now, std::string_view standard_secret) {
  Result<std::string> key = DecodeStandardSecret(standard_secret);
  EXPECT_TRUE(key.ok());
  std::vector<json::object> out;
  int n = 0;
  for (const std::string& payload : PeerPayloads()) {
    const std::string id = StrCat("msg_ours_", ++n);
    json::object standard;
    standard["scheme"] = "standard";
    standard["payload"] = payload;
    standard["secret"] = standard_secret;
    standard["id"] = id;
    standard["timestamp"] = StrCat(now);
    standard["signature"] = StandardSignature(key.ok() ? *key : "", id, now, payload);
    out.push_back(std::move(standard));
    // stripe-node refuses an empty payload before looking at the signature.
    if (payload.empty()) continue;
    json::object stripe;
    stripe["scheme"] = "stripe";
    stripe["payload"] = payload;
    stripe["secret"] = kStripeSecret;
    stripe["header"] = StripeSignatureHeaderValue(kStripeSecret, now, payload);
    out.push_back(std::move(stripe));
  }
  return out;
}

TEST(OfficialPackages, TheirVerifiersAcceptOurSignatures) {
  ASSERT_TRUE(PeersInstalled());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  Result<std::string> fresh_secret = NewStandardSecret();
  ASSERT_TRUE(fresh_secret.ok());
  for (std::string_view secret : {kStandardSecret, std::string_view(*fresh_secret)}) {
    const std::vector<json::object> cases = OurSignedCases(now, secret);
    const NodeRun run = RunSignJs("verify", cases);
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    const std::vector<json::object> results = JsonLines(run.out);
    ASSERT_EQ(results.size(), cases.size()) << run.out << run.err;
    for (size_t i = 0; i < results.size(); ++i) {
      const json::value* ok = results[i].if_contains("ok");
      EXPECT_TRUE(ok != nullptr && ok->is_bool() && ok->as_bool())
          << json::serialize(cases[i]) << " -> " << json::serialize(results[i]);
    }
  }
}

TEST(OfficialPackages, TheirVerifiersRefuseTamperedSignatures) {
  // A control for the test above: sign.js verify does fail when it should.
  ASSERT_TRUE(PeersInstalled());
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<json::object> cases = OurSignedCases(now, kStandardSecret);
  for (json::object& c : cases) {
    const char* field = Str(c, "scheme") == "stripe" ? "header" : "signature";
    std::string tampered = Str(c, field);
    char& ch = tampered[tampered.size() - 5];
    ch = ch == 'A' ? 'B' : 'A';
    c[field] = tampered;
  }
  const NodeRun run = RunSignJs("verify", cases);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  const std::vector<json::object> results = JsonLines(run.out);
  ASSERT_EQ(results.size(), cases.size()) << run.out << run.err;
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_NE(Str(results[i], "error"), "") << json::serialize(cases[i]);
  }
}

}  // namespace
}  // namespace herald::webhooks
