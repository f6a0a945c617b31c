#pragma once
// Signed service-to-service requests (seed 002's X-Service-Name, X-Request-ID and X-Timestamp
// headers, plus X-Signature). The sender computes
//
//   hex(HMAC-SHA256(secret, "v1\n" + method + "\n" + path + "\n" + timestamp + "\n" +
//                           request_id + "\n" + hex(SHA-256(body))))
//
// with the shared secret of its service name, and sends "X-Signature: v1=<hex>". `method` is
// the request method as sent ("POST"), `path` the request target as sent (path and query,
// "/api/internal/payment-webhook?x=1"), `timestamp` the X-Timestamp header verbatim
// (RFC 3339, "2025-06-15T14:30:00Z", or Unix seconds, "1750000000"), hex is lowercase.
// During a secret rotation a sender may send several: "v1=<hex>,v1=<hex>"; one matching is
// enough. docs/AUTH.md has a worked example with openssl.
//
// The receiver (ServiceRequestVerifier) accepts a request once: the timestamp must be within
// `window` of its clock in either direction, the signature must match (compared in constant
// time), and (service, request id) must not have been accepted in the last 2 x window (a
// replay with the same timestamp would fall out of the window by then).

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/status.h"

namespace herald::auth {

inline constexpr size_t kMinServiceSecretBytes = 32;
inline constexpr size_t kMaxRequestIdBytes = 128;

// The string that is signed (see above).
std::string ServiceSigningString(std::string_view method, std::string_view path,
                                 std::string_view timestamp, std::string_view request_id,
                                 std::string_view body);

// The lowercase hex HMAC-SHA256 of ServiceSigningString(...) under `secret`.
std::string SignServiceRequest(std::string_view secret, std::string_view method,
                               std::string_view path, std::string_view timestamp,
                               std::string_view request_id, std::string_view body);

// "v1=<hex>": the X-Signature header value for one signature.
std::string SignatureHeaderValue(std::string_view hex_signature);

// The raw 32-byte MACs of the "v1=" entries of an X-Signature value: entries are separated
// by ',' with optional spaces; entries of other versions ("v2=...") are skipped. At most 8
// entries. InvalidArgument if there is no well-formed v1 entry or something is malformed.
Result<std::vector<std::string>> ParseSignatureHeader(std::string_view value);

// X-Timestamp: RFC 3339 ("2025-06-15T14:30:00Z", offsets and fractions allowed) or Unix
// seconds (1 to 12 digits). InvalidArgument otherwise.
Result<absl::Time> ParseServiceTimestamp(std::string_view timestamp);

// One incoming request, as the HTTP layer received it (views into the request).
struct ServiceRequest {
  std::string_view service_name;  // X-Service-Name
  std::string_view method;
  std::string_view path;        // request target: path and query, as sent
  std::string_view timestamp;   // X-Timestamp, verbatim
  std::string_view request_id;  // X-Request-ID
  std::string_view body;
  std::string_view signature;  // X-Signature, verbatim
};

struct ServiceVerifierOptions {
  absl::Duration window = absl::Seconds(300);
  size_t replay_cache_capacity = 100'000;  // (service, request id) pairs remembered
};

// Thread-safe.
class ServiceRequestVerifier {
 public:
  // `secrets` maps service names to shared secrets. InvalidArgument if a secret is shorter
  // than kMinServiceSecretBytes, a name is not a valid name (core/strings.h IsValidName) or
  // the window is not positive. `clock` must outlive the verifier.
  static Result<std::unique_ptr<ServiceRequestVerifier>> Create(
      absl::flat_hash_map<std::string, std::string> secrets, const core::Clock& clock,
      ServiceVerifierOptions options = {});

  // Ok if the request is authentic and new; it is then remembered as used. Otherwise
  // Unauthenticated with the reason: "unknown service", "missing request id", "bad
  // timestamp", "stale timestamp", "timestamp in the future", "bad signature", "replayed
  // request". Unavailable ("replay cache full") if the cache holds `replay_cache_capacity`
  // live entries: refusing is safer than forgetting one.
  Status Verify(const ServiceRequest& request);

  size_t replay_cache_size() const;

 private:
  ServiceRequestVerifier(absl::flat_hash_map<std::string, std::string> secrets,
                         const core::Clock& clock, ServiceVerifierOptions options)
      : secrets_(std::move(secrets)), clock_(clock), options_(options) {}

  void Prune(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::flat_hash_map<std::string, std::string> secrets_;
  const core::Clock& clock_;
  const ServiceVerifierOptions options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  // (forget at, key) in insertion order; forget times only grow with the clock, so the
  // front is always the next to go.
  std::deque<std::pair<absl::Time, std::string>> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace herald::auth
