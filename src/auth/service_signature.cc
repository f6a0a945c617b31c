#include "auth/service_signature.h"

#include <algorithm>
#include <cstdint>

#include "auth/crypto.h"
#include "core/strings.h"

namespace herald::auth {
namespace {

constexpr size_t kMacBytes = 32;
constexpr size_t kMaxSignatureEntries = 8;
constexpr size_t kMaxTimestampBytes = 64;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Status Unauthenticated(std::string_view reason) {
  return absl::UnauthenticatedError(ToAbsl(reason));
}

}  // namespace

std::string ServiceSigningString(std::string_view method, std::string_view path,
                                 std::string_view timestamp, std::string_view request_id,
                                 std::string_view body) {
  return StrCat("v1\n", method, "\n", path, "\n", timestamp, "\n", request_id, "\n",
                Sha256Hex(body));
}

std::string SignServiceRequest(std::string_view secret, std::string_view method,
                               std::string_view path, std::string_view timestamp,
                               std::string_view request_id, std::string_view body) {
  return HexEncode(
      HmacSha256(secret, ServiceSigningString(method, path, timestamp, request_id, body)));
}

std::string SignatureHeaderValue(std::string_view hex_signature) {
  return StrCat("v1=", hex_signature);
}

Result<std::vector<std::string>> ParseSignatureHeader(std::string_view value) {
  std::vector<std::string> out;
  size_t entries = 0;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view entry = Trim(value.substr(0, comma));
    if (++entries > kMaxSignatureEntries) {
      return absl::InvalidArgumentError("too many signatures in X-Signature");
    }
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError("malformed X-Signature: expected v1=<hex>");
    }
    if (entry.substr(0, eq) == "v1") {
      std::optional<std::string> mac = HexDecode(entry.substr(eq + 1));
      if (!mac || mac->size() != kMacBytes) {
        return absl::InvalidArgumentError("malformed X-Signature: v1 needs 64 hex digits");
      }
      out.push_back(std::move(*mac));
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  if (out.empty()) return absl::InvalidArgumentError("X-Signature has no v1 signature");
  return out;
}

Result<absl::Time> ParseServiceTimestamp(std::string_view timestamp) {
  if (timestamp.empty() || timestamp.size() > kMaxTimestampBytes) {
    return absl::InvalidArgumentError("bad timestamp");
  }
  if (timestamp.size() <= 12 && std::all_of(timestamp.begin(), timestamp.end(),
                                            [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t seconds = 0;
    for (char c : timestamp) seconds = seconds * 10 + (c - '0');
    return absl::FromUnixSeconds(seconds);
  }
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, ToAbsl(timestamp), &t, &err)) {
    return absl::InvalidArgumentError("bad timestamp");
  }
  return t;
}

Result<std::unique_ptr<ServiceRequestVerifier>> ServiceRequestVerifier::Create(
    absl::flat_hash_map<std::string, std::string> secrets, const core::Clock& clock,
    ServiceVerifierOptions options) {
  for (const auto& [name, secret] : secrets) {
    if (!IsValidName(name)) {
      return absl::InvalidArgumentError(StrCat("invalid service name '", name.substr(0, 64), "'"));
    }
    if (secret.size() < kMinServiceSecretBytes) {
      return absl::InvalidArgumentError(StrCat("the secret of service '", name,
                                               "' must have at least ", kMinServiceSecretBytes,
                                               " bytes"));
    }
  }
  if (options.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the replay window must be positive");
  }
  return std::unique_ptr<ServiceRequestVerifier>(
      new ServiceRequestVerifier(std::move(secrets), clock, options));
}

Status ServiceRequestVerifier::Verify(const ServiceRequest& r) {
  auto secret = secrets_.find(ToAbsl(r.service_name));
  if (secret == secrets_.end()) return Unauthenticated("unknown service");
  if (!IsValidRequestId(r.request_id)) return Unauthenticated("missing request id");
  Result<absl::Time> ts = ParseServiceTimestamp(r.timestamp);
  if (!ts.ok()) return Unauthenticated("bad timestamp");
  const absl::Time now = clock_.Now();
  if (*ts < now - options_.window) return Unauthenticated("stale timestamp");
  if (*ts > now + options_.window) return Unauthenticated("timestamp in the future");

  Result<std::vector<std::string>> macs = ParseSignatureHeader(r.signature);
  if (!macs.ok()) return Unauthenticated("bad signature");
  const std::string expected = HmacSha256(
      secret->second, ServiceSigningString(r.method, r.path, r.timestamp, r.request_id, r.body));
  bool match = false;
  for (const std::string& mac : *macs) match |= ConstantTimeEquals(mac, expected);
  if (!match) return Unauthenticated("bad signature");

  // Only authentic requests reach the cache, so nobody without a secret can fill it.
  std::string key = StrCat(r.service_name, "\n", r.request_id);
  absl::MutexLock l(&mu_);
  Prune(now);
  if (seen_.contains(key)) return Unauthenticated("replayed request");
  if (seen_.size() >= options_.replay_cache_capacity) {
    return absl::UnavailableError("replay cache full");
  }
  seen_.insert(key);
  order_.emplace_back(now + 2 * options_.window, std::move(key));
  return absl::OkStatus();
}

size_t ServiceRequestVerifier::replay_cache_size() const {
  absl::MutexLock l(&mu_);
  return seen_.size();
}

void ServiceRequestVerifier::Prune(absl::Time now) {
  // Strictly before `now`: at exactly accepted + 2 x window, a request stamped at the far
  // future edge is still inside the window and must still be refused.
  while (!order_.empty() && order_.front().first < now) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

}  // namespace herald::auth
