#include "auth/jwt.h"

#include <string>

#include "auth/crypto.h"
#include "core/strings.h"
#include "gtest/gtest.h"

namespace herald::auth {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test";

// A token with arbitrary header and payload JSON, signed with HMAC-SHA256 under `secret`.
std::string Forge(std::string_view header, std::string_view payload,
                  std::string_view secret = kSecret) {
  std::string signing = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  return signing + "." + Base64UrlEncode(HmacSha256(secret, signing));
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = JwtCodec::Create(kSecret, clock_);
    ASSERT_TRUE(c.ok()) << c.status();
    codec_ = std::move(c).value();
  }

  Claims Sample() const {
    Claims c;
    c.sub = "0190a0b0-0000-7000-8000-000000000001";
    c.role = "organizer";
    c.iat = clock_.Now();
    c.exp = clock_.Now() + absl::Hours(1);
    c.jti = "token-1";
    return c;
  }

  std::string Payload(int64_t iat, int64_t exp, std::string_view extra = "") const {
    return "{\"sub\":\"u1\",\"role\":\"operator\",\"permissions\":[\"scans:create\"],\"iat\":" +
           std::to_string(iat) + ",\"exp\":" + std::to_string(exp) + ",\"jti\":\"j1\"" +
           std::string(extra) + "}";
  }
  int64_t Now() const { return absl::ToUnixSeconds(clock_.Now()); }

  void ExpectRejected(std::string_view token, std::string_view reason) {
    Result<Claims> r = codec_->Verify(token);
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(ToStd(r.status().message()), reason) << token;
  }

  core::ManualClock clock_;
  std::unique_ptr<JwtCodec> codec_;
};

constexpr std::string_view kGoodHeader = R"({"alg":"HS256","typ":"JWT"})";

TEST_F(JwtTest, SignedClaimsRoundTrip) {
  Result<std::string> token = codec_->Sign(Sample());
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(token->starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
  Result<Claims> claims = codec_->Verify(*token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(*claims, Sample());
}

// A token stays short (about 250 bytes): the user's permissions are read from the store, not
// carried. A token of an earlier version, which carries the list, still verifies.
TEST_F(JwtTest, TokensCarryNoPermissionListAndOlderTokensWithOneVerify) {
  std::string token = *codec_->Sign(Sample());
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  std::optional<std::string> payload = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(payload->find("permissions"), std::string::npos) << *payload;
  EXPECT_LT(token.size(), 300u);
  const std::string now = std::to_string(Now()), later = std::to_string(Now() + 60);
  for (std::string list : {R"(["events:read","tickets:create"])", R"("*")", "[1]"}) {
    Result<Claims> old = codec_->Verify(
        Forge(kGoodHeader, R"({"sub":"u1","role":"organizer","permissions":)" + list +
                               R"(,"iat":)" + now + R"(,"exp":)" + later + R"(,"jti":"j"})"));
    ASSERT_TRUE(old.ok()) << old.status();
    EXPECT_EQ(old->sub, "u1");
    EXPECT_EQ(old->role, "organizer");
  }
}

TEST_F(JwtTest, SignTruncatesTimesToSeconds) {
  Claims c = Sample();
  c.iat += absl::Milliseconds(700);
  c.exp += absl::Milliseconds(700);
  Result<Claims> back = codec_->Verify(*codec_->Sign(c));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->iat, Sample().iat);
  EXPECT_EQ(back->exp, Sample().exp);
}

TEST_F(JwtTest, TamperedPayloadIsABadSignature) {
  std::string token = *codec_->Sign(Sample());
  Claims admin = Sample();
  admin.role = "admin";
  std::string other = *codec_->Sign(admin);
  // Splice the admin payload into the organizer token.
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  size_t o1 = other.find('.'), o2 = other.rfind('.');
  std::string spliced =
      token.substr(0, d1 + 1) + other.substr(o1 + 1, o2 - o1 - 1) + token.substr(d2);
  ExpectRejected(spliced, "bad signature");
  // Flip one signature character.
  std::string flipped = token;
  flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
  ExpectRejected(flipped, "bad signature");
}

TEST_F(JwtTest, TokenFromAnotherKeyIsABadSignature) {
  auto other = JwtCodec::Create("another-secret-that-is-long-enough!!", clock_);
  ASSERT_TRUE(other.ok());
  ExpectRejected(*(*other)->Sign(Sample()), "bad signature");
}

TEST_F(JwtTest, AlgNoneIsRejected) {
  std::string payload = Base64UrlEncode(Payload(Now(), Now() + 60));
  std::string header = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  ExpectRejected(header + "." + payload + ".", "unsupported alg");
  ExpectRejected(Forge(R"({"alg":"none","typ":"JWT"})", Payload(Now(), Now() + 60)),
                 "unsupported alg");
  ExpectRejected(Forge(R"({"alg":"None","typ":"JWT"})", Payload(Now(), Now() + 60)),
                 "unsupported alg");
}

TEST_F(JwtTest, OtherAlgorithmsAndMissingAlgAreRejected) {
  for (std::string_view header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256","typ":"JWT"})",
        R"({"alg":"ES256","typ":"JWT"})", R"({"alg":"hs256","typ":"JWT"})", R"({"typ":"JWT"})",
        R"({"alg":256,"typ":"JWT"})"}) {
    ExpectRejected(Forge(header, Payload(Now(), Now() + 60)), "unsupported alg");
  }
}

TEST_F(JwtTest, HeaderMustBeExactlyAlgAndTyp) {
  ExpectRejected(Forge(R"({"alg":"HS256"})", Payload(Now(), Now() + 60)),
                 "unsupported token header");
  ExpectRejected(Forge(R"({"alg":"HS256","typ":"JWS"})", Payload(Now(), Now() + 60)),
                 "unsupported token header");
  ExpectRejected(
      Forge(R"({"alg":"HS256","typ":"JWT","kid":"../../key"})", Payload(Now(), Now() + 60)),
      "unsupported token header");
  ExpectRejected(Forge(R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", Payload(Now(), Now() + 60)),
                 "unsupported token header");
  // Member order and spacing are free; only the content counts.
  EXPECT_TRUE(
      codec_->Verify(Forge(R"({ "typ" : "JWT", "alg" : "HS256" })", Payload(Now(), Now() + 60)))
          .ok());
}

TEST_F(JwtTest, ExpiresAtExpOnTheInjectedClock) {
  std::string token = *codec_->Sign(Sample());
  clock_.Advance(absl::Hours(1) - absl::Seconds(1));
  EXPECT_TRUE(codec_->Verify(token).ok());
  clock_.Advance(absl::Seconds(1));
  ExpectRejected(token, "token expired");
}

TEST_F(JwtTest, LeewayExtendsExpiry) {
  auto lenient = JwtCodec::Create(kSecret, clock_, {absl::Seconds(30), absl::Minutes(1)});
  ASSERT_TRUE(lenient.ok());
  std::string token = *codec_->Sign(Sample());
  clock_.Advance(absl::Hours(1) + absl::Seconds(29));
  EXPECT_TRUE((*lenient)->Verify(token).ok());
  ExpectRejected(token, "token expired");
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE((*lenient)->Verify(token).ok());
}

TEST_F(JwtTest, IssuedInTheFutureIsNotYetValid) {
  ExpectRejected(Forge(kGoodHeader, Payload(Now() + 3600, Now() + 7200)), "token not yet valid");
  // Within the allowed skew between nodes.
  EXPECT_TRUE(codec_->Verify(Forge(kGoodHeader, Payload(Now() + 30, Now() + 7200))).ok());
  ExpectRejected(
      Forge(kGoodHeader, Payload(Now(), Now() + 60, ",\"nbf\":" + std::to_string(Now() + 10))),
      "token not yet valid");
}

TEST_F(JwtTest, ExtremeTimesAreHandledWithoutOverflow) {
  const std::string max = "9223372036854775807", min = "-9223372036854775808";
  std::string far = R"({"sub":"u","role":"r","iat":)" + min + R"(,"exp":)" + max +
                    R"(,"jti":"j","nbf":)" + min + "}";
  Result<Claims> c = codec_->Verify(Forge(kGoodHeader, far));
  ASSERT_TRUE(c.ok()) << c.status();
  Result<Claims> again = codec_->Verify(*codec_->Sign(*c));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *c);
  std::string past =
      R"({"sub":"u","role":"r","iat":)" + min + R"(,"exp":)" + min + R"(,"jti":"j"})";
  ExpectRejected(Forge(kGoodHeader, past), "token expired");
  std::string too_big = R"({"sub":"u","role":"r","iat":1,"exp":)"
                        R"(18446744073709551615,"jti":"j"})";
  ExpectRejected(Forge(kGoodHeader, too_big), "malformed claims");
}

TEST_F(JwtTest, MalformedTokensAreRejected) {
  std::string good = *codec_->Sign(Sample());
  size_t d1 = good.find('.');
  for (std::string_view bad :
       {std::string_view(""), std::string_view("."), std::string_view(".."),
        std::string_view("abc"), std::string_view("a.b"), std::string_view("a.b.c.d")}) {
    ExpectRejected(bad, "malformed token");
  }
  ExpectRejected(good.substr(0, d1), "malformed token");                          // one part
  ExpectRejected(good + ".x", "malformed token");                                 // four parts
  ExpectRejected("." + good.substr(d1 + 1), "malformed token");                   // empty header
  ExpectRejected("e+J" + good.substr(3), "malformed token");                      // bad base64 char
  ExpectRejected(good.substr(0, d1) + "=" + good.substr(d1), "malformed token");  // padding
  ExpectRejected(good + "=", "bad signature");  // padded signature
  ExpectRejected(Base64UrlEncode("not json") + good.substr(d1), "malformed token");
  ExpectRejected(Base64UrlEncode("[1,2]") + good.substr(d1), "malformed token");
}

TEST_F(JwtTest, MalformedClaimsAreRejectedEvenWhenSigned) {
  const std::string now = std::to_string(Now());
  const std::string later = std::to_string(Now() + 60);
  for (std::string payload : {
           std::string("[]"),
           std::string("\"claims\""),
           R"({"sub":"u1","role":"r","iat":)" + now + R"(,"jti":"j"})",
           R"({"sub":"u1","role":"r","iat":)" + now + R"(,"exp":")" + later + R"(","jti":"j"})",
           R"({"sub":"u1","role":"r","iat":)" + now + R"(,"exp":)" + later + R"(.5,"jti":"j"})",
           R"({"sub":"","role":"r","iat":)" + now + R"(,"exp":)" + later + R"(,"jti":"j"})",
           R"({"sub":"u1","role":"r","iat":)" + now + R"(,"exp":)" + later + R"(})",
           R"({"sub":"u1","role":"r","iat":)" + now + R"(,"exp":)" + later +
               R"(,"jti":"j","nbf":"soon"})",
       }) {
    ExpectRejected(Forge(kGoodHeader, payload), "malformed claims");
  }
}

TEST_F(JwtTest, OversizedTokensAreRejectedBeforeParsing) {
  ExpectRejected(std::string(kMaxTokenBytes + 1, 'a'), "token too large");
  Claims big = Sample();
  big.role.assign(kMaxTokenBytes, 'r');
  EXPECT_EQ(codec_->Sign(big).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtTest, SignRejectsIncompleteClaims) {
  Claims c = Sample();
  c.sub.clear();
  EXPECT_EQ(codec_->Sign(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = Sample();
  c.jti.clear();
  EXPECT_EQ(codec_->Sign(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = Sample();
  c.exp = c.iat;
  EXPECT_EQ(codec_->Sign(c).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwtCodec, SecretMustHaveAtLeast32Bytes) {
  core::ManualClock clock;
  EXPECT_EQ(JwtCodec::Create(std::string(31, 'k'), clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(JwtCodec::Create(std::string(32, 'k'), clock).ok());
  EXPECT_FALSE(JwtCodec::Create(std::string(32, 'k'), clock, {absl::Seconds(-1)}).ok());
}

}  // namespace
}  // namespace herald::auth
