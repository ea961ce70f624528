#include "pipeline/job_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/builder_test_util.h"

namespace slipway {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// A path pattern whose braces go past the glob bounds would silently match
// nothing (expanding it recursed once per group: 100,000 overflowed the
// stack); lint says so where it is written.
TEST(JobParserTest, PathPatternsBeyondTheGlobBoundsAreErrors) {
  std::string deep = std::string(100, '{') + "a" + std::string(100, '}');
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  rules:\n    - changes: [ok.txt, '" + deep +
                        "']\n    - exists:\n        paths: ['" + deep +
                        "']\n"
                        "job2:\n  script: x\n  only:\n    changes: ['" +
                        deep + "']\n"),
            "ci.yml:4:25: error: job 'job', key 'rules:0:changes': the braces of '" +
                deep.substr(0, 100) +
                "\xe2\x80\xa6' expand to more than 4096 patterns or 64 "
                "nested groups\n"
                "ci.yml:6:17: error: job 'job', key 'rules:1:exists:paths': the braces of '" +
                deep.substr(0, 100) +
                "\xe2\x80\xa6' expand to more than 4096 patterns or 64 "
                "nested groups\n"
                "ci.yml:10:15: error: job 'job2', key 'only:changes': the braces of '" +
                deep.substr(0, 100) +
                "\xe2\x80\xa6' expand to more than 4096 patterns or 64 "
                "nested groups\n");
}

TEST(JobParserTest, ScriptStringAndNestedArraysAreFlattened) {
  BuildResult r = BuildOk(
      "a:\n  script: make\n"
      "b:\n  script:\n    - one\n    - [two, [three]]\n    - four\n");
  EXPECT_THAT(r.job("a").script, ElementsAre("make"));
  EXPECT_THAT(r.job("b").script, ElementsAre("one", "two", "three", "four"));
}

TEST(JobParserTest, ScriptWithANumberIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: [echo, 1]\n"),
            "ci.yml:2:18: error: job 'job', key 'script:1': should be a string or a nested array "
            "of strings up to 10 levels deep\n");
}

// The bad item is pointed at, however deep, not the list or the job.
TEST(JobParserTest, BadScriptItemIsReportedWhereItIs) {
  EXPECT_EQ(BuildErrors("job:\n  before_script:\n    - echo one\n    - - echo two\n"
                        "      - {not: a command}\n  script:\n    - make\n    - 42\n"),
            "ci.yml:5:9: error: job 'job', key 'before_script:1:1': should be a string or a "
            "nested array of strings up to 10 levels deep\n"
            "ci.yml:8:7: error: job 'job', key 'script:1': should be a string or a nested array "
            "of strings up to 10 levels deep\n");
  std::string deep = "x";
  for (int i = 0; i < 10; ++i) deep = "[" + deep + "]";
  EXPECT_EQ(BuildErrors("job:\n  script:\n    - ok\n    - " + deep + "\n"),
            "ci.yml:4:16: error: job 'job', key 'script:1:0:0:0:0:0:0:0:0:0': should be a string "
            "or a nested array of strings up to 10 levels deep\n");
}

TEST(JobParserTest, UnknownKeysSuggestTheNearestKeyword) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  scirpt: y\n  Stage: test\n  foo: bar\n"
                        "  artifacts:\n    pahts: [a]\n  cache:\n    polcy: pull\n"
                        "  retry:\n    mxa: 2\n  environment:\n    nmae: prod\n"),
            "ci.yml:3:3: error: job 'job', key 'scirpt': unknown key; did you mean `script`?\n"
            "ci.yml:4:3: error: job 'job', key 'Stage': unknown key; did you mean `stage`?\n"
            "ci.yml:5:3: error: job 'job', key 'foo': unknown key\n"
            "ci.yml:7:5: error: job 'job', key 'artifacts:pahts': unknown key; did you mean "
            "`paths`?\n"
            "ci.yml:9:5: error: job 'job', key 'cache:polcy': unknown key; did you mean "
            "`policy`?\n"
            "ci.yml:11:5: error: job 'job', key 'retry:mxa': unknown key; did you mean `max`?\n"
            "ci.yml:13:5: error: job 'job', key 'environment:nmae': unknown key; did you mean "
            "`name`?\n");
}

TEST(JobParserTest, AJobWithoutScriptHasItsKeysCheckedToo) {
  EXPECT_EQ(BuildErrors("job:\n  scirpt: make\nstagse: [a, b]\nok:\n  script: x\n"
                        "default:\n  imgae: alpine\n"),
            "ci.yml:7:3: error: key 'default:imgae': unknown key; did you mean `image`?\n"
            "ci.yml:1:1: error: job 'job': config should implement the script:, run:, or "
            "trigger: keyword\n"
            "ci.yml:2:3: error: job 'job', key 'scirpt': unknown key; did you mean `script`?\n"
            "ci.yml:3:1: error: job 'stagse': config should implement the script:, run:, or "
            "trigger: keyword; did you mean `stages`?\n");
}

TEST(JobParserTest, EmptyScriptIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: []\n"),
            "ci.yml:2:11: error: job 'job', key 'script': can't be blank\n");
}

TEST(JobParserTest, UnknownKeyIsReportedAtTheKey) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  foo: bar\n"),
            "ci.yml:3:3: error: job 'job', key 'foo': unknown key\n");
}

TEST(JobParserTest, WhenValues) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  when: manual\n"
      "b:\n  script: x\n  when: always\n"
      "c:\n  script: x\n  when: delayed\n  start_in: 30 minutes\n");
  EXPECT_EQ(r.job("a").when, When::kManual);
  EXPECT_TRUE(r.job("a").allow_failure.value);  // Manual jobs may fail by default.
  EXPECT_FALSE(r.job("a").allow_failure_set);
  EXPECT_EQ(r.job("b").when, When::kAlways);
  EXPECT_FALSE(r.job("b").allow_failure.value);
  EXPECT_EQ(r.job("c").when, When::kDelayed);
  EXPECT_EQ(r.job("c").start_in, "30 minutes");
}

TEST(JobParserTest, WhenNeverOutsideRulesIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  when: never\n"),
            "ci.yml:3:9: error: job 'job', key 'when': should be one of: on_success, "
            "on_failure, always, manual, delayed\n");
}

TEST(JobParserTest, DelayedNeedsStartIn) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  when: delayed\n"),
            "ci.yml:2:3: error: job 'job', key 'start_in': should be a duration\n");
}

TEST(JobParserTest, StartInWithoutDelayedIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  start_in: 1 hour\n"),
            "ci.yml:3:13: error: job 'job', key 'start_in': must be blank\n");
}

TEST(JobParserTest, AllowFailureBoolAndExitCodes) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  allow_failure: true\n"
      "b:\n  script: x\n  allow_failure:\n    exit_codes: 137\n"
      "c:\n  script: x\n  allow_failure:\n    exit_codes: [137, 255]\n"
      "d:\n  script: x\n  when: manual\n  allow_failure: false\n");
  EXPECT_TRUE(r.job("a").allow_failure.value);
  EXPECT_TRUE(r.job("a").allow_failure_set);
  EXPECT_FALSE(r.job("b").allow_failure.value);
  EXPECT_THAT(r.job("b").allow_failure.exit_codes, ElementsAre(137));
  EXPECT_THAT(r.job("c").allow_failure.exit_codes, ElementsAre(137, 255));
  EXPECT_FALSE(r.job("d").allow_failure.value);
}

TEST(JobParserTest, AllowFailureWrongType) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  allow_failure: maybe\n"),
            "ci.yml:3:18: error: job 'job', key 'allow_failure': should be a hash or a boolean "
            "value\n");
}

TEST(JobParserTest, RetryForms) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  retry: 2\n"
      "b:\n  script: x\n  retry:\n    max: 2\n    when: runner_system_failure\n"
      "c:\n  script: x\n  retry:\n    max: 1\n    when: [runner_system_failure, "
      "stuck_or_timeout_failure]\n    exit_codes: [137, 255]\n");
  EXPECT_EQ(r.job("a").retry.max, 2);
  EXPECT_TRUE(r.job("a").retry.when.empty());
  EXPECT_THAT(r.job("b").retry.when, ElementsAre("runner_system_failure"));
  EXPECT_THAT(r.job("c").retry.when,
              ElementsAre("runner_system_failure", "stuck_or_timeout_failure"));
  EXPECT_THAT(r.job("c").retry.exit_codes, ElementsAre(137, 255));
}

TEST(JobParserTest, RetryLimits) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  retry: 3\n"),
            "ci.yml:3:10: error: job 'job', key 'retry': must be less than or equal to 2\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  retry:\n    when: sometimes\n"),
            "ci.yml:4:11: error: job 'job', key 'retry:when': contains unknown values: "
            "sometimes\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  retry: always\n"),
            "ci.yml:3:10: error: job 'job', key 'retry': has to be either an integer or a hash\n");
}

TEST(JobParserTest, TagsMustBeAnArrayOfStrings) {
  EXPECT_THAT(BuildOk("job:\n  script: x\n  tags: [ruby, postgres]\n").job("job").tags,
              ElementsAre("ruby", "postgres"));
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  tags: docker\n"),
            "ci.yml:3:9: error: job 'job', key 'tags': should be an array of strings\n");
}

TEST(JobParserTest, ArtifactsKeywords) {
  BuildResult r = BuildOk(
      "job:\n  script: x\n  artifacts:\n"
      "    name: job-$CI_COMMIT_REF_NAME\n    paths: [binaries/, .config]\n"
      "    exclude: [binaries/**/*.o]\n    expire_in: 1 week\n    when: on_failure\n"
      "    untracked: true\n    expose_as: artifact 1\n    public: false\n"
      "    reports:\n      junit: rspec.xml\n      dotenv: [build.env]\n"
      "      coverage_report:\n        coverage_format: cobertura\n        path: cov.xml\n");
  const Artifacts& a = r.job("job").artifacts;
  EXPECT_TRUE(a.present);
  EXPECT_EQ(a.name, "job-$CI_COMMIT_REF_NAME");
  EXPECT_THAT(a.paths, ElementsAre("binaries/", ".config"));
  EXPECT_THAT(a.exclude, ElementsAre("binaries/**/*.o"));
  EXPECT_EQ(a.expire_in, "1 week");
  EXPECT_EQ(a.when, "on_failure");
  EXPECT_TRUE(a.untracked);
  EXPECT_EQ(a.expose_as, "artifact 1");
  EXPECT_FALSE(a.is_public);
  EXPECT_THAT(a.reports, ElementsAre(Pair("coverage_report", ElementsAre("cov.xml")),
                                     Pair("dotenv", ElementsAre("build.env")),
                                     Pair("junit", ElementsAre("rspec.xml"))));
}

TEST(JobParserTest, ArtifactsErrors) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  artifacts:\n    when: sometimes\n    pth: [a]\n"),
            "ci.yml:5:5: error: job 'job', key 'artifacts:pth': unknown key\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  artifacts:\n    when: sometimes\n"),
            "ci.yml:4:11: error: job 'job', key 'artifacts:when': should be one of: on_success, "
            "on_failure, always\n");
}

TEST(JobParserTest, CacheMapAndList) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  cache:\n    key: $CI_COMMIT_REF_SLUG\n    paths: [binaries/]\n"
      "    policy: pull\n    when: always\n    fallback_keys: [main]\n"
      "b:\n  script: x\n  cache:\n    - key:\n        files: [Gemfile.lock]\n"
      "        prefix: gems\n      paths: [vendor/ruby]\n"
      "    - paths: [node_modules]\n      untracked: true\n");
  const Cache& a = r.job("a").caches.at(0);
  EXPECT_EQ(a.key, "$CI_COMMIT_REF_SLUG");
  EXPECT_EQ(a.policy, "pull");
  EXPECT_EQ(a.when, "always");
  EXPECT_THAT(a.fallback_keys, ElementsAre("main"));
  ASSERT_EQ(r.job("b").caches.size(), 2u);
  EXPECT_THAT(r.job("b").caches[0].key_files, ElementsAre("Gemfile.lock"));
  EXPECT_EQ(r.job("b").caches[0].key_prefix, "gems");
  EXPECT_EQ(r.job("b").caches[1].key, "default");
  EXPECT_TRUE(r.job("b").caches[1].untracked);
}

TEST(JobParserTest, CacheErrors) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  cache:\n    key: a/b\n"),
            "ci.yml:4:10: error: job 'job', key 'cache:key': cannot contain the \"/\" "
            "character\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  cache:\n    policy: pushpull\n"),
            "ci.yml:4:13: error: job 'job', key 'cache:policy': should be one of: pull-push, "
            "push, pull\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  cache: [{}, {}, {}, {}, {}]\n"),
            "ci.yml:3:10: error: job 'job', key 'cache': no more than 4 caches can be created\n");
}

TEST(JobParserTest, EmptyCacheListDisablesTheDefaultCache) {
  BuildResult r = BuildOk("default:\n  cache:\n    paths: [x]\njob:\n  script: x\n  cache: []\n");
  EXPECT_TRUE(r.job("job").caches.empty());
}

TEST(JobParserTest, EnvironmentStringAndMap) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  environment: production\n"
      "b:\n  script: x\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n"
      "    url: https://example.com\n    on_stop: stop_b\n    auto_stop_in: 1 day\n"
      "    deployment_tier: staging\n"
      "stop_b:\n  script: x\n  when: manual\n  environment:\n"
      "    name: review/$CI_COMMIT_REF_SLUG\n    action: stop\n");
  EXPECT_EQ(r.job("a").environment->name, "production");
  EXPECT_EQ(r.job("a").environment->action, "start");
  const Environment& b = *r.job("b").environment;
  EXPECT_EQ(b.url, "https://example.com");
  EXPECT_EQ(b.on_stop, "stop_b");
  EXPECT_EQ(b.auto_stop_in, "1 day");
  EXPECT_EQ(b.deployment_tier, "staging");
  EXPECT_EQ(r.job("stop_b").environment->action, "stop");
}

TEST(JobParserTest, EnvironmentOnStopMustStop) {
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  environment:\n    name: e\n    on_stop: b\n"
                        "b:\n  script: x\n  environment: e\n"),
            "ci.yml:1:1: error: job 'a', key 'environment:on_stop': on_stop job b needs to have "
            "action stop defined\n");
}

TEST(JobParserTest, ResourceGroupInterruptibleCoverage) {
  BuildResult r = BuildOk(
      "job:\n  script: x\n  resource_group: production\n  interruptible: true\n"
      "  coverage: '/Code coverage: \\d+\\.\\d+/'\n");
  EXPECT_EQ(r.job("job").resource_group, "production");
  EXPECT_TRUE(r.job("job").interruptible);
  EXPECT_EQ(r.job("job").coverage, "Code coverage: \\d+\\.\\d+");
}

TEST(JobParserTest, CoverageMustBeARegex) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  coverage: 'Total: \\d+'\n"),
            "ci.yml:3:13: error: job 'job', key 'coverage': must be a regular expression\n");
}

TEST(JobParserTest, VerbatimKeywordsAreKept) {
  BuildResult r = BuildOk(
      "job:\n  script: x\n  image:\n    name: ruby:3\n    entrypoint: ['']\n"
      "  services: [postgres:15]\n  release:\n    tag_name: v1\n    description: d\n"
      "  id_tokens:\n    TOKEN:\n      aud: https://x\n  pages: true\n");
  EXPECT_EQ(r.job("job").image->Find("name")->scalar, "ruby:3");
  EXPECT_EQ(r.job("job").services->items.at(0).scalar, "postgres:15");
  EXPECT_EQ(r.job("job").release->Find("tag_name")->scalar, "v1");
  EXPECT_TRUE(r.job("job").id_tokens->IsMap());
  EXPECT_EQ(r.job("job").pages->AsBool(), true);
}

TEST(JobParserTest, RulesAreParsed) {
  BuildResult r = BuildOk(
      "job:\n  script: x\n  rules:\n"
      "    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
      "      changes:\n        paths: [Dockerfile]\n        compare_to: refs/heads/main\n"
      "      when: manual\n      allow_failure: true\n"
      "      variables: {DEPLOY: 'true'}\n      needs: [build]\n      interruptible: true\n"
      "    - exists: [Dockerfile]\n      when: delayed\n      start_in: 3 hours\n"
      "    - changes: ['*.md']\n      when: never\n"
      "build:\n  stage: build\n  script: x\n");
  const std::vector<Rule>& rules = *r.job("job").rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(*rules[0].if_expr, "$CI_PIPELINE_SOURCE == \"merge_request_event\"");
  EXPECT_EQ(rules[0].if_mark.ToString(), "ci.yml:4:11");
  EXPECT_THAT(rules[0].changes->paths, ElementsAre("Dockerfile"));
  EXPECT_EQ(rules[0].changes->compare_to, "refs/heads/main");
  EXPECT_EQ(rules[0].when, When::kManual);
  EXPECT_EQ(rules[0].allow_failure, true);
  EXPECT_EQ(*rules[0].variables.Get("DEPLOY"), "true");
  EXPECT_EQ(rules[0].needs->at(0).job, "build");
  EXPECT_EQ(rules[0].interruptible, true);
  EXPECT_THAT(*rules[1].exists, ElementsAre("Dockerfile"));
  EXPECT_EQ(rules[1].start_in, "3 hours");
  EXPECT_THAT(rules[2].changes->paths, ElementsAre("*.md"));
  EXPECT_EQ(rules[2].when, When::kNever);
}

TEST(JobParserTest, RulesFromReferencesAreFlattened) {
  BuildResult r = BuildOk(
      "job:\n  script: x\n  rules:\n    - [{if: $A}, {if: $B}]\n"
      "    - when: on_success\n");
  ASSERT_EQ(r.job("job").rules->size(), 3u);
  EXPECT_EQ(*(*r.job("job").rules)[1].if_expr, "$B");
}

TEST(JobParserTest, InvalidRulesIfIsAnError) {
  std::string errors = BuildErrors("job:\n  script: x\n  rules:\n    - if: $A == \n");
  EXPECT_THAT(errors, ::testing::StartsWith("ci.yml:4:11: error: job 'job', key 'rules:0:if': "
                                            "invalid expression syntax: "));
}

TEST(JobParserTest, RulesErrors) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  rules:\n    - if: $A\n      when: later\n"),
            "ci.yml:5:13: error: job 'job', key 'rules:0:when': unknown value: later\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  rules:\n    - iff: $A\n"),
            "ci.yml:4:7: error: job 'job', key 'rules:0:iff': unknown key; did you mean `if`?\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  rules:\n    - when: delayed\n"),
            "ci.yml:4:7: error: job 'job', key 'rules:0:start_in': can't be blank\n");
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  rules: {if: $A}\n"),
            "ci.yml:3:10: error: job 'job', key 'rules': should be an array of hashes\n");
}

TEST(JobParserTest, OnlyExceptWithRulesIsAnError) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  only: [main]\n  rules:\n    - when: always\n"),
            "ci.yml:3:3: error: job 'job', key 'only': key may not be used with `rules`\n");
}

TEST(JobParserTest, OnlyExceptForms) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  only: [main, /^issue-.*$/, merge_requests]\n  except: [tags]\n"
      "b:\n  script: x\n  only:\n    refs: [branches]\n    variables: [$RELEASE == \"staging\"]\n"
      "    changes: [Dockerfile]\n    kubernetes: active\n");
  EXPECT_TRUE(r.job("a").only.present);
  EXPECT_THAT(r.job("a").only.refs, ElementsAre("main", "/^issue-.*$/", "merge_requests"));
  EXPECT_THAT(r.job("a").except.refs, ElementsAre("tags"));
  EXPECT_THAT(r.job("b").only.refs, ElementsAre("branches"));
  EXPECT_THAT(r.job("b").only.variables, ElementsAre("$RELEASE == \"staging\""));
  EXPECT_THAT(r.job("b").only.changes, ElementsAre("Dockerfile"));
  EXPECT_EQ(r.job("b").only.kubernetes, "active");
  EXPECT_FALSE(r.job("b").except.present);
}

TEST(JobParserTest, TimeoutAndStartInAreDurations) {
  BuildResult r = BuildOk(
      "a:\n  script: x\n  timeout: 3 hours 30 minutes\n"
      "b:\n  script: x\n  timeout: 3600\n  when: delayed\n  start_in: 1 week\n");
  EXPECT_EQ(r.job("a").timeout_seconds, 12600);
  EXPECT_EQ(r.job("b").timeout_seconds, 3600);
  EXPECT_EQ(r.job("b").start_in, "1 week");
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  when: delayed\n  start_in: 8 days\n"),
            "ci.yml:4:13: error: job 'a', key 'start_in': should not exceed the limit\n");
  EXPECT_EQ(BuildErrors("a:\n  script: x\n  timeout: soon\n"),
            "ci.yml:3:12: error: job 'a', key 'timeout': should be a duration\n");
  EXPECT_EQ(BuildOk("a:\n  script: x\n  artifacts:\n    expire_in: one week\n")
                .job("a")
                .artifacts.expire_in,
            "one week");
}

TEST(JobParserTest, TimeoutMustBeADuration) {
  EXPECT_EQ(BuildErrors("job:\n  script: x\n  timeout: [1h]\n"),
            "ci.yml:3:12: error: job 'job', key 'timeout': should be a duration\n");
}

TEST(JobParserTest, JobNameTooLong) {
  std::string name(256, 'j');
  EXPECT_EQ(BuildErrors(name + ":\n  script: x\n"), "ci.yml:1:1: error: job '" + name +
                                                        "': name is too long (maximum is 255 "
                                                        "characters)\n");
}

TEST(JobParserTest, DependenciesMustBePartOfNeeds) {
  EXPECT_EQ(BuildErrors("a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\n"
                        "c:\n  script: x\n  needs: [a]\n  dependencies: [a, b]\n"),
            "ci.yml:10:17: error: job 'c', key 'dependencies': the b should be part of needs\n");
}

TEST(JobParserTest, NullKeywordsCountAsNotGiven) {
  // As corpus 36 and 40 write `tags:` and `cache: paths:` with no value.
  BuildResult r = BuildOk(
      "default:\n  image: alpine\n"
      "job:\n  script: x\n  tags:\n  image:\n  needs:\n  cache:\n    paths:\n");
  EXPECT_TRUE(r.job("job").tags.empty());
  EXPECT_EQ(r.job("job").image->scalar, "alpine");
  EXPECT_FALSE(r.job("job").needs.has_value());
  ASSERT_EQ(r.job("job").caches.size(), 1u);
  EXPECT_TRUE(r.job("job").caches[0].paths.empty());
}

}  // namespace
}  // namespace slipway
