#pragma once
// Webhook signatures in the two schemes Herald speaks: Stripe's, for payment webhooks it
// receives, and Standard Webhooks, for webhooks it sends (and can receive). All functions are
// pure and thread-safe; strings carry raw bytes, and every MAC is over the body exactly as
// received (never re-serialised JSON).
//
// Stripe (header `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]`).
//   Sources: stripe/stripe-node src/Webhooks.ts (parseHeader, verifyHeader,
//   generateTestHeaderString; lib/Webhooks.js before September 2022),
//   src/crypto/NodeCryptoProvider.ts, test/Webhook.spec.ts; stripe/stripe-php#657 and PR #658
//   for the two-sided tolerance.
//   - Signed content: "<t>.<body>". MAC: lowercase hex HMAC-SHA256 keyed with the endpoint
//     secret string exactly as Stripe shows it, "whsec_" prefix included (it is NOT
//     base64-decoded, unlike Standard Webhooks).
//   - Several v1 entries appear while Stripe rolls an endpoint secret; one match is enough.
//     Other schemes (v0) and unknown keys are ignored.
//   - Differences from stripe-node, all stricter or safer: `t` must appear exactly once as 1 to
//     12 digits (stripe-node takes the last `t` through parseInt); a v1 entry that is not 64
//     hex digits is an error (stripe-node just fails to match it); the tolerance applies both
//     ways, like stripe-php >= 6.35.1 (stripe-node lets future timestamps through); a tolerance
//     of zero is an error, not "skip the time check"; and the body is hashed as raw bytes
//     (stripe-node decodes a Buffer as UTF-8 first, which only differs for invalid UTF-8).
//
// Standard Webhooks 1.0.0 (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`).
//   Sources: standard-webhooks/standard-webhooks spec/standard-webhooks.md and
//   libraries/javascript/src/index.ts (npm `standardwebhooks`).
//   - Secret: "whsec_" + standard base64 (RFC 4648 section 4, padded) of the key bytes; the
//     prefix is optional, as in the JS library. The MAC key is the decoded bytes.
//   - Signed content: "<webhook-id>.<webhook-timestamp>.<body>". `webhook-signature` is a
//     space-delimited list of "<version>,<base64>"; "v1" is HMAC-SHA256, other versions ("v1a"
//     for Ed25519) are ignored here. Several v1 entries appear during a secret rotation; one
//     match is enough.
//   - Timestamp tolerance both ways (the JS library uses 5 minutes).
//   - The id must not contain '.' and is at most kMaxStandardIdBytes bytes (the spec says
//     neither id nor timestamp may contain the separator); the timestamp is 1 to 12 digits.
//
// In both schemes the timestamp in the signed content is the number in decimal without leading
// zeros, which is what stripe-node and the JS standardwebhooks library compute (they parseInt
// the header); for the headers senders actually produce it is the header text verbatim.
//
// Both verifiers compare raw MACs with auth::ConstantTimeEquals and compare every received
// signature with the MAC under every secret, so the time taken does not depend on which (if
// any) matched. The timestamp is checked only once a signature matches, so "timestamp outside
// the tolerance" always means an authentic but stale or early delivery (clock skew or a
// replay), never a forgery. No error message quotes a header, a body or a secret.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "core/status.h"

namespace herald::webhooks {

// Limits on what a sender may put in a signature header.
inline constexpr size_t kMaxSignatureHeaderBytes = 4096;
inline constexpr size_t kMaxSignatureEntries = 16;
// Standard Webhooks keys: the spec's 24 to 64 random bytes. The JS library accepts any
// non-empty key; we hold senders and ourselves to the spec.
inline constexpr size_t kMinStandardKeyBytes = 24;
inline constexpr size_t kMaxStandardKeyBytes = 64;
inline constexpr size_t kMaxStandardIdBytes = 256;
// The JS libraries' default tolerance (Stripe's DEFAULT_TOLERANCE, Standard Webhooks'
// WEBHOOK_TOLERANCE_IN_SECONDS).
inline constexpr absl::Duration kDefaultTolerance = absl::Minutes(5);

// ---------------------------------------------------------------------------------------------
// Stripe

struct StripeSignatureHeader {
  int64_t timestamp = 0;        // `t`, Unix seconds
  std::vector<std::string> v1;  // the raw 32-byte MACs of the v1 entries, in header order
};

// Parses a Stripe-Signature value: items separated by ',' (spaces and tabs around an item are
// tolerated), each "<key>=<value>" split at the first '='. InvalidArgument, with a short reason
// that never quotes the header, if the value is longer than kMaxSignatureHeaderBytes, has more
// than kMaxSignatureEntries items, an item without a key and '=', no `t` or more than one, a
// `t` that is not 1 to 12 digits, a v1 value that is not 64 hex digits, or no v1 entry.
Result<StripeSignatureHeader> ParseStripeSignatureHeader(std::string_view header);

// Lowercase hex HMAC-SHA256 of "<timestamp>.<body>" keyed with `secret` as given.
std::string StripeSignature(std::string_view secret, int64_t timestamp, std::string_view body);

// "t=<timestamp>,v1=<StripeSignature(...)>", what stripe-node's generateTestHeaderString
// returns.
std::string StripeSignatureHeaderValue(std::string_view secret, int64_t timestamp,
                                       std::string_view body);

// Ok if some v1 entry of `header` is the signature of `body` under one of `secrets` and the
// header's timestamp is within `tolerance` of `now` in either direction (compared in whole
// seconds, `now` rounded down, as the reference libraries do).
// InvalidArgument if `tolerance` is not positive, `secrets` is empty or holds an empty secret
// (caller bugs). Otherwise Unauthenticated with one of the reasons "missing Stripe-Signature
// header" (empty `header`), "malformed Stripe-Signature header: <why>", "no signature matches",
// "timestamp outside the tolerance".
Status VerifyStripeSignature(std::string_view header, std::string_view body,
                             std::span<const std::string> secrets, absl::Time now,
                             absl::Duration tolerance);

// ---------------------------------------------------------------------------------------------
// Standard Webhooks

// The key bytes of a "whsec_<base64>" secret (the prefix is optional). InvalidArgument, without
// quoting the secret, if the rest is not strict padded standard base64 (auth::Base64Decode) or
// does not decode to kMinStandardKeyBytes..kMaxStandardKeyBytes bytes.
Result<std::string> DecodeStandardSecret(std::string_view secret);

// A new secret: "whsec_" + base64 of 32 random bytes. Internal if the CSPRNG fails.
Result<std::string> NewStandardSecret();

// "v1,<base64 of HMAC-SHA256(key_bytes, id + '.' + timestamp + '.' + body)>", the value of
// webhook-signature for one key. `key_bytes` is a decoded key (DecodeStandardSecret).
std::string StandardSignature(std::string_view key_bytes, std::string_view id, int64_t timestamp,
                              std::string_view body);

// The three headers as received (views into the request).
struct StandardWebhookHeaders {
  std::string_view id;         // webhook-id
  std::string_view timestamp;  // webhook-timestamp
  std::string_view signature;  // webhook-signature
};

// The raw 32-byte MACs of the v1 entries of a webhook-signature value, in header order. Entries
// are separated by spaces (runs of spaces and leading or trailing ones are tolerated); each is
// "<version>,<signature>" split at the first ','; entries of other versions are skipped
// unchecked. InvalidArgument, never quoting the header, if the value is longer than
// kMaxSignatureHeaderBytes, has more than kMaxSignatureEntries entries, an entry without a
// version and ',', a v1 signature that is not the strict base64 of 32 bytes, or no v1 entry.
Result<std::vector<std::string>> ParseStandardSignatureHeader(std::string_view header);

// Ok if some v1 entry of `headers.signature` is the signature of (`headers.id`,
// `headers.timestamp`, `body`) under one of `key_bytes_list` (decoded keys), and the timestamp
// is within `tolerance` of `now` in either direction (whole seconds, `now` rounded down).
// InvalidArgument if `tolerance` is not positive or `key_bytes_list` is empty or holds an empty
// key (caller bugs). Otherwise Unauthenticated with one of the reasons "missing webhook-id
// header", "missing webhook-timestamp header", "missing webhook-signature header" (empty
// values), "malformed webhook-id header" (more than kMaxStandardIdBytes bytes or a '.'),
// "malformed webhook-timestamp header" (not 1 to 12 digits), "malformed webhook-signature
// header: <why>", "no signature matches", "timestamp outside the tolerance".
Status VerifyStandardWebhook(const StandardWebhookHeaders& headers, std::string_view body,
                             std::span<const std::string> key_bytes_list, absl::Time now,
                             absl::Duration tolerance);

}  // namespace herald::webhooks
