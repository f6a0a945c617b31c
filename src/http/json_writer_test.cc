#include "http/json_writer.h"

#include <random>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

namespace herald::http {
namespace {

namespace json = boost::json;

TEST(JsonWriterTest, WritesWhatBoostJsonReadsBack) {
  const std::string nasty = std::string("quote \" backslash \\ tab \t nl \n nul ") + '\0' +
                            " bell \x07 del \x7f é 日本 \x1f";
  JsonWriter j;
  j.BeginObject()
      .String("s", nasty)
      .Int("i", -9223372036854775807LL - 1)
      .Bool("t", true)
      .Bool("f", false)
      .Null("n")
      .IdOrNull("id", 0)
      .IdOrNull("id2", 42)
      .StringOrNull("none", std::nullopt)
      .StringOrNull("some", std::string("x"))
      .BeginObject("inner")
      .EndObject()
      .BeginObject("inner2")
      .String("a", "")
      .EndObject()
      .EndObject();
  const std::string text = j.Take();
  json::object expected{{"s", nasty},
                        {"i", -9223372036854775807LL - 1},
                        {"t", true},
                        {"f", false},
                        {"n", nullptr},
                        {"id", nullptr},
                        {"id2", 42},
                        {"none", nullptr},
                        {"some", "x"},
                        {"inner", json::object{}},
                        {"inner2", json::object{{"a", ""}}}};
  EXPECT_EQ(json::parse(text), json::value(expected)) << text;
  // The same bytes as boost::json writes.
  EXPECT_EQ(text, json::serialize(expected));
}

TEST(JsonWriterTest, EveryByteRoundTrips) {
  std::mt19937 rng(3);
  for (int n = 0; n < 2000; ++n) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 128);  // ASCII, with every control byte
    JsonWriter j;
    const std::string text = j.BeginObject().String("v", s).EndObject().Take();
    EXPECT_EQ(text, json::serialize(json::object{{"v", s}}));
  }
}

}  // namespace
}  // namespace herald::http
