// What a job of the server finds in its environment (docs/server.md, "A
// job's environment"): its variables and a few documented names, nothing
// else of the server's own environment — where the server may keep a
// database password or a token. Real service, git, bash and store.
#include <stdlib.h>

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "server/pipeline_service_test_util.h"

namespace slipway {
namespace {

constexpr char kSecretName[] = "SLIPWAY_SERVER_SECRET";
constexpr char kSecretValue[] = "hunter2-of-the-server";

class JobEnvironmentTest : public PipelineServiceTest {
 protected:
  // Before any service thread exists: environ is not changed while one
  // may read it.
  void SetUp() override {
    setenv(kSecretName, kSecretValue, 1);
    PipelineServiceTest::SetUp();
  }
  void TearDown() override {
    PipelineServiceTest::TearDown();
    unsetenv(kSecretName);
  }
};

TEST_P(JobEnvironmentTest, AJobCannotPrintTheServersEnvironment) {
  repo_.Write(".gitlab-ci.yml", R"(
variables:
  MINE: from-the-file
show:
  script:
    - echo "secret=[$SLIPWAY_SERVER_SECRET]"
    - echo "home=$HOME"
    - echo "--- env"
    - env -0 | tr '\0' '\n' | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/name:\1/p'
    - echo "--- end"
)");
  repo_.Commit("print the environment");
  PipelineRecord done = RunPipeline(AddProject());
  std::string log = Log(Jobs(done.id).at("show").id);
  ASSERT_EQ(done.status, CiStatus::kSuccess) << log;
  EXPECT_EQ(log.find(kSecretValue), std::string::npos) << log;
  EXPECT_NE(log.find("secret=[]"), std::string::npos) << log;
  // HOME is the project's jobs' own, not the server's.
  EXPECT_NE(log.find("home=" + work_dir_ + "/data-builds/"), std::string::npos) << log;

  // Every name is a variable of the job (CI_*, GITLAB_*, its own) or one
  // of the documented few.
  const std::set<std::string> documented = {"PATH", "HOME",   "USER", "LOGNAME",
                                            "LANG", "LC_ALL", "TZ",   "TMPDIR"};
  // What bash itself sets in every shell.
  const std::set<std::string> shell = {"PWD", "SHLVL", "_", "OLDPWD"};
  std::istringstream lines(log.substr(log.find("--- env")));
  std::string line;
  int names = 0;
  while (std::getline(lines, line) && line.find("--- end") == std::string::npos) {
    if (line.rfind("name:", 0) != 0) continue;
    std::string name = line.substr(5);
    ++names;
    bool job_variable = name.rfind("CI_", 0) == 0 || name.rfind("GITLAB_", 0) == 0 ||
                        name == "CI" || name == "MINE" || name == "FF_SCRIPT_SECTIONS";
    EXPECT_TRUE(job_variable || documented.count(name) > 0 || shell.count(name) > 0)
        << "a job sees " << name << " of the server's environment";
  }
  EXPECT_GT(names, 10) << log;
}

// Two jobs of one project, one after the other, do not share HOME: what the
// first leaves there (here ~/x; a planted ~/.bashrc or ~/.gitconfig would
// be worse) the second does not find, in the same pipeline nor in the next.
TEST_P(JobEnvironmentTest, JobsOfAProjectDoNotShareHome) {
  repo_.Write(".gitlab-ci.yml", R"yml(
stages: [first, second]
write:
  stage: first
  script:
    - echo "home=$HOME"
    - test -z "$(ls -A "$HOME")"
    - echo left-behind > ~/x
read:
  stage: second
  script:
    - echo "home=$HOME"
    - if [ -e ~/x ]; then echo "found $(cat ~/x)"; exit 1; fi
)yml");
  repo_.Commit("two jobs");
  int64_t project = AddProject();
  for (int run = 0; run < 2; ++run) {
    PipelineRecord done = RunPipeline(project);
    std::string write_log = Log(Jobs(done.id).at("write").id);
    std::string read_log = Log(Jobs(done.id).at("read").id);
    EXPECT_EQ(done.status, CiStatus::kSuccess) << write_log << read_log;
    EXPECT_EQ(read_log.find("found left-behind"), std::string::npos) << read_log;
    // Inside the project's builds directory, in the job's slot.
    EXPECT_NE(write_log.find("home=" + work_dir_ + "/data-builds/" + std::to_string(project) +
                             "/builds/"),
              std::string::npos)
        << write_log;
  }
}

SLIPWAY_STORE_TEST_SUITE(JobEnvironmentTest);

}  // namespace
}  // namespace slipway
