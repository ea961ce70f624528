#include "config/yaml_parser.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace slipway {
namespace {

// Parses a single-document text and fails the test on any error.
Node ParseOne(const std::string& text, Diagnostics* diags) {
  std::optional<std::vector<Node>> docs = ParseYaml(text, "f.yml", diags);
  EXPECT_TRUE(docs.has_value()) << diags->FormatAll();
  if (!docs || docs->size() != 1) {
    ADD_FAILURE() << "expected one document";
    return Node();
  }
  return std::move((*docs)[0]);
}

std::vector<std::string> Keys(const Node& map) {
  std::vector<std::string> keys;
  for (const MapEntry& e : map.entries) keys.push_back(e.key);
  return keys;
}

std::string ParseError(const std::string& text) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(text, "f.yml", &diags);
  EXPECT_FALSE(docs.has_value());
  return diags.FormatAll();
}

TEST(ParseYamlTest, MarksAreOneBased) {
  Diagnostics diags;
  Node root = ParseOne("build:\n  script:\n    - make all\n", &diags);
  ASSERT_TRUE(root.IsMap());
  const MapEntry* build = root.FindEntry("build");
  ASSERT_NE(build, nullptr);
  EXPECT_EQ(build->key_mark.ToString(), "f.yml:1:1");
  const MapEntry* script = build->value.FindEntry("script");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->key_mark.ToString(), "f.yml:2:3");
  ASSERT_TRUE(script->value.IsSequence());
  ASSERT_EQ(script->value.items.size(), 1u);
  EXPECT_EQ(script->value.items[0].scalar, "make all");
  EXPECT_EQ(script->value.items[0].mark.ToString(), "f.yml:3:7");
  EXPECT_TRUE(diags.items().empty());
}

TEST(ParseYamlTest, PlainAndQuotedScalars) {
  Diagnostics diags;
  Node root = ParseOne("a: true\nb: \"true\"\nc: 'x'\nd: |\n  text\ne: 12\n", &diags);
  EXPECT_TRUE(root.Find("a")->plain);
  EXPECT_EQ(root.Find("a")->AsBool(), true);
  EXPECT_FALSE(root.Find("b")->plain);
  EXPECT_EQ(root.Find("b")->AsBool(), std::nullopt);
  EXPECT_EQ(root.Find("b")->TypeName(), "string");
  EXPECT_FALSE(root.Find("c")->plain);
  EXPECT_FALSE(root.Find("d")->plain);
  EXPECT_EQ(root.Find("d")->scalar, "text\n");
  EXPECT_EQ(root.Find("e")->AsInt(), 12);
}

TEST(ParseYamlTest, NullValues) {
  Diagnostics diags;
  Node root = ParseOne("a:\nb: ~\nc: null\nd: ''\n", &diags);
  EXPECT_TRUE(root.Find("a")->IsNull());
  EXPECT_TRUE(root.Find("b")->IsNull());
  EXPECT_TRUE(root.Find("c")->IsNull());
  EXPECT_TRUE(root.Find("d")->IsScalar());
  EXPECT_EQ(root.Find("d")->TypeName(), "string");
}

TEST(ParseYamlTest, StrTagMakesAString) {
  Diagnostics diags;
  Node root = ParseOne("a: !!str 12\n", &diags);
  EXPECT_EQ(root.Find("a")->TypeName(), "string");
  EXPECT_EQ(root.Find("a")->tag, "");
}

TEST(ParseYamlTest, KeepsReferenceTag) {
  Diagnostics diags;
  Node root = ParseOne("job:\n  script: !reference [.setup, script]\n", &diags);
  const Node* script = root.Find("job")->Find("script");
  ASSERT_TRUE(script->IsSequence());
  EXPECT_EQ(script->tag, "!reference");
  ASSERT_EQ(script->items.size(), 2u);
  EXPECT_EQ(script->items[0].scalar, ".setup");
  EXPECT_EQ(script->items[1].scalar, "script");
  EXPECT_EQ(script->mark.ToString(), "f.yml:2:11");
}

TEST(ParseYamlTest, AliasesAreDeepCopies) {
  Diagnostics diags;
  Node root = ParseOne("a: &x\n  k: [1, 2]\nb: *x\n", &diags);
  Node* b = root.Find("b");
  ASSERT_TRUE(b->IsMap());
  EXPECT_EQ(b->Find("k")->items.size(), 2u);
  b->Find("k")->items.clear();
  EXPECT_EQ(root.Find("a")->Find("k")->items.size(), 2u);
}

TEST(ParseYamlTest, ScalarAnchor) {
  Diagnostics diags;
  Node root = ParseOne("a: &v hello\nb: [*v, *v]\n", &diags);
  const Node* b = root.Find("b");
  ASSERT_EQ(b->items.size(), 2u);
  EXPECT_EQ(b->items[1].scalar, "hello");
}

TEST(ParseYamlTest, MergeKeyExplicitKeysWin) {
  Diagnostics diags;
  Node root = ParseOne(
      ".base: &base\n  stage: test\n  image: alpine\n"
      "job:\n  image: debian\n  <<: *base\n  script: x\n",
      &diags);
  const Node* job = root.Find("job");
  EXPECT_EQ(Keys(*job), (std::vector<std::string>{"image", "stage", "script"}));
  EXPECT_EQ(job->Find("image")->scalar, "debian");
  EXPECT_EQ(job->Find("stage")->scalar, "test");
  EXPECT_TRUE(diags.items().empty()) << diags.FormatAll();
}

TEST(ParseYamlTest, MergeKeyListEarlierWins) {
  Diagnostics diags;
  Node root = ParseOne(
      "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n"
      "c:\n  <<: [*a, *b]\n  z: 3\n",
      &diags);
  const Node* c = root.Find("c");
  EXPECT_EQ(Keys(*c), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(c->Find("y")->scalar, "1");
  EXPECT_EQ(c->Find("z")->scalar, "3");
}

TEST(ParseYamlTest, QuotedMergeKeyIsAnOrdinaryKey) {
  Diagnostics diags;
  Node root = ParseOne("c:\n  '<<': {a: 1}\n", &diags);
  EXPECT_EQ(Keys(*root.Find("c")), (std::vector<std::string>{"<<"}));
}

TEST(ParseYamlTest, MergeKeyOfScalarIsAnError) {
  EXPECT_EQ(ParseError("a: &s text\nb:\n  <<: *s\n"),
            "f.yml:3:7: error: merge key '<<' needs a mapping or a list of mappings, not "
            "string\n");
}

TEST(ParseYamlTest, DuplicateKeyWarnsAndLaterWins) {
  Diagnostics diags;
  Node root = ParseOne(
      "job:\n"
      "  stage: a\n"
      "  script: first\n"
      "  image: x\n"
      "  script: second\n",
      &diags);
  const Node* job = root.Find("job");
  EXPECT_EQ(Keys(*job), (std::vector<std::string>{"stage", "script", "image"}));
  EXPECT_EQ(job->Find("script")->scalar, "second");
  EXPECT_EQ(diags.FormatAll(),
            "f.yml:5:3: warning: duplicate key 'script' (first at line 3); the later value is "
            "used\n");
  EXPECT_FALSE(diags.HasErrors());
}

TEST(ParseYamlTest, MultipleDocuments) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs =
      ParseYaml("spec:\n  inputs: {}\n---\njob:\n  script: x\n", "f.yml", &diags);
  ASSERT_TRUE(docs.has_value());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_NE((*docs)[0].Find("spec"), nullptr);
  EXPECT_EQ((*docs)[1].FindEntry("job")->key_mark.ToString(), "f.yml:4:1");
}

TEST(ParseYamlTest, AnchorsDoNotCrossDocuments) {
  EXPECT_EQ(ParseError("a: &x 1\n---\nb: *x\n"),
            "f.yml:3:4: error: the referenced anchor is not defined\n");
}

TEST(ParseYamlTest, EmptyInputHasNoDocuments) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml("", "f.yml", &diags);
  ASSERT_TRUE(docs.has_value());
  EXPECT_TRUE(docs->empty());
}

TEST(ParseYamlTest, SyntaxErrorHasPosition) {
  EXPECT_EQ(ParseError("a: [1, 2\nb: 3\n"), "f.yml:2:2: error: did not find expected ',' or ']'\n");
}

TEST(ParseYamlTest, BadIndentationHasPosition) {
  EXPECT_EQ(ParseError("a:\n  b: 1\n c: 2\n"), "f.yml:3:2: error: did not find expected key\n");
}

// yaml-cpp 0.7 reported empty documents here forever.
TEST(ParseYamlTest, StrayCommaAfterSequenceIsAnError) {
  EXPECT_EQ(ParseError("- a\n,\n"), "f.yml:2:1: error: did not find expected '-' indicator\n");
}

// An anchored literal block scalar in a block sequence, as corpus pipeline 07
// writes it (yaml-cpp 0.7 could not read this form).
TEST(ParseYamlTest, AnchoredBlockScalarInSequence) {
  Diagnostics diags;
  Node root =
      ParseOne("script:\n  - &f |\n    f() {\n      x\n    }\n\n    y\n  - *f\nnext: 1\n", &diags);
  EXPECT_TRUE(diags.items().empty()) << diags.FormatAll();
  const Node* script = root.Find("script");
  ASSERT_EQ(script->items.size(), 2u);
  EXPECT_EQ(script->items[0].scalar, "f() {\n  x\n}\n\ny\n");
  EXPECT_FALSE(script->items[0].plain);
  EXPECT_EQ(script->items[0].mark.ToString(), "f.yml:2:5");
  EXPECT_EQ(script->items[1].scalar, "f() {\n  x\n}\n\ny\n");
  EXPECT_EQ(script->items[1].mark.ToString(), "f.yml:8:5");
  EXPECT_EQ(root.FindEntry("next")->key_mark.ToString(), "f.yml:9:1");
}

TEST(ParseYamlTest, UnclosedFlowAfterAnchoredBlockScalar) {
  EXPECT_EQ(ParseError("- &f |\n  x\n- [unclosed\n"),
            "f.yml:4:1: error: did not find expected ',' or ']'\n");
}

TEST(ParseYamlTest, InvalidUtf8HasPosition) {
  EXPECT_EQ(ParseError("a: 1\nb: x\xff\n"), "f.yml:2:5: error: invalid leading UTF-8 octet\n");
}

TEST(ParseYamlTest, CollectionKeyIsAnError) {
  EXPECT_EQ(ParseError("? [a, b]\n: value\n"),
            "f.yml:1:3: error: a mapping key must be a scalar, not a sequence\n");
}

TEST(ParseYamlTest, BillionLaughsIsBounded) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ", " : "") + prev;
    text += "]\n";
  }
  std::string error = ParseError(text);
  EXPECT_NE(error.find("error: document too large: more than 1000000 nodes after expanding "
                       "aliases"),
            std::string::npos)
      << error;
}

TEST(ParseYamlTest, DeepNestingIsBounded) {
  std::string text(100000, '[');
  text += std::string(100000, ']');
  std::string error = ParseError(text);
  EXPECT_NE(error.find("error: nesting too deep: more than 256 levels"), std::string::npos)
      << error;
}

// An alias copies its anchor where it stands: a copy that would end up
// deeper than the bound is refused like deep text (each copy below adds 200
// levels, and the node count alone would allow about 90 of them).
TEST(ParseYamlTest, DeepAliasCopiesAreBounded) {
  std::string text = "a: &a " + std::string(200, '[') + "x" + std::string(200, ']') + "\n";
  Diagnostics diags;
  EXPECT_TRUE(ParseYaml(text + "b: [*a]\n", "f.yml", &diags)) << diags.FormatAll();
  EXPECT_EQ(ParseError(text + "b: " + std::string(56, '[') + "*a" + std::string(56, ']') + "\n"),
            "f.yml:2:60: error: nesting too deep: more than 256 levels\n");
}

TEST(ParseYamlTest, DeepBlockNestingIsBounded) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += std::string(i, ' ') + "k:\n";
  std::string error = ParseError(text);
  EXPECT_NE(error.find("error: nesting too deep: more than 256 levels"), std::string::npos)
      << error;
}

// Every YAML file of the real-pipeline corpus parses without errors.
TEST(ParseYamlTest, CorpusFilesParse) {
  std::filesystem::path corpus = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "../shared/corpus";
  if (!std::filesystem::is_directory(corpus)) GTEST_SKIP() << "no corpus at " << corpus;
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
    std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yml" && ext != ".yaml")) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Diagnostics diags;
    std::optional<std::vector<Node>> docs = ParseYaml(text.str(), entry.path().string(), &diags);
    EXPECT_TRUE(docs.has_value()) << diags.FormatAll();
    EXPECT_FALSE(diags.HasErrors()) << diags.FormatAll();
    ++files;
  }
  EXPECT_GT(files, 40);
}

}  // namespace
}  // namespace slipway
