// libFuzzer target for CountSmsSegments and SmartEncode. Each input is tried twice: as raw bytes,
// and spelled with a palette of the characters SMS counting cares about (GSM basic and extension
// characters, Cyrillic, emoji, combining marks, ZWJ, regional indicators, CR and LF), repeated
// so that long, concatenated messages are common. Any text either fails with InvalidArgument
// (and is then invalid UTF-8 or too long), or gets a count that agrees with the encoding rules:
// units in range for the encoding, 1 segment exactly when the text fits one, never fewer
// segments than the units need, non_gsm consistent; SmartEncode keeps valid text valid and is
// idempotent; doubling a text never lowers its count.

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

#include "core/utf8.h"
#include "notify/sms_segments.h"

namespace {

using herald::notify::CountSmsSegments;
using herald::notify::SmartEncode;
using herald::notify::SmsEncoding;
using herald::notify::SmsSegments;

void Check(bool ok) {
  if (!ok) std::abort();
}

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

// Counts `text`, checks the invariants above and returns the result.
herald::Result<SmsSegments> CheckCount(std::string_view text) {
  herald::Result<SmsSegments> r = CountSmsSegments(text);
  size_t code_points = 0;
  const bool valid = herald::core::CountUtf8(text, code_points);
  if (!r.ok()) {
    Check(r.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!r.status().message().empty());
    Check(!valid || text.size() > herald::notify::kMaxSmsTextBytes);
    return r;
  }
  Check(valid);
  const SmsSegments& s = *r;
  if (text.empty()) {
    Check(s.encoding == SmsEncoding::kGsm7 && s.segments == 0 && s.units == 0);
    Check(s.non_gsm.empty());
    return r;
  }
  const int cps = static_cast<int>(code_points);
  const bool gsm = s.encoding == SmsEncoding::kGsm7;
  if (gsm) {
    Check(s.units >= cps && s.units <= 2 * cps);  // extension characters take 2 septets
  } else {
    int utf16 = cps;
    for (char c : text) utf16 += static_cast<unsigned char>(c) >= 0xF0 ? 1 : 0;
    Check(s.units == utf16);
  }
  const int single = gsm ? 160 : 70;
  const int part = gsm ? 153 : 67;
  Check(herald::notify::SmsUnitsPerSegment(s.encoding, 1) == single);
  Check(herald::notify::SmsUnitsPerSegment(s.encoding, 2) == part);
  Check(s.segments >= 1);
  Check((s.segments == 1) == (s.units <= single));
  if (s.segments > 1) {
    Check(s.segments >= CeilDiv(s.units, part));
    // A GSM-7 part is only closed early by an escape pair that does not fit: 1 septet lost.
    if (gsm) Check(s.segments <= CeilDiv(s.units, part - 1));
    Check(s.segments <= s.units);
  }
  Check(s.non_gsm.empty() == gsm);
  Check(s.non_gsm.size() <= SmsSegments::kMaxNonGsm);
  for (size_t i = 0; i < s.non_gsm.size(); ++i) {
    Check(!s.non_gsm[i].empty());
    Check(text.find(s.non_gsm[i]) != std::string_view::npos);
    for (size_t j = 0; j < i; ++j) Check(s.non_gsm[i] != s.non_gsm[j]);
  }
  return r;
}

void CheckText(std::string_view text) {
  herald::Result<SmsSegments> r = CheckCount(text);
  if (!r.ok()) return;

  const std::string encoded = SmartEncode(text);
  size_t ignored = 0;
  Check(herald::core::CountUtf8(encoded, ignored));
  Check(SmartEncode(encoded) == encoded);
  const herald::Result<SmsSegments> smart = CheckCount(encoded);
  Check(smart.ok() || encoded.size() > herald::notify::kMaxSmsTextBytes);

  const std::string doubled = std::string(text) + std::string(text);
  herald::Result<SmsSegments> twice = CheckCount(doubled);
  if (twice.ok()) {
    Check(twice->encoding == r->encoding);
    Check(twice->segments >= r->segments);
  }
}

// Characters worth combining, as UTF-8.
constexpr std::string_view kPalette[] = {
    "a",
    "Z",
    " ",
    "\n",
    "\r",
    "\f",
    "@",
    "$",
    "_",
    "`",
    "^",
    "{",
    "}",
    "\\",
    "[",
    "]",
    "~",
    "|",
    "\xE2\x82\xAC",      // €
    "\xC3\xA9",          // é
    "\xC3\xA7",          // ç
    "\xCE\x94",          // Δ
    "\xD0\xB6",          // ж
    "\xF0\x9F\x98\x80",  // 😀
    "\xF0\x9F\x91\xA8",  // 👨
    "\xE2\x80\x8D",      // ZWJ
    "\xCC\x81",          // combining acute
    "\xEF\xB8\x8F",      // VS16
    "\xF0\x9F\x8F\xBD",  // skin tone
    "\xF0\x9F\x87\xAB",  // regional F
    "\xF0\x9F\x87\xB7",  // regional R
    "\xE2\x80\x9C",      // “
    "\xE2\x80\xA6",      // …
    "\xC2\xA0",          // NBSP
    "\xEF\xBC\xA1",      // fullwidth A
    "\t",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckText(std::string_view(reinterpret_cast<const char*>(data), size));

  std::string spelled;
  for (size_t i = 0; i < size; ++i) spelled += kPalette[data[i] % std::size(kPalette)];
  std::string repeated;
  const int copies = size == 0 ? 1 : 1 + data[0] % 12;
  for (int i = 0; i < copies; ++i) repeated += spelled;
  CheckText(repeated);
  return 0;
}
