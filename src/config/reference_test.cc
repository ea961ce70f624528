#include "config/reference.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "config/loader.h"

namespace slipway {
namespace {

struct Resolved {
  bool ok = false;
  std::string yaml;
  std::string diagnostics;
};

Resolved Resolve(const std::string& text) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(text, "f.yml", &diags);
  EXPECT_TRUE(docs.has_value()) << diags.FormatAll();
  if (!docs) return {};
  Node root = (*docs)[0];
  Resolved r;
  r.ok = ResolveReferences(&root, &diags);
  r.yaml = EmitYaml(root);
  r.diagnostics = diags.FormatAll();
  return r;
}

TEST(ReferenceTest, ScriptItemsAreSpliced) {
  Resolved r = Resolve(
      ".setup:\n  script:\n    - echo one\n    - echo two\n"
      "job:\n  script:\n    - !reference [.setup, script]\n    - make\n");
  EXPECT_TRUE(r.ok) << r.diagnostics;
  EXPECT_EQ(r.yaml,
            ".setup:\n  script:\n    - echo one\n    - echo two\n"
            "job:\n  script:\n    - echo one\n    - echo two\n    - make\n");
}

TEST(ReferenceTest, WholeValueAndMaps) {
  Resolved r = Resolve(
      ".vars:\n  variables:\n    A: 1\n"
      "job:\n  variables: !reference [.vars, variables]\n  rules:\n    - !reference [.r, rule]\n"
      ".r:\n  rule:\n    if: $X\n");
  EXPECT_TRUE(r.ok) << r.diagnostics;
  EXPECT_EQ(r.yaml,
            ".vars:\n  variables:\n    A: 1\n"
            "job:\n  variables:\n    A: 1\n  rules:\n    - if: $X\n"
            ".r:\n  rule:\n    if: $X\n");
}

TEST(ReferenceTest, NestedReferences) {
  Resolved r = Resolve(
      ".a:\n  script: [a]\n"
      ".b:\n  script:\n    - !reference [.a, script]\n    - b\n"
      "job:\n  script:\n    - !reference [.b, script]\n    - c\n");
  EXPECT_TRUE(r.ok) << r.diagnostics;
  EXPECT_NE(r.yaml.find("job:\n  script:\n    - a\n    - b\n    - c\n"), std::string::npos)
      << r.yaml;
}

TEST(ReferenceTest, MissingTarget) {
  Resolved r = Resolve("job:\n  script:\n    - !reference [.setup, script]\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.diagnostics,
            "f.yml:3:7: error: !reference [\".setup\", \"script\"] could not be found\n");
}

TEST(ReferenceTest, PathThroughNonMapIsMissing) {
  Resolved r = Resolve(".a:\n  script: [x]\njob:\n  script: !reference [.a, script, 0]\n");
  EXPECT_EQ(r.diagnostics,
            "f.yml:4:11: error: !reference [\".a\", \"script\", \"0\"] could not be found\n");
}

TEST(ReferenceTest, CircularChain) {
  Resolved r = Resolve(".a:\n  s: !reference [.b, s]\n.b:\n  s: !reference [.a, s]\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.diagnostics,
            "f.yml:2:6: error: !reference [\".b\", \"s\"] is part of a circular chain\n");
}

TEST(ReferenceTest, InvalidTag) {
  Resolved r = Resolve("job:\n  script: !reference []\n  x: !reference [[a]]\n");
  EXPECT_EQ(r.diagnostics,
            "f.yml:2:11: error: !reference [] is not valid\n"
            "f.yml:3:6: error: !reference [[\"a\"]] is not valid\n");
}

TEST(ReferenceTest, ExponentialReferencesAreBounded) {
  std::string text = ".l0: [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "!reference [.l" + std::to_string(i - 1) + "]";
    text += ".l" + std::to_string(i) + ": [";
    for (int j = 0; j < 10; ++j) text += (j ? ", " : "") + prev;
    text += "]\n";
  }
  Resolved r = Resolve(text);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.diagnostics.find("nodes when !reference tags are resolved"), std::string::npos);
  EXPECT_EQ(std::count(r.diagnostics.begin(), r.diagnostics.end(), '\n'), 1);
}

}  // namespace
}  // namespace slipway
