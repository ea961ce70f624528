#include "util/bounded_json.h"

#include <gtest/gtest.h>

#include <string>

namespace slipway {
namespace {

std::string Nested(int depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

std::string NestedObjects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += R"({"a":)";
  text += "1";
  for (int i = 0; i < depth; ++i) text += "}";
  return text;
}

TEST(BoundedJsonTest, UpToTheBoundIsParsed) {
  BoundedJson ok = ParseBoundedJson(Nested(32));
  EXPECT_EQ(ok.error, JsonParseError::kNone);
  EXPECT_TRUE(ok.value.is_array());
  ok = ParseBoundedJson(NestedObjects(32));
  EXPECT_EQ(ok.error, JsonParseError::kNone);
  EXPECT_EQ(ok.value.dump().size(), NestedObjects(32).size());
  EXPECT_EQ(ParseBoundedJson(R"({"a":[1,{"b":"c"}],"d":null})").value["a"][1]["b"], "c");
  EXPECT_EQ(ParseBoundedJson("7").value, 7);
}

TEST(BoundedJsonTest, OneLevelMoreIsTooDeep) {
  EXPECT_EQ(ParseBoundedJson(Nested(33)).error, JsonParseError::kTooDeep);
  EXPECT_EQ(ParseBoundedJson(NestedObjects(33)).error, JsonParseError::kTooDeep);
  EXPECT_EQ(ParseBoundedJson(Nested(3), /*max_depth=*/2).error, JsonParseError::kTooDeep);
  EXPECT_EQ(ParseBoundedJson(Nested(2), /*max_depth=*/2).error, JsonParseError::kNone);
}

// The body that crashed `slipway serve`: ~200 KB nested 100,000 deep (the
// server copied the parsed value and overflowed its stack). It is refused,
// also when it is cut short, and what comes back is safe to copy.
TEST(BoundedJsonTest, HundredThousandLevelsAreRefusedCheaply) {
  for (const std::string& text :
       {Nested(100000), NestedObjects(100000), std::string(100000, '[') + "1" /* unterminated */}) {
    BoundedJson r = ParseBoundedJson(text);
    EXPECT_EQ(r.error, JsonParseError::kTooDeep);
    nlohmann::json copy = r.value;
    EXPECT_TRUE(copy.is_discarded());
  }
}

TEST(BoundedJsonTest, MalformedTextIsInvalid) {
  for (const char* text : {"", "{", "[1,]", "{'a':1}", "nul", "[1] 2", "{\"a\" 1}", "\"\\x\""}) {
    EXPECT_EQ(ParseBoundedJson(text).error, JsonParseError::kInvalid) << text;
  }
}

}  // namespace
}  // namespace slipway
