#include "notify/twilio_callback.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace herald::notify {

std::string TwilioSignature(std::string_view auth_token, std::string_view url,
                            const FormParams& params) {
  FormParams sorted = params;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string data(url);
  for (const auto& [name, value] : sorted) data.append(name).append(value);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  std::string out(4 * ((len + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
  return out;
}

bool VerifyTwilioSignature(std::string_view auth_token, std::string_view url,
                           const FormParams& params, std::string_view signature) {
  if (auth_token.empty() || signature.empty()) return false;
  const std::string expected = TwilioSignature(auth_token, url, params);
  return expected.size() == signature.size() &&
         CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
}

Result<TwilioStatus> ParseTwilioStatus(const FormParams& params) {
  TwilioStatus s;
  for (const auto& [name, value] : params) {
    if (name == "MessageSid") s.message_sid = value;
    if (name == "MessageStatus") s.status = value;
    if (name == "ErrorCode") s.error_code = value;
  }
  if (s.message_sid.empty()) return absl::InvalidArgumentError("MessageSid: required");
  if (s.status.empty()) return absl::InvalidArgumentError("MessageStatus: required");
  return s;
}

}  // namespace herald::notify
