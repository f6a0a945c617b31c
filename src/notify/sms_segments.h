#pragma once
// SMS encoding and segment counting, computed the way Twilio's message segment calculator
// (TwilioDevEd/message-segment-calculator, npm sms-segments-calculator) does, so the template
// preview API can show what a send will cost before it is made.
//
// Rules (3GPP TS 23.038; the calculator's Segment.ts, EncodedChar.ts and UnicodeToGSM.ts):
// - GSM-7 when every character is in the GSM 03.38 basic table (1 septet) or its extension table
//   (form feed ^ { } \ [ ~ ] | €, 2 septets: ESC + code). National language shift tables are not
//   used. Any other character switches the whole message to UCS-2 (UTF-16 code units; astral
//   characters such as emoji are surrogate pairs, 2 units).
// - A segment carries 1120 bits. A message that does not fit one segment is concatenated and
//   every part loses 48 bits to the user data header: 160 / 153 septets, 70 / 67 UTF-16 units.
// - A character is never split across two parts: not an escape pair, not a surrogate pair, and
//   in UCS-2 not a grapheme cluster. A part may therefore hold fewer units than its capacity
//   (152 × 'a' + '€' + 152 × 'a' is 3 parts, not 2).
//
// Grapheme clusters are approximated rather than computed with the full Unicode tables: a cluster
// is a base code point followed by any number of extenders (combining marks U+0300–U+036F,
// U+1AB0–U+1AFF, U+1DC0–U+1DFF, U+20D0–U+20FF, U+FE20–U+FE2F; variation selectors U+FE00–U+FE0F
// and U+E0100–U+E01EF; emoji modifiers U+1F3FB–U+1F3FF; emoji tags U+E0020–U+E007F; ZWJ U+200D),
// a ZWJ also joins the code point after it, and regional indicators pair up into flags. Control
// characters are clusters of their own, so "\r\n" counts as two characters, as Twilio does.
// Hangul jamo sequences, Indic spacing marks and prepended characters are not joined; this only
// moves a part boundary in a rare case, never the encoding. A cluster too large for a part of
// its own (over 67 units, e.g. a letter with dozens of combining marks) is split between code
// points, where Twilio's calculator would report an overfull part.
//
// Thread-safe: free functions without shared state.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace herald::notify {

enum class SmsEncoding { kGsm7, kUcs2 };

// "GSM-7" or "UCS-2", the names Twilio's calculator uses.
const char* SmsEncodingName(SmsEncoding encoding);

// Units one part of a message with `segments` parts can carry: 160 or 153 septets for GSM-7,
// 70 or 67 UTF-16 code units for UCS-2 (the single-part figure when segments <= 1).
int SmsUnitsPerSegment(SmsEncoding encoding, int segments);

// Largest text CountSmsSegments accepts, in bytes. Twilio's own limit is 1,600 characters.
inline constexpr size_t kMaxSmsTextBytes = 1 << 20;

struct SmsSegments {
  SmsEncoding encoding = SmsEncoding::kGsm7;
  // Number of parts the message is sent as; 0 only for the empty text.
  int segments = 0;
  // Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2.
  int units = 0;
  // The characters (grapheme clusters, UTF-8) that forced UCS-2, each once, in order of first
  // appearance, at most kMaxNonGsm of them. Empty for GSM-7.
  std::vector<std::string> non_gsm;

  static constexpr size_t kMaxNonGsm = 20;
};

// Encoding and segment count of `utf8` as an SMS body, sent as is (see SmartEncode for the opt-in
// normalisation). The empty text is GSM-7 with 0 segments and 0 units: Twilio's calculator says
// 1 segment, but Twilio's API rejects an empty body, so nothing is sent or billed.
// Errors: InvalidArgument when `utf8` is not valid UTF-8 (the message names the byte offset) or
// is longer than kMaxSmsTextBytes.
Result<SmsSegments> CountSmsSegments(std::string_view utf8);

// Twilio's Smart Encoding (SmartEncoded=true), as emulated by its calculator: replaces look-alike
// characters with GSM-7 ones, e.g. “ ” « » „ → ", ‘ ’ ´ ` → ', – — → -, … → ..., fullwidth
// forms → ASCII, no-break and other Unicode spaces → one space, tab → 7 spaces; removes
// zero-width characters (U+200B, U+2060, U+FEFF) and a few invisible control characters.
// Everything else, including emoji and invalid UTF-8 bytes, is copied unchanged, so the result
// may still be UCS-2. Where the calculator's table is plainly wrong we differ without changing
// any count: ‹ › become < > (it swaps them) and ‗ becomes _ (it gives '). Idempotent on valid
// UTF-8.
std::string SmartEncode(std::string_view utf8);

}  // namespace herald::notify
