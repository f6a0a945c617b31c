#include "core/utf8.h"

#include "gtest/gtest.h"

namespace herald::core {
namespace {

TEST(Utf8, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(ToValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");  // é is kept
  EXPECT_EQ(ToValidUtf8("a\x87z"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated €
}

TEST(Utf8, CountsCodePointsOfValidTextOnly) {
  size_t n = 0;
  EXPECT_TRUE(
      CountUtf8("\xE2\x82\xAC\xC3\xA7"
                "a",
                n));  // €, ç, a
  EXPECT_EQ(n, 3u);
  EXPECT_FALSE(CountUtf8("\xF4\x90\x80\x80", n));  // above U+10FFFF
}

TEST(Utf8, EncodesAndDecodesEveryLength) {
  for (uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F600u, 0x10FFFFu}) {
    std::string s;
    AppendUtf8(cp, s);
    size_t n = 0;
    ASSERT_TRUE(CountUtf8(s, n)) << cp;
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(Utf8SequenceLength(s, 0), s.size());
    EXPECT_EQ(DecodeUtf8(s, 0, s.size()), cp);
  }
  std::string euro;
  AppendUtf8(0x20AC, euro);
  EXPECT_EQ(euro, "\xE2\x82\xAC");
}

}  // namespace
}  // namespace herald::core
