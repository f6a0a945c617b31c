#pragma once
// Small cryptographic helpers over OpenSSL shared by the auth module: HMAC-SHA256, SHA-256,
// a CSPRNG, constant-time comparison, hex, strict base64url and strict standard base64.
// Strings carry raw bytes.
// All functions are thread-safe.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace herald::auth {

// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// HMAC-SHA256 under one key that is used many times (the JWT secret): the key's inner and
// outer pad states are hashed once, so Sign costs two SHA-256 runs over the data alone.
// Thread-safe; immutable after construction.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  std::string Sign(std::string_view data) const;  // = HmacSha256(key, data)

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);
// SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

// `n` bytes from OpenSSL's CSPRNG. Internal if the generator fails (it never should).
Result<std::string> RandomBytes(size_t n);

// Whether `a` and `b` are equal, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Lowercase hex.
std::string HexEncode(std::string_view bytes);
// Accepts an even number of hex digits, either case; nullopt otherwise.
std::optional<std::string> HexDecode(std::string_view hex);

// Base64url (RFC 4648 section 5) without padding, as JWTs use it.
std::string Base64UrlEncode(std::string_view bytes);
// Strict: only [A-Za-z0-9_-], no padding, no whitespace, a length that is not 1 mod 4, and
// unused trailing bits zero (so every byte string has exactly one accepted encoding).
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Standard base64 (RFC 4648 section 4, alphabet [A-Za-z0-9+/]) with '=' padding to a multiple
// of 4 characters, as Standard Webhooks secrets and signatures use it.
std::string Base64Encode(std::string_view bytes);
// Strict: only the standard alphabet, a length that is a multiple of 4, exactly the padding
// the encoder writes ("==" or "=" at the very end, nowhere else), no whitespace, and unused
// trailing bits zero (so every byte string has exactly one accepted encoding).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace herald::auth
