// libFuzzer target for ticket codes. The input is tried as text (tickets::ParseSignedCode,
// tickets::Base32Decode, tickets::ClassifyCode) and as the claim bytes of a version-1 frame, so the
// varint reader sees arbitrary bytes even when the input is not base32. Every decode either fails
// with InvalidArgument and a message, or yields a value that encodes back to the same text
// (upper-cased): decoding is canonical. A parsed code's claims, signed again, give the same
// signed message, and the code is classified kSigned.

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "apps/tickets/ticket_code.h"

namespace {

namespace tickets = herald::apps::tickets;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

template <typename T>
void CheckRefusal(const herald::Result<T>& r) {
  Check(r.status().code() == absl::StatusCode::kInvalidArgument);
  Check(!r.status().message().empty());
}

void CheckSignedCode(std::string_view text) {
  static const tickets::SigningKey kKey = [] {
    std::array<uint8_t, 32> seed{};
    seed[0] = 7;
    return tickets::SigningKeyFromSeed(seed);
  }();
  const herald::Result<tickets::SignedCode> code = tickets::ParseSignedCode(text);
  if (!code.ok()) {
    CheckRefusal(code);
    return;
  }
  Check(tickets::ClassifyCode(text) == tickets::CodeKind::kSigned);
  Check(code->signed_message.substr(0, tickets::kSignatureDomain.size()) ==
        tickets::kSignatureDomain);
  std::string frame = code->signed_message.substr(tickets::kSignatureDomain.size());
  frame.append(reinterpret_cast<const char*>(code->signature.data()), code->signature.size());
  Check(tickets::Base32Encode(frame) == Upper(text));

  const herald::Result<std::string> again = tickets::EncodeSignedCode(code->claims, kKey);
  Check(again.ok());
  const herald::Result<tickets::SignedCode> reparsed = tickets::ParseSignedCode(*again);
  Check(reparsed.ok());
  Check(reparsed->claims == code->claims);
  Check(reparsed->signed_message == code->signed_message);
  Check(tickets::VerifySignedCode(*reparsed, kKey.public_key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const herald::Result<std::string> decoded = tickets::Base32Decode(bytes);
  if (decoded.ok()) {
    Check(tickets::Base32Encode(*decoded) == Upper(bytes));
  } else {
    CheckRefusal(decoded);
  }
  const tickets::CodeKind kind = tickets::ClassifyCode(bytes);
  Check(kind != tickets::CodeKind::kRandom || bytes.size() == 26);
  Check(kind != tickets::CodeKind::kTicketNumber || tickets::IsTicketNumber(bytes));
  CheckSignedCode(bytes);

  // The same bytes as the claims of a frame, with a signature-sized tail of zeros.
  std::string frame(1, '\x01');
  frame.append(bytes.substr(0, 64));
  frame.append(64, '\0');
  CheckSignedCode(tickets::Base32Encode(frame));
  return 0;
}
