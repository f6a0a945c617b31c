#include "webhooks/signatures.h"

#include <optional>
#include <utility>

#include "auth/crypto.h"
#include "core/strings.h"

namespace herald::webhooks {
namespace {

constexpr size_t kMacBytes = 32;
constexpr size_t kMaxTimestampDigits = 12;
constexpr std::string_view kStandardSecretPrefix = "whsec_";

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1 to 12 ASCII digits (up to the year 33658, and no overflow), else nullopt.
std::optional<int64_t> ParseUnixSeconds(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxTimestampDigits) return std::nullopt;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Whether `timestamp` is within `tolerance` of `now` either way. Like the reference libraries
// we work in whole seconds with `now` rounded down; the absl::Time arithmetic saturates, so an
// infinite `now` is simply far away.
bool WithinTolerance(int64_t timestamp, absl::Time now, absl::Duration tolerance) {
  const absl::Time now_seconds = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  return absl::AbsDuration(now_seconds - absl::FromUnixSeconds(timestamp)) <= tolerance;
}

Status Unauthenticated(std::string_view reason) {
  return absl::UnauthenticatedError(ToAbsl(reason));
}

Status InvalidArgument(std::string_view reason) {
  return absl::InvalidArgumentError(ToAbsl(reason));
}

// Compares every received MAC with every expected one, with no early exit, so the time taken
// says nothing about which secret or entry matched.
bool AnyMatches(std::span<const std::string> received, std::span<const std::string> expected) {
  bool match = false;
  for (const std::string& e : expected) {
    for (const std::string& r : received) match |= auth::ConstantTimeEquals(r, e);
  }
  return match;
}

Status CheckSecrets(std::span<const std::string> secrets, absl::Duration tolerance) {
  if (tolerance <= absl::ZeroDuration()) return InvalidArgument("the tolerance must be positive");
  if (secrets.empty()) return InvalidArgument("no webhook secret configured");
  for (const std::string& s : secrets) {
    if (s.empty()) return InvalidArgument("empty webhook secret");
  }
  return absl::OkStatus();
}

std::string StripeMac(std::string_view secret, int64_t timestamp, std::string_view body) {
  return auth::HmacSha256(secret, StrCat(timestamp, ".", body));
}

std::string StandardMac(std::string_view key_bytes, std::string_view id, int64_t timestamp,
                        std::string_view body) {
  return auth::HmacSha256(key_bytes, StrCat(id, ".", timestamp, ".", body));
}

}  // namespace

Result<StripeSignatureHeader> ParseStripeSignatureHeader(std::string_view header) {
  if (header.size() > kMaxSignatureHeaderBytes) return InvalidArgument("header too long");
  StripeSignatureHeader out;
  bool have_timestamp = false;
  size_t items = 0;
  while (true) {
    const size_t comma = header.find(',');
    const std::string_view item = TrimSpaces(header.substr(0, comma));
    if (++items > kMaxSignatureEntries) return InvalidArgument("too many items");
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgument("expected key=value items");
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (have_timestamp) return InvalidArgument("more than one t");
      std::optional<int64_t> t = ParseUnixSeconds(value);
      if (!t) return InvalidArgument("t must be 1 to 12 digits");
      out.timestamp = *t;
      have_timestamp = true;
    } else if (key == "v1") {
      std::optional<std::string> mac =
          value.size() == 2 * kMacBytes ? auth::HexDecode(value) : std::nullopt;
      if (!mac) return InvalidArgument("v1 must be 64 hex digits");
      out.v1.push_back(std::move(*mac));
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (!have_timestamp) return InvalidArgument("no t");
  if (out.v1.empty()) return InvalidArgument("no v1 signature");
  return out;
}

std::string StripeSignature(std::string_view secret, int64_t timestamp, std::string_view body) {
  return auth::HexEncode(StripeMac(secret, timestamp, body));
}

std::string StripeSignatureHeaderValue(std::string_view secret, int64_t timestamp,
                                       std::string_view body) {
  return StrCat("t=", timestamp, ",v1=", StripeSignature(secret, timestamp, body));
}

Status VerifyStripeSignature(std::string_view header, std::string_view body,
                             std::span<const std::string> secrets, absl::Time now,
                             absl::Duration tolerance) {
  HERALD_RETURN_IF_ERROR(CheckSecrets(secrets, tolerance));
  if (header.empty()) return Unauthenticated("missing Stripe-Signature header");
  Result<StripeSignatureHeader> parsed = ParseStripeSignatureHeader(header);
  if (!parsed.ok()) {
    return Unauthenticated(
        StrCat("malformed Stripe-Signature header: ", parsed.status().message()));
  }
  std::vector<std::string> expected;
  expected.reserve(secrets.size());
  for (const std::string& secret : secrets) {
    expected.push_back(StripeMac(secret, parsed->timestamp, body));
  }
  if (!AnyMatches(parsed->v1, expected)) return Unauthenticated("no signature matches");
  if (!WithinTolerance(parsed->timestamp, now, tolerance)) {
    return Unauthenticated("timestamp outside the tolerance");
  }
  return absl::OkStatus();
}

Result<std::string> DecodeStandardSecret(std::string_view secret) {
  if (secret.starts_with(kStandardSecretPrefix)) secret.remove_prefix(kStandardSecretPrefix.size());
  std::optional<std::string> key = auth::Base64Decode(secret);
  if (!key) return InvalidArgument("the webhook secret is not whsec_ followed by base64");
  if (key->size() < kMinStandardKeyBytes || key->size() > kMaxStandardKeyBytes) {
    return InvalidArgument(StrCat("the webhook secret must hold ", kMinStandardKeyBytes, " to ",
                                  kMaxStandardKeyBytes, " bytes"));
  }
  return std::move(*key);
}

Result<std::string> NewStandardSecret() {
  HERALD_ASSIGN_OR_RETURN(std::string key, auth::RandomBytes(32));
  return StrCat(kStandardSecretPrefix, auth::Base64Encode(key));
}

std::string StandardSignature(std::string_view key_bytes, std::string_view id, int64_t timestamp,
                              std::string_view body) {
  return StrCat("v1,", auth::Base64Encode(StandardMac(key_bytes, id, timestamp, body)));
}

Result<std::vector<std::string>> ParseStandardSignatureHeader(std::string_view header) {
  if (header.size() > kMaxSignatureHeaderBytes) return InvalidArgument("header too long");
  std::vector<std::string> out;
  size_t entries = 0;
  while (!header.empty()) {
    const size_t space = header.find(' ');
    const std::string_view entry = header.substr(0, space);
    header.remove_prefix(space == std::string_view::npos ? header.size() : space + 1);
    if (entry.empty()) continue;  // runs of spaces
    if (++entries > kMaxSignatureEntries) return InvalidArgument("too many signatures");
    const size_t comma = entry.find(',');
    if (comma == std::string_view::npos || comma == 0) {
      return InvalidArgument("expected version,signature entries");
    }
    if (entry.substr(0, comma) != "v1") continue;
    std::optional<std::string> mac = auth::Base64Decode(entry.substr(comma + 1));
    if (!mac || mac->size() != kMacBytes) {
      return InvalidArgument("v1 must be the base64 of 32 bytes");
    }
    out.push_back(std::move(*mac));
  }
  if (out.empty()) return InvalidArgument("no v1 signature");
  return out;
}

Status VerifyStandardWebhook(const StandardWebhookHeaders& headers, std::string_view body,
                             std::span<const std::string> key_bytes_list, absl::Time now,
                             absl::Duration tolerance) {
  HERALD_RETURN_IF_ERROR(CheckSecrets(key_bytes_list, tolerance));
  if (headers.id.empty()) return Unauthenticated("missing webhook-id header");
  if (headers.timestamp.empty()) return Unauthenticated("missing webhook-timestamp header");
  if (headers.signature.empty()) return Unauthenticated("missing webhook-signature header");
  // A '.' in the id would let "a.b" + "c" and "a" + "b.c" sign alike (the spec forbids it).
  if (headers.id.size() > kMaxStandardIdBytes || headers.id.find('.') != std::string_view::npos) {
    return Unauthenticated("malformed webhook-id header");
  }
  const std::optional<int64_t> timestamp = ParseUnixSeconds(headers.timestamp);
  if (!timestamp) return Unauthenticated("malformed webhook-timestamp header");
  Result<std::vector<std::string>> received = ParseStandardSignatureHeader(headers.signature);
  if (!received.ok()) {
    return Unauthenticated(
        StrCat("malformed webhook-signature header: ", received.status().message()));
  }
  std::vector<std::string> expected;
  expected.reserve(key_bytes_list.size());
  for (const std::string& key : key_bytes_list) {
    expected.push_back(StandardMac(key, headers.id, *timestamp, body));
  }
  if (!AnyMatches(*received, expected)) return Unauthenticated("no signature matches");
  if (!WithinTolerance(*timestamp, now, tolerance)) {
    return Unauthenticated("timestamp outside the tolerance");
  }
  return absl::OkStatus();
}

}  // namespace herald::webhooks
