#include "core/strings.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace herald {
namespace {

// StrAppend appends text and integers itself; what it writes must stay what fmt writes.
template <typename T>
void ExpectAsFmt(const T& v) {
  EXPECT_EQ(StrCat(v), fmt::format("{}", v));
  std::string out = "x";
  StrAppend(&out, v, v);
  EXPECT_EQ(out, fmt::format("x{}{}", v, v));
}

TEST(StrCat, WritesWhatFmtWrites) {
  ExpectAsFmt(int8_t{-128});
  ExpectAsFmt(uint8_t{255});
  ExpectAsFmt(int16_t{-32768});
  ExpectAsFmt(uint16_t{65535});
  ExpectAsFmt(std::numeric_limits<int>::min());
  ExpectAsFmt(std::numeric_limits<unsigned>::max());
  ExpectAsFmt(std::numeric_limits<int64_t>::min());
  ExpectAsFmt(std::numeric_limits<int64_t>::max());
  ExpectAsFmt(std::numeric_limits<uint64_t>::max());
  ExpectAsFmt(size_t{0});
  ExpectAsFmt(true);
  ExpectAsFmt(false);
  ExpectAsFmt('c');
  ExpectAsFmt(0.1);
  ExpectAsFmt(-2.5f);
  ExpectAsFmt("literal");
  ExpectAsFmt(std::string("a string with\0 a zero", 21));
  ExpectAsFmt(std::string_view("view"));
  ExpectAsFmt(absl::string_view("absl view"));
  ExpectAsFmt(std::string());
  const char* pointer = "pointer";
  ExpectAsFmt(pointer);
  char array[] = "array";
  ExpectAsFmt(array);
  ExpectAsFmt(nullptr);
}

TEST(StrCat, ANullPointerAddsNothing) {
  const char* null = nullptr;
  EXPECT_EQ(StrCat("a", null, "b"), "ab");
}

TEST(StrCat, ConcatenatesMixedPieces) {
  EXPECT_EQ(StrCat(), "");
  EXPECT_EQ(StrCat("fixed", ":", int64_t{1000}, ":", int64_t{-3}, ":", 10, 'x', 1.5, true),
            "fixed:1000:-3:10x1.5true");
  std::string out = "a";
  for (int i = 0; i < 1000; ++i) StrAppend(&out, i % 10);
  EXPECT_EQ(out.size(), 1001u);
  EXPECT_EQ(out.substr(0, 12), "a01234567890");
}

}  // namespace
}  // namespace herald
