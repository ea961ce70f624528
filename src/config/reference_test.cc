#include "config/reference.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "config/emit.h"
#include "config/yaml_parser.h"

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

// .a0 refers to .a1, which refers to .a2 …: each reference resolves
// through the next, so the chain is how deep resolution recurses.
std::string ReferenceChain(int length, const std::string& wrap_open = "[",
                           const std::string& wrap_close = "]") {
  std::string text = "job:\n  script: !reference [.a0]\n";
  for (int i = 0; i + 1 < length; ++i) {
    text += ".a" + std::to_string(i) + ": " + wrap_open + "!reference [.a" + std::to_string(i + 1) +
            "]" + wrap_close + "\n";
  }
  return text + ".a" + std::to_string(length - 1) + ": [echo deep]\n";
}

TEST(ReferenceTest, ChainsOfReferencesAreBounded) {
  // The job's own reference and 99 more resolve through one another.
  Resolved ok = Resolve(ReferenceChain(kMaxReferenceNesting));
  EXPECT_TRUE(ok.ok) << ok.diagnostics;
  EXPECT_NE(ok.yaml.find("job:\n  script:\n    - echo deep\n"), std::string::npos) << ok.yaml;
  Resolved r = Resolve(ReferenceChain(kMaxReferenceNesting + 1));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.diagnostics,
            "f.yml:102:8: error: !reference [\".a100\"]: more than 100 !reference tags resolve "
            "through one another\n");
  // 100,000 long (it overflowed the stack): one error, at the 101st.
  r = Resolve(ReferenceChain(100000));
  EXPECT_EQ(r.diagnostics,
            "f.yml:102:8: error: !reference [\".a100\"]: more than 100 !reference tags resolve "
            "through one another\n");
}

TEST(ReferenceTest, DepthOfTheResultIsBounded) {
  // Each reference sits 100 levels down in the value it is part of: three
  // of them nest the result 300 deep, past the parser's 256.
  std::string open(99, '['), close(99, ']');
  Resolved r = Resolve(ReferenceChain(2, open, close));
  EXPECT_TRUE(r.ok) << r.diagnostics;
  r = Resolve(ReferenceChain(4, open, close));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.diagnostics,
            "f.yml:5:65: error: !reference tags nest the configuration deeper than 256 levels\n");
  // A value resolved once and used again deeper down.
  std::string deep = ".deep: " + std::string(200, '[') + "x" + std::string(200, ']') + "\n";
  r = Resolve(deep + "a: !reference [.deep]\nb: " + std::string(60, '[') + "!reference [.deep]" +
              std::string(60, ']') + "\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.diagnostics,
            "f.yml:3:64: error: !reference [\".deep\"] nests the configuration deeper than 256 "
            "levels\n");
}

// References into a map of 100,000 keys: each is looked up in an index, so
// resolving 100,000 of them stays linear (it took 44 s by scanning).
TEST(ReferenceTest, ManyReferencesIntoALargeMap) {
  std::string text = ".a0: [echo]\n";
  for (int i = 1; i < 100000; ++i) {
    text += ".a" + std::to_string(i) + ": [!reference [.a" + std::to_string(i - 1) + "]]\n";
  }
  Resolved r = Resolve(text + "job:\n  script: !reference [.a99999]\n");
  EXPECT_TRUE(r.ok) << r.diagnostics.substr(0, 300);
  EXPECT_NE(r.yaml.find("job:\n  script:\n    - echo\n"), std::string::npos);
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
