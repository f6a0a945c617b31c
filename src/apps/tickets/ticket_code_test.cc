#include "apps/tickets/ticket_code.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "docs/qr.h"
#include "gtest/gtest.h"

namespace herald::apps::tickets {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string Message(const Status& s) { return std::string(ToStd(s.message())); }

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

SigningKey GoldenKey() {
  std::array<uint8_t, 32> seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i + 1);
  return SigningKeyFromSeed(seed);
}

// Event 12345, ticket 9,999,999, type 3, generation 2, valid on 2026-06-13 from 16:00 to the
// next day 04:00 UTC.
TicketClaims RealisticClaims() {
  return {.key_id = 1,
          .event_id = 12345,
          .ticket_id = 9'999'999,
          .ticket_type_id = 3,
          .generation = 2,
          .valid_from = Utc(2026, 6, 13, 16, 0),
          .valid_until = Utc(2026, 6, 14, 4, 0)};
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// The text of a frame made of `claim_bytes` after the version byte and a zero signature.
std::string FrameText(std::vector<uint8_t> claim_bytes, uint8_t version = 1) {
  std::string frame(1, static_cast<char>(version));
  for (uint8_t b : claim_bytes) frame += static_cast<char>(b);
  frame.append(kSignatureBytes, '\0');
  return Base32Encode(frame);
}

void ExpectInvalid(std::string_view text, std::string_view message_part) {
  SCOPED_TRACE(StrCat("text: ", text));
  Result<SignedCode> code = ParseSignedCode(text);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(code.status()).find(message_part), std::string::npos) << Message(code.status());
}

TEST(TicketCode, RoundTripsClaimsWithAndWithoutValidityWindow) {
  const SigningKey key = GenerateSigningKey();
  TicketClaims with_window = RealisticClaims();
  TicketClaims without_window = RealisticClaims();
  without_window.valid_from.reset();
  without_window.valid_until.reset();
  TicketClaims only_until = RealisticClaims();
  only_until.valid_from.reset();
  TicketClaims epoch = RealisticClaims();
  epoch.valid_from = absl::UnixEpoch();  // encoded as 1, distinct from absent
  for (const TicketClaims& claims : {with_window, without_window, only_until, epoch}) {
    Result<std::string> text = EncodeSignedCode(claims, key);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(ClassifyCode(*text), CodeKind::kSigned);
    Result<SignedCode> code = ParseSignedCode(*text);
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(code->claims, claims);
    EXPECT_TRUE(VerifySignedCode(*code, key.public_key));
  }
}

TEST(TicketCode, RoundTripsLargeIdsAndKeyId65535) {
  const SigningKey key = GenerateSigningKey();
  // Two 9-byte ids and a window would overflow the 96-byte frame (see
  // LargestFrameIs96BytesAndParses), so the event id stays realistic.
  const TicketClaims claims = {.key_id = kMaxKeyId,
                               .event_id = 1'000'000,
                               .ticket_id = kInt64Max,
                               .ticket_type_id = 0,
                               .generation = 0,
                               .valid_from = absl::FromUnixSeconds(4'102'444'800),  // 2100
                               .valid_until = absl::FromUnixSeconds(4'102'531'200)};
  Result<std::string> text = EncodeSignedCode(claims, key);
  ASSERT_TRUE(text.ok()) << text.status();
  Result<SignedCode> code = ParseSignedCode(*text);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(code->claims, claims);
  EXPECT_TRUE(VerifySignedCode(*code, key.public_key));
}

TEST(TicketCode, GoldenVector) {
  const SigningKey key = GoldenKey();
  Result<std::string> text = EncodeSignedCode(RealisticClaims(), key);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(
      *text,
      "AEA3SYH7VTRAIAYCQH63LUIGYHHLRUIGZXDSZW3F4U3WJ552FCJCGALRSLVAASXAHOZALUIW5LEDV2M3YV7TJN3YB"
      "JOYRGFC46JYDEZGACQGVE5QLOJAUD4ZP5PHTI7AF7PMCCY");
  Result<SignedCode> code = ParseSignedCode(*text);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_TRUE(VerifySignedCode(*code, key.public_key));
}

TEST(TicketCode, AcceptsLowerCase) {
  const SigningKey key = GoldenKey();
  Result<std::string> text = EncodeSignedCode(RealisticClaims(), key);
  ASSERT_TRUE(text.ok()) << text.status();
  Result<SignedCode> code = ParseSignedCode(Lower(*text));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(code->claims, RealisticClaims());
  EXPECT_TRUE(VerifySignedCode(*code, key.public_key));
  EXPECT_EQ(ClassifyCode(Lower(*text)), CodeKind::kSigned);
}

TEST(TicketCode, EveryFlippedBitFailsParseOrVerify) {
  const SigningKey key = GoldenKey();
  Result<std::string> text = EncodeSignedCode(RealisticClaims(), key);
  ASSERT_TRUE(text.ok()) << text.status();
  Result<std::string> frame = Base32Decode(*text);
  ASSERT_TRUE(frame.ok()) << frame.status();
  int parsed = 0;
  for (size_t i = 0; i < frame->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = *frame;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      Result<SignedCode> code = ParseSignedCode(Base32Encode(flipped));
      if (!code.ok()) {
        EXPECT_EQ(code.status().code(), absl::StatusCode::kInvalidArgument);
        continue;
      }
      ++parsed;
      EXPECT_FALSE(VerifySignedCode(*code, key.public_key)) << "byte " << i << " bit " << bit;
    }
  }
  // Most flips (the whole signature, for one) still parse: the signature is what refuses them.
  EXPECT_GT(parsed, 64 * 8);
}

TEST(TicketCode, WrongPublicKeyFails) {
  Result<std::string> text = EncodeSignedCode(RealisticClaims(), GoldenKey());
  ASSERT_TRUE(text.ok()) << text.status();
  Result<SignedCode> code = ParseSignedCode(*text);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_FALSE(VerifySignedCode(*code, GenerateSigningKey().public_key));
}

TEST(TicketCode, SignatureOverAnotherDomainFails) {
  const SigningKey key = GoldenKey();
  Result<std::string> text = EncodeSignedCode(RealisticClaims(), key);
  ASSERT_TRUE(text.ok()) << text.status();
  Result<SignedCode> code = ParseSignedCode(*text);
  ASSERT_TRUE(code.ok()) << code.status();
  ASSERT_EQ(code->signed_message.substr(0, kSignatureDomain.size()), kSignatureDomain);

  // The same frame signed under another domain string, or with no domain at all.
  const std::string frame = code->signed_message.substr(kSignatureDomain.size());
  for (const std::string& message : {"herald-ticket-v2" + frame, frame}) {
    SignedCode forged = *code;
    crypto_sign_detached(forged.signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         key.secret.data());
    EXPECT_FALSE(VerifySignedCode(forged, key.public_key));
  }
}

TEST(TicketCode, RefusesOutOfRangeClaims) {
  const SigningKey key = GoldenKey();
  auto with = [](auto change) {
    TicketClaims c = RealisticClaims();
    change(c);
    return c;
  };
  const std::vector<std::pair<TicketClaims, std::string>> cases = {
      {with([](TicketClaims& c) { c.key_id = 0; }), "key_id"},
      {with([](TicketClaims& c) { c.key_id = 65536; }), "key_id"},
      {with([](TicketClaims& c) { c.event_id = 0; }), "event_id"},
      {with([](TicketClaims& c) { c.ticket_id = -1; }), "ticket_id"},
      {with([](TicketClaims& c) { c.ticket_type_id = -1; }), "ticket_type_id"},
      {with([](TicketClaims& c) { c.generation = -1; }), "generation"},
      {with([](TicketClaims& c) { c.valid_from = absl::FromUnixSeconds(-1); }), "valid_from"},
      {with([](TicketClaims& c) { c.valid_until = absl::FromUnixMillis(1'781'366'400'500); }),
       "whole"},
      {with([](TicketClaims& c) { c.valid_until = absl::InfiniteFuture(); }), "valid_until"},
      {with([](TicketClaims& c) { c.valid_until = absl::FromUnixSeconds(kInt64Max); }),
       "valid_until"},
      // Every field at its maximum needs a 122-byte frame.
      {with([](TicketClaims& c) {
         c = {.key_id = kMaxKeyId,
              .event_id = kInt64Max,
              .ticket_id = kInt64Max,
              .ticket_type_id = kInt64Max,
              .generation = kInt64Max,
              .valid_from = absl::FromUnixSeconds(kInt64Max - 1),
              .valid_until = absl::FromUnixSeconds(kInt64Max - 1)};
       }),
       "122-byte frame"},
  };
  for (const auto& [claims, message_part] : cases) {
    Result<std::string> text = EncodeSignedCode(claims, key);
    ASSERT_FALSE(text.ok()) << message_part;
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(Message(text.status()).find(message_part), std::string::npos)
        << Message(text.status());
  }
}

TEST(TicketCode, LargestFrameIs96BytesAndParses) {
  // 3 + 9 + 9 + 1 + 1 + 5 + 3 claim bytes: exactly kMaxFrameBytes.
  const TicketClaims claims = {.key_id = kMaxKeyId,
                               .event_id = kInt64Max,
                               .ticket_id = kInt64Max,
                               .ticket_type_id = 127,
                               .generation = 127,
                               .valid_from = absl::FromUnixSeconds(34'359'738'366),  // 2^35 - 2
                               .valid_until = absl::FromUnixSeconds(2'097'150)};     // 2^21 - 2
  Result<std::string> text = EncodeSignedCode(claims, GoldenKey());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->size(), kMaxSignedCodeLength);
  Result<SignedCode> code = ParseSignedCode(*text);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(code->claims, claims);
  // One more claim byte is one too many.
  TicketClaims bigger = claims;
  bigger.generation = 128;
  EXPECT_EQ(EncodeSignedCode(bigger, GoldenKey()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TicketCode, RefusesMalformedText) {
  Result<std::string> golden = EncodeSignedCode(RealisticClaims(), GoldenKey());
  ASSERT_TRUE(golden.ok()) << golden.status();
  ExpectInvalid("", "empty");
  ExpectInvalid(*golden + "=", "padding");
  for (char c : {'0', '1', '8', '9', ' ', '-'}) {
    std::string bad = *golden;
    bad[40] = c;
    ExpectInvalid(bad, "not base32");
  }
  ExpectInvalid(std::string_view(*golden).substr(0, golden->size() - 1), "encodes no byte");
  // 84 bytes fill 135 characters with 3 unused bits; set one of them.
  ASSERT_EQ(golden->size(), 135u);
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string unused_bit = *golden;
  unused_bit.back() = kAlphabet[kAlphabet.find(golden->back()) | 1];
  ExpectInvalid(unused_bit, "unused bits");

  const std::vector<uint8_t> ok = {1, 1, 1, 0, 0, 0, 0};
  Result<SignedCode> minimal = ParseSignedCode(FrameText(ok));
  ASSERT_TRUE(minimal.ok()) << minimal.status();  // the cases below differ from it in one way
  EXPECT_EQ(minimal->claims.key_id, 1u);
  ExpectInvalid(FrameText(ok, 2), "version 2");
  ExpectInvalid(FrameText(ok, 0), "version 0");
  ExpectInvalid(FrameText({0x80, 0x00, 1, 1, 0, 0, 0, 0}), "overlong");
  ExpectInvalid(FrameText({1, 1, 1, 0, 0, 0, 0x80, 0x00}), "overlong");
  ExpectInvalid(FrameText({1, 1, 1, 0, 0, 0}), "truncated");
  ExpectInvalid(FrameText({1, 1, 1, 0, 0, 0, 0x81}), "truncated");
  ExpectInvalid(Base32Encode(std::string("\x01\x01\x01", 3) + std::string(64, '\0')), "truncated");
  ExpectInvalid(FrameText({1, 1, 1, 0, 0, 0, 0, 0}), "trailing");
  // Field values out of range.
  ExpectInvalid(FrameText({0, 1, 1, 0, 0, 0, 0}), "key_id");
  ExpectInvalid(FrameText({0x80, 0x80, 0x04, 1, 1, 0, 0, 0, 0}), "key_id");  // 65536
  ExpectInvalid(FrameText({1, 0, 1, 0, 0, 0, 0}), "event_id");
  ExpectInvalid(FrameText({1, 1, 0, 0, 0, 0, 0}), "ticket_id");
  // 2^63 (ten bytes) does not fit an int64; 2^63 - 1 (nine bytes) does.
  ExpectInvalid(
      FrameText({1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x01, 0, 0, 0, 0}),
      "exceeds int64");
  Result<SignedCode> max = ParseSignedCode(
      FrameText({1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0}));
  ASSERT_TRUE(max.ok()) << max.status();
  EXPECT_EQ(max->claims.ticket_id, kInt64Max);
  // A 97-byte frame (156 characters) is too long, whatever it holds.
  std::vector<uint8_t> long_claims(97 - 1 - kSignatureBytes, 0);
  long_claims[0] = long_claims[1] = long_claims[2] = 1;
  ASSERT_EQ(FrameText(long_claims).size(), 156u);
  ExpectInvalid(FrameText(long_claims), "more than 154");
}

TEST(TicketCode, RealisticCodeFitsQrVersion6AtLevelM) {
  Result<std::string> text = EncodeSignedCode(RealisticClaims(), GoldenKey());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_LE(text->size(), 140u);
  Result<docs::QrCode> qr = docs::QrCode::Encode(*text, docs::QrErrorCorrection::kMedium);
  ASSERT_TRUE(qr.ok()) << qr.status();
  EXPECT_LE(qr->version(), 6);
  EXPECT_LE(qr->size(), 41);
  EXPECT_EQ(qr->size(), 17 + 4 * qr->version());
}

TEST(TicketCode, LongestCodeFitsQrVersion6AtLevelM) {
  // 154 characters, the most a 96-byte frame takes, is exactly version 6-M's alphanumeric
  // capacity.
  Result<docs::QrCode> qr = docs::QrCode::Encode(std::string(kMaxSignedCodeLength, 'Z'),
                                                 docs::QrErrorCorrection::kMedium);
  ASSERT_TRUE(qr.ok()) << qr.status();
  EXPECT_EQ(qr->version(), 6);
  EXPECT_EQ(qr->size(), 41);
}

TEST(SecretKey, SealsAndOpens) {
  const std::array<uint8_t, 32> master = DeriveKey("a configured secret", "ticket-key-master");
  const SigningKey key = GenerateSigningKey();
  const std::string sealed = SealSecretKey(master, key, "event:12:key:1");
  EXPECT_NE(sealed, SealSecretKey(master, key, "event:12:key:1"));  // fresh nonce
  EXPECT_EQ(sealed.size(), 96u);                                    // base64 of 24 + 32 + 16 bytes
  Result<SigningKey> opened = OpenSecretKey(master, sealed, "event:12:key:1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->secret, key.secret);
  EXPECT_EQ(opened->public_key, key.public_key);
}

TEST(SecretKey, RefusesTamperingAndWrongContextOrMaster) {
  const std::array<uint8_t, 32> master = DeriveKey("a configured secret", "ticket-key-master");
  const std::string sealed = SealSecretKey(master, GenerateSigningKey(), "event:12:key:1");

  EXPECT_EQ(OpenSecretKey(master, sealed, "event:12:key:2").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      OpenSecretKey(DeriveKey("another secret", "ticket-key-master"), sealed, "event:12:key:1")
          .status()
          .code(),
      absl::StatusCode::kDataLoss);
  // Every byte of nonce, ciphertext and tag is authenticated (72 bytes: no base64 padding).
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    Result<SigningKey> opened = OpenSecretKey(master, tampered, "event:12:key:1");
    ASSERT_FALSE(opened.ok()) << "offset " << i;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << "offset " << i;
  }
  EXPECT_EQ(OpenSecretKey(master, "not base64!", "event:12:key:1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSecretKey(master, sealed.substr(0, 92), "event:12:key:1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SecretKey, DeriveKeyIsDeterministicAndSeparatesPurposes) {
  EXPECT_EQ(DeriveKey("secret", "a"), DeriveKey("secret", "a"));
  EXPECT_NE(DeriveKey("secret", "a"), DeriveKey("secret", "b"));
  EXPECT_NE(DeriveKey("secret", "a"), DeriveKey("secret2", "a"));
  // Secrets outside BLAKE2b's 16..64-byte key range work too.
  EXPECT_NE(DeriveKey("", "a"), DeriveKey(std::string(200, 'x'), "a"));
}

TEST(RandomCode, Is26DistinctBase32Characters) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string code = RandomCode();
    ASSERT_EQ(code.size(), kRandomCodeLength);
    ASSERT_EQ(code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos)
        << code;
    Result<std::string> bytes = Base32Decode(code);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size(), 16u);
    EXPECT_EQ(ClassifyCode(code), CodeKind::kRandom);
    seen.insert(code);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(TicketNumber, HasTheDocumentedShape) {
  for (int64_t event_id : {int64_t{1}, int64_t{42}, int64_t{12345}, kInt64Max}) {
    const std::string number = NewTicketNumber(event_id);
    const std::string digits = fmt::format("{:03}", event_id);
    EXPECT_EQ(number.substr(0, 5 + digits.size()), StrCat("TKT-", digits, "-"));
    ASSERT_EQ(number.size(), 4 + digits.size() + 1 + 10);
    EXPECT_EQ(
        number.substr(number.size() - 10).find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"),
        std::string::npos)
        << number;
    EXPECT_TRUE(IsTicketNumber(number)) << number;
    EXPECT_TRUE(IsTicketNumber(Lower(number))) << number;
    EXPECT_EQ(ClassifyCode(number), CodeKind::kTicketNumber);
  }
  EXPECT_EQ(NewTicketNumber(7).substr(0, 8), "TKT-007-");
  EXPECT_NE(NewTicketNumber(7), NewTicketNumber(7));
}

TEST(TicketNumber, RefusesOtherShapes) {
  for (std::string_view text : {
           "TKT-001-ABC123",                      // the seed's 6 random characters: not this format
           "TKT-001",                             // no random part
           "TKT-01-7Q2M9XK4CD",                   // fewer than 3 digits
           "TKT-0001-7Q2M9XK4CD",                 // more padding than NewTicketNumber writes
           "TKT-000-7Q2M9XK4CD",                  // event 0
           "TKT-9223372036854775808-7Q2M9XK4CD",  // beyond int64
           "TKT-001-7Q2M9XK4CU",                  // U is not Crockford
           "TKT-001-7Q2M9XK4C",                   // 9 characters
           "TKT-001-7Q2M9XK4CDE",                 // 11 characters
           "TKT+001-7Q2M9XK4CD",
           "TKT-+01-7Q2M9XK4CD",
           "",
       }) {
    EXPECT_FALSE(IsTicketNumber(text)) << text;
  }
  EXPECT_TRUE(IsTicketNumber("tkt-001-7q2m9xk4cd"));
}

TEST(ClassifyCode, TellsKindsApartByShape) {
  Result<std::string> signed_code = EncodeSignedCode(RealisticClaims(), GoldenKey());
  ASSERT_TRUE(signed_code.ok()) << signed_code.status();
  EXPECT_EQ(ClassifyCode(*signed_code), CodeKind::kSigned);
  EXPECT_EQ(ClassifyCode(RandomCode()), CodeKind::kRandom);
  EXPECT_EQ(ClassifyCode(Lower(RandomCode())), CodeKind::kRandom);
  EXPECT_EQ(ClassifyCode(NewTicketNumber(12)), CodeKind::kTicketNumber);

  EXPECT_EQ(ClassifyCode(""), CodeKind::kUnknown);
  EXPECT_EQ(ClassifyCode(std::string(25, 'A')), CodeKind::kUnknown);
  EXPECT_EQ(ClassifyCode(std::string(27, 'A')), CodeKind::kUnknown);
  EXPECT_EQ(ClassifyCode(std::string(25, 'A') + "0"), CodeKind::kUnknown);
  EXPECT_EQ(ClassifyCode("B" + signed_code->substr(1)), CodeKind::kUnknown);   // not version 1
  EXPECT_EQ(ClassifyCode("AA" + signed_code->substr(2)), CodeKind::kUnknown);  // nor this
  EXPECT_EQ(ClassifyCode(*signed_code + std::string(20, 'A')), CodeKind::kUnknown);  // too long
  EXPECT_EQ(ClassifyCode(signed_code->substr(0, 115)), CodeKind::kUnknown);          // too short
  EXPECT_EQ(ClassifyCode("{\"id\":1,\"eventId\":1}"), CodeKind::kUnknown);
}

TEST(Base32, MatchesRfc4648Vectors) {
  // RFC 4648 section 10, without padding.
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(Base32Encode(bytes), text);
    Result<std::string> decoded = Base32Decode(text);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, bytes);
    Result<std::string> lower = Base32Decode(Lower(text));
    ASSERT_TRUE(lower.ok()) << lower.status();
    EXPECT_EQ(*lower, bytes);
  }
  EXPECT_FALSE(Base32Decode("MY======").ok());
  EXPECT_FALSE(Base32Decode("MZ").ok());      // unused bits set
  EXPECT_FALSE(Base32Decode("M").ok());       // length 1 mod 8
  EXPECT_FALSE(Base32Decode("MZX").ok());     // length 3 mod 8
  EXPECT_FALSE(Base32Decode("MZXW6Y").ok());  // length 6 mod 8
}

}  // namespace
}  // namespace herald::apps::tickets
