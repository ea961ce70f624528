// A job canceled while its image downloads ends then, not when the download
// does: the pull stops (registry requests and unpacking poll the job's
// cancel token and timeout) and keeps nothing half-written. A real registry
// (scripts/registry.sh) behind a proxy that sends half of each large blob
// and then nothing, and, for the job, the real sandbox executor.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include "exec/sandbox_test_util.h"
#include "image/image_puller.h"
#include "image/test_image.h"
#include "image/test_registry_proxy.h"
#include "util/test_dir.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

// An image of one layer of noise (256 KiB unless told) (incompressible: the blob is
// large) pushed to the test registry, a proxy in front of it that stalls
// halfway through the blob, and a puller into an empty store in dir (whose
// blob timeout, a minute, ends a pull the cancel does not reach).
class StalledPull {
 public:
  StalledPull(const std::string& dir, const std::string& base, int bytes = 256 << 10)
      : repo_("slipway-test/" + base + "-" + std::to_string(getpid())),
        proxy_(TestRegistry(), "stall"),
        store_dir_(dir + "/store") {
    std::string noise;
    uint32_t x = 4321;
    for (int i = 0; i < bytes; ++i) noise += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
    OciLayoutBuilder layout(dir + "/layout");
    layout.Tag(layout.Image({TarBuilder().File("noise", noise).Take()}), "v1");
    EXPECT_EQ(PushWithSkopeo(layout.dir(), "v1", TestRegistry() + "/" + repo_ + ":v1"), "");
    StatusOr<std::unique_ptr<ImageStore>> store = ImageStore::Open(store_dir_);
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (store.ok()) store_ = std::move(*store);
    RegistryOptions options;
    options.blob_timeout = std::chrono::minutes(1);
    puller_ = std::make_unique<ImagePuller>(store_.get(), options);
  }
  std::string name() const { return proxy_.host() + "/" + repo_ + ":v1"; }
  const std::string& store_dir() const { return store_dir_; }
  ImagePuller* puller() { return puller_.get(); }

 private:
  std::string repo_;
  TestRegistryProxy proxy_;
  std::string store_dir_;
  std::unique_ptr<ImageStore> store_;
  std::unique_ptr<ImagePuller> puller_;
};

// Whether half of a blob has arrived in the store's tmp/ (the proxy then
// sends nothing more).
bool HalfABlobArrived(const std::string& store) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store + "/tmp", ec)) {
    if (e.path().filename().string().rfind("blob-", 0) == 0 && fs::file_size(e.path(), ec) > 0) {
      return true;
    }
  }
  return false;
}

size_t Entries(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  return n;
}

// Resolves pull's image with a cancel token that turns true, and stays so,
// once when() holds (asked from the downloading thread and this one): the
// pull ends canceled, keeping nothing half-made; when() held.
void ExpectCanceledWhen(StalledPull* pull, const std::function<bool()>& when) {
  ImageRequest request;
  request.name = pull->name();
  std::atomic<bool> asked{false};
  request.canceled = [&] {
    if (when()) asked = true;
    return asked.load();
  };
  StatusOr<ResolvedImage> image = pull->puller()->Resolve(request, nullptr);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "the pull of " + request.name + " was canceled");
  EXPECT_TRUE(asked);
  EXPECT_EQ(Entries(pull->store_dir() + "/tmp"), 0u) << "the half blob or rootfs stays";
  EXPECT_EQ(Entries(pull->store_dir() + "/rootfs"), 0u);
  EXPECT_EQ(Entries(pull->store_dir() + "/images"), 0u);
  EXPECT_EQ(Entries(pull->store_dir() + "/blobs/sha256"), 2u) << "the manifest and the config";
}

TEST(ImagePullCancelTest, ACanceledPullStopsMidBlobAndKeepsNothingOfIt) {
  SLIPWAY_REQUIRE_TEST_REGISTRY();
  TempDir tmp;
  StalledPull pull(tmp.path(), "cancel");
  ExpectCanceledWhen(&pull, [&] { return HalfABlobArrived(pull.store_dir()); });
}

// Whether the unpacking has created the layer's file in a root file system
// under construction in the store's tmp/.
bool UnpackingStarted(const std::string& store) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store + "/tmp", ec)) {
    if (e.path().filename().string().rfind("rootfs-", 0) == 0 &&
        fs::exists(e.path() / "noise", ec)) {
      return true;
    }
  }
  return false;
}

// A layer is unpacked as it downloads: with half of the blob arrived and
// the rest never coming, its file is already being written (then the job
// is canceled). Were the unpacking waiting for the whole blob, it would
// never start, and the pull would end with the blob's timeout instead.
// 4 MiB: half of it is more than the read-ahead's first chunk.
TEST(ImagePullCancelTest, ALayerIsUnpackedWhileItDownloads) {
  SLIPWAY_REQUIRE_TEST_REGISTRY();
  TempDir tmp;
  StalledPull pull(tmp.path(), "stream", 4 << 20);
  ExpectCanceledWhen(&pull, [&] { return UnpackingStarted(pull.store_dir()); });
}

class ImagePullCancelJobTest : public SandboxFixture {};

TEST_F(ImagePullCancelJobTest, AJobCanceledWhileItsImageDownloadsEndsCanceled) {
  SLIPWAY_REQUIRE_TEST_REGISTRY();
  StalledPull pull(tmp_.path(), "cancel-job");
  options_.images = pull.puller();
  Job job = MakeJob({"echo the script ran"});
  job.image = Node::Scalar(pull.name());
  std::thread canceler([&] {
    WaitFor([&] { return HalfABlobArrived(pull.store_dir()); });
    cancel_.Cancel();
  });
  JobResult result = Run(job);
  canceler.join();
  EXPECT_EQ(result.outcome, JobOutcome::kCanceled) << Log();
  EXPECT_NE(Log().find("Pulling docker image " + pull.name()), std::string::npos) << Log();
  EXPECT_NE(Log().find("ERROR: Job failed: canceled"), std::string::npos) << Log();
  EXPECT_EQ(Log().find("the script ran"), std::string::npos) << Log();
  EXPECT_EQ(Entries(pull.store_dir() + "/tmp"), 0u);
}

}  // namespace
}  // namespace slipway
