#include "notify/sms_segments.h"

#include <algorithm>
#include <iterator>

#include "absl/status/status.h"
#include "core/strings.h"
#include "core/utf8.h"

namespace herald::notify {
namespace {

constexpr int kSegmentBits = 1120;  // 140 octets of user data
constexpr int kUdhBits = 48;        // concatenation header, in every part of a long message
constexpr int kPartBits = kSegmentBits - kUdhBits;
constexpr int kGsmBitsPerSeptet = 7;
constexpr int kUcs2BitsPerUnit = 16;

constexpr char32_t kZwj = 0x200D;

// Decodes the valid UTF-8 sequence of `len` bytes (from core::Utf8SequenceLength) at s[i].
char32_t DecodeAt(std::string_view s, size_t i, size_t len) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  char32_t cp = byte(0) & kLeadMask[len];
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (byte(k) & 0x3F);
  return cp;
}

// Non-ASCII characters of the GSM 03.38 basic table, sorted.
constexpr char32_t kGsmBasicNonAscii[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
    0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
    0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};
static_assert(std::is_sorted(std::begin(kGsmBasicNonAscii), std::end(kGsmBasicNonAscii)));

// Septets `cp` takes in GSM-7 (2 for the extension table), or 0 if GSM-7 cannot carry it.
int GsmSeptets(char32_t cp) {
  if (cp < 0x80) {
    switch (cp) {
      case '\n':
      case '\r':
        return 1;
      case '\f':
      case '^':
      case '{':
      case '}':
      case '\\':
      case '[':
      case '~':
      case ']':
      case '|':
        return 2;
      case '`':  // the basic table has ¿ where ASCII has `
        return 0;
      default:
        return cp >= 0x20 && cp < 0x7F ? 1 : 0;
    }
  }
  if (cp == 0x20AC) return 2;  // €
  return std::binary_search(std::begin(kGsmBasicNonAscii), std::end(kGsmBasicNonAscii), cp) ? 1 : 0;
}

// UAX #29 Control: never part of a larger cluster (so "\r\n" is two characters, as in Twilio).
bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

bool IsRegionalIndicator(char32_t cp) { return cp >= 0x1F1E6 && cp <= 0x1F1FF; }

// Code points that attach to the cluster before them (see the header for the approximation).
bool IsExtender(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFE20 && cp <= 0xFE2F) || cp == kZwj ||
         (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F) ||
         (cp >= 0xE0100 && cp <= 0xE01EF);
}

// UTF-16 code units of valid UTF-8 text: one per code point, two for a 4-byte sequence.
int Utf16Units(std::string_view utf8) {
  int units = 0;
  for (char c : utf8) {
    const auto b = static_cast<unsigned char>(c);
    if ((b & 0xC0) != 0x80) ++units;
    if (b >= 0xF0) ++units;
  }
  return units;
}

// Splits valid UTF-8 text into approximate grapheme clusters.
class ClusterReader {
 public:
  explicit ClusterReader(std::string_view text) : text_(text) {}

  // The next cluster, or an empty view at the end of the text.
  std::string_view Next() {
    const size_t begin = pos_;
    if (pos_ == text_.size()) return {};
    char32_t prev = Advance();
    bool lone_indicator = IsRegionalIndicator(prev);
    if (IsControl(prev)) return text_.substr(begin, pos_ - begin);
    while (pos_ < text_.size()) {
      const size_t len = core::Utf8SequenceLength(text_, pos_);
      const char32_t next = DecodeAt(text_, pos_, len);
      if (IsControl(next)) break;
      const bool pairs_flag = lone_indicator && IsRegionalIndicator(next);
      if (!IsExtender(next) && prev != kZwj && !pairs_flag) break;
      lone_indicator = false;
      prev = next;
      pos_ += len;
    }
    return text_.substr(begin, pos_ - begin);
  }

 private:
  char32_t Advance() {
    const size_t len = core::Utf8SequenceLength(text_, pos_);
    const char32_t cp = DecodeAt(text_, pos_, len);
    pos_ += len;
    return cp;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Counts the parts of a concatenated message: items (characters, in bits) are packed in order,
// each whole, into parts of kPartBits. Equivalent to Twilio's Segment.ts for every item small
// enough that its move into the next part cannot overflow that part.
class PartPacker {
 public:
  void Add(int bits) {
    if (used_ + bits > kPartBits) {
      ++parts_;
      used_ = 0;
    }
    used_ += bits;
  }
  int parts() const { return parts_; }

 private:
  int parts_ = 1;
  int used_ = 0;
};

// A Smart Encoding replacement: `from` becomes the ASCII text `to`.
struct Replacement {
  char32_t from;
  const char* to;
};

// Twilio's calculator's SmartEncodingMap.ts, sorted by code point, less the fullwidth digits and
// capital letters (U+FF10–U+FF19, U+FF21–U+FF3A), which SmartEncode maps arithmetically.
constexpr Replacement kSmartEncoding[] = {
    {0x0000, ""},         // NULL
    {0x0003, ""},         // END OF TEXT
    {0x0004, ""},         // END OF TRANSMISSION
    {0x0009, "       "},  // TAB, as 7 spaces
    {0x0010, ""},         // DATA LINK ESCAPE
    {0x0011, ""},         // DEVICE CONTROL ONE
    {0x0012, ""},         // DEVICE CONTROL TWO
    {0x0013, ""},         // DEVICE CONTROL THREE
    {0x0014, ""},         // DEVICE CONTROL FOUR
    {0x0017, ""},         // END OF TRANSMISSION BLOCK
    {0x0019, ""},         // END OF MEDIUM
    {0x0060, "'"},        // GRAVE ACCENT
    {0x0080, " "},        // C1 control
    {0x008D, " "},        // REVERSE LINE FEED
    {0x0090, " "},        // DEVICE CONTROL STRING
    {0x009B, " "},        // CONTROL SEQUENCE INTRODUCER
    {0x009F, " "},        // APPLICATION PROGRAM COMMAND
    {0x00A0, " "},        // NO-BREAK SPACE
    {0x00AB, "\""},       // «
    {0x00B4, "'"},        // ´
    {0x00BB, "\""},       // »
    {0x00BC, "1/4"},      // ¼
    {0x00BD, "1/2"},      // ½
    {0x00BE, "3/4"},      // ¾
    {0x00F7, "/"},        // ÷
    {0x01C3, "!"},        // LATIN LETTER RETROFLEX CLICK
    {0x0262, "G"},        // small capitals ...
    {0x026A, "I"},       {0x0274, "N"}, {0x0280, "R"},  {0x028F, "Y"},
    {0x0299, "B"},       {0x029C, "H"}, {0x029F, "L"},  {0x02B9, "'"},  // MODIFIER LETTER PRIME
    {0x02BA, "\""},  // MODIFIER LETTER DOUBLE PRIME
    {0x02BB, "'"},   // MODIFIER LETTER TURNED COMMA
    {0x02BC, "'"},   // MODIFIER LETTER APOSTROPHE
    {0x02BD, "'"},   // MODIFIER LETTER REVERSED COMMA
    {0x02C6, "^"},   // MODIFIER LETTER CIRCUMFLEX ACCENT
    {0x02C8, "'"},   // MODIFIER LETTER VERTICAL LINE
    {0x02CA, "'"},   // MODIFIER LETTER ACUTE ACCENT
    {0x02CB, "'"},   // MODIFIER LETTER GRAVE ACCENT
    {0x02D0, ":"},   // MODIFIER LETTER TRIANGULAR COLON
    {0x02D6, "+"},   // MODIFIER LETTER PLUS SIGN
    {0x02DC, "~"},   // SMALL TILDE
    {0x02EE, "\""},  // MODIFIER LETTER DOUBLE APOSTROPHE
    {0x02F7, "~"},   // MODIFIER LETTER LOW TILDE
    {0x02F8, ":"},   // MODIFIER LETTER RAISED COLON
    {0x0302, "^"},   // COMBINING CIRCUMFLEX ACCENT
    {0x0303, "~"},   // COMBINING TILDE
    {0x0313, "'"},   // COMBINING COMMA ABOVE
    {0x0314, "'"},   // COMBINING REVERSED COMMA ABOVE
    {0x0326, ","},   // COMBINING COMMA BELOW
    {0x0330, "~"},   // COMBINING TILDE BELOW
    {0x0332, "_"},   // COMBINING LOW LINE
    {0x0334, "~"},   // COMBINING TILDE OVERLAY
    {0x0337, "/"},   // COMBINING SHORT SOLIDUS OVERLAY
    {0x0338, "/"},   // COMBINING LONG SOLIDUS OVERLAY
    {0x0347, "="},   // COMBINING EQUALS SIGN BELOW
    {0x1D00, "A"},   // small capitals ...
    {0x1D04, "C"},       {0x1D05, "D"}, {0x1D07, "E"},  {0x1D0A, "J"},
    {0x1D0B, "K"},       {0x1D0D, "M"}, {0x1D0F, "O"},  {0x1D18, "P"},
    {0x1D1B, "T"},       {0x1D1C, "U"}, {0x1D20, "V"},  {0x1D21, "W"},
    {0x1D22, "Z"},       {0x1DCD, "^"},  // COMBINING DOUBLE CIRCUMFLEX ABOVE
    {0x2000, " "},                       // EN QUAD ... HAIR SPACE
    {0x2001, " "},                       //
    {0x2002, " "},                       //
    {0x2003, " "},                       //
    {0x2004, " "},                       //
    {0x2005, " "},                       //
    {0x2006, " "},                       //
    {0x2007, " "},                       //
    {0x2008, " "},                       //
    {0x2009, " "},                       // THIN SPACE
    {0x200A, " "},                       //
    {0x200B, ""},                        // ZERO WIDTH SPACE
    {0x2010, "-"},                       // HYPHEN
    {0x2013, "-"},                       // EN DASH
    {0x2014, "-"},                       // EM DASH
    {0x2015, "-"},                       // HORIZONTAL BAR
    {0x2017, "_"},                       // DOUBLE LOW LINE (the calculator gives ')
    {0x2018, "'"},                       // ‘
    {0x2019, "'"},                       // ’
    {0x201A, ","},                       // ‚
    {0x201B, "'"},                       // ‛
    {0x201C, "\""},                      // “
    {0x201D, "\""},                      // ”
    {0x201E, "\""},                      // „
    {0x201F, "\""},                      // ‟
    {0x2022, "-"},                       // BULLET
    {0x2026, "..."},                     // HORIZONTAL ELLIPSIS
    {0x2028, " "},                       // LINE SEPARATOR
    {0x2029, " "},                       // PARAGRAPH SEPARATOR
    {0x202F, " "},                       // NARROW NO-BREAK SPACE
    {0x2039, "<"},                       // ‹ (the calculator gives >)
    {0x203A, ">"},                       // › (the calculator gives <)
    {0x203C, "!!"},                      // DOUBLE EXCLAMATION MARK
    {0x2043, "-"},                       // HYPHEN BULLET
    {0x2044, "/"},                       // FRACTION SLASH
    {0x204E, "*"},                       // LOW ASTERISK
    {0x204F, ";"},                       // REVERSED SEMICOLON
    {0x205F, " "},                       // MEDIUM MATHEMATICAL SPACE
    {0x2060, ""},                        // WORD JOINER
    {0x20D2, "|"},                       // COMBINING LONG VERTICAL LINE OVERLAY
    {0x20D3, "|"},                       // COMBINING SHORT VERTICAL LINE OVERLAY
    {0x20E5, "\\"},                      // COMBINING REVERSE SOLIDUS OVERLAY
    {0x2215, "/"},                       // DIVISION SLASH
    {0x2217, "*"},                       // ASTERISK OPERATOR
    {0x2223, "|"},                       // DIVIDES
    {0x223C, "~"},                       // TILDE OPERATOR
    {0x229B, "*"},                       // CIRCLED ASTERISK OPERATOR
    {0x239C, "|"},                       // LEFT PARENTHESIS EXTENSION
    {0x239F, "|"},                       // RIGHT PARENTHESIS EXTENSION
    {0x23B8, "|"},                       // LEFT VERTICAL BOX LINE
    {0x23B9, "|"},                       // RIGHT VERTICAL BOX LINE
    {0x23BC, "-"},                       // HORIZONTAL SCAN LINE-7
    {0x23BD, "-"},                       // HORIZONTAL SCAN LINE-9
    {0x23D0, "|"},                       // VERTICAL LINE EXTENSION
    {0x2722, "*"},                       // asterisk ornaments ...
    {0x2723, "*"},       {0x2724, "*"}, {0x2725, "*"},  {0x2731, "*"},
    {0x2732, "*"},       {0x2733, "*"}, {0x273A, "*"},  {0x273B, "*"},
    {0x273C, "*"},       {0x273D, "*"}, {0x2743, "*"},  {0x2749, "*"},
    {0x274A, "*"},       {0x274B, "*"}, {0x275B, "'"},  // quotation mark ornaments ...
    {0x275C, "'"},                                      //
    {0x275D, "\""},                                     //
    {0x275E, "\""},                                     //
    {0x2768, "("},                                      // parenthesis and bracket ornaments ...
    {0x2769, ")"},       {0x276A, "("}, {0x276B, ")"},  {0x2774, "{"},
    {0x2775, "}"},       {0x27EE, "("}, {0x27EF, ")"},  {0x2982, ":"},  // Z NOTATION TYPE COLON
    {0x2985, "("},                                                      // LEFT WHITE PARENTHESIS
    {0x2986, ")"},                                                      // RIGHT WHITE PARENTHESIS
    {0x29C6, "*"},                                                      // SQUARED ASTERISK
    {0x29F5, "\\"},                                                     // REVERSE SOLIDUS OPERATOR
    {0x29F8, "/"},                                                      // BIG SOLIDUS
    {0x29F9, "\\"},                                                     // BIG REVERSE SOLIDUS
    {0x3000, " "},                                                      // IDEOGRAPHIC SPACE
    {0x3001, ","},                                                      // IDEOGRAPHIC COMMA
    {0x3002, "."},                                                      // IDEOGRAPHIC FULL STOP
    {0x301D, "\""},  // REVERSED DOUBLE PRIME QUOTATION MARK
    {0x301E, "\""},  // DOUBLE PRIME QUOTATION MARK
    {0xA730, "F"},   // LATIN LETTER SMALL CAPITAL F
    {0xA731, "S"},   // LATIN LETTER SMALL CAPITAL S
    {0xA789, ":"},   // MODIFIER LETTER COLON
    {0xA78A, "="},   // MODIFIER LETTER SHORT EQUALS SIGN
    {0xFE10, "'"},   // presentation forms and small forms ...
    {0xFE11, "'"},       {0xFE13, ":"}, {0xFE14, ";"},  {0xFE15, "!"},
    {0xFE16, "?"},       {0xFE50, ","}, {0xFE51, ","},  {0xFE52, "."},
    {0xFE54, ";"},       {0xFE56, "?"}, {0xFE57, "!"},  {0xFE59, "("},
    {0xFE5A, ")"},       {0xFE5B, "{"}, {0xFE5C, "}"},  {0xFE5F, "#"},
    {0xFE60, "&"},       {0xFE61, "*"}, {0xFE62, "+"},  {0xFE63, "-"},
    {0xFE64, "<"},       {0xFE65, ">"}, {0xFE66, "="},  {0xFE68, "\\"},
    {0xFE69, "$"},       {0xFE6A, "%"}, {0xFE6B, "@"},  {0xFEFF, ""},  // ZERO WIDTH NO-BREAK SPACE
    {0xFF01, "!"},                                                     // fullwidth forms ...
    {0xFF02, "\""},      {0xFF03, "#"}, {0xFF04, "$"},  {0xFF05, "%"},
    {0xFF06, "&"},       {0xFF07, "'"}, {0xFF08, "("},  {0xFF09, ")"},
    {0xFF0A, "*"},       {0xFF0B, "+"}, {0xFF0C, ","},  {0xFF0D, "-"},
    {0xFF0E, "."},       {0xFF0F, "/"}, {0xFF1A, ":"},  {0xFF1B, ";"},
    {0xFF1C, "<"},       {0xFF1D, "="}, {0xFF1E, ">"},  {0xFF1F, "?"},
    {0xFF20, "@"},       {0xFF3B, "["}, {0xFF3C, "\\"}, {0xFF3D, "]"},
    {0xFF3E, "^"},       {0xFF3F, "_"}, {0xFF5B, "{"},  {0xFF5C, "|"},
    {0xFF5D, "}"},       {0xFF5E, "~"}, {0xFF61, "."},  // HALFWIDTH IDEOGRAPHIC FULL STOP
    {0xFF64, ","},                                      // HALFWIDTH IDEOGRAPHIC COMMA
};
constexpr bool SmartEncodingIsSorted() {
  return std::is_sorted(std::begin(kSmartEncoding), std::end(kSmartEncoding),
                        [](const Replacement& a, const Replacement& b) { return a.from < b.from; });
}
static_assert(SmartEncodingIsSorted());

}  // namespace

const char* SmsEncodingName(SmsEncoding encoding) {
  return encoding == SmsEncoding::kGsm7 ? "GSM-7" : "UCS-2";
}

int SmsUnitsPerSegment(SmsEncoding encoding, int segments) {
  const int bits = segments <= 1 ? kSegmentBits : kPartBits;
  return bits / (encoding == SmsEncoding::kGsm7 ? kGsmBitsPerSeptet : kUcs2BitsPerUnit);
}

Result<SmsSegments> CountSmsSegments(std::string_view utf8) {
  if (utf8.size() > kMaxSmsTextBytes) {
    return absl::InvalidArgumentError(
        StrCat("SMS text is longer than ", kMaxSmsTextBytes, " bytes: ", utf8.size()));
  }
  // One pass validates, decides the encoding and counts septets.
  int septets = 0;
  bool gsm = true;
  for (size_t i = 0; i < utf8.size();) {
    const size_t len = core::Utf8SequenceLength(utf8, i);
    if (len == 0) {
      return absl::InvalidArgumentError(StrCat("SMS text is not valid UTF-8 at byte ", i));
    }
    const int cost = GsmSeptets(DecodeAt(utf8, i, len));
    gsm = gsm && cost > 0;
    septets += cost;
    i += len;
  }

  SmsSegments out;
  if (utf8.empty()) return out;
  if (gsm) {
    out.encoding = SmsEncoding::kGsm7;
    out.units = septets;
    if (septets * kGsmBitsPerSeptet <= kSegmentBits) {
      out.segments = 1;
      return out;
    }
    PartPacker packer;
    for (size_t i = 0; i < utf8.size();) {
      const size_t len = core::Utf8SequenceLength(utf8, i);
      packer.Add(GsmSeptets(DecodeAt(utf8, i, len)) * kGsmBitsPerSeptet);
      i += len;
    }
    out.segments = packer.parts();
    return out;
  }

  out.encoding = SmsEncoding::kUcs2;
  out.units = Utf16Units(utf8);
  const bool single = out.units * kUcs2BitsPerUnit <= kSegmentBits;
  PartPacker packer;
  ClusterReader reader(utf8);
  for (std::string_view cluster = reader.Next(); !cluster.empty(); cluster = reader.Next()) {
    const size_t first_len = core::Utf8SequenceLength(cluster, 0);
    const bool is_gsm = first_len == cluster.size() && GsmSeptets(DecodeAt(cluster, 0, first_len));
    if (!is_gsm && out.non_gsm.size() < SmsSegments::kMaxNonGsm &&
        std::find(out.non_gsm.begin(), out.non_gsm.end(), cluster) == out.non_gsm.end()) {
      out.non_gsm.emplace_back(cluster);
    }
    if (single) continue;
    const int bits = Utf16Units(cluster) * kUcs2BitsPerUnit;
    if (bits <= kPartBits) {
      packer.Add(bits);
      continue;
    }
    // Too large for any part: split between code points, never inside a surrogate pair.
    for (size_t i = 0; i < cluster.size();) {
      const size_t len = core::Utf8SequenceLength(cluster, i);
      packer.Add(Utf16Units(cluster.substr(i, len)) * kUcs2BitsPerUnit);
      i += len;
    }
  }
  out.segments = single ? 1 : packer.parts();
  return out;
}

std::string SmartEncode(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    const size_t len = core::Utf8SequenceLength(utf8, i);
    if (len == 0) {  // not ours to repair: CountSmsSegments reports it
      out += utf8[i++];
      continue;
    }
    const char32_t cp = DecodeAt(utf8, i, len);
    const auto it =
        std::lower_bound(std::begin(kSmartEncoding), std::end(kSmartEncoding), cp,
                         [](const Replacement& r, char32_t value) { return r.from < value; });
    if (it != std::end(kSmartEncoding) && it->from == cp) {
      out += it->to;
    } else if (cp >= 0xFF10 && cp <= 0xFF19) {  // fullwidth digits
      out += static_cast<char>('0' + (cp - 0xFF10));
    } else if (cp >= 0xFF21 && cp <= 0xFF3A) {  // fullwidth capital letters
      out += static_cast<char>('A' + (cp - 0xFF21));
    } else {
      out.append(utf8.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace herald::notify
