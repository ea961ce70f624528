// End-to-end: `slipway run` (shell executor, the default) runs a job with
// `image:` in that image — pulled from a real registry on loopback into the
// CLI's image store — under the sandbox, and the other jobs on the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli/run_e2e_test_util.h"
#include "image/test_image.h"

namespace slipway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class RunImageE2eTest : public RunE2eTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests run as root (mounts, namespaces)";
    SLIPWAY_REQUIRE_TEST_REGISTRY();
  }
  // A busybox image with a marker file, pushed as <registry>/<repo>:v1.
  std::string PushBusybox() {
    std::string repo = "e2e-" + std::to_string(getpid()) + "-" + std::to_string(++pushes_);
    std::string name = TestRegistry() + "/" + repo + ":v1";
    EXPECT_EQ(PushBusyboxImage(tmp_.Sub("layout-" + repo), name, "from the image\n"), "");
    return name;
  }

  TempDir tmp_;
  int pushes_ = 0;
};

TEST_F(RunImageE2eTest, AJobWithAnImageRunsInItAndTheOthersOnTheHost) {
  std::string image = PushBusybox();
  Pipeline("in-image:\n  image: " + image +
           "\n  script:\n    - cat /etc/image-marker\n    - test ! -e /usr/bin/git && echo no-git\n"
           "on-host:\n  script:\n    - test -e /usr/bin/git && echo has-git\n");
  std::string cache = "XDG_CACHE_HOME=" + tmp_.Sub("cache");
  RunOutcome out = Run({"--sandbox-network", "none"}, {cache});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_THAT(Log(out, "in-image"), HasSubstr("\nfrom the image\n"));
  EXPECT_THAT(Log(out, "in-image"), HasSubstr("\nno-git\n"));
  EXPECT_THAT(Log(out, "on-host"), HasSubstr("\nhas-git\n"));
  EXPECT_THAT(Log(out, "on-host"), Not(HasSubstr("image:")));
  // The image is in the CLI's store under XDG_CACHE_HOME.
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("cache/slipway/images")));
}

TEST_F(RunImageE2eTest, AnImageThatDoesNotExistFailsTheJobNamingIt) {
  std::string missing = TestRegistry() + "/no-such-image-" + std::to_string(getpid()) + ":v1";
  Pipeline("job:\n  image: " + missing + "\n  script: echo never\n");
  RunOutcome out = Run({"--sandbox-network", "none"}, {"XDG_CACHE_HOME=" + tmp_.Sub("cache")});
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_THAT(Log(out, "job"), HasSubstr(missing));
  EXPECT_THAT(Log(out, "job"), Not(HasSubstr("\nnever\n")));
}

}  // namespace
}  // namespace slipway
