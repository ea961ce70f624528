#include "pipeline/deploy_checks.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pipeline/builder_test_util.h"

namespace slipway {
namespace {

constexpr char kJob[] = "deploy:\n  script: [./deploy]\n  environment: production\n";

TEST(DeployChecksTest, ReadsEveryKindWithItsSettings) {
  BuildResult r = BuildOk(std::string(kJob) + R"yaml(
.slipway:
  environments:
    production:
      checks:
        - name: health
          http:
            url: $CI_ENVIRONMENT_URL/healthz
            status: 200
            body: "^ok"
            json: {path: "$.build[0].version", equals: v2}
          interval: 2s
          count: 5
          initial_delay: 500ms
          failure_limit: 2
          inconclusive_limit: 1
          timeout: 3s
          on_inconclusive: pass
        - tcp: {address: "127.0.0.1:5432"}
        - command: ["test -f ready", "true"]
        - name: errors
          prometheus: {url: "http://127.0.0.1:9090", query: "sum(up)", condition: ">= 1"}
      rollback: {automatic: true, when: failed}
)yaml");
  ASSERT_TRUE(r.config);
  const SlipwaySettings& s = r.config->slipway;
  ASSERT_EQ(s.environments.size(), 1u);
  const EnvironmentSettings& env = s.environments[0];
  EXPECT_EQ(env.pattern, "production");
  EXPECT_TRUE(env.rollback.automatic);
  EXPECT_TRUE(env.rollback.on_any_failure);
  ASSERT_EQ(env.checks.size(), 4u);
  const CheckDefinition& http = env.checks[0];
  EXPECT_EQ(http.name, "health");
  EXPECT_EQ(http.kind, CheckKind::kHttp);
  EXPECT_EQ(http.http.url, "$CI_ENVIRONMENT_URL/healthz");
  EXPECT_EQ(http.http.status, 200);
  EXPECT_EQ(http.http.body, "^ok");
  EXPECT_EQ(http.http.json_path, "$.build[0].version");
  EXPECT_EQ(http.http.json_equals, "v2");
  EXPECT_EQ(http.interval, std::chrono::seconds(2));
  EXPECT_EQ(http.initial_delay, std::chrono::milliseconds(500));
  EXPECT_EQ(http.timeout, std::chrono::seconds(3));
  EXPECT_EQ(http.count, 5);
  EXPECT_EQ(http.failure_limit, 2);
  EXPECT_EQ(http.inconclusive_limit, 1);
  EXPECT_FALSE(http.inconclusive_fails);
  EXPECT_EQ(env.checks[1].name, "tcp");
  EXPECT_EQ(env.checks[1].tcp.address, "127.0.0.1:5432");
  EXPECT_EQ(env.checks[2].command.script, (std::vector<std::string>{"test -f ready", "true"}));
  EXPECT_EQ(env.checks[3].prometheus.condition.op, ">=");
  EXPECT_EQ(env.checks[3].prometheus.condition.value, 1.0);
  // Defaults.
  EXPECT_EQ(env.checks[1].count, 1);
  EXPECT_EQ(env.checks[1].failure_limit, 0);
  EXPECT_EQ(env.checks[1].timeout, std::chrono::seconds(10));
  EXPECT_TRUE(env.checks[1].inconclusive_fails);
}

TEST(DeployChecksTest, PipelineWithoutSettingsHasNone) {
  BuildResult r = BuildOk(kJob);
  ASSERT_TRUE(r.config);
  EXPECT_TRUE(r.config->slipway.environments.empty());
}

TEST(DeployChecksTest, InvalidDefinitionsAreErrorsAtTheirPlace) {
  std::string errors = BuildErrors(std::string(kJob) + R"yaml(.slipway:
  environments:
    production:
      checks:
        - ping: {host: x}
        - http: {status: 200}
        - http: {url: "ftp://x", body: "(unclosed"}
        - tcp: {address: "localhost:99999"}
        - prometheus: {url: "http://p:9090", query: up, condition: "about 3"}
        - tcp: {address: "h:1"}
          interval: -1s
          count: 0
          failure_limit: -2
          timeout: 0
          on_inconclusive: maybe
        - command: []
      rollback: {automatic: sometimes, when: always}
      canary: 1
)yaml");
  EXPECT_EQ(
      errors,
      "ci.yml:21:7: error: key '.slipway:environments:production:canary': unknown key\n"
      "ci.yml:8:11: error: key '.slipway:environments:production:checks:0:ping': unknown key\n"
      "ci.yml:8:11: error: key '.slipway:environments:production:checks:0': should have exactly "
      "one kind: http, tcp, command or prometheus\n"
      "ci.yml:9:17: error: key '.slipway:environments:production:checks:1:http': needs a url\n"
      "ci.yml:10:23: error: key '.slipway:environments:production:checks:2:http:url': should be "
      "an http:// or https:// URL\n"
      "ci.yml:10:40: error: key '.slipway:environments:production:checks:2:http:body': is not a "
      "valid RE2 regular expression: missing ): (unclosed\n"
      "ci.yml:11:26: error: key '.slipway:environments:production:checks:3:tcp:address': should "
      "be host:port with a port from 1 to 65535\n"
      "ci.yml:12:68: error: key '.slipway:environments:production:checks:4:prometheus:condition': "
      "should be a comparison with a number, such as '< 0.05' (operators <, <=, >, >=, ==, !=)\n"
      "ci.yml:14:21: error: key '.slipway:environments:production:checks:5:interval': should be a "
      "positive duration such as 500ms, 1s or 2m\n"
      "ci.yml:17:20: error: key '.slipway:environments:production:checks:5:timeout': should be a "
      "positive duration such as 500ms, 1s or 2m\n"
      "ci.yml:15:18: error: key '.slipway:environments:production:checks:5:count': should be an "
      "integer of at least 1\n"
      "ci.yml:16:26: error: key '.slipway:environments:production:checks:5:failure_limit': should "
      "be an integer of at least 0\n"
      "ci.yml:18:28: error: key '.slipway:environments:production:checks:5:on_inconclusive': "
      "should be fail or pass\n"
      "ci.yml:19:20: error: key '.slipway:environments:production:checks:6:command': should not "
      "be empty\n"
      "ci.yml:20:29: error: key '.slipway:environments:production:rollback:automatic': should be "
      "a boolean value\n"
      "ci.yml:20:46: error: key '.slipway:environments:production:rollback:when': should be "
      "checks_failed or failed\n");
}

TEST(DeployChecksTest, SettingsMustBeMaps) {
  EXPECT_EQ(BuildErrors(std::string(kJob) + ".slipway: [1]\n"),
            "ci.yml:4:11: error: key '.slipway': should be a hash\n");
  EXPECT_EQ(BuildErrors(std::string(kJob) + ".slipway:\n  environments:\n    prod:\n      checks: "
                                            "{http: {url: 'http://x'}}\n"),
            "ci.yml:7:15: error: key '.slipway:environments:prod:checks': should be an array of "
            "checks\n");
}

TEST(DeployChecksTest, ExactNameWinsOverPatternsAndPatternsMatchInFileOrder) {
  BuildResult r = BuildOk(std::string(kJob) + R"yaml(
.slipway:
  environments:
    "review/*": {rollback: {automatic: true}}
    "*": {}
    review/special: {}
)yaml");
  ASSERT_TRUE(r.config);
  const SlipwaySettings& s = r.config->slipway;
  EXPECT_EQ(s.ForEnvironment("review/special")->pattern, "review/special");
  EXPECT_EQ(s.ForEnvironment("review/feature/x")->pattern, "review/*");
  EXPECT_EQ(s.ForEnvironment("production")->pattern, "*");
  SlipwaySettings none;
  EXPECT_EQ(none.ForEnvironment("production"), nullptr);
}

TEST(DeployChecksTest, PatternMatching) {
  EXPECT_TRUE(EnvironmentPatternMatches("review/*", "review/a/b"));
  EXPECT_FALSE(EnvironmentPatternMatches("review/*", "reviewx"));
  EXPECT_TRUE(EnvironmentPatternMatches("*-eu", "prod-eu"));
  EXPECT_FALSE(EnvironmentPatternMatches("*-eu", "prod-us"));
  EXPECT_TRUE(EnvironmentPatternMatches("a*b*c", "aXbYbc"));
  EXPECT_FALSE(EnvironmentPatternMatches("production", "production2"));
  // A long non-matching name is rejected without exponential work.
  EXPECT_FALSE(EnvironmentPatternMatches("*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST(DeployChecksTest, ConditionsAndJsonPaths) {
  auto c = ParseNumericCondition(" <= 0.05 ");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->Holds(0.05));
  EXPECT_FALSE(c->Holds(0.06));
  EXPECT_FALSE(c->Holds(std::nan("")));
  EXPECT_FALSE(ParseNumericCondition("< nan"));
  EXPECT_FALSE(ParseNumericCondition("=< 1"));
  EXPECT_FALSE(ParseNumericCondition("<"));
  auto path = ParseJsonPath("$.a[2].b");
  ASSERT_TRUE(path);
  ASSERT_EQ(path->size(), 3u);
  EXPECT_EQ((*path)[1].index, 2);
  EXPECT_EQ((*path)[2].key, "b");
  EXPECT_TRUE(ParseJsonPath("$"));
  EXPECT_FALSE(ParseJsonPath("a.b"));
  EXPECT_FALSE(ParseJsonPath("$..b"));
  EXPECT_FALSE(ParseJsonPath("$[x]"));
}

}  // namespace
}  // namespace slipway
