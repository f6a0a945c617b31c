// libFuzzer target for what a caller controls in a Twilio delivery report: the form body
// (FormDecode) and the signature header. Decoding never crashes; a decoded body re-encodes to
// something that decodes to the same fields; a random header never verifies, and the
// signature computed for the fields always does.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_client.h"
#include "notify/twilio_callback.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto fields = herald::net::FormDecode(text);
  if (!fields.ok()) {
    if (fields.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  auto again = herald::net::FormDecode(herald::net::FormEncode(*fields));
  if (!again.ok() || *again != *fields) std::abort();
  const std::string url = "https://herald.example/api/notifications/callbacks/twilio";
  const std::string good = herald::notify::TwilioSignature("token", url, *fields);
  if (!herald::notify::VerifyTwilioSignature("token", url, *fields, good)) std::abort();
  if (text != good && herald::notify::VerifyTwilioSignature("token", url, *fields, text)) {
    std::abort();
  }
  return 0;
}
