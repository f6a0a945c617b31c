// libFuzzer target for the auth module's parsers of untrusted input. For any bytes:
//   - JwtCodec::Verify returns Unauthenticated (never crashes), whether the bytes are the
//     whole token, its header, or its payload inside a correctly signed token; a payload
//     that verifies re-signs into a token that verifies to the same claims;
//   - ParseSignatureHeader yields only 32-byte MACs or InvalidArgument;
//   - ParseBearerHeader, ParseServiceTimestamp, CheckPasswordPolicy, permission matching
//     and the login/validate body parsers never crash;
//   - strict base64url and hex decoding accept only canonical encodings.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/permissions.h"
#include "auth/service_signature.h"
#include "boost/json/parse.hpp"

namespace {

using herald::auth::Base64UrlEncode;

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view kSecret = "fuzzing-secret-of-at-least-32-bytes!";
constexpr std::string_view kHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

const herald::auth::JwtCodec& Codec() {
  static const herald::core::ManualClock clock;
  static const auto codec = herald::auth::JwtCodec::Create(std::string(kSecret), clock).value();
  return *codec;
}

std::string SignedToken(std::string_view header_b64, std::string_view payload_b64) {
  std::string signing = std::string(header_b64) + "." + std::string(payload_b64);
  return signing + "." + Base64UrlEncode(herald::auth::HmacSha256(kSecret, signing));
}

void CheckVerify(std::string_view token) {
  herald::Result<herald::auth::Claims> claims = Codec().Verify(token);
  if (!claims.ok()) {
    Check(claims.status().code() == absl::StatusCode::kUnauthenticated);
    Check(!claims.status().message().empty());
    return;
  }
  herald::Result<std::string> again = Codec().Sign(*claims);
  if (again.ok()) {
    herald::Result<herald::auth::Claims> back = Codec().Verify(*again);
    Check(back.ok() && *back == *claims);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  CheckVerify(text);
  CheckVerify(SignedToken(kHeader, Base64UrlEncode(text)));
  CheckVerify(
      SignedToken(Base64UrlEncode(text), Base64UrlEncode(R"({"sub":"u","role":"r",)"
                                                         R"("iat":1,)"
                                                         R"("exp":9999999999,"jti":"j"})")));

  herald::Result<std::vector<std::string>> macs = herald::auth::ParseSignatureHeader(text);
  if (macs.ok()) {
    Check(!macs->empty());
    for (const std::string& m : *macs) Check(m.size() == 32);
  } else {
    Check(macs.status().code() == absl::StatusCode::kInvalidArgument);
  }

  herald::Result<std::string_view> bearer = herald::auth::ParseBearerHeader(text);
  if (bearer.ok()) Check(!bearer->empty() && text.find(*bearer) != std::string_view::npos);
  (void)herald::auth::ParseServiceTimestamp(text);
  (void)herald::auth::CheckPasswordPolicy(text);
  (void)herald::auth::NormalizeEmail(text);

  const size_t split = text.find('|');
  if (split != std::string_view::npos) {
    const std::string_view pattern = text.substr(0, split);
    const std::string_view permission = text.substr(split + 1);
    if (herald::auth::PermissionMatches(pattern, permission) && pattern != "*" &&
        pattern != permission) {
      Check(pattern.ends_with(":*"));
    }
  }
  (void)herald::auth::IsValidPermission(text);

  if (std::optional<std::string> decoded = herald::auth::Base64UrlDecode(text)) {
    Check(Base64UrlEncode(*decoded) == text);
  }
  if (std::optional<std::string> decoded = herald::auth::HexDecode(text)) {
    Check(decoded->size() * 2 == text.size());
  }

  boost::system::error_code ec;
  boost::json::value body =
      boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  if (!ec) {
    (void)herald::auth::ParseLoginRequest(body);
    (void)herald::auth::ParseValidateRequest(body);
  }
  return 0;
}
