// `slipway image ...` as a user runs it, against the test registry
// (scripts/registry.sh) with images pushed by skopeo.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_test_util.h"
#include "image/test_image.h"
#include "image/test_registry_proxy.h"
#include "util/spawn.h"
#include "util/test_dir.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class ImageCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SLIPWAY_REQUIRE_TEST_REGISTRY();
    store_ = tmp_.Sub("store");
  }
  CliResult Image(std::vector<std::string> args) {
    args.insert(args.begin(), "image");
    args.push_back("--store");
    args.push_back(store_);
    return RunSlipway(args);
  }
  TempDir tmp_;
  std::string store_;
};

TEST_F(ImageCommandTest, PullListRemovePrune) {
  std::string repo = "slipway-test/cli-" + std::to_string(getpid());
  OciLayoutBuilder layout(tmp_.Sub("layout"));
  layout.Tag(layout.Image({TarBuilder().File("hello", "world").Take()}), "v1");
  ASSERT_EQ(PushWithSkopeo(layout.dir(), "v1", TestRegistry() + "/" + repo + ":v1"), "");
  std::string name = TestRegistry() + "/" + repo + ":v1";

  CliResult pull = Image({"pull", name});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  EXPECT_THAT(pull.err, HasSubstr("Pulling docker image " + name + " ..."));
  std::string digest = pull.out.substr(0, pull.out.find('\n'));
  EXPECT_TRUE(fs::exists(store_ + "/rootfs/" + digest.substr(7) + "/hello")) << pull.out;

  CliResult ls = Image({"ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_THAT(ls.out, HasSubstr("IMAGE"));
  EXPECT_THAT(ls.out, HasSubstr(name + "  " + digest.substr(0, 19)));

  CliResult rm = Image({"rm", name});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "removed " + name + "\n");
  EXPECT_FALSE(fs::exists(store_ + "/rootfs/" + digest.substr(7)));
  rm = Image({"rm", name});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_EQ(rm.err, "slipway: no image `" + name + "` in " + store_ + "\n");

  CliResult prune = Image({"prune"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_THAT(prune.out,
              HasSubstr("removed 0 images, 3 blobs"));  // Manifest, config, layer.
  EXPECT_TRUE(fs::is_empty(store_ + "/blobs/sha256"));
}

TEST_F(ImageCommandTest, ImportsAnOciLayoutAndDockerSaveOutputOffline) {
  OciLayoutBuilder layout(tmp_.Sub("layout"));
  layout.Tag(layout.Image({TarBuilder().File("from-oci", "1").Take()}), "v1");
  // A bare tag names no repository.
  CliResult bare = Image({"import", layout.dir()});
  EXPECT_EQ(bare.exit_code, 1);
  EXPECT_THAT(bare.err, HasSubstr("(tagged `v1`) has no repository name; give it one with "
                                  "--name NAME"));
  CliResult imported = Image({"import", "--name", "offline/tool:v1", layout.dir()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("registry-1.docker.io/offline/tool:v1 sha256:"));

  // `docker save` output: manifest.json, the config and uncompressed layers.
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"Env":["A=1"]},)"
                       R"("rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer = TarBuilder().Dir("etc").File("etc/from-docker", "2").Take();
  std::string saved =
      TarBuilder()
          .File("manifest.json", R"([{"Config":"cfg.json","RepoTags":["saved:1.0"],)"
                                 R"("Layers":["abc/layer.tar"]}])")
          .File("cfg.json", config)
          .Dir("abc")
          .File("abc/layer.tar", layer)
          .Take();
  std::string tarball = tmp_.Sub("saved.tar");
  std::ofstream(tarball, std::ios::binary) << saved;
  imported = Image({"import", tarball});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("registry-1.docker.io/library/saved:1.0 sha256:"));
  CliResult ls = Image({"ls"});
  EXPECT_THAT(ls.out, HasSubstr("registry-1.docker.io/library/saved:1.0"));
  EXPECT_THAT(ls.out, HasSubstr("registry-1.docker.io/offline/tool:v1"));
  bool found = false;
  for (const auto& e : fs::directory_iterator(store_ + "/rootfs")) {
    found = found || fs::exists(e.path() / "etc/from-docker");
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(fs::is_empty(store_ + "/tmp")) << "the unpacked archive is removed";
}

TEST_F(ImageCommandTest, AnImportCannotReadFilesThroughASymlinkInTheArchive) {
  // A file of the host's that happens to be a valid layer.
  std::string outside = tmp_.Sub("outside.tar");
  std::ofstream(outside, std::ios::binary) << TarBuilder().File("stolen", "host data").Take();
  std::string saved = TarBuilder()
                          .File("manifest.json", R"([{"Config":"cfg.json","RepoTags":["evil:1"],)"
                                                 R"("Layers":["layer.tar"]}])")
                          .File("cfg.json", R"({"os":"linux"})")
                          .Symlink("layer.tar", outside)
                          .Take();
  std::string tarball = tmp_.Sub("evil.tar");
  std::ofstream(tarball, std::ios::binary) << saved;
  CliResult imported = Image({"import", tarball});
  EXPECT_EQ(imported.exit_code, 1);
  EXPECT_THAT(imported.err, HasSubstr("layer.tar: Too many levels of symbolic links"));
  EXPECT_TRUE(fs::is_empty(store_ + "/rootfs"));
}

TEST_F(ImageCommandTest, APullKilledMidBlobLeavesNothingTheNextPullTrusts) {
  std::string repo = "slipway-test/killed-" + std::to_string(getpid());
  std::string noise;  // Incompressible, so that the blob is large.
  uint32_t x = 12345;
  for (int i = 0; i < (256 << 10); ++i)
    noise += static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  OciLayoutBuilder layout(tmp_.Sub("layout"));
  layout.Tag(layout.Image({TarBuilder().File("noise", noise).Take()}), "v1");
  ASSERT_EQ(PushWithSkopeo(layout.dir(), "v1", TestRegistry() + "/" + repo + ":v1"), "");
  TestRegistryProxy stalling(TestRegistry(), "stall");
  SpawnRequest request;
  request.argv = {SLIPWAY_BINARY, "image", "pull",
                  "--store",      store_,  stalling.host() + "/" + repo + ":v1"};
  for (char** e = environ; *e != nullptr; ++e) request.env.push_back(*e);
  StatusOr<pid_t> pid = Spawn(request);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  // Killed while half the layer is in tmp/.
  auto half_written = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(store_ + "/tmp", ec)) {
      if (e.path().filename().string().rfind("blob-", 0) == 0 && fs::file_size(e.path(), ec) > 0) {
        return true;
      }
    }
    return false;
  };
  bool reached = WaitFor(half_written);
  ASSERT_EQ(kill(*pid, SIGKILL), 0);
  waitpid(*pid, nullptr, 0);
  ASSERT_TRUE(reached) << "no half-written blob appeared in tmp/";
  EXPECT_TRUE(fs::is_empty(store_ + "/rootfs"));
  EXPECT_TRUE(fs::is_empty(store_ + "/images"));
  // The config may be whole already (under load it is not always fetched
  // before the layer starts); nothing of the layer (256 KiB of noise) is.
  size_t blobs = 0;
  for (const auto& e : fs::directory_iterator(store_ + "/blobs/sha256")) {
    ++blobs;
    EXPECT_LT(fs::file_size(e.path()), 4096u) << e.path() << " is the layer, or part of it";
  }
  // Small blobs fetched whole before the layer (the config; which ones
  // depends on how far the pull got) are fine: they were verified.
  EXPECT_LE(blobs, 2u) << "at most the config and the manifest, whole";
  // The next pull fetches the layer whole and unpacks it.
  CliResult pull = Image({"pull", TestRegistry() + "/" + repo + ":v1"});
  ASSERT_EQ(pull.exit_code, 0) << pull.err;
  std::string rootfs = pull.out.substr(pull.out.find('\n') + 1);
  rootfs.pop_back();
  std::ifstream in(rootfs + "/noise", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), noise);
  CliResult prune = Image({"prune"});
  // The half blob, and the directory its unpacking had begun in.
  EXPECT_THAT(prune.out, MatchesRegex(".* [12] temporary files\n")) << "the half blob";
}

TEST_F(ImageCommandTest, ADiskFullWhileUnpackingIsAClearErrorAndLeavesNothing) {
  // A store on a 1 MB tmpfs, in a user and mount namespace of the test's.
  if (std::system("unshare -rm true 2>/dev/null") != 0) {
    GTEST_SKIP() << "unprivileged user namespaces are not available";
  }
  std::string repo = "slipway-test/full-" + std::to_string(getpid());
  OciLayoutBuilder layout(tmp_.Sub("layout"));
  // 4 MB of zeros: a small blob that unpacks larger than the disk.
  layout.Tag(layout.Image({TarBuilder().File("zeros", std::string(4 << 20, '\0')).Take()}), "v1");
  ASSERT_EQ(PushWithSkopeo(layout.dir(), "v1", TestRegistry() + "/" + repo + ":v1"), "");
  std::string disk = tmp_.Sub("disk");
  fs::create_directories(disk);
  std::string script = "mount -t tmpfs -o size=1m none '" + disk +
                       "' && " SLIPWAY_BINARY " image pull --store '" + disk + "/store' " +
                       TestRegistry() + "/" + repo + ":v1 >/dev/null 2>'" + tmp_.Sub("err") +
                       "'; echo \\$? >'" + tmp_.Sub("rc") + "'; ls -A '" + disk + "/store/tmp' '" +
                       disk + "/store/rootfs' >'" + tmp_.Sub("left") + "'";
  ASSERT_EQ(std::system(("unshare -rm sh -c \"" + script + "\"").c_str()), 0);
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(slurp(tmp_.Sub("rc")), "1\n");
  std::string err = slurp(tmp_.Sub("err"));
  EXPECT_THAT(err, HasSubstr("slipway: cannot unpack " + TestRegistry() + "/" + repo + ":v1: "));
  EXPECT_THAT(err, HasSubstr("/zeros: No space left on device (the partly unpacked root file "
                             "system was removed)"));
  EXPECT_EQ(slurp(tmp_.Sub("left")), disk + "/store/rootfs:\n\n" + disk + "/store/tmp:\n")
      << "nothing of the image, nothing in tmp/";
}

}  // namespace
}  // namespace slipway
