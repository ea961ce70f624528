#include "config/inputs.h"

#include <string>

#include <gtest/gtest.h>

#include "config/test_project.h"
#include "config/yaml_parser.h"

namespace slipway {
namespace {

// The included file of GitLab's "Input configuration" documentation.
constexpr char kScanWebsite[] =
    "spec:\n"
    "  inputs:\n"
    "    job-prefix:\n"
    "      description: \"Define a prefix for the job name\"\n"
    "    job-stage:\n"
    "      default: test\n"
    "    environment:\n"
    "      options: ['test', 'staging', 'production']\n"
    "    concurrency:\n"
    "      type: number\n"
    "      default: 1\n"
    "    version:\n"
    "      type: string\n"
    "      regex: ^v\\d\\.\\d+(\\.\\d+)$\n"
    "    export_results:\n"
    "      type: boolean\n"
    "      default: true\n"
    "---\n"
    "\"$[[ inputs.job-prefix ]]-scan-website\":\n"
    "  stage: $[[ inputs.job-stage ]]\n"
    "  parallel: $[[ inputs.concurrency ]]\n"
    "  allow_failure: $[[ inputs.export_results ]]\n"
    "  script:\n"
    "    - echo \"scanning website -e $[[ inputs.environment ]] -c $[[ inputs.concurrency ]] "
    "-v $[[ inputs.version ]]\"\n"
    "    - if $[[ inputs.export_results ]]; then echo \"export results\"; fi\n";

std::string IncludeScan(const std::string& inputs) {
  return "include:\n  - local: 'scan-website-job.yml'\n    inputs:\n" + inputs;
}

TEST(InputsTest, GitLabDocumentationExample) {
  TempProject p;
  p.Write("scan-website-job.yml", kScanWebsite);
  p.Write(".gitlab-ci.yml", IncludeScan("      job-prefix: 'some-service-'\n"
                                        "      environment: 'staging'\n"
                                        "      concurrency: 2\n"
                                        "      version: 'v1.3.2'\n"
                                        "      export_results: false\n"));
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml,
            "some-service--scan-website:\n"
            "  stage: test\n"
            "  parallel: 2\n"
            "  allow_failure: false\n"
            "  script:\n"
            "    - echo \"scanning website -e staging -c 2 -v v1.3.2\"\n"
            "    - if false; then echo \"export results\"; fi\n");
  ASSERT_TRUE(r.config);
  const Node* job = r.config->Find("some-service--scan-website");
  EXPECT_EQ(job->Find("parallel")->TypeName(), "integer");
  EXPECT_EQ(job->Find("allow_failure")->TypeName(), "boolean");
  EXPECT_EQ(job->Find("stage")->mark.ToString(), "scan-website-job.yml:20:10");
}

TEST(InputsTest, ValidationErrors) {
  TempProject p;
  p.Write("scan-website-job.yml", kScanWebsite);
  p.Write(".gitlab-ci.yml", IncludeScan("      environment: 'qa'\n"
                                        "      concurrency: 'two'\n"
                                        "      version: '1.3'\n"
                                        "      export_results: 'no'\n"
                                        "      colour: red\n"));
  EXPECT_EQ(Load(p).diagnostics,
            ".gitlab-ci.yml:2:5: error: `scan-website-job.yml`: unknown input arguments: colour\n"
            ".gitlab-ci.yml:2:5: error: `scan-website-job.yml`: `job-prefix` input: required "
            "value has not been provided\n"
            ".gitlab-ci.yml:2:5: error: `scan-website-job.yml`: `environment` input: `qa` cannot "
            "be used because it is not in the list of allowed options\n"
            ".gitlab-ci.yml:2:5: error: `scan-website-job.yml`: `concurrency` input: provided "
            "value is not a number\n"
            ".gitlab-ci.yml:2:5: error: `scan-website-job.yml`: `version` input: provided value "
            "does not match required RegEx pattern\n"
            ".gitlab-ci.yml:2:5: error: `scan-website-job.yml`: `export_results` input: provided "
            "value is not a boolean\n");
}

TEST(InputsTest, BadDefaultAndUnknownType) {
  TempProject p;
  p.Write("t.yml",
          "spec:\n  inputs:\n    n:\n      type: number\n      default: abc\n"
          "    x:\n      type: float\n      default: 1\n---\njob:\n  script: x\n");
  p.Write(".gitlab-ci.yml", "include:\n  - local: t.yml\n");
  EXPECT_EQ(Load(p).diagnostics,
            "t.yml:5:16: error: `t.yml`: `n` input: default value is not a number\n"
            "t.yml:7:13: error: `t.yml`: unknown input specification for `x` (valid types: "
            "array, boolean, number, string)\n");
}

TEST(InputsTest, InputsWithoutHeader) {
  TempProject p;
  p.Write("t.yml", "job:\n  script: x\n");
  p.Write(".gitlab-ci.yml", "include:\n  - local: t.yml\n    inputs:\n      a: 1\n      b: 2\n");
  EXPECT_EQ(Load(p).diagnostics,
            ".gitlab-ci.yml:2:5: error: `t.yml`: unknown input arguments: a, b\n");
}

TEST(InputsTest, ArrayInputReplacesWholeValue) {
  TempProject p;
  p.Write("t.yml",
          "spec:\n  inputs:\n    rules-config:\n      type: array\n      default:\n"
          "        - if: $CI_PIPELINE_SOURCE == \"schedule\"\n"
          "        - when: never\n---\n"
          "test_job:\n  rules: $[[ inputs.rules-config ]]\n  script: echo \"$[[ "
          "inputs.rules-config ]]\"\n");
  p.Write(".gitlab-ci.yml", "include: t.yml\n");
  Loaded r = Load(p);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(r.yaml,
            "test_job:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\n"
            "    - when: never\n"
            "  script: echo \"[{\"if\"=>\"$CI_PIPELINE_SOURCE == \\\"schedule\\\"\"}, "
            "{\"when\"=>\"never\"}]\"\n");
}

// The examples of GitLab's "Specify functions to manipulate input values".
TEST(InputsTest, Functions) {
  TempProject p;
  p.Write("t.yml",
          "spec:\n  inputs:\n    test:\n      default: 'test $MY_VAR'\n"
          "    digits:\n      default: '0123456789'\n"
          "    quote:\n      default: \"single ' and double \\\" quotes and   blanks\"\n---\n"
          "job:\n  script:\n"
          "    - echo $[[ inputs.test | expand_vars | truncate(5,8) ]]\n"
          "    - echo $[[ inputs.test | expand_vars ]] $[[ inputs.test ]]\n"
          "    - $[[ inputs.digits | truncate(3,5) ]]\n"
          "    - $[[ inputs.digits | truncate(20,5) ]]\n"
          "    - printf '%s\\n' $[[ inputs.quote | posix_escape ]]\n");
  p.Write(".gitlab-ci.yml", "include: t.yml\n");
  VariableList vars;
  vars.Set("MY_VAR", "my value");
  Loaded r = Load(p, vars);
  EXPECT_EQ(r.diagnostics, "");
  EXPECT_EQ(
      r.yaml,
      "job:\n  script:\n"
      "    - echo my value\n"
      "    - echo test my value test $MY_VAR\n"
      "    - \"34567\"\n"
      "    - \"\"\n"
      "    - printf '%s\\n' single\\ \\'\\ and\\ double\\ \\\"\\ quotes\\ and\\ \\ \\ blanks\n");
}

TEST(InputsTest, InterpolationErrors) {
  TempProject p;
  p.Write(
      "t.yml",
      "spec:\n  inputs:\n    a:\n      default: x\n    n:\n      type: number\n      default: 1\n"
      "---\njob:\n  script:\n"
      "    - $[[ inputs.b ]]\n"
      "    - $[[ inputs ]]\n"
      "    - $[[ inputs.a | upcase ]]\n"
      "    - $[[ inputs.n | truncate(1,2) ]]\n"
      "    - $[[ inputs.a | expand_vars | expand_vars | expand_vars | expand_vars ]]\n"
      "    - $[[ matrix.OS ]] and $[[ x ]]\n");
  p.Write(".gitlab-ci.yml", "include: t.yml\n");
  EXPECT_EQ(Load(p).diagnostics,
            "t.yml:11:7: error: unknown interpolation key: `b`\n"
            "t.yml:12:7: error: invalid interpolation access pattern\n"
            "t.yml:13:7: error: no function matching `upcase`: check that the function name, "
            "arguments, and types are correct\n"
            "t.yml:14:7: error: error in `truncate` function: invalid input type: truncate can "
            "only be used with string inputs\n"
            "t.yml:15:7: error: too many functions in interpolation block\n");
}

TEST(InputsTest, RootHeaderUsesPipelineInputsOrDefaults) {
  TempProject p;
  p.Write(".gitlab-ci.yml",
          "spec:\n  inputs:\n    tag:\n      default: linux\n      options: [linux, mac]\n---\n"
          "include:\n  - local: os.yml\n    inputs:\n      project-tag: $[[ inputs.tag ]]\n");
  p.Write("os.yml",
          "# A comment before the header\n---\nspec:\n  inputs:\n    project-tag:\n---\n"
          "build:\n  tags:\n    - $[[ inputs.project-tag ]]\n  script: make\n");
  Loaded defaults = Load(p);
  EXPECT_EQ(defaults.diagnostics, "");
  EXPECT_EQ(defaults.yaml, "build:\n  tags:\n    - linux\n  script: make\n");

  Node given = Node::Map();
  given.Set("tag", Node::Scalar("mac"));
  EXPECT_EQ(Load(p, {}, given).yaml, "build:\n  tags:\n    - mac\n  script: make\n");

  Node bad = Node::Map();
  bad.Set("tag", Node::Scalar("windows"));
  EXPECT_EQ(Load(p, {}, bad).diagnostics,
            ".gitlab-ci.yml:1:1: error: `tag` input: `windows` cannot be used because it is not "
            "in the list of allowed options\n");
}

TEST(InputsTest, HasSpecHeaderNeedsTwoDocuments) {
  Diagnostics diags;
  std::optional<std::vector<Node>> one = ParseYaml("spec:\n  inputs: {}\n", "f.yml", &diags);
  std::optional<std::vector<Node>> two =
      ParseYaml("spec:\n  inputs: {}\n---\na: 1\n", "f.yml", &diags);
  std::optional<std::vector<Node>> other = ParseYaml("a: 1\n---\nb: 1\n", "f.yml", &diags);
  EXPECT_FALSE(HasSpecHeader(*one));
  EXPECT_TRUE(HasSpecHeader(*two));
  EXPECT_FALSE(HasSpecHeader(*other));
}

}  // namespace
}  // namespace slipway
