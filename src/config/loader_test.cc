#include "config/loader.h"

#include <string>

#include <gtest/gtest.h>

#include "config/test_project.h"

namespace slipway {
namespace {

TEST(LoadConfigTest, RootOnlyWithReferences) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          ".setup:\n  script: [a]\njob:\n  script:\n    - !reference [.setup, script]\n    - b\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, ".setup:\n  script:\n    - a\njob:\n  script:\n    - a\n    - b\n");
}

TEST(LoadConfigTest, MissingRootFile) {
  TempProject p;
  Loaded r = Load(p);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.diagnostics, ".gitlab-ci.yml: error: cannot read the pipeline file: no such file\n");
}

TEST(LoadConfigTest, EmptyRootFile) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "# nothing\n");
  EXPECT_EQ(Load(p).diagnostics,
            ".gitlab-ci.yml: error: Please provide content of .gitlab-ci.yml\n");
}

TEST(LoadConfigTest, IncludeFormsAndMergeOrder) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n"
          "  - a.yml\n"
          "  - local: /ci/b.yml\n"
          "variables:\n  V: root\n"
          "job:\n  stage: root\n");
  p.Write("a.yml", "variables:\n  V: a\n  A: a\njob:\n  stage: a\n  script: [from-a]\n");
  p.Write("ci/b.yml",
          "variables:\n  V: b\n  B: b\njob:\n  script: [from-b]\nb_job:\n  script: x\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml,
            "variables:\n  V: root\n  A: a\n  B: b\n"
            "job:\n  stage: root\n  script:\n    - from-b\n"
            "b_job:\n  script: x\n");
  // Keys keep the marks of the file that defined their value last.
  EXPECT_EQ(r.config->Find("job")->Find("script")->mark.file, "ci/b.yml");
  EXPECT_EQ(r.config->Find("job")->Find("stage")->mark.ToString(), ".gitlab-ci.yml:7:10");
}

TEST(LoadConfigTest, SingleStringInclude) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include: 'a.yml'\n");
  p.Write("a.yml", "job:\n  script: x\n");
  EXPECT_EQ(Load(p).yaml, "job:\n  script: x\n");
}

TEST(LoadConfigTest, SingleMapInclude) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include:\n  local: a.yml\n");
  p.Write("a.yml", "job:\n  script: x\n");
  EXPECT_EQ(Load(p).yaml, "job:\n  script: x\n");
}

// GitLab's "Use nested includes" documentation: nested includes merge first,
// and paths are relative to the project root wherever the include is.
TEST(LoadConfigTest, NestedIncludes) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include:\n  - local: /.gitlab-ci/another-config.yml\n");
  p.Write(".gitlab-ci/another-config.yml",
          "include:\n  - local: /.gitlab-ci/config-defaults.yml\ndefault:\n  image: alpine\n");
  p.Write(".gitlab-ci/config-defaults.yml",
          "default:\n  image: debian\n  after_script:\n    - echo \"Job complete.\"\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "default:\n  image: alpine\n  after_script:\n    - echo \"Job complete.\"\n");
}

// GitLab's "Use nested includes with duplicate include entries": the last
// inclusion wins.
TEST(LoadConfigTest, DuplicateIncludesLastOneWins) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include:\n  - local: unit-tests.yml\n  - local: smoke-tests.yml\n");
  p.Write("defaults.yml", "default:\n  before_script: echo \"Default before script\"\n");
  p.Write("unit-tests.yml",
          "include:\n  - local: defaults.yml\ndefault:\n  before_script: echo unit\n"
          "unit-test-job:\n  script: unit-test.sh\n");
  p.Write("smoke-tests.yml",
          "include:\n  - local: defaults.yml\ndefault:\n  before_script: echo smoke\n"
          "smoke-test-job:\n  script: smoke-test.sh\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml,
            "default:\n  before_script: echo smoke\n"
            "unit-test-job:\n  script: unit-test.sh\n"
            "smoke-test-job:\n  script: smoke-test.sh\n");
}

TEST(LoadConfigTest, Wildcards) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include: 'configs/*.yml'\n");
  p.Write("configs/b.yml", "b:\n  script: b\n");
  p.Write("configs/a.yml", "a:\n  script: a\n");
  p.Write("configs/sub/c.yml", "c:\n  script: c\n");
  p.Write("configs/d.yaml", "d:\n  script: d\n");
  EXPECT_EQ(Load(p).yaml, "a:\n  script: a\nb:\n  script: b\n");
  p.Write(".gitlab-ci.yml", "include: 'configs/**.yml'\n");
  EXPECT_EQ(Load(p).yaml, "a:\n  script: a\nb:\n  script: b\nc:\n  script: c\n");
  // "This matches all `.yml` files only in subfolders of `configs`."
  p.Write(".gitlab-ci.yml", "include:\n  - local: /configs/**/*.yml\n");
  EXPECT_EQ(Load(p).yaml, "c:\n  script: c\n");
  p.Write(".gitlab-ci.yml", "include: 'none/*.yml'\njob:\n  script: x\n");
  Loaded none = Load(p);
  EXPECT_EQ(none.diagnostics, "");
  EXPECT_EQ(none.yaml, "job:\n  script: x\n");
}

TEST(LoadConfigTest, VariablesInIncludePaths) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n  - local: ci/$CI_COMMIT_REF_NAME.yml\n  - '${DIR}/x.yml'\n");
  p.Write("ci/main.yml", "m:\n  script: m\n");
  p.Write("d/x.yml", "x:\n  script: x\n");
  VariableList vars;
  vars.Set("CI_COMMIT_REF_NAME", "main");
  vars.Set("DIR", "d");
  Loaded r = Load(p, vars);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "m:\n  script: m\nx:\n  script: x\n");
}

TEST(LoadConfigTest, LocalFileErrors) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n"
          "  - missing.yml\n"
          "  - local: notes.txt\n"
          "  - local: empty.yml\n"
          "  - local: ../outside.yml\n"
          "  - local: list.yml\n");
  p.Write("notes.txt", "x");
  p.Write("empty.yml", "\n");
  p.Write("list.yml", "- a\n");
  Loaded r = Load(p);
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:2:5: error: Local file `missing.yml` does not exist!\n"
            ".gitlab-ci.yml:3:5: error: Included file `notes.txt` does not have YAML extension!\n"
            ".gitlab-ci.yml:4:5: error: Local file `empty.yml` is empty!\n"
            ".gitlab-ci.yml:5:5: error: Local file `../outside.yml` does not exist!\n"
            ".gitlab-ci.yml:6:5: error: Included file `list.yml` does not have valid YAML "
            "syntax!\n");
}

TEST(LoadConfigTest, ErrorsInsideIncludedFilesPointAtThem) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include: ci/bad.yml\n");
  p.Write("ci/bad.yml", "job:\n  script: [a\n");
  EXPECT_EQ(Load(p).diagnostics, "ci/bad.yml:3:1: error: did not find expected ',' or ']'\n");
}

TEST(LoadConfigTest, IncludeLoopHitsTheLimit) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "include: a.yml\n");
  p.Write("a.yml", "include: a.yml\njob:\n  script: x\n");
  EXPECT_EQ(Load(p).diagnostics,
            "a.yml:1:10: error: Maximum of 150 nested includes are allowed!\n");
}

TEST(LoadConfigTest, ExactlyTheLimitIsAllowed) {
  TempProject p;
  std::string root = "include:\n";
  for (int i = 0; i < kMaxIncludes; ++i) root += "  - a.yml\n";
  p.Write(".gitlab-ci.yml", root);
  p.Write("a.yml", "job:\n  script: x\n");
  EXPECT_EQ(Load(p).diagnostics, "");
  p.Write(".gitlab-ci.yml", root + "  - a.yml\n");
  EXPECT_EQ(Load(p).diagnostics,
            ".gitlab-ci.yml:152:5: error: Maximum of 150 nested includes are allowed!\n");
}

TEST(LoadConfigTest, NonLocalIncludesCannotBeFetched) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n"
          "  - remote: https://example.com/a.yml\n"
          "  - https://example.com/b.yml\n"
          "  - project: group/p\n    ref: v1\n    file: [x.yml, /y.yml]\n"
          "  - template: Auto-DevOps.gitlab-ci.yml\n"
          "  - component: $CI_SERVER_FQDN/g/c/comp@1.0\n"
          "  - artifact: gen.yml\n    job: make\n"
          "  - local: a.yml\n");
  p.Write("a.yml", "job:\n  script: x\n");
  Loaded r = Load(p);
  EXPECT_FALSE(r.config);
  const std::string tail = "`: slipway runs pipelines offline and reads only `local` includes\n";
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:2:5: error: cannot fetch `remote:https://example.com/a.yml" + tail +
                ".gitlab-ci.yml:3:5: error: cannot fetch `remote:https://example.com/b.yml" + tail +
                ".gitlab-ci.yml:4:5: error: cannot fetch `project:group/p:x.yml@v1" + tail +
                ".gitlab-ci.yml:4:5: error: cannot fetch `project:group/p:/y.yml@v1" + tail +
                ".gitlab-ci.yml:7:5: error: cannot fetch `template:Auto-DevOps.gitlab-ci.yml" +
                tail +
                ".gitlab-ci.yml:8:5: error: cannot fetch `component:$CI_SERVER_FQDN/g/c/comp@1.0" +
                tail + ".gitlab-ci.yml:9:5: error: cannot fetch `artifact:gen.yml" + tail);
}

TEST(LoadConfigTest, MalformedIncludeEntries) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n  - local: a.yml\n    remote: https://x/y.yml\n  - file: a.yml\n"
          "  - local: a.yml\n    colour: red\n");
  p.Write("a.yml", "job:\n  script: x\n");
  EXPECT_EQ(Load(p).diagnostics,
            ".gitlab-ci.yml:2:5: error: Each include must use only one of: `local`, `project`, "
            "`remote`, `template`, `artifact`, `component`\n"
            ".gitlab-ci.yml:4:5: error: include does not have a valid subkey. Valid subkeys "
            "are: `local`, `project`, `remote`, `template`, `artifact`, `component`\n"
            ".gitlab-ci.yml:6:5: error: include config contains unknown keys: colour\n");
}

// The example of GitLab's "include with rules:if" documentation.
TEST(LoadConfigTest, IncludeRulesIf) {
  TempProject p;
  p.Write(
      ".gitlab-ci.yml",
      "include:\n"
      "  - local: never.yml\n    rules:\n      - if: $DONT == \"true\"\n        when: never\n"
      "      - when: always\n"
      "  - local: always.yml\n    rules:\n      - if: $ALWAYS == \"true\"\n        when: always\n"
      "  - local: plain.yml\n    rules:\n      - if: $INCLUDE == \"true\"\n"
      "  - remote: https://x/skipped.yml\n    rules:\n      - if: $NOPE\n");
  p.Write("never.yml", "never:\n  script: x\n");
  p.Write("always.yml", "always:\n  script: x\n");
  p.Write("plain.yml", "plain:\n  script: x\n");
  VariableList vars;
  vars.Set("DONT", "true");
  vars.Set("ALWAYS", "true");
  vars.Set("INCLUDE", "true");
  Loaded r = Load(p, vars);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "always:\n  script: x\nplain:\n  script: x\n");
  Loaded none = Load(p);
  EXPECT_EQ(none.diagnostics, "");
  EXPECT_EQ(none.yaml, "never:\n  script: x\n");
}

TEST(LoadConfigTest, IncludeRulesExists) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n"
          "  - local: a.yml\n    rules:\n      - exists:\n          - docs/*.md\n"
          "  - local: b.yml\n    rules:\n      - exists:\n          paths: [missing/**/*.c]\n"
          "  - local: c.yml\n    rules:\n      - exists: [Dockerfile]\n        when: never\n"
          "      - when: always\n"
          "  - local: d.yml\n    rules:\n      - exists: ['$NOPE/x', '$DIR/*.md']\n");
  p.Write("docs/readme.md", "x");
  p.Write("Dockerfile", "x");
  p.Write("$NOPE/x", "x");  // An unknown variable stays as written.
  for (const char* name : {"a", "b", "c", "d"}) {
    p.Write(std::string(name) + ".yml", std::string(name) + ":\n  script: x\n");
  }
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, "a:\n  script: x\nd:\n  script: x\n");
}

TEST(LoadConfigTest, IncludeRulesErrors) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include:\n  - local: a.yml\n    rules:\n      - if: $A ==\n"
          "  - local: a.yml\n    rules:\n      - when: manual\n");
  p.Write("a.yml", "a:\n  script: x\n");
  std::string diagnostics = Load(p).diagnostics;
  EXPECT_NE(diagnostics.find(".gitlab-ci.yml:4:13: error: include:rules:if: invalid expression "
                             "syntax: "),
            std::string::npos)
      << diagnostics;
  EXPECT_NE(diagnostics.find(
                ".gitlab-ci.yml:7:15: error: include:rules:rule when unknown value: manual\n"),
            std::string::npos)
      << diagnostics;
}

TEST(LoadConfigTest, ReferencesAcrossIncludedFiles) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "include: common.yml\njob:\n  script:\n    - !reference [.common, script]\n    - two\n");
  p.Write("common.yml", ".common:\n  script:\n    - one\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml, ".common:\n  script:\n    - one\njob:\n  script:\n    - one\n    - two\n");
}

// GitLab resolves `extends` before `!reference`, so a reference can name a
// key that a template only has through `extends` (corpus 06 relies on it).
TEST(LoadConfigTest, ReferencesSeeKeysFromExtends) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          ".base:\n  before_script: [setup]\n"
          ".derived:\n  extends: .base\n  variables:\n    A: 1\n"
          "job:\n  script:\n    - !reference [.derived, before_script]\n    - run\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml,
            ".base:\n  before_script:\n    - setup\n"
            ".derived:\n  before_script:\n    - setup\n  variables:\n    A: 1\n"
            "job:\n  script:\n    - setup\n    - run\n");
}

TEST(LoadConfigTest, MissingReferenceIsAnErrorAtItsMark) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "job:\n  script: !reference [.nope, script]\n");
  EXPECT_EQ(Load(p).diagnostics,
            ".gitlab-ci.yml:2:11: error: !reference [\".nope\", \"script\"] could not be found\n");
}

TEST(LoadConfigTest, DuplicateKeyWarningsDoNotFail) {
  TempProject p;
  p.Write(".gitlab-ci.yml", "job:\n  script: a\n  script: b\n");
  Loaded r = Load(p);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.yaml, "job:\n  script: b\n");
  EXPECT_EQ(r.diagnostics,
            ".gitlab-ci.yml:3:3: warning: duplicate key 'script' (first at line 2); the later "
            "value is used\n");
}

}  // namespace
}  // namespace slipway
