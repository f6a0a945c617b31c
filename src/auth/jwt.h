#pragma once
// JwtCodec: signs and verifies JSON Web Tokens (RFC 7519) with HS256 (HMAC-SHA256) only.
//
// Verification is strict, so that exactly one way of writing a token is accepted:
//   - at most kMaxTokenBytes bytes; three non-empty parts separated by '.';
//   - each part base64url without padding, decoded strictly (see Base64UrlDecode);
//   - the header is a JSON object with exactly {"alg":"HS256","typ":"JWT"}: a missing alg,
//     "none", "HS512", "RS256" or any other alg is "unsupported alg"; any other member
//     ("kid", "jku", "crit"...) is "unsupported token header";
//   - the signature is 32 bytes, compared with CRYPTO_memcmp;
//   - the payload holds sub, role, jti (strings), iat and exp (integer seconds), optionally
//     nbf; other members are ignored (tokens signed before 2026-12 also carry the user's
//     permission list, which no one reads: a token stays short, and permissions are read
//     from the store);
//   - the token is expired once Now() >= exp + leeway, not yet valid while Now() + leeway <
//     nbf, and rejected if iat is more than max_iat_skew ahead of Now() (iat comes from
//     another node's clock in a multi-node deployment, so a little skew is tolerated).
// Every failure is Unauthenticated with a short reason as the message: "token too large",
// "malformed token", "unsupported alg", "unsupported token header", "bad signature",
// "malformed claims", "token expired", "token not yet valid".

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "auth/crypto.h"
#include "core/clock.h"
#include "core/status.h"

namespace herald::auth {

inline constexpr size_t kMaxTokenBytes = 8 * 1024;
inline constexpr size_t kMinJwtSecretBytes = 32;

struct Claims {
  std::string sub;   // user id
  std::string role;  // role name at issue time (informational)
  absl::Time iat;    // issued at; whole seconds
  absl::Time exp;    // expires at; whole seconds
  std::string jti;   // unique token id (revocation key)

  friend bool operator==(const Claims&, const Claims&) = default;
};

struct JwtOptions {
  absl::Duration leeway = absl::ZeroDuration();    // tolerance on exp and nbf
  absl::Duration max_iat_skew = absl::Minutes(1);  // how far iat may be ahead of Now()
};

// Thread-safe (immutable after Create).
class JwtCodec {
 public:
  // InvalidArgument if `secret` is shorter than kMinJwtSecretBytes or a duration is negative.
  // `clock` must outlive the codec.
  static Result<std::unique_ptr<JwtCodec>> Create(std::string secret, const core::Clock& clock,
                                                  JwtOptions options = {});

  // The signed token. iat and exp are truncated to whole seconds. InvalidArgument if sub or
  // jti is empty, exp <= iat, or the token would exceed kMaxTokenBytes.
  Result<std::string> Sign(const Claims& claims) const;

  // The claims of a valid token at the clock's Now(); Unauthenticated otherwise (see above).
  Result<Claims> Verify(std::string_view token) const;

 private:
  JwtCodec(std::string_view secret, const core::Clock& clock, JwtOptions options)
      : key_(secret), clock_(clock), options_(options) {}

  const HmacSha256Key key_;
  const core::Clock& clock_;
  const JwtOptions options_;
};

}  // namespace herald::auth
