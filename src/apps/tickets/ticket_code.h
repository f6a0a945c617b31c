#pragma once
// Ticket codes: the text a ticket's QR code carries, or that staff type at the door.
//
// Three kinds, told apart by shape alone (ClassifyCode):
//  - Signed codes, verifiable offline with the event's public key (pretix's "sig1" idea, plus a
//    key id so a scanner picks the key instead of trying each). The binary frame is
//      byte 0x01 (version),
//      unsigned LEB128 varints, in this order: key_id, event_id, ticket_id, ticket_type_id,
//        generation, valid_from, valid_until (a time is Unix seconds + 1; 0 = absent),
//      a 64-byte Ed25519 detached signature over kSignatureDomain (not transmitted) followed
//        by every frame byte before the signature.
//    The text is the frame in RFC 4648 base32, upper case, no padding, so a QR code holds it
//    in alphanumeric mode. A frame is at most kMaxFrameBytes (96) bytes, 154 characters, which
//    always fits a version 6 QR symbol (41 modules) at level M.
//  - Random codes (events that need no offline scanning): 128 random bits in base32, 26
//    characters, looked up in the database.
//  - Ticket numbers, printed on the ticket for humans: "TKT-012-7Q2M9XK4CD".
//
// Decoders are strict: every accepted text has exactly one frame and every frame exactly one
// text (apart from letter case, which is ignored on input for hand-typed codes).
//
// Secret signing keys are stored sealed (XChaCha20-Poly1305 under a master key, bound to a
// context string such as "event:12:key:1").
//
// All functions are thread-safe. libsodium is initialised on first use.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "core/status.h"

namespace herald::apps::tickets {

inline constexpr uint8_t kSignedCodeVersion = 1;
inline constexpr std::string_view kSignatureDomain = "herald-ticket-v1";
inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kMaxFrameBytes = 96;
inline constexpr size_t kMaxSignedCodeLength = 154;  // base32 of kMaxFrameBytes
inline constexpr size_t kRandomCodeLength = 26;      // base32 of 16 bytes
inline constexpr uint32_t kMaxKeyId = 65535;

// What a signed code asserts. No personal data: names and seats stay in the database.
struct TicketClaims {
  uint32_t key_id = 0;         // 1..65535: which of the event's keys signed
  int64_t event_id = 0;        // >= 1
  int64_t ticket_id = 0;       // >= 1
  int64_t ticket_type_id = 0;  // >= 0 (0: none)
  int64_t generation = 0;      // >= 0: bumped when a ticket is reissued
  // Whole seconds, Unix time 0 to 2^63 - 2 (so that seconds + 1 fits an int64).
  std::optional<absl::Time> valid_from, valid_until;

  bool operator==(const TicketClaims&) const = default;
};

using PublicKey = std::array<uint8_t, 32>;

// An Ed25519 key pair in libsodium's layout (secret = 32-byte seed || public key).
struct SigningKey {
  std::array<uint8_t, 64> secret;
  PublicKey public_key;
};

// A fresh key pair from libsodium's CSPRNG.
SigningKey GenerateSigningKey();
// The key pair of a 32-byte seed (deterministic: for tests and golden vectors).
SigningKey SigningKeyFromSeed(std::span<const uint8_t, 32> seed);

// The signed code of `claims` under `key`. InvalidArgument if a claim is out of the ranges
// above, or if the claims are too large together for a kMaxFrameBytes frame (possible only
// with several ids near 2^63).
Result<std::string> EncodeSignedCode(const TicketClaims& claims, const SigningKey& key);

// A decoded, not yet verified, signed code.
struct SignedCode {
  TicketClaims claims;
  std::string signed_message;  // kSignatureDomain followed by the frame before the signature
  std::array<uint8_t, 64> signature;
};

// Decodes `text` WITHOUT verifying the signature (the caller needs claims.key_id and
// claims.event_id to choose the public key; then VerifySignedCode). Upper or lower case.
// InvalidArgument, with a message saying what is wrong, for: empty text, more than 154
// characters, a character outside base32, '=' padding, a base32 length no byte string has,
// non-zero unused bits in the last character, a version other than 1, a frame too short to
// hold the claims and signature, a truncated, overlong (non-canonical) or beyond-int64
// varint, a claim out of range, and bytes left over after the claims.
Result<SignedCode> ParseSignedCode(std::string_view text);

// Whether `code.signature` is a valid Ed25519 signature of `code.signed_message` by `key`.
bool VerifySignedCode(const SignedCode& code, const PublicKey& key);

// Seals `key` for storage: base64 (standard, padded) of a 24-byte random nonce followed by the
// XChaCha20-Poly1305-IETF encryption of its 32-byte seed under `master`, with `context` as
// associated data. Sealing the same key twice gives different texts.
std::string SealSecretKey(const std::array<uint8_t, 32>& master, const SigningKey& key,
                          std::string_view context);
// The key sealed in `sealed`. InvalidArgument if `sealed` is not base64 of 72 bytes; DataLoss
// if it does not open under `master` and `context` (tampered, or the wrong master or context).
Result<SigningKey> OpenSecretKey(const std::array<uint8_t, 32>& master, std::string_view sealed,
                                 std::string_view context);

// A 32-byte key for `purpose` (e.g. "ticket-key-master") derived from a configured secret of
// any length: BLAKE2b-256 of `purpose`, keyed with BLAKE2b-512 of `secret`. Different purposes
// give independent keys. The secret's strength is the caller's to check.
std::array<uint8_t, 32> DeriveKey(std::string_view secret, std::string_view purpose);

// 16 random bytes in base32: 26 characters, the last of which carries 3 bits (its two unused
// bits are zero).
std::string RandomCode();

// "TKT-" + `event_id` zero-padded to at least 3 digits + "-" + 10 random characters of
// Crockford's base32 alphabet 0-9A-Z without I, L, O, U (50 bits). Requires event_id >= 1.
std::string NewTicketNumber(int64_t event_id);
// Whether `text` has the shape NewTicketNumber makes, either case: an event id of 1 to 2^63-1
// written with exactly the padding NewTicketNumber writes, and 10 Crockford characters.
bool IsTicketNumber(std::string_view text);

enum class CodeKind { kSigned, kRandom, kTicketNumber, kUnknown };

// The kind of `text` by shape only (no decoding, no signature check), either case:
// kTicketNumber if IsTicketNumber; kRandom for exactly 26 base32 characters; kSigned for 116
// to 154 base32 characters (the frame sizes 72 to 96) starting with the version-1 prefix "A"
// followed by one of E, F, G, H; kUnknown otherwise.
CodeKind ClassifyCode(std::string_view text);

// RFC 4648 base32 (alphabet A-Z2-7), upper case, without padding.
std::string Base32Encode(std::string_view bytes);
// Strict inverse of Base32Encode, also accepting lower case. InvalidArgument for a character
// outside the alphabet ('=' included), a length that is 1, 3 or 6 mod 8, or non-zero unused
// bits in the last character.
Result<std::string> Base32Decode(std::string_view text);

}  // namespace herald::apps::tickets
