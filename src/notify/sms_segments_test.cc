#include "notify/sms_segments.h"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace herald::notify {
namespace {

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out.append(s);
  return out;
}

SmsSegments Count(std::string_view text) {
  Result<SmsSegments> r = CountSmsSegments(text);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : SmsSegments{};
}

// Invisible or easily confused characters, spelled out.
constexpr std::string_view kNbsp = "\u00A0";
constexpr std::string_view kThinSpace = "\u2009";
constexpr std::string_view kZwj = "\u200D";
constexpr std::string_view kCombiningAcute = "\u0301";
constexpr std::string_view kFamily =  // man ZWJ woman ZWJ girl ZWJ boy: 11 UTF-16 units
    "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466";

struct Vector {
  std::string name;
  std::string text;
  SmsEncoding encoding;
  int segments;
};

// notifications.md §3.3, "Test vectors", Twilio calculator column (sms-counter's column differs
// where it splits an escape or surrogate pair, which a real SMS cannot do).
TEST(CountSmsSegments, MatchesTwilioCalculatorTestVectors) {
  const std::vector<Vector> vectors = {
      {"160 x a", Repeat("a", 160), SmsEncoding::kGsm7, 1},
      {"161 x a (153 + 8)", Repeat("a", 161), SmsEncoding::kGsm7, 2},
      {"306 x a", Repeat("a", 306), SmsEncoding::kGsm7, 2},
      {"307 x a", Repeat("a", 307), SmsEncoding::kGsm7, 3},
      {"159 x a + euro (euro = 2 septets)", Repeat("a", 159) + "€", SmsEncoding::kGsm7, 2},
      {"80 x euro", Repeat("€", 80), SmsEncoding::kGsm7, 1},
      {"81 x euro", Repeat("€", 81), SmsEncoding::kGsm7, 2},
      {"152 x a + euro + 152 x a (escape pair not split)",
       Repeat("a", 152) + "€" + Repeat("a", 152), SmsEncoding::kGsm7, 3},
      {"70 x zhe", Repeat("ж", 70), SmsEncoding::kUcs2, 1},
      {"71 x zhe", Repeat("ж", 71), SmsEncoding::kUcs2, 2},
      {"134 x zhe", Repeat("ж", 134), SmsEncoding::kUcs2, 2},
      {"66 x zhe + emoji + 66 x zhe (surrogate pair not split)",
       Repeat("ж", 66) + "😀" + Repeat("ж", 66), SmsEncoding::kUcs2, 3},
      {"hi + emoji (emoji = 2 units)", "hi 😀", SmsEncoding::kUcs2, 1},
      {"smart quotes", "He said “hi” – ok…", SmsEncoding::kUcs2, 1},
      {"smart quotes, smart-encoded", SmartEncode("He said “hi” – ok…"), SmsEncoding::kGsm7, 1},
      {"form feed is an extension character", "a\fb", SmsEncoding::kGsm7, 1},
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.name);
    const SmsSegments s = Count(v.text);
    EXPECT_EQ(SmsEncodingName(s.encoding), std::string(SmsEncodingName(v.encoding)));
    EXPECT_EQ(s.segments, v.segments);
  }
}

TEST(CountSmsSegments, EmptyTextIsZeroSegmentsOfGsm7) {
  const SmsSegments s = Count("");
  EXPECT_EQ(s.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(s.segments, 0);
  EXPECT_EQ(s.units, 0);
  EXPECT_TRUE(s.non_gsm.empty());
}

TEST(CountSmsSegments, WholeBasicTableIsOneSeptetEach) {
  const std::string basic =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const SmsSegments s = Count(basic);
  EXPECT_EQ(s.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(s.units, 127);  // 128 septets less ESC
  EXPECT_EQ(s.segments, 1);
  EXPECT_TRUE(s.non_gsm.empty());
}

TEST(CountSmsSegments, ExtensionTableCostsTwoSeptetsEach) {
  const SmsSegments s = Count("\f^{}\\[~]|€");
  EXPECT_EQ(s.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(s.units, 20);
  EXPECT_EQ(Count("a\fb").units, 4);
}

TEST(CountSmsSegments, LookAlikesOutsideTheTablesForceUcs2) {
  // ` is not in the basic table (¿ has its slot), nor are ç, lower-case Greek, tab or NUL.
  for (std::string_view text :
       std::initializer_list<std::string_view>{"`", "ç", "α", "\t", {"\0", 1}, "ê"}) {
    SCOPED_TRACE(text);
    const SmsSegments s = Count(text);
    EXPECT_EQ(s.encoding, SmsEncoding::kUcs2);
    ASSERT_EQ(s.non_gsm.size(), 1u);
    EXPECT_EQ(s.non_gsm[0], text);
  }
}

TEST(CountSmsSegments, OneNonGsmCharacterSwitchesTheWholeMessage) {
  const SmsSegments s = Count(Repeat("a", 100) + "ж" + Repeat("a", 59));
  EXPECT_EQ(s.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(s.units, 160);
  EXPECT_EQ(s.segments, 3);  // 67 + 67 + 26
  EXPECT_EQ(s.non_gsm, std::vector<std::string>{"ж"});
}

TEST(CountSmsSegments, GsmCharactersCostOneUnitInUcs2) {
  const SmsSegments s = Count("€{ж");
  EXPECT_EQ(s.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(s.units, 3);
}

TEST(CountSmsSegments, AstralCharactersAreSurrogatePairs) {
  EXPECT_EQ(Count("😀").units, 2);
  EXPECT_EQ(Count("ж").units, 1);
  EXPECT_EQ(Count(Repeat("😀", 35)).segments, 1);
  EXPECT_EQ(Count(Repeat("😀", 36)).segments, 2);
  // 33 pairs fill 66 of a part's 67 units; the 34th pair goes whole to the next part.
  EXPECT_EQ(Count(Repeat("😀", 67)).segments, 3);
}

TEST(CountSmsSegments, EscapePairAtAPartBoundaryMovesWhole) {
  // 151 septets + € = 153 septets fill the first part exactly; 152 + € does not fit.
  EXPECT_EQ(Count(Repeat("a", 151) + "€" + Repeat("a", 153)).segments, 2);
  EXPECT_EQ(Count(Repeat("a", 152) + "€" + Repeat("a", 151)).segments, 2);
  EXPECT_EQ(Count(Repeat("a", 152) + "€" + Repeat("a", 152)).segments, 3);
}

TEST(CountSmsSegments, GraphemeClusterIsNeverSplit) {
  // e + combining acute is one 2-unit character, like an emoji.
  const std::string decomposed = std::string("e") + std::string(kCombiningAcute);
  EXPECT_EQ(Count(Repeat("ж", 66) + decomposed + Repeat("ж", 66)).segments, 3);
  // A family emoji (11 units) does not fit after 60 units, so it starts part 2 and pushes 4
  // units into part 3; split between code points it would fit in 2 parts.
  const SmsSegments s = Count(Repeat("ж", 60) + std::string(kFamily) + Repeat("ж", 60));
  EXPECT_EQ(s.units, 131);
  EXPECT_EQ(s.segments, 3);
}

TEST(CountSmsSegments, ReportsClustersThatForcedUcs2) {
  const std::string decomposed = std::string("e") + std::string(kCombiningAcute);
  const std::string thumbs = "👍🏽";  // with a skin tone modifier
  const std::string heart = "❤\uFE0F";
  const SmsSegments s = Count("🇫🇷🇩🇪 " + std::string(kFamily) + decomposed + thumbs + heart + " 🇫🇷" +
                              std::string(kZwj) + "x");
  EXPECT_EQ(s.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(s.non_gsm, (std::vector<std::string>{"🇫🇷", "🇩🇪", std::string(kFamily), decomposed,
                                                 thumbs, heart, "🇫🇷" + std::string(kZwj) + "x"}));
}

TEST(CountSmsSegments, LoneRegionalIndicatorsPairInOrder) {
  const SmsSegments s = Count("🇫🇷🇩");  // a flag, then a lone indicator
  EXPECT_EQ(s.non_gsm, (std::vector<std::string>{"🇫🇷", "🇩"}));
  EXPECT_EQ(s.units, 6);
}

TEST(CountSmsSegments, CrLfCountsAsTwoCharacters) {
  // As one 2-unit character it would not fit after 66 units and the message would need 3 parts.
  const SmsSegments s = Count(Repeat("ж", 66) + "\r\n" + Repeat("ж", 66));
  EXPECT_EQ(s.units, 134);
  EXPECT_EQ(s.segments, 2);
  EXPECT_EQ(s.non_gsm, std::vector<std::string>{"ж"});
}

TEST(CountSmsSegments, CombiningMarkAfterAControlStandsAlone) {
  const std::string text = "\n" + std::string(kCombiningAcute);
  const SmsSegments s = Count(text);
  EXPECT_EQ(s.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(s.non_gsm, std::vector<std::string>{std::string(kCombiningAcute)});
  EXPECT_EQ(Count(kCombiningAcute).segments, 1);
}

TEST(CountSmsSegments, ClusterTooLargeForAPartIsSplitBetweenCodePoints) {
  const SmsSegments s = Count("a" + Repeat(kCombiningAcute, 200));
  EXPECT_EQ(s.units, 201);
  EXPECT_EQ(s.segments, 3);  // ceil(201 / 67): no part is overfull
  // A cluster that fits one message on its own stays whole.
  EXPECT_EQ(Count("a" + Repeat(kCombiningAcute, 69)).segments, 1);
}

TEST(CountSmsSegments, NonGsmListIsDistinctOrderedAndCapped) {
  std::string text;
  std::vector<std::string> expected;
  for (char32_t cp = 0x4E00; cp < 0x4E00 + 25; ++cp) {  // 25 CJK ideographs, 3 bytes each
    std::string ch = {static_cast<char>(0xE0 | (cp >> 12)),
                      static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                      static_cast<char>(0x80 | (cp & 0x3F))};
    text += ch + "a" + ch;
    if (expected.size() < SmsSegments::kMaxNonGsm) expected.push_back(ch);
  }
  const SmsSegments s = Count(text);
  EXPECT_EQ(s.non_gsm, expected);
  EXPECT_EQ(s.units, 75);
}

TEST(CountSmsSegments, RejectsInvalidUtf8NamingTheByte) {
  for (std::string_view bad :
       {"ab\xFF", "ab\xC0\xAF", "ab\xED\xA0\x80", "ab\xE2\x82", "ab\xF4\x90\x80\x80"}) {
    const Result<SmsSegments> r = CountSmsSegments(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(r.status().message()).find("byte 2"), std::string::npos) << r.status();
  }
}

TEST(CountSmsSegments, RejectsTextOverTheSizeLimit) {
  const Result<SmsSegments> too_long = CountSmsSegments(std::string(kMaxSmsTextBytes + 1, 'a'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  const SmsSegments at_limit = Count(std::string(kMaxSmsTextBytes, 'a'));
  EXPECT_EQ(at_limit.units, 1 << 20);
  EXPECT_EQ(at_limit.segments, (1 << 20) / 153 + 1);
}

TEST(SmsUnitsPerSegment, IsTheSingleOrConcatenatedCapacity) {
  EXPECT_EQ(SmsUnitsPerSegment(SmsEncoding::kGsm7, 1), 160);
  EXPECT_EQ(SmsUnitsPerSegment(SmsEncoding::kGsm7, 2), 153);
  EXPECT_EQ(SmsUnitsPerSegment(SmsEncoding::kUcs2, 1), 70);
  EXPECT_EQ(SmsUnitsPerSegment(SmsEncoding::kUcs2, 3), 67);
  EXPECT_EQ(SmsUnitsPerSegment(SmsEncoding::kGsm7, 0), 160);
}

TEST(SmsEncodingName, UsesTwilioNames) {
  EXPECT_STREQ(SmsEncodingName(SmsEncoding::kGsm7), "GSM-7");
  EXPECT_STREQ(SmsEncodingName(SmsEncoding::kUcs2), "UCS-2");
}

TEST(SmartEncode, ReplacesTypographicPunctuation) {
  EXPECT_EQ(SmartEncode("“a” «b» „c‟"), "\"a\" \"b\" \"c\"");
  EXPECT_EQ(SmartEncode("‘it’s´`"), "'it's''");
  EXPECT_EQ(SmartEncode("a–b—c"), "a-b-c");
  EXPECT_EQ(SmartEncode("wait…"), "wait...");
  EXPECT_EQ(SmartEncode("‹a› ½ •"), "<a> 1/2 -");
}

TEST(SmartEncode, NormalisesSpacesAndDropsZeroWidthCharacters) {
  const std::string text =
      "a" + std::string(kNbsp) + "b" + std::string(kThinSpace) + "c\u200Bd\u2060e\uFEFFf\u3000g\th";
  EXPECT_EQ(SmartEncode(text), "a b cdef g       h");
}

TEST(SmartEncode, MapsFullwidthForms) { EXPECT_EQ(SmartEncode("ＡＺ０９！＠［］"), "AZ09!@[]"); }

TEST(SmartEncode, LeavesEverythingElseAlone) {
  const std::string text = "Grüße ж 😀 " + std::string(kFamily) + " é€{";
  EXPECT_EQ(SmartEncode(text), text);
  EXPECT_EQ(SmartEncode("ab\xFF\xE2\x82"), "ab\xFF\xE2\x82");  // invalid bytes copied through
  EXPECT_EQ(SmartEncode(""), "");
}

TEST(SmartEncode, IsIdempotent) {
  const std::string text = "“Hi” – ‘you’… ｆｕｌｌ\t" + std::string(kNbsp) + "😀";
  const std::string once = SmartEncode(text);
  EXPECT_EQ(SmartEncode(once), once);
}

TEST(SmartEncode, CanTurnAMessageBackIntoGsm7) {
  const std::string text = Repeat("a", 140) + " “quoted” — ok…";
  const SmsSegments before = Count(text);
  EXPECT_EQ(before.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(before.segments, 3);
  EXPECT_EQ(before.non_gsm, (std::vector<std::string>{"“", "”", "—", "…"}));
  const SmsSegments after = Count(SmartEncode(text));
  EXPECT_EQ(after.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(after.units, 157);
  EXPECT_EQ(after.segments, 1);
  // An emoji keeps the message in UCS-2 even after smart encoding.
  EXPECT_EQ(Count(SmartEncode("“hi” 😀")).encoding, SmsEncoding::kUcs2);
}

}  // namespace
}  // namespace herald::notify
