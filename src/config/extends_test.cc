// ResolveExtends on the tree, without the pipeline builder: which keys an
// entry ends up with, and the errors at `extends`. How extended jobs build is
// in pipeline/builder_extends_test.cc.
#include "config/extends.h"

#include <gtest/gtest.h>

#include "config/emit.h"
#include "config/yaml_parser.h"

namespace slipway {
namespace {

struct Resolved {
  bool ok = false;
  std::string yaml;    // The entries after resolution, as one map.
  std::string errors;  // Every diagnostic, one per line.
};

Resolved Resolve(const std::string& text) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(text, "ci.yml", &diags);
  Resolved out;
  if (!docs || docs->size() != 1 || !(*docs)[0].IsMap()) {
    ADD_FAILURE() << "YAML did not parse to one map: " << diags.FormatAll();
    return out;
  }
  Node root = std::move((*docs)[0]);
  out.ok = ResolveExtends(&root.entries, &diags);
  out.yaml = EmitYaml(root);
  out.errors = diags.FormatAll();
  return out;
}

TEST(ResolveExtendsTest, ParentsMergeInOrderAndTheEntryWins) {
  Resolved r = Resolve(
      ".a:\n  image: a\n  variables: {X: a, W: a}\n  tags: [a]\n"
      ".b:\n  variables: {W: b}\n  tags: [b]\n"
      "job:\n  extends: [.a, .b]\n  variables: {Z: job}\n");
  ASSERT_TRUE(r.ok) << r.errors;
  // Maps merge key by key, later parents winning; arrays are replaced whole;
  // the parents' keys come first, then the entry's own in its order.
  // `extends` itself stays (the loader drops it once every entry resolved).
  EXPECT_EQ(r.yaml,
            ".a:\n  image: a\n  variables:\n    X: a\n    W: a\n  tags:\n    - a\n"
            ".b:\n  variables:\n    W: b\n  tags:\n    - b\n"
            "job:\n  image: a\n  variables:\n    X: a\n    W: b\n    Z: job\n  tags:\n    - b\n"
            "  extends:\n    - .a\n    - .b\n");
}

TEST(ResolveExtendsTest, ChainsResolveThroughResolvedParents) {
  Resolved r = Resolve(".base:\n  a: 1\n.mid:\n  extends: .base\n  b: 2\njob:\n  extends: .mid\n");
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_EQ(r.yaml,
            ".base:\n  a: 1\n.mid:\n  a: 1\n  extends: .base\n  b: 2\n"
            "job:\n  a: 1\n  extends: .mid\n  b: 2\n");
}

TEST(ResolveExtendsTest, ErrorsNameTheEntryAndKeepItUnresolved) {
  Resolved r = Resolve("job:\n  extends: .missing\n  a: 1\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.errors,
            "ci.yml:2:12: error: job 'job', key 'extends': unknown keys in `extends` "
            "(.missing)\n");
  EXPECT_EQ(r.yaml, "job:\n  extends: .missing\n  a: 1\n");
}

TEST(ResolveExtendsTest, CycleIsAnError) {
  Resolved r = Resolve(".a:\n  extends: .b\n.b:\n  extends: .a\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.errors,
            "ci.yml:2:12: error: job '.a', key 'extends': circular dependency detected in "
            "`extends`\n");
}

}  // namespace
}  // namespace slipway
