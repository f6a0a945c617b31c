#include "apps/tickets/ticket_code.h"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <limits>

#include "absl/strings/numbers.h"
#include "auth/crypto.h"
#include "core/strings.h"

namespace herald::apps::tickets {
namespace {

constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::string_view kTicketNumberPrefix = "TKT-";
constexpr size_t kTicketNumberRandomChars = 10;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kSeedBytes = crypto_sign_SEEDBYTES;
constexpr size_t kSealedBytes =
    kNonceBytes + kSeedBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES;
// Version byte, seven one-byte varints and the signature.
constexpr size_t kMinFrameBytes = 1 + 7 + kSignatureBytes;
constexpr size_t kMinSignedCodeLength = (kMinFrameBytes * 8 + 4) / 5;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

static_assert(kSignatureBytes == crypto_sign_BYTES);
static_assert(kMaxSignedCodeLength == (kMaxFrameBytes * 8 + 4) / 5);

void EnsureSodium() {
  // sodium_init is thread-safe and idempotent; it fails only if the OS has no entropy source,
  // and then no key or code can be made safely.
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The value of a base32 character, either case, or -1.
int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool IsBase32(std::string_view text) {
  for (char c : text) {
    if (Base32Value(c) < 0) return false;
  }
  return true;
}

char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

void AppendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// Reads one canonical unsigned LEB128 varint of at most 63 bits from `body` at `pos`.
Result<int64_t> ReadVarint(std::string_view body, size_t& pos, std::string_view field) {
  uint64_t value = 0;
  for (int i = 0;; ++i) {
    if (pos >= body.size()) {
      return absl::InvalidArgumentError(StrCat("ticket code is truncated in ", field));
    }
    const uint8_t b = static_cast<uint8_t>(body[pos++]);
    if (i == 9) {  // nine 7-bit groups are 63 bits: a tenth byte means >= 2^63
      return absl::InvalidArgumentError(StrCat("ticket code ", field, " exceeds int64"));
    }
    value |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) {
        return absl::InvalidArgumentError(
            StrCat("ticket code ", field, " is an overlong (non-canonical) varint"));
      }
      return static_cast<int64_t>(value);
    }
  }
}

Status ValidateTime(const std::optional<absl::Time>& t, std::string_view field) {
  if (!t) return absl::OkStatus();
  const int64_t s = absl::ToUnixSeconds(*t);  // saturates for infinite times
  if (absl::FromUnixSeconds(s) != *t) {
    return absl::InvalidArgumentError(StrCat(field, " must be a whole number of seconds"));
  }
  if (s < 0 || s == kInt64Max) {
    return absl::InvalidArgumentError(
        StrCat(field, " must be from 1970-01-01T00:00:00Z to Unix time 2^63 - 2, got ", s));
  }
  return absl::OkStatus();
}

Status ValidateClaims(const TicketClaims& c) {
  if (c.key_id < 1 || c.key_id > kMaxKeyId) {
    return absl::InvalidArgumentError(StrCat("key_id must be 1 to 65535, got ", c.key_id));
  }
  if (c.event_id < 1) {
    return absl::InvalidArgumentError(StrCat("event_id must be >= 1, got ", c.event_id));
  }
  if (c.ticket_id < 1) {
    return absl::InvalidArgumentError(StrCat("ticket_id must be >= 1, got ", c.ticket_id));
  }
  if (c.ticket_type_id < 0) {
    return absl::InvalidArgumentError(
        StrCat("ticket_type_id must be >= 0, got ", c.ticket_type_id));
  }
  if (c.generation < 0) {
    return absl::InvalidArgumentError(StrCat("generation must be >= 0, got ", c.generation));
  }
  HERALD_RETURN_IF_ERROR(ValidateTime(c.valid_from, "valid_from"));
  return ValidateTime(c.valid_until, "valid_until");
}

uint64_t EncodeTime(const std::optional<absl::Time>& t) {
  return t ? static_cast<uint64_t>(absl::ToUnixSeconds(*t)) + 1 : 0;
}

std::optional<absl::Time> DecodeTime(int64_t v) {
  if (v == 0) return std::nullopt;
  return absl::FromUnixSeconds(v - 1);
}

}  // namespace

SigningKey GenerateSigningKey() {
  EnsureSodium();
  SigningKey key;
  crypto_sign_keypair(key.public_key.data(), key.secret.data());
  return key;
}

SigningKey SigningKeyFromSeed(std::span<const uint8_t, 32> seed) {
  EnsureSodium();
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret.data(), seed.data());
  return key;
}

Result<std::string> EncodeSignedCode(const TicketClaims& claims, const SigningKey& key) {
  EnsureSodium();
  HERALD_RETURN_IF_ERROR(ValidateClaims(claims));
  std::string message(kSignatureDomain);
  message += static_cast<char>(kSignedCodeVersion);
  AppendVarint(message, claims.key_id);
  AppendVarint(message, static_cast<uint64_t>(claims.event_id));
  AppendVarint(message, static_cast<uint64_t>(claims.ticket_id));
  AppendVarint(message, static_cast<uint64_t>(claims.ticket_type_id));
  AppendVarint(message, static_cast<uint64_t>(claims.generation));
  AppendVarint(message, EncodeTime(claims.valid_from));
  AppendVarint(message, EncodeTime(claims.valid_until));
  const size_t frame_bytes = message.size() - kSignatureDomain.size() + kSignatureBytes;
  if (frame_bytes > kMaxFrameBytes) {
    return absl::InvalidArgumentError(
        StrCat("ticket claims take a ", frame_bytes, "-byte frame, more than ", kMaxFrameBytes));
  }
  std::array<uint8_t, kSignatureBytes> signature;
  crypto_sign_detached(signature.data(), nullptr, Bytes(message), message.size(),
                       key.secret.data());
  std::string frame = message.substr(kSignatureDomain.size());
  frame.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  return Base32Encode(frame);
}

Result<SignedCode> ParseSignedCode(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("ticket code is empty");
  if (text.size() > kMaxSignedCodeLength) {
    return absl::InvalidArgumentError(StrCat("ticket code has ", text.size(),
                                             " characters, more than ", kMaxSignedCodeLength,
                                             " (a ", kMaxFrameBytes, "-byte frame)"));
  }
  // Not HERALD_ASSIGN_OR_RETURN: GCC 12 takes the string moved out of the Result for
  // "maybe uninitialized".
  const Result<std::string> decoded = Base32Decode(text);
  if (!decoded.ok()) return decoded.status();
  const std::string_view frame = *decoded;
  if (static_cast<uint8_t>(frame[0]) != kSignedCodeVersion) {
    return absl::InvalidArgumentError(
        StrCat("unknown ticket code version ", static_cast<uint8_t>(frame[0])));
  }
  if (frame.size() < kMinFrameBytes) {
    return absl::InvalidArgumentError(StrCat("ticket code is truncated: a ", frame.size(),
                                             "-byte frame, at least ", kMinFrameBytes, " needed"));
  }
  const std::string_view body = frame.substr(1, frame.size() - 1 - kSignatureBytes);
  size_t pos = 0;
  int64_t v[7];
  static constexpr std::string_view kFields[7] = {"key_id",         "event_id",   "ticket_id",
                                                  "ticket_type_id", "generation", "valid_from",
                                                  "valid_until"};
  for (int i = 0; i < 7; ++i) {
    HERALD_ASSIGN_OR_RETURN(v[i], ReadVarint(body, pos, kFields[i]));
  }
  if (pos != body.size()) {
    return absl::InvalidArgumentError(
        StrCat("ticket code has ", body.size() - pos, " trailing byte(s) after its claims"));
  }
  if (v[0] < 1 || v[0] > kMaxKeyId) {
    return absl::InvalidArgumentError(StrCat("key_id must be 1 to 65535, got ", v[0]));
  }
  SignedCode code;
  code.claims = {.key_id = static_cast<uint32_t>(v[0]),
                 .event_id = v[1],
                 .ticket_id = v[2],
                 .ticket_type_id = v[3],
                 .generation = v[4],
                 .valid_from = DecodeTime(v[5]),
                 .valid_until = DecodeTime(v[6])};
  HERALD_RETURN_IF_ERROR(ValidateClaims(code.claims));
  code.signed_message = StrCat(kSignatureDomain, frame.substr(0, 1 + pos));
  std::copy(frame.end() - kSignatureBytes, frame.end(), code.signature.begin());
  return code;
}

bool VerifySignedCode(const SignedCode& code, const PublicKey& key) {
  EnsureSodium();
  return crypto_sign_verify_detached(code.signature.data(), Bytes(code.signed_message),
                                     code.signed_message.size(), key.data()) == 0;
}

std::string SealSecretKey(const std::array<uint8_t, 32>& master, const SigningKey& key,
                          std::string_view context) {
  EnsureSodium();
  std::array<uint8_t, kSeedBytes> seed;
  crypto_sign_ed25519_sk_to_seed(seed.data(), key.secret.data());
  std::array<uint8_t, kSealedBytes> sealed;
  randombytes_buf(sealed.data(), kNonceBytes);
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + kNonceBytes, nullptr, seed.data(),
                                             seed.size(), Bytes(context), context.size(), nullptr,
                                             sealed.data(), master.data());
  sodium_memzero(seed.data(), seed.size());
  return auth::Base64Encode(
      std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size()));
}

Result<SigningKey> OpenSecretKey(const std::array<uint8_t, 32>& master, std::string_view sealed,
                                 std::string_view context) {
  EnsureSodium();
  const std::optional<std::string> bytes = auth::Base64Decode(sealed);
  if (!bytes) return absl::InvalidArgumentError("sealed key is not base64");
  if (bytes->size() != kSealedBytes) {
    return absl::InvalidArgumentError(
        StrCat("sealed key has ", bytes->size(), " bytes, expected ", kSealedBytes));
  }
  std::array<uint8_t, kSeedBytes> seed;
  const unsigned char* nonce = Bytes(*bytes);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed.data(), nullptr, nullptr, nonce + kNonceBytes,
                                                 kSealedBytes - kNonceBytes, Bytes(context),
                                                 context.size(), nonce, master.data()) != 0) {
    return absl::DataLossError(
        "sealed key does not open: tampered with, or a wrong master key or context");
  }
  SigningKey key = SigningKeyFromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

std::array<uint8_t, 32> DeriveKey(std::string_view secret, std::string_view purpose) {
  EnsureSodium();
  std::array<uint8_t, crypto_generichash_BYTES_MAX> secret_key;
  crypto_generichash(secret_key.data(), secret_key.size(), Bytes(secret), secret.size(), nullptr,
                     0);
  std::array<uint8_t, 32> out;
  crypto_generichash(out.data(), out.size(), Bytes(purpose), purpose.size(), secret_key.data(),
                     secret_key.size());
  sodium_memzero(secret_key.data(), secret_key.size());
  return out;
}

std::string RandomCode() {
  EnsureSodium();
  char bytes[16];
  randombytes_buf(bytes, sizeof(bytes));
  return Base32Encode(std::string_view(bytes, sizeof(bytes)));
}

std::string NewTicketNumber(int64_t event_id) {
  assert(event_id >= 1);
  EnsureSodium();
  std::string out = StrCat(kTicketNumberPrefix, fmt::format("{:03}", event_id), "-");
  for (size_t i = 0; i < kTicketNumberRandomChars; ++i) out += kCrockford[randombytes_uniform(32)];
  return out;
}

bool IsTicketNumber(std::string_view text) {
  if (text.size() < kTicketNumberPrefix.size()) return false;
  for (size_t i = 0; i < kTicketNumberPrefix.size(); ++i) {
    if (Upper(text[i]) != kTicketNumberPrefix[i]) return false;
  }
  text.remove_prefix(kTicketNumberPrefix.size());
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) return false;
  const std::string_view digits = text.substr(0, dash), random = text.substr(dash + 1);
  if (digits.size() < 3 || (digits.size() > 3 && digits[0] == '0')) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  int64_t event_id = 0;
  if (!absl::SimpleAtoi(ToAbsl(digits), &event_id) || event_id < 1) return false;
  if (random.size() != kTicketNumberRandomChars) return false;
  for (char c : random) {
    if (std::string_view(kCrockford).find(Upper(c)) == std::string_view::npos) return false;
  }
  return true;
}

CodeKind ClassifyCode(std::string_view text) {
  if (IsTicketNumber(text)) return CodeKind::kTicketNumber;
  if (!IsBase32(text)) return CodeKind::kUnknown;
  if (text.size() == kRandomCodeLength) return CodeKind::kRandom;
  if (text.size() >= kMinSignedCodeLength && text.size() <= kMaxSignedCodeLength &&
      Upper(text[0]) == 'A' && Upper(text[1]) >= 'E' && Upper(text[1]) <= 'H') {
    return CodeKind::kSigned;
  }
  return CodeKind::kUnknown;
}

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kBase32[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  const size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) {
    return absl::InvalidArgumentError(
        StrCat("base32 text of ", text.size(), " characters encodes no byte string"));
  }
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int value = Base32Value(text[i]);
    if (value < 0) {
      if (text[i] == '=') {
        return absl::InvalidArgumentError(
            StrCat("base32 padding '=' at offset ", i, " is not accepted"));
      }
      const uint8_t c = static_cast<uint8_t>(text[i]);
      return absl::InvalidArgumentError(
          c >= 0x20 && c < 0x7F
              ? StrCat("character '", text[i], "' at offset ", i, " is not base32 (A-Z, 2-7)")
              : StrCat("byte 0x", fmt::format("{:02X}", c), " at offset ", i,
                       " is not base32 (A-Z, 2-7)"));
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError("base32 text has non-zero unused bits in its last character");
  }
  return out;
}

}  // namespace herald::apps::tickets
