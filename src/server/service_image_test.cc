// The server runs a job with image: in that image (pulled from a real
// registry on loopback into the server's image store, under the sandbox),
// and the project's other jobs on the host.
#include <gtest/gtest.h>
#include <unistd.h>

#include "image/image_puller.h"
#include "image/test_image.h"
#include "server/executor_factory.h"
#include "server/pipeline_service_test_util.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

class ServiceImageTest : public PipelineServiceTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests run as root (mounts, namespaces)";
    SLIPWAY_REQUIRE_TEST_REGISTRY();
    auto store = ImageStore::Open(images_.Sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_images_ = std::move(*store);
    puller_ = std::make_unique<ImagePuller>(store_images_.get(), RegistryOptions());
    configure_ = [this](ServiceOptions* options) {
      options->executor_factory = ShellExecutorFactory(puller_.get());
    };
    PipelineServiceTest::SetUp();
  }

  TempDir images_;
  std::unique_ptr<ImageStore> store_images_;
  std::unique_ptr<ImagePuller> puller_;
};

TEST_P(ServiceImageTest, AJobWithAnImageRunsInItAndTheOthersOnTheHost) {
  std::string image = TestRegistry() + "/serve-" + std::to_string(getpid()) + ":v1";
  ASSERT_EQ(PushBusyboxImage(images_.Sub("layout"), image, "from the image\n"), "");
  repo_.Write(".gitlab-ci.yml",
              "variables:\n  SLIPWAY_SANDBOX_NETWORK: none\n"
              "in-image:\n  image: " +
                  image +
                  "\n  script:\n    - cat /etc/image-marker\n"
                  "on-host:\n  script:\n    - test -e /usr/bin/git && echo has-git\n");
  repo_.Commit("image job");
  CreatePipelineRequest request;
  request.project_id = AddProject();
  auto created = service_->CreatePipeline(request);
  ASSERT_TRUE(created.ok()) << created.status().message();
  PipelineRecord done = WaitDone(created->id);
  std::map<std::string, JobRecord> jobs = Jobs(created->id);
  EXPECT_EQ(done.status, CiStatus::kSuccess) << Log(jobs.at("in-image").id);
  EXPECT_NE(Log(jobs.at("in-image").id).find("\nfrom the image\n"), std::string::npos)
      << Log(jobs.at("in-image").id);
  EXPECT_NE(Log(jobs.at("on-host").id).find("\nhas-git\n"), std::string::npos);
  // The job's record names the image and the digest it ran in (the API and
  // the dashboard show them); the host job has none.
  const JobRecord& in_image = jobs.at("in-image");
  EXPECT_EQ(in_image.image, image);
  ASSERT_EQ(in_image.image_digest.rfind("sha256:", 0), 0u) << in_image.image_digest;
  EXPECT_NE(Log(in_image.id).find(image.substr(0, image.rfind(':')) + "@" + in_image.image_digest),
            std::string::npos)
      << "the digest is the one the log reports pulling: " << Log(in_image.id);
  EXPECT_EQ(jobs.at("on-host").image, "");
  EXPECT_EQ(jobs.at("on-host").image_digest, "");
}

SLIPWAY_STORE_TEST_SUITE(ServiceImageTest);

}  // namespace
}  // namespace slipway
