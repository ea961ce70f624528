#include "config/block_scalar_rewrite.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace slipway {
namespace {

TEST(BlockScalarRewriteTest, LeavesOtherTextAlone) {
  EXPECT_EQ(RewriteBlockScalarsAfterProperties("a: &x |\n  text\n- |\n  t\n"), std::nullopt);
  EXPECT_EQ(RewriteBlockScalarsAfterProperties("- &x >\n  folded\n"), std::nullopt);
  EXPECT_EQ(RewriteBlockScalarsAfterProperties("- &x |2\n    text\n"), std::nullopt);
}

TEST(BlockScalarRewriteTest, RewritesOnTheSameLines) {
  EXPECT_EQ(*RewriteBlockScalarsAfterProperties("s:\n  - &f |  # c\n    a() {\n\n      \"x\\\"\n"
                                                "    }\n\n  - *f\n"),
            "s:\n  - &f \"\\\n    a() {\\n\\\n    \\n\\\n    \\  \\\"x\\\\\\\"\\n\\\n"
            "    }\\n\"\n\n  - *f\n");
}

TEST(BlockScalarRewriteTest, ChompingIndicators) {
  EXPECT_EQ(*RewriteBlockScalarsAfterProperties("- &a |-\n  x\n\n- &b |+\n  y\n\n\nz: 1\n"),
            "- &a \"\\\n  x\"\n\n- &b \"\\\n  y\\n\\n\\n\"\n\n\nz: 1\n");
}

// The parser falls back to the rewrite for the form yaml-cpp 0.7 rejects, and
// the value and marks come out as if yaml-cpp had read the original.
TEST(BlockScalarRewriteTest, ParseYamlReadsAnchoredBlockScalarInSequence) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(
      "script:\n  - &f |\n    f() {\n      x\n    }\n\n    y\n  - *f\nnext: 1\n", "f.yml", &diags);
  ASSERT_TRUE(docs.has_value()) << diags.FormatAll();
  EXPECT_TRUE(diags.items().empty()) << diags.FormatAll();
  const Node& root = (*docs)[0];
  const Node* script = root.Find("script");
  ASSERT_EQ(script->items.size(), 2u);
  EXPECT_EQ(script->items[0].scalar, "f() {\n  x\n}\n\ny\n");
  EXPECT_FALSE(script->items[0].plain);
  EXPECT_EQ(script->items[0].mark.ToString(), "f.yml:2:5");
  EXPECT_EQ(script->items[1].scalar, "f() {\n  x\n}\n\ny\n");
  EXPECT_EQ(script->items[1].mark.ToString(), "f.yml:8:5");
  EXPECT_EQ(root.FindEntry("next")->key_mark.ToString(), "f.yml:9:1");
}

TEST(BlockScalarRewriteTest, ParseYamlKeepsOriginalErrorWhenRewriteDoesNotHelp) {
  Diagnostics diags;
  EXPECT_FALSE(ParseYaml("- &f |\n  x\n- [unclosed\n", "f.yml", &diags).has_value());
  EXPECT_EQ(diags.FormatAll(), "f.yml:2:3: error: end of sequence not found\n");
}

}  // namespace
}  // namespace slipway
