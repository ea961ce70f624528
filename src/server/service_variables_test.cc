// Project CI/CD variables in the server: they reach jobs below the
// pipeline's own variables, protected ones only on protected refs, and a
// masked value never reaches a stored log however the job prints it.
#include <gmock/gmock.h>

#include "server/pipeline_service_test_util.h"
#include "util/base64.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "glpat-9Qx/rT+w?z7_KEY";

class ServiceVariablesTest : public PipelineServiceTest {
 protected:
  void AddVariable(int64_t project, const std::string& key, const std::string& value, bool masked,
                   bool is_protected) {
    ProjectVariableRecord v;
    v.project_id = project;
    v.key = key;
    v.value = value;
    v.masked = masked;
    v.is_protected = is_protected;
    auto created = store_->CreateProjectVariable(v);
    ASSERT_TRUE(created.ok() && *created) << key;
  }
  std::string OnlyJobLog(int64_t project, const std::string& ref,
                         std::vector<StoredVariable> variables = {}) {
    CreatePipelineRequest request;
    request.project_id = project;
    request.ref = ref;
    request.variables = std::move(variables);
    auto created = service_->CreatePipeline(request);
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return "";
    PipelineRecord done = WaitDone(created->id);
    auto jobs = Jobs(done.id);
    EXPECT_EQ(jobs.size(), 1u);
    return jobs.empty() ? "" : Log(jobs.begin()->second.id);
  }
};

TEST_P(ServiceVariablesTest, MaskedValuesNeverReachTheLog) {
  repo_.Write(".gitlab-ci.yml", R"(
leak:
  script:
    - echo "plain $TOKEN"
    - printf '%s' "$TOKEN" | base64 -w0; echo
    - printf '%s' "$TOKEN" | od -An -v -tx1 | tr -d ' \n'; echo
    - printf 'half %s' "${TOKEN:0:7}"; sleep 0.2; printf '%s\n' "${TOKEN:7}"
    - echo "level=$LEVEL"
)");
  repo_.Commit("pipeline");
  int64_t project = AddProject();
  AddVariable(project, "TOKEN", kToken, true, false);
  AddVariable(project, "LEVEL", "project", false, false);
  std::string log = OnlyJobLog(project, "main");
  EXPECT_THAT(log, HasSubstr("plain [MASKED]\n"));
  EXPECT_THAT(log, HasSubstr("half [MASKED]\n"));
  EXPECT_THAT(log, HasSubstr("level=project\n"));
  std::string b64 = Base64Encode(kToken);
  for (std::string form :
       {std::string(kToken), b64.substr(2, b64.size() - 4), std::string("676c7061742d395178")}) {
    EXPECT_THAT(log, Not(HasSubstr(form))) << form;
  }
  // A pipeline variable outranks the project's.
  EXPECT_THAT(OnlyJobLog(project, "main", {{"LEVEL", "pipeline", "env_var"}}),
              HasSubstr("level=pipeline\n"));
}

TEST_P(ServiceVariablesTest, ProtectedVariablesReachOnlyProtectedRefs) {
  repo_.Write(".gitlab-ci.yml",
              "show:\n  script:\n    - echo \"deploy=[${DEPLOY_KEY:-unset}] "
              "protected=$CI_COMMIT_REF_PROTECTED\"\n");
  repo_.Commit("pipeline");
  repo_.Git({"branch", "feature"});
  int64_t project = AddProject();
  AddVariable(project, "DEPLOY_KEY", "deploy-key-value", false, true);
  EXPECT_THAT(OnlyJobLog(project, "main"), HasSubstr("deploy=[deploy-key-value] protected=true"));
  EXPECT_THAT(OnlyJobLog(project, "feature"), HasSubstr("deploy=[unset] protected=false"));
}

SLIPWAY_STORE_TEST_SUITE(ServiceVariablesTest);

}  // namespace
}  // namespace slipway
