// The server's executors by name: a project whose executor is "sandbox" has
// its jobs run under bubblewrap, unable to read another project's builds.
#include "server/executor_factory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "exec/artifacts.h"
#include "exec/sandbox_test_util.h"
#include "exec/test_log_sink.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

TEST(ExecutorFactoryTest, KnowsShellSandboxAndRemote) {
  EXPECT_TRUE(CheckExecutorName("shell").ok());
  EXPECT_TRUE(CheckExecutorName("sandbox").ok());
  EXPECT_TRUE(CheckExecutorName("slurm").ok());
  EXPECT_TRUE(CheckExecutorName("remote").ok());
  EXPECT_EQ(CheckExecutorName("docker").message(),
            "executor 'docker' is not supported: the executors are 'shell', 'sandbox', 'slurm' "
            "and 'remote'");
}

TEST(ExecutorFactoryTest, SandboxProjectsJobsCannotReadOtherProjects) {
  if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests run as root (mounts, namespaces)";
  TempDir tmp;
  OutsideTmpDir server;  // The builds directory; /tmp is private in any sandbox.
  ASSERT_EQ(Sh(server.Sub(""), R"(
    mkdir -p builds/2/builds/0/other && echo secret > builds/2/builds/0/other/secret
  )"),
            0);
  ASSERT_EQ(Sh(tmp.path(), R"(
    mkdir -p project home && cd project && git init -q && echo hi > f && git add -A && git commit -qm init
  )"),
            0);
  ProjectRecord project;
  project.path_with_namespace = "group/app";
  project.executor = "sandbox";
  ExecutorSetup setup;
  setup.project = &project;
  setup.state_dir = server.Sub("builds/1");
  setup.identity.uid = getuid();
  setup.identity.gid = getgid();
  setup.identity.user = "root";
  setup.identity.umask = 022;
  StatusOr<std::unique_ptr<Executor>> executor = ShellExecutorFactory()(setup);
  ASSERT_TRUE(executor.ok()) << executor.status().message();
  Job job;
  job.name = "job";
  job.script = {"hostname", "! cat " + server.Sub("builds/2/builds/0/other/secret"),
                "cat $CI_PROJECT_DIR/f"};
  JobSpec spec;
  spec.repository = tmp.Sub("project");
  JobHost host;
  host.run_dir = tmp.Sub("run");
  host.job_dir = tmp.Sub("run/jobs/job");
  JobDirArtifacts artifacts;
  host.artifacts = &artifacts;
  TextSink sink;
  CancelToken cancel;
  JobResult r = (*executor)->Run(job, spec, host, &sink, cancel);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << sink.text();
  EXPECT_NE(sink.text().find("$ hostname\nsandbox\n"), std::string::npos) << sink.text();
  EXPECT_EQ(sink.text().find("\nsecret\n"), std::string::npos) << sink.text();
}

}  // namespace
}  // namespace slipway
