// libFuzzer target for what a sender controls in a signed webhook: the signature headers and
// the body. The input's first line is the header, the rest the body. Parsing never crashes and
// fails only with InvalidArgument; verifying fails only with Unauthenticated; a random header
// never verifies, the signature we compute for the body always does, and a header with that
// signature in front verifies exactly when it parses.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "webhooks/signatures.h"

namespace {

namespace wh = herald::webhooks;

constexpr int64_t kTimestamp = 1700000000;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  const std::string_view header = text.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  const absl::Time now = absl::FromUnixSeconds(kTimestamp);
  const absl::Duration tolerance = wh::kDefaultTolerance;

  // Stripe.
  const std::vector<std::string> secrets = {"whsec_fuzz_secret", "whsec_other"};
  auto parsed = wh::ParseStripeSignatureHeader(header);
  if (!parsed.ok()) {
    Check(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    Check(!parsed->v1.empty() && parsed->v1.size() <= wh::kMaxSignatureEntries);
    for (const std::string& mac : parsed->v1) Check(mac.size() == 32);
  }
  const absl::Status stripe = wh::VerifyStripeSignature(header, body, secrets, now, tolerance);
  // A header that is not derived from the secret cannot verify.
  Check(stripe.code() == absl::StatusCode::kUnauthenticated);
  const std::string good = wh::StripeSignatureHeaderValue(secrets[1], kTimestamp, body);
  Check(wh::VerifyStripeSignature(good, body, secrets, now, tolerance).ok());
  Check(!wh::VerifyStripeSignature(good, body, std::vector<std::string>{"whsec_x"}, now, tolerance)
             .ok());

  // With a good entry in front, the header verifies exactly when it still parses.
  const std::string extended = good + "," + std::string(header);
  Check(wh::ParseStripeSignatureHeader(extended).ok() ==
        wh::VerifyStripeSignature(extended, body, secrets, now, tolerance).ok());

  // Standard Webhooks: the header as webhook-signature, and as id and timestamp too.
  const std::vector<std::string> keys = {std::string(24, 'k'), std::string(32, 'K')};
  auto macs = wh::ParseStandardSignatureHeader(header);
  if (!macs.ok()) {
    Check(macs.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    Check(!macs->empty() && macs->size() <= wh::kMaxSignatureEntries);
    for (const std::string& mac : *macs) Check(mac.size() == 32);
  }
  for (const wh::StandardWebhookHeaders& h :
       {wh::StandardWebhookHeaders{"msg_1", "1700000000", header},
        wh::StandardWebhookHeaders{header, header, "v1,x"}}) {
    const absl::Status s = wh::VerifyStandardWebhook(h, body, keys, now, tolerance);
    Check(s.code() == absl::StatusCode::kUnauthenticated);
  }
  const std::string signature = wh::StandardSignature(keys[1], "msg_1", kTimestamp, body);
  Check(wh::VerifyStandardWebhook({"msg_1", "1700000000", signature}, body, keys, now, tolerance)
            .ok());
  const std::string with_good = signature + " " + std::string(header);
  Check(wh::ParseStandardSignatureHeader(with_good).ok() ==
        wh::VerifyStandardWebhook({"msg_1", "1700000000", with_good}, body, keys, now, tolerance)
            .ok());
  auto key = wh::DecodeStandardSecret(header);
  if (key.ok()) {
    Check(key->size() >= wh::kMinStandardKeyBytes && key->size() <= wh::kMaxStandardKeyBytes);
  } else {
    Check(key.status().code() == absl::StatusCode::kInvalidArgument);
  }
  return 0;
}
