#include "config/emit.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "config/yaml_parser.h"

namespace slipway {
namespace {

Node Parse(const std::string& text) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(text, "f.yml", &diags);
  EXPECT_TRUE(docs.has_value()) << diags.FormatAll() << "\n--- text:\n" << text;
  if (!docs || docs->empty()) return Node();
  return (*docs)[0];
}

// Structural equality that ignores marks and the plain/quoted spelling of
// strings, but not the meaning of scalars.
void ExpectSameTree(const Node& a, const Node& b, const std::string& path) {
  ASSERT_EQ(a.kind, b.kind) << path;
  EXPECT_EQ(a.tag, b.tag) << path;
  if (a.IsScalar()) {
    EXPECT_EQ(a.scalar, b.scalar) << path;
    EXPECT_EQ(a.TypeName(), b.TypeName()) << path;
  }
  ASSERT_EQ(a.items.size(), b.items.size()) << path;
  for (size_t i = 0; i < a.items.size(); ++i) {
    ExpectSameTree(a.items[i], b.items[i], path + "/" + std::to_string(i));
  }
  ASSERT_EQ(a.entries.size(), b.entries.size()) << path;
  for (size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].key, b.entries[i].key) << path;
    ExpectSameTree(a.entries[i].value, b.entries[i].value, path + "/" + a.entries[i].key);
  }
}

void ExpectRoundTrip(const std::string& text) {
  Node first = Parse(text);
  std::string emitted = EmitYaml(first);
  Node second = Parse(emitted);
  SCOPED_TRACE("emitted:\n" + emitted);
  ExpectSameTree(first, second, "");
}

TEST(EmitYamlTest, BlockStyle) {
  EXPECT_EQ(EmitYaml(Parse("job:\n  script: [a, b]\n  tags: []\n  variables: {}\n"
                           "  needs:\n    - job: x\n      artifacts: false\n    - y\n")),
            "job:\n"
            "  script:\n"
            "    - a\n"
            "    - b\n"
            "  tags: []\n"
            "  variables: {}\n"
            "  needs:\n"
            "    - job: x\n"
            "      artifacts: false\n"
            "    - y\n");
}

TEST(EmitYamlTest, QuotesStringsThatWouldChangeMeaning) {
  EXPECT_EQ(EmitYaml(Parse("a: 'true'\nb: \"12\"\nc: ''\nd: 'null'\ne: 'x: y'\nf: ' lead'\n"
                           "g: '#no'\nh: \"tab\\there\"\ni: true\nj: 12\nk: on\n'1': key\n")),
            "a: \"true\"\n"
            "b: \"12\"\n"
            "c: \"\"\n"
            "d: \"null\"\n"
            "e: \"x: y\"\n"
            "f: \" lead\"\n"
            "g: \"#no\"\n"
            "h: \"tab\\there\"\n"
            "i: true\n"
            "j: 12\n"
            "k: on\n"
            "\"1\": key\n");
}

TEST(EmitYamlTest, MultiLineStringsUseLiteralBlocks) {
  EXPECT_EQ(EmitYaml(Parse("a: |\n  line 1\n    indented\n\n  last\nb: |-\n  no newline\n"
                           "c:\n  - |\n    x\n")),
            "a: |\n  line 1\n    indented\n\n  last\n"
            "b: no newline\n"
            "c:\n  - |\n    x\n");
}

TEST(EmitYamlTest, ReferenceTagsStayFlow) {
  EXPECT_EQ(EmitYaml(Parse("job:\n  script:\n    - !reference [.setup, script]\n    - echo\n")),
            "job:\n  script:\n    - !reference [.setup, script]\n    - echo\n");
}

TEST(EmitYamlTest, NullAndScalarDocuments) {
  EXPECT_EQ(EmitYaml(Parse("a:\nb: ~\n")), "a: null\nb: null\n");
  EXPECT_EQ(EmitYaml(Node::Scalar("x")), "x\n");
}

// libyaml reads raw NEL, LS and PS as line breaks and rejects C1 controls and
// U+FFFE/U+FFFF, so the emitter escapes them.
TEST(EmitYamlTest, EscapesLineSeparatorsAndNonPrintables) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs =
      ParseYaml("a: \"q\\Lr\\N\\P\\x80\\uFFFE\\uFEFF\"\nb: \"x\\Ly\\nz\\n\"\n", "f.yml", &diags);
  ASSERT_TRUE(docs.has_value()) << diags.FormatAll();
  EXPECT_EQ(EmitYaml((*docs)[0]),
            "a: \"q\\u2028r\\u0085\\u2029\\u0080\\uFFFE\\uFEFF\"\nb: \"x\\u2028y\\nz\\n\"\n");
  ExpectRoundTrip("a: \"q\\Lr\\N\\P\\x80\\uFFFE\\uFEFF\"\nb: \"x\\Ly\\nz\\n\"\n");
}

TEST(EmitYamlTest, RoundTripsTrickyValues) {
  ExpectRoundTrip(
      "a: \"  spaced  \"\nb: \"multi\\nline with trailing  \\n\\n\"\nc: \"\\x01ctl\"\n"
      "d: [\"[x]\", \"a,b\", \"{y}\"]\ne: \"- dash\"\nf: \"-flag\"\ng: \"a #b\"\n"
      "h: \"\\n\\nleading\"\ni: \"  \\n  \"\nj: [[1, 2], [3]]\nk: [{a: 1, b: [x]}, []]\n"
      "\"key: colon\": 1\n\"multi\\nkey\": 2\nl: 0x1F\nm: '0x1F'\nn: 1.5\no: '.5'\np: yes\n"
      "q: 'yes'\nr: '~'\ns: '<<'\nt: \"'single'\"\nu: \"\\\"double\\\"\"\nv: \"ends:\"\n"
      "w: !reference [a, 'b c', \"d,e\"]\nx: \"\\ttab first\\nline\"\n");
}

TEST(EmitYamlTest, CorpusRoundTrips) {
  std::filesystem::path corpus = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "../shared/corpus";
  if (!std::filesystem::is_directory(corpus)) GTEST_SKIP() << "no corpus at " << corpus;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(corpus)) {
    std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yml" && ext != ".yaml")) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Diagnostics diags;
    std::optional<std::vector<Node>> docs = ParseYaml(text.str(), "f.yml", &diags);
    ASSERT_TRUE(docs.has_value()) << entry.path();
    for (const Node& doc : *docs) {
      SCOPED_TRACE(entry.path().string());
      std::string emitted = EmitYaml(doc);
      Diagnostics again;
      std::optional<std::vector<Node>> reread = ParseYaml(emitted, "emitted.yml", &again);
      ASSERT_TRUE(reread.has_value()) << again.FormatAll();
      ASSERT_EQ(reread->size(), 1u);
      ExpectSameTree(doc, (*reread)[0], "");
      EXPECT_EQ(again.WarningCount(), 0) << again.FormatAll();
    }
  }
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

// Found by yaml_parser_fuzz: bytes that are not UTF-8 inside a scalar must be
// escaped, or the emitted text is no longer a YAML stream.
TEST(EmitYamlTest, BytesThatAreNotUtf8AreEscaped) {
  Node doc = Node::Sequence();
  doc.items.push_back(Node::Scalar(std::string("\xe3qq\x9a\x9a"), {}, true));
  doc.items.push_back(Node::Scalar(std::string("line1\n\xff line2\n"), {}, false));
  Node map = Node::Map();
  map.Set(std::string("k\xfe"), doc);
  std::string emitted = EmitYaml(map);
  EXPECT_NE(emitted.find("\\xe3qq\\x9a\\x9a"), std::string::npos) << emitted;
  Diagnostics diags;
  EXPECT_TRUE(ParseYaml(emitted, "emitted.yml", &diags).has_value())
      << emitted << diags.FormatAll();
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

// Found by yaml_parser_fuzz: libyaml rejects "s::a" as a plain scalar inside
// a flow sequence, so colons there are quoted.
TEST(EmitYamlTest, ColonsInFlowSequencesAreQuoted) {
  Node seq = Node::Sequence();
  seq.tag = "!c";
  seq.items.push_back(Node::Scalar("s::a:?&j:i", {}, true));
  seq.items.push_back(Node::Scalar("a:b", {}, true));
  std::string emitted = EmitYaml(seq);
  Diagnostics diags;
  auto docs = ParseYaml(emitted, "emitted.yml", &diags);
  ASSERT_TRUE(docs.has_value()) << emitted << diags.FormatAll();
  ASSERT_EQ((*docs)[0].items.size(), 2u) << emitted;
  EXPECT_EQ((*docs)[0].items[0].scalar, "s::a:?&j:i");
}

// Found by yaml_parser_fuzz: the parser unescapes %-escapes in tags
// ("!:2%22" is the tag !:2"), so tags are written back escaped, and a URI
// tag (from !<...>) in the verbatim form. A scalar starting with "..." is
// quoted: at the start of a line that ends the document.
TEST(EmitYamlTest, TagsRoundTripWithEscapesAndVerbatimUris) {
  for (const char* text :
       {"!:22%222-a i\n", "!a%25b%20c x\n", "!<tag:example.com,2000:x> y\n",
        "k: !e%7Bx%7D [a, b]\n", "!20222%233-a \n", "! ... .ript..\n-\n  -\n", "k: ...x\n"}) {
    ExpectRoundTrip(text);
  }
}

}  // namespace
}  // namespace slipway
