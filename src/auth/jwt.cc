#include "auth/jwt.h"

#include <cstdint>
#include <optional>

#include "auth/crypto.h"
#include "boost/json/monotonic_resource.hpp"
#include "boost/json/object.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/value.hpp"
#include "core/strings.h"

namespace herald::auth {
namespace {

namespace json = boost::json;

// base64url('{"alg":"HS256","typ":"JWT"}'): the only header Sign writes.
constexpr std::string_view kHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
constexpr size_t kSignatureBytes = 32;

Status Unauthenticated(std::string_view reason) {
  return absl::UnauthenticatedError(ToAbsl(reason));
}

// The object in `text`, allocated from `storage`; nullopt if it is not a JSON object.
std::optional<json::object> ParseObject(std::string_view text, json::storage_ptr storage = {}) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, storage);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::optional<std::string> GetString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const json::string& s = v->get_string();
  return std::string(s.data(), s.size());
}

// An integer NumericDate; doubles (1.5e9) and out-of-range values are rejected.
std::optional<int64_t> GetSeconds(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

Status CheckHeader(std::string_view encoded) {
  if (encoded == kHeader) return absl::OkStatus();  // what Sign writes: the usual case
  std::optional<std::string> bytes = Base64UrlDecode(encoded);
  if (!bytes) return Unauthenticated("malformed token");
  std::optional<json::object> header = ParseObject(*bytes);
  if (!header) return Unauthenticated("malformed token");
  std::optional<std::string> alg = GetString(*header, "alg");
  if (!alg || *alg != "HS256") return Unauthenticated("unsupported alg");
  std::optional<std::string> typ = GetString(*header, "typ");
  if (!typ || *typ != "JWT" || header->size() != 2) {
    return Unauthenticated("unsupported token header");
  }
  return absl::OkStatus();
}

}  // namespace

Result<std::unique_ptr<JwtCodec>> JwtCodec::Create(std::string secret, const core::Clock& clock,
                                                   JwtOptions options) {
  if (secret.size() < kMinJwtSecretBytes) {
    return absl::InvalidArgumentError(StrCat("the JWT secret must have at least ",
                                             kMinJwtSecretBytes, " bytes, got ", secret.size()));
  }
  if (options.leeway < absl::ZeroDuration() || options.max_iat_skew < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("JWT leeway and iat skew must not be negative");
  }
  return std::unique_ptr<JwtCodec>(new JwtCodec(secret, clock, options));
}

Result<std::string> JwtCodec::Sign(const Claims& claims) const {
  const int64_t iat = absl::ToUnixSeconds(claims.iat);
  const int64_t exp = absl::ToUnixSeconds(claims.exp);
  if (claims.sub.empty() || claims.jti.empty()) {
    return absl::InvalidArgumentError("a token needs a subject and an id");
  }
  if (exp <= iat) return absl::InvalidArgumentError("a token must expire after it is issued");
  json::object payload;
  payload["sub"] = claims.sub;
  payload["role"] = claims.role;
  payload["iat"] = iat;
  payload["exp"] = exp;
  payload["jti"] = claims.jti;
  std::string token = StrCat(kHeader, ".", Base64UrlEncode(json::serialize(payload)));
  std::string signature = Base64UrlEncode(key_.Sign(token));
  token.append(".").append(signature);
  if (token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(
        StrCat("the token would have ", token.size(), " bytes, over ", kMaxTokenBytes));
  }
  return token;
}

Result<Claims> JwtCodec::Verify(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) return Unauthenticated("token too large");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("malformed token");
  }
  const std::string_view header = token.substr(0, dot1);
  const std::string_view payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature = token.substr(dot2 + 1);
  // An empty signature ("alg":"none" style) is reported by the checks below.
  if (header.empty() || payload.empty()) return Unauthenticated("malformed token");
  HERALD_RETURN_IF_ERROR(CheckHeader(header));

  std::optional<std::string> mac = Base64UrlDecode(signature);
  if (!mac || mac->size() != kSignatureBytes) return Unauthenticated("bad signature");
  if (!ConstantTimeEquals(*mac, key_.Sign(token.substr(0, dot2)))) {
    return Unauthenticated("bad signature");
  }

  // From here on the content was written by a holder of the secret.
  std::optional<std::string> bytes = Base64UrlDecode(payload);
  if (!bytes) return Unauthenticated("malformed token");
  // Claims are parsed on every authenticated request: from one arena, not the heap.
  unsigned char arena[8 * 1024];
  json::monotonic_resource resource(arena, sizeof arena);
  std::optional<json::object> body = ParseObject(*bytes, &resource);
  if (!body) return Unauthenticated("malformed claims");
  Claims claims;
  std::optional<std::string> sub = GetString(*body, "sub");
  std::optional<std::string> role = GetString(*body, "role");
  std::optional<std::string> jti = GetString(*body, "jti");
  std::optional<int64_t> iat = GetSeconds(*body, "iat");
  std::optional<int64_t> exp = GetSeconds(*body, "exp");
  if (!sub || sub->empty() || !role || !jti || jti->empty() || !iat || !exp) {
    return Unauthenticated("malformed claims");
  }
  std::optional<int64_t> nbf;
  if (body->contains("nbf")) {
    nbf = GetSeconds(*body, "nbf");
    if (!nbf) return Unauthenticated("malformed claims");
  }
  claims.sub = std::move(*sub);
  claims.role = std::move(*role);
  claims.jti = std::move(*jti);
  claims.iat = absl::FromUnixSeconds(*iat);
  claims.exp = absl::FromUnixSeconds(*exp);

  const absl::Time now = clock_.Now();
  if (now >= claims.exp + options_.leeway) return Unauthenticated("token expired");
  if (nbf && now + options_.leeway < absl::FromUnixSeconds(*nbf)) {
    return Unauthenticated("token not yet valid");
  }
  if (claims.iat > now + options_.max_iat_skew) return Unauthenticated("token not yet valid");
  return claims;
}

}  // namespace herald::auth
