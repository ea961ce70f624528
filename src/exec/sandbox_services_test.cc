// services: in the sandbox: a real busybox httpd started from services:,
// reached by the job by its alias and GitLab's host names.
#include "exec/sandbox_services.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "exec/sandbox_test_util.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

ServiceKeyword Named(const std::string& name) {
  ServiceKeyword service;
  service.request.name = name;
  return service;
}

TEST(SandboxServicesTest, HostNamesAsGitLabDocumentsThem) {
  ServiceKeyword service = Named("registry.example.com:5000/group/tool:1.2");
  service.aliases = {"db", "cache"};
  EXPECT_EQ(ServiceHostNames(service),
            (std::vector<std::string>{"registry.example.com:5000__group__tool",
                                      "registry.example.com:5000-group-tool", "db", "cache"}));
  EXPECT_EQ(ServiceHostNames(Named("postgres:15")), (std::vector<std::string>{"postgres"}));
  EXPECT_EQ(ServiceHostNames(Named("tutum/wordpress@sha256:abc")),
            (std::vector<std::string>{"tutum__wordpress", "tutum-wordpress"}));
}

TEST(SandboxServicesTest, ParsesNamesMapsAndAliases) {
  Node list = Node::Sequence();
  list.items.push_back(Node::Scalar("redis:7"));
  Node map = Node::Map();
  map.Set("name", Node::Scalar("$REGISTRY/pg:15"));
  map.Set("alias", Node::Scalar("db, database"));
  map.Set("command", Node::Scalar("postgres"));
  Node vars = Node::Map();
  vars.Set("HEALTHCHECK_TCP_PORT", Node::Scalar("5432"));
  map.Set("variables", vars);
  list.items.push_back(map);
  VariableList variables;
  variables.Set("REGISTRY", "r.example");
  StatusOr<std::vector<ServiceKeyword>> parsed = ParseServices(list, variables);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].request.name, "r.example/pg:15");
  EXPECT_EQ((*parsed)[1].aliases, (std::vector<std::string>{"db", "database"}));
  EXPECT_EQ(*(*parsed)[1].command, std::vector<std::string>{"postgres"});
  EXPECT_EQ(ServiceHealthPort((*parsed)[1], variables), 5432);
  EXPECT_EQ(ServiceHealthPort((*parsed)[0], variables), 0);

  Node bad = Node::Sequence();
  bad.items.push_back(Node::Map(Mark{".gitlab-ci.yml", 4, 7}));
  EXPECT_EQ(ParseServices(bad, variables).status().message(),
            ".gitlab-ci.yml:4:7: services:name must be an image name");
}

class SandboxServiceJobTest : public SandboxFixture {
 protected:
  void SetUp() override {
    SandboxFixture::SetUp();
    if (!IsSkipped()) Images();
  }
};

TEST_F(SandboxServiceJobTest, JobReachesItsServiceByAliasAndImageName) {
  std::string www = "/www-" + std::to_string(getpid());
  ASSERT_EQ(
      Sh(tmp_.Sub("image"), "mkdir ." + www + " && echo from-service > ." + www + "/index.html"),
      0);
  Node service = Node::Map();
  service.Set("name", Node::Scalar("registry.example.com/tools/busybox:1"));
  service.Set("alias", Node::Scalar("web"));
  Node command = Node::Sequence();
  for (const char* arg : {"httpd", "-f", "-v", "-p", "8080", "-h"}) {
    command.items.push_back(Node::Scalar(arg));
  }
  command.items.push_back(Node::Scalar(www));
  service.Set("command", command);
  Node vars = Node::Map();
  vars.Set("HEALTHCHECK_TCP_PORT", Node::Scalar("8080"));
  service.Set("variables", vars);
  Job job;
  job.name = "job";
  job.image = Node::Scalar("busybox:test");
  job.services = Node::Sequence();
  job.services->items.push_back(service);
  job.script = {"wget -qO- http://web:8080/", "wget -qO- http://127.0.0.1:8080/",
                "wget -qO- http://registry.example.com__tools__busybox:8080/",
                "wget -qO- http://registry.example.com-tools-busybox:8080/"};
  JobResult r = Run(job);
  std::string log = Log();
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << log;
  EXPECT_NE(log.find("$ wget -qO- http://web:8080/\nfrom-service\n"), std::string::npos) << log;
  EXPECT_NE(log.find("Service registry.example.com/tools/busybox:1 output:"), std::string::npos)
      << log;
  EXPECT_FALSE(RunningOnHost(www));  // Stopped with the session.
}

// A job in busybox:test whose one service runs command and is waited for
// on port, which nothing opens.
Job JobWithSilentService(const std::vector<std::string>& command, const std::string& port,
                         std::vector<std::string> script) {
  Node service = Node::Map();
  service.Set("name", Node::Scalar("busybox:test"));
  Node argv = Node::Sequence();
  for (const std::string& arg : command) argv.items.push_back(Node::Scalar(arg));
  service.Set("command", argv);
  Node vars = Node::Map();
  vars.Set("HEALTHCHECK_TCP_PORT", Node::Scalar(port));
  service.Set("variables", vars);
  Job job;
  job.name = "job";
  job.image = Node::Scalar("busybox:test");
  job.services = Node::Sequence();
  job.services->items.push_back(service);
  job.script = std::move(script);
  return job;
}

TEST_F(SandboxServiceJobTest, AServiceThatNeverListensIsAWarning) {
  Job job = JobWithSilentService({"true"}, "8081", {"true"});
  JobResult r = Run(job);
  std::string log = Log();
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << log;
  EXPECT_NE(log.find("*** WARNING: Service busybox:test probably didn't start properly."),
            std::string::npos)
      << log;
}

// The wait for a service's port (up to 30 s) ends when the job is canceled:
// the script never starts, no "didn't start" warning (which the wait would
// print had it run out), and the service is stopped.
TEST_F(SandboxServiceJobTest, CancelingEndsTheWaitForAServicesPort) {
  std::string marker = std::to_string(31337000 + getpid() % 1000);
  Job job = JobWithSilentService({"sleep", marker}, "8082", {"echo script-ran"});
  JobResult r;
  std::thread run([&] { r = Run(job); });
  EXPECT_TRUE(WaitFor([&] { return Log().find("Waiting for services") != std::string::npos; }));
  cancel_.Cancel();
  run.join();
  std::string log = Log();
  EXPECT_EQ(r.outcome, JobOutcome::kCanceled) << log;
  EXPECT_EQ(log.find("probably didn't start properly"), std::string::npos) << log;
  EXPECT_EQ(log.find("script-ran"), std::string::npos) << log;
  EXPECT_NE(log.find("ERROR: Job failed: canceled"), std::string::npos) << log;
  EXPECT_FALSE(RunningOnHost(marker));
}

// The job's timeout bounds the wait too, as GitLab's covers the whole job:
// a 1 s job does not wait 30 s for a port, and fails as timed out.
TEST_F(SandboxServiceJobTest, TheJobsTimeoutEndsTheWaitForAServicesPort) {
  std::string marker = std::to_string(31338000 + getpid() % 1000);
  Job job = JobWithSilentService({"sleep", marker}, "8083", {"echo script-ran"});
  JobResult r = Run(job, std::chrono::seconds(1));
  std::string log = Log();
  EXPECT_EQ(r.outcome, JobOutcome::kFailed) << log;
  EXPECT_EQ(r.failure_reason, "job_execution_timeout") << log;
  EXPECT_EQ(log.find("probably didn't start properly"), std::string::npos) << log;
  EXPECT_EQ(log.find("script-ran"), std::string::npos) << log;
  EXPECT_NE(log.find("ERROR: Job failed: execution took longer than 1s seconds"), std::string::npos)
      << log;
  EXPECT_FALSE(RunningOnHost(marker));
}

}  // namespace
}  // namespace slipway
