#include "auth/crypto.h"

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace herald::auth {
namespace {

TEST(Base64Url, RoundTripsEveryLengthWithoutPadding) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    std::optional<std::string> decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
}

TEST(Base64Url, MatchesTheRfcAlphabet) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(Base64UrlEncode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST(Base64Url, RejectsPaddingStandardAlphabetAndNonCanonicalInput) {
  EXPECT_FALSE(Base64UrlDecode("QQ==").has_value());  // padding
  EXPECT_FALSE(Base64UrlDecode("QQ=").has_value());
  EXPECT_FALSE(Base64UrlDecode("+/+/").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("QUJD RA").has_value());
  EXPECT_FALSE(Base64UrlDecode("QUJDR").has_value());  // length 1 mod 4
  EXPECT_FALSE(Base64UrlDecode("QR").has_value());     // unused bits set
  EXPECT_FALSE(Base64UrlDecode(std::string("QQ\0", 3)).has_value());
  EXPECT_FALSE(Base64UrlDecode("QUJ").has_value());  // unused bits set, 3-character tail
  EXPECT_FALSE(Base64UrlDecode("QUJDQUJD\xff").has_value());
  EXPECT_FALSE(Base64UrlDecode("QUJDQU.D").has_value());
  EXPECT_EQ(Base64UrlDecode("QUI"), std::optional<std::string>("AB"));
  EXPECT_EQ(Base64UrlDecode("QQ"), std::optional<std::string>("A"));
  EXPECT_EQ(Base64UrlDecode(""), std::optional<std::string>(""));
}

TEST(Hex, EncodesLowercaseAndDecodesEitherCase) {
  EXPECT_EQ(HexEncode("\x01\xab\xff"), "01abff");
  EXPECT_EQ(HexDecode("01ABff"), std::optional<std::string>("\x01\xab\xff"));
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(Digest, MatchesPublishedVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231, test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Key, MatchesTheOneShotFunctionAndRfc4231) {
  EXPECT_EQ(HexEncode(HmacSha256Key("Jefe").Sign("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4231, test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(HexEncode(HmacSha256Key(std::string(131, '\xaa'))
                          .Sign("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  const std::string key = "a-jwt-secret-of-exactly-64-bytes-0123456789abcdef0123456789abcde";
  ASSERT_EQ(key.size(), 64u);
  HmacSha256Key keyed(key);
  std::string data;
  for (int n = 0; n < 300; ++n) {
    EXPECT_EQ(keyed.Sign(data), HmacSha256(key, data)) << n;
    data.push_back(static_cast<char>(n));
  }
  // Shared across threads.
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) mismatches += keyed.Sign(data) != HmacSha256(key, data);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(RandomBytes, ReturnsFreshBytesOfTheAskedLength) {
  Result<std::string> a = RandomBytes(32);
  Result<std::string> b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

TEST(Base64, MatchesRfc4648Vectors) {
  // RFC 4648 section 10.
  const std::pair<std::string, std::string> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : kVectors) {
    EXPECT_EQ(Base64Encode(bytes), text);
    EXPECT_EQ(Base64Decode(text), std::optional<std::string>(bytes)) << text;
  }
  // The two characters where the standard alphabet differs from base64url.
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(Base64Decode("+/+/"), std::optional<std::string>("\xfb\xff\xbf"));
}

TEST(Base64, RoundTripsEveryLengthWithPadding) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    const std::string encoded = Base64Encode(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u) << encoded;
    std::optional<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 200));
  }
}

TEST(Base64, DecodesTheStandardWebhooksTestSecret) {
  std::optional<std::string> key = Base64Decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 24u);
}

TEST(Base64, DecodeRefusesAnythingButTheCanonicalEncoding) {
  for (std::string_view bad : {
           "Zg",        // padding missing
           "Zg=",       // padding short
           "Zg===",     // padding long
           "Zm8",       // padding missing
           "Z===",      // one character is never a byte
           "====",      // padding only
           "Zg==Zg==",  // padding in the middle
           "Zm=v",      // padding in the middle
           "Zh==",      // unused bits not zero
           "Zm9=",      // unused bits not zero
           "Zm9v\n",    // whitespace
           " Zm9v",     // whitespace
           "Zm 9v",     // whitespace
           "-_-_",      // base64url characters
           "Zm9v!A==",  // outside the alphabet
       }) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Base64Decode(std::string_view("Zm\0v", 4)).has_value());
}

}  // namespace
}  // namespace herald::auth
