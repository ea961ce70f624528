// Jobs with image: in the sandbox, on a real busybox root file system.
#include "exec/sandbox_image.h"

#include <unistd.h>

#include <fstream>

#include "exec/sandbox_test_util.h"

namespace slipway {
namespace {

class SandboxImageTest : public SandboxFixture {
 protected:
  void SetUp() override {
    SandboxFixture::SetUp();
    if (IsSkipped()) return;
    Images().image_.env = {"PATH=/bin", "FROM_IMAGE=image", "BOTH=image"};
  }

  Job ImageJob(std::vector<std::string> script, Node image = Node::Scalar("busybox:test")) {
    Job job = MakeJob(std::move(script));
    job.image = std::move(image);
    return job;
  }
};

TEST_F(SandboxImageTest, SeesTheImagesFilesAndNotTheHosts) {
  JobResult r = Run(ImageJob({"test -x /bin/sh", "test ! -e /usr/bin/git", "cat /etc/image-file",
                              "cat greeting.txt", "test \"$PWD\" = \"$CI_PROJECT_DIR\""}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_NE(Log().find("\nimage-file\n"), std::string::npos) << Log();
  EXPECT_NE(Log().find("Using docker image sha256:test for busybox:test"), std::string::npos);
}

TEST_F(SandboxImageTest, WritesNeverReachTheSharedRootFileSystem) {
  JobResult r = Run(ImageJob(
      {"echo changed > /etc/image-file", "rm /bin/ls", "touch /new-file", "cat /etc/image-file"}));
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  std::ifstream in(tmp_.Sub("image/etc/image-file"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "image-file");
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("image/bin/ls")));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("image/new-file")));
  // Nor the next job's view of it.
  EXPECT_EQ(Run(ImageJob({"test ! -e /new-file", "grep -x image-file /etc/image-file"})).outcome,
            JobOutcome::kSuccess)
      << Log();
}

TEST_F(SandboxImageTest, ImageEnvironmentWithJobVariablesWinning) {
  Job job = ImageJob({"echo \"$FROM_IMAGE $BOTH $PATH $HOME\""});
  job.variables.Set("BOTH", "job");
  JobResult r = Run(job);
  EXPECT_EQ(r.outcome, JobOutcome::kSuccess) << Log();
  EXPECT_NE(Log().find("\nimage job /bin /root\n"), std::string::npos) << Log();
}

TEST_F(SandboxImageTest, RunsAsTheImagesUserOrDockerUser) {
  Images().image_.user = "worker";
  EXPECT_EQ(Run(ImageJob({"test \"$(id -u)\" = 1234", "test \"$HOME\" = /home/worker"})).outcome,
            JobOutcome::kSuccess)
      << Log();
  Node image = Node::Map();
  image.Set("name", Node::Scalar("busybox:test"));
  Node docker = Node::Map();
  docker.Set("user", Node::Scalar("0"));
  image.Set("docker", docker);
  EXPECT_EQ(Run(ImageJob({"test \"$(id -u)\" = 0"}, image)).outcome, JobOutcome::kSuccess) << Log();
}

// The image's /etc/passwd is its author's: a link out of the image (here to
// a file that never ends, which read would never return) is not followed;
// the user is then unknown and the job fails saying so, promptly.
TEST_F(SandboxImageTest, AnImagesPasswdLinkedOutOfTheImageIsNotFollowed) {
  ASSERT_EQ(Sh(tmp_.Sub("image"), "rm etc/passwd && ln -s /dev/zero etc/passwd"), 0);
  Images().image_.user = "worker";
  JobResult r = Run(ImageJob({"echo never"}));
  EXPECT_EQ(r.outcome, JobOutcome::kFailed) << Log();
  EXPECT_NE(Log().find("user worker is not in the image's /etc/passwd"), std::string::npos)
      << Log();
  EXPECT_EQ(Log().find("\nnever\n"), std::string::npos) << Log();
}

TEST_F(SandboxImageTest, EntrypointRunsBeforeTheShellUnlessEmptied) {
  ASSERT_EQ(Sh(tmp_.Sub("image"),
               "printf '#!/bin/sh\\nexport FROM_ENTRYPOINT=yes\\nexec "
               "\"$@\"\\n' > entry.sh && "
               "chmod +x entry.sh"),
            0);
  Images().image_.entrypoint = {"/entry.sh"};
  EXPECT_EQ(Run(ImageJob({"test \"$FROM_ENTRYPOINT\" = yes"})).outcome, JobOutcome::kSuccess)
      << Log();
  Node image = Node::Map();
  image.Set("name", Node::Scalar("busybox:test"));
  Node none = Node::Sequence();
  none.items.push_back(Node::Scalar(""));
  image.Set("entrypoint", none);
  EXPECT_EQ(Run(ImageJob({"test -z \"$FROM_ENTRYPOINT\""}, image)).outcome, JobOutcome::kSuccess)
      << Log();
}

TEST_F(SandboxImageTest, AnImageJobWithoutAnImageSourceFails) {
  options_.images = nullptr;
  JobResult r = Run(ImageJob({"true"}));
  EXPECT_EQ(r.failure_reason, "runner_system_failure");
  EXPECT_NE(Log().find("job job names image busybox:test, but this sandbox has "
                       "no image source"),
            std::string::npos)
      << Log();
}

}  // namespace
}  // namespace slipway
