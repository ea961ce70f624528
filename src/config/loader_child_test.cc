// A child pipeline's configuration as the loader builds it for a trigger:
// job: `include:` of the trigger's entries instead of a root file, and
// `include: artifact` read through LoadOptions::read_artifact.
#include <gtest/gtest.h>

#include "config/emit.h"
#include "config/loader.h"
#include "config/test_project.h"
#include "config/yaml_parser.h"

namespace slipway {
namespace {

Node Entries(const std::string& yaml) {
  Diagnostics diags;
  std::optional<std::vector<Node>> docs = ParseYaml(yaml, ".gitlab-ci.yml", &diags);
  EXPECT_TRUE(docs && !docs->empty()) << diags.FormatAll();
  return (*docs)[0];
}

struct ChildLoad {
  std::optional<Node> config;
  std::string diagnostics;
};

ChildLoad LoadChild(
    const TempProject& p, const std::string& entries,
    std::function<StatusOr<LoadOptions::ArtifactFile>(const std::string&, const std::string&)>
        read_artifact = nullptr) {
  LoadOptions options;
  options.project_dir = p.dir();
  options.root_include = Entries(entries);
  options.read_artifact = std::move(read_artifact);
  Diagnostics diags;
  ChildLoad out;
  out.config = LoadConfig(options, &diags);
  out.diagnostics = diags.FormatAll();
  return out;
}

TEST(LoadChildTest, RootIsTheTriggersIncludes) {
  TempProject p;
  p.Write("ci/a.yml", "a:\n  script: [a]\n");
  p.Write("ci/b.yml", "include: ci/c.yml\nb:\n  script: [b]\n");
  p.Write("ci/c.yml", "c:\n  script: [c]\n");
  ChildLoad r = LoadChild(p, "- ci/a.yml\n- local: ci/b.yml\n");
  ASSERT_TRUE(r.config) << r.diagnostics;
  EXPECT_EQ(EmitYaml(*r.config),
            "a:\n  script:\n    - a\nc:\n  script:\n    - c\nb:\n  script:\n    - b\n");
  // No .gitlab-ci.yml is read: a missing child file is named at its entry.
  r = LoadChild(p, "- local: ci/none.yml\n");
  EXPECT_EQ(r.diagnostics, ".gitlab-ci.yml:1:3: error: Local file `ci/none.yml` does not exist!\n");
}

TEST(LoadChildTest, ArtifactIncludesAreReadThroughTheCallback) {
  TempProject p;
  p.Write("common.yml", ".common:\n  script: [common]\n");
  auto read = [](const std::string& job,
                 const std::string& path) -> StatusOr<LoadOptions::ArtifactFile> {
    if (job != "generate") return Status::Error("Job `" + job + "` not found");
    return LoadOptions::ArtifactFile{"gen/" + path,
                                     "include: common.yml\ngen:\n  extends: .common\n  x: [\n"};
  };
  ChildLoad r = LoadChild(p, "- artifact: child.yml\n  job: generate\n", read);
  // Errors inside the artifact name it as the callback does.
  EXPECT_EQ(r.diagnostics.substr(0, 19), "gen/child.yml:5:1: ");
  r = LoadChild(p, "- artifact: child.yml\n  job: other\n", read);
  EXPECT_EQ(r.diagnostics, ".gitlab-ci.yml:1:3: error: Job `other` not found\n");
  r = LoadChild(p, "- artifact: child.txt\n  job: generate\n", read);
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:1:3: error: Included file `child.txt` does not have YAML extension!\n");
  // Without a callback (lint, the server) an artifact include cannot be read.
  r = LoadChild(p, "- artifact: child.yml\n  job: generate\n");
  EXPECT_NE(r.diagnostics.find("cannot fetch"), std::string::npos) << r.diagnostics;
}

}  // namespace
}  // namespace slipway
