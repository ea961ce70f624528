#include "config/deep_merge.h"

#include <gtest/gtest.h>

#include "config/emit.h"
#include "config/yaml_parser.h"

namespace slipway {
namespace {

Node Parse(const std::string& text, const std::string& file) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(text, file, &diags);
  EXPECT_TRUE(docs && docs->size() == 1) << diags.FormatAll();
  return docs && !docs->empty() ? (*docs)[0] : Node();
}

// The example of GitLab's "Merge method for include" documentation.
TEST(DeepMergeTest, GitLabDocumentationExample) {
  Node merged = Parse(
      "variables:\n  POSTGRES_USER: common_username\n  POSTGRES_PASSWORD: testing_password\n"
      "test:\n  rules:\n    - when: never\n  script:\n    - rake spec\n"
      "  artifacts:\n    reports:\n      dotenv: deploy.env\n",
      "common.yml");
  DeepMerge(&merged, Parse("variables:\n  POSTGRES_USER: username\n"
                           "test:\n  rules:\n    - if: $X\n      when: manual\n"
                           "  artifacts:\n    reports:\n      junit: rspec.xml\n",
                           ".gitlab-ci.yml"));
  EXPECT_EQ(EmitYaml(merged),
            "variables:\n"
            "  POSTGRES_USER: username\n"
            "  POSTGRES_PASSWORD: testing_password\n"
            "test:\n"
            "  rules:\n"
            "    - if: $X\n"
            "      when: manual\n"
            "  script:\n"
            "    - rake spec\n"
            "  artifacts:\n"
            "    reports:\n"
            "      dotenv: deploy.env\n"
            "      junit: rspec.xml\n");
  EXPECT_EQ(merged.FindEntry("variables")->value.FindEntry("POSTGRES_USER")->key_mark.ToString(),
            ".gitlab-ci.yml:2:3");
  EXPECT_EQ(merged.Find("variables")->Find("POSTGRES_PASSWORD")->mark.file, "common.yml");
}

TEST(DeepMergeTest, NonMapReplacesMap) {
  Node merged = Parse("a:\n  x: 1\nb: [1]\n", "one.yml");
  DeepMerge(&merged, Parse("a: text\nb: [2, 3]\nc: new\n", "two.yml"));
  EXPECT_EQ(EmitYaml(merged), "a: text\nb:\n  - 2\n  - 3\nc: new\n");
}

}  // namespace
}  // namespace slipway
