// libFuzzer target for what a caller controls in a Meta (WhatsApp) webhook delivery: the body
// and the X-Hub-Signature-256 header. Parsing never crashes and fails only with
// InvalidArgument; every status it returns has an id and a status; a random header never
// verifies, and the signature computed for the body always does.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "notify/meta_webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto statuses = herald::notify::ParseWhatsAppStatuses(text);
  if (!statuses.ok()) {
    if (statuses.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
  } else {
    for (const auto& s : *statuses) {
      if (s.message_id.empty() || s.status.empty()) std::abort();
    }
  }
  const std::string good = herald::notify::HubSignature("app-secret", text);
  if (!herald::notify::VerifyHubSignature("app-secret", text, good)) std::abort();
  if (herald::notify::VerifyHubSignature("", text, good)) std::abort();
  if (text != good && herald::notify::VerifyHubSignature("app-secret", text, text)) std::abort();
  // The input as a header for a fixed body: only the right signature verifies.
  const std::string body = R"({"object":"whatsapp_business_account","entry":[]})";
  if (text != herald::notify::HubSignature("app-secret", body) &&
      herald::notify::VerifyHubSignature("app-secret", body, text)) {
    std::abort();
  }
  return 0;
}
