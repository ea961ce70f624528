#include "util/suggest.h"

#include <gtest/gtest.h>

#include <vector>

namespace slipway {
namespace {

constexpr std::string_view kKeys[] = {"script", "stage",     "stages",        "rules",
                                      "when",   "artifacts", "before_script", "after_script"};

TEST(SuggestTest, EditDistanceCountsTranspositionsAsOne) {
  EXPECT_EQ(EditDistance("script", "script"), 0u);
  EXPECT_EQ(EditDistance("scirpt", "script"), 1u);   // Swapped.
  EXPECT_EQ(EditDistance("scrpt", "script"), 1u);    // Left out.
  EXPECT_EQ(EditDistance("scriptt", "script"), 1u);  // Doubled.
  EXPECT_EQ(EditDistance("scropt", "script"), 1u);   // Replaced.
  EXPECT_EQ(EditDistance("Script", "script"), 0u);   // Case.
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(SuggestTest, SuggestsOnlyNearWords) {
  EXPECT_EQ(NearestWord("scirpt", kKeys), "script");
  EXPECT_EQ(NearestWord("Script", kKeys), "script");
  EXPECT_EQ(NearestWord("stags", kKeys), "stage");  // First of the equally near.
  EXPECT_EQ(NearestWord("rule", kKeys), "rules");
  EXPECT_EQ(NearestWord("wehn", kKeys), "when");
  EXPECT_EQ(NearestWord("artefacts", kKeys), "artifacts");
  EXPECT_EQ(NearestWord("before_scirpt", kKeys), "before_script");
  EXPECT_EQ(NearestWord("foo", kKeys), std::nullopt);
  EXPECT_EQ(NearestWord("x", kKeys), std::nullopt);
  EXPECT_EQ(NearestWord("iff", std::vector<std::string_view>{"if"}), "if");
  EXPECT_EQ(NearestWord(".b", std::vector<std::string_view>{".a"}), std::nullopt);
  EXPECT_EQ(NearestWord("", kKeys), std::nullopt);
  EXPECT_EQ(NearestWord("image", kKeys), std::nullopt);
  EXPECT_EQ(DidYouMean("scirpt", kKeys), "; did you mean `script`?");
  EXPECT_EQ(DidYouMean("foo", kKeys), "");
}

}  // namespace
}  // namespace slipway
