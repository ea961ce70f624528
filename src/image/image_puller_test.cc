// Pulls from a real registry (Debian's docker-registry on loopback, started
// by scripts/registry.sh; SLIPWAY_TEST_REGISTRY names it), with images the
// tests build and push with skopeo.
#include "image/image_puller.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "image/test_image.h"
#include "image/test_registry_proxy.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

// A repository name of the test's own, so tests sharing the registry never
// see each other's tags.
std::string UniqueRepo(const std::string& base) {
  static std::atomic<int> counter{0};
  return "slipway-test/" + base + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

class ImagePullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SLIPWAY_REQUIRE_TEST_REGISTRY();
    StatusOr<std::unique_ptr<ImageStore>> store = ImageStore::Open(tmp_.Sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    puller_ = std::make_unique<ImagePuller>(store_.get(), RegistryOptions());
  }
  // Pushes an image of layers as registry/repo:tag; returns the name.
  std::string Push(const std::string& repo, const std::vector<std::string>& layers,
                   const std::string& tag = "v1", const std::string& registry = TestRegistry()) {
    OciLayoutBuilder layout(tmp_.Sub("layout-" + std::to_string(layouts_++)));
    layout.Tag(layout.Image(layers), tag);
    std::string name = registry + "/" + repo + ":" + tag;
    std::string pushed = PushWithSkopeo(layout.dir(), tag, TestRegistry() + "/" + repo + ":" + tag);
    EXPECT_EQ(pushed, "");
    return name;
  }
  StatusOr<ResolvedImage> Resolve(const std::string& name, const std::string& policy = "") {
    return puller_->Resolve({name, policy},
                            [this](const std::string& line) { log_ += line + "\n"; });
  }
  // Pulls repo:v1 through a proxy in mode (one that corrupts blobs): the
  // error names the blob (starts with what) as corrupt.
  void PullCorrupt(const std::string& repo, const std::string& mode, const std::string& what) {
    TestRegistryProxy proxy(TestRegistry(), mode);
    std::string name = proxy.host() + "/" + repo + ":v1";
    StatusOr<ResolvedImage> image = Resolve(name);
    ASSERT_FALSE(image.ok());
    std::string message = image.status().message();
    EXPECT_NE(message.find(what), std::string::npos) << message;
    EXPECT_NE(message.find(" of " + name + " is corrupt: its content has the digest sha256:"),
              std::string::npos)
        << message;
  }
  // Files left in the store's tmp/ and blob counts, for "nothing half-written".
  size_t Count(const std::string& sub) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(store_->dir() + "/" + sub)) {
      (void)e;
      ++n;
    }
    return n;
  }

  TempDir tmp_;
  std::unique_ptr<ImageStore> store_;
  std::unique_ptr<ImagePuller> puller_;
  std::string log_;
  int layouts_ = 0;
};

TEST_F(ImagePullerTest, PullsARunnableBusyboxImage) {
  std::string busybox = Slurp("/bin/busybox");
  ASSERT_FALSE(busybox.empty()) << "busybox-static is not installed";
  std::string name = Push(UniqueRepo("busybox"), {TarBuilder()
                                                      .Dir("bin")
                                                      .File("bin/busybox", busybox, 0755)
                                                      .Symlink("bin/sh", "busybox")
                                                      .Dir("work")
                                                      .Take()});
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->reference, name);
  EXPECT_EQ(image->env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(image->cmd, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(image->working_dir, "/work");
  EXPECT_EQ(image->rootfs, store_->dir() + "/rootfs/" + image->digest.substr(7));
  std::string out = tmp_.Sub("out");
  std::string command = "'" + image->rootfs + "/bin/busybox' echo hello >'" + out + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(Slurp(out), "hello\n");
  EXPECT_NE(log_.find("Pulling docker image " + name + " ..."), std::string::npos) << log_;
  EXPECT_NE(log_.find("with digest " + TestRegistry()), std::string::npos) << log_;
  EXPECT_EQ(Count("tmp"), 0u);
}

// skopeo re-compresses the layers with zstd as it pushes: the registry then
// serves ...tar+zstd layers written by a real tool, not by this test.
TEST_F(ImagePullerTest, ZstdLayersAsSkopeoWritesThem) {
  OciLayoutBuilder layout(tmp_.Sub("zstd-layout"));
  std::string big(3 << 20, 'z');  // More than one zstd block and one read.
  layout.Tag(layout.Image({TarBuilder().File("a", "first").Take(),
                           TarBuilder().File("b", big).File("a", "second").Take()}),
             "v1");
  std::string name = TestRegistry() + "/" + UniqueRepo("zstd") + ":v1";
  ASSERT_EQ(PushWithSkopeo(layout.dir(), "v1", name, "--dest-compress-format zstd"), "");
  std::string manifest_log = tmp_.Sub("inspect");
  std::string inspect =
      "skopeo inspect --raw --tls-verify=false 'docker://" + name + "' >'" + manifest_log + "'";
  ASSERT_EQ(std::system(inspect.c_str()), 0);
  ASSERT_NE(Slurp(manifest_log).find("tar+zstd"), std::string::npos)
      << "skopeo did not write zstd layers: " << Slurp(manifest_log);
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(Slurp(image->rootfs + "/a"), "second");
  EXPECT_EQ(Slurp(image->rootfs + "/b"), big);
}

TEST_F(ImagePullerTest, AppliesLayersWithWhiteoutsAndOpaqueDirectories) {
  std::string name =
      Push(UniqueRepo("layers"),
           {TarBuilder().File("etc/gone", "1").File("etc/kept", "2").File("cache/old", "3").Take(),
            TarBuilder()
                .File("etc/.wh.gone", "")
                .Dir("cache")
                .File("cache/.wh..wh..opq", "")
                .File("cache/new", "4")
                .Take(),
            TarBuilder().File("etc/kept", "2b").Take()});
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_FALSE(fs::exists(image->rootfs + "/etc/gone"));
  EXPECT_EQ(Slurp(image->rootfs + "/etc/kept"), "2b");
  EXPECT_FALSE(fs::exists(image->rootfs + "/cache/old"));
  EXPECT_EQ(Slurp(image->rootfs + "/cache/new"), "4");
}

TEST_F(ImagePullerTest, AnIndexIsResolvedToThisMachinesPlatform) {
  std::string repo = UniqueRepo("multi");
  OciLayoutBuilder layout(tmp_.Sub("layout-index"));
  nlohmann::json arm = layout.Image({TarBuilder().File("arch", "arm64").Take()}, {}, "arm64");
  nlohmann::json amd = layout.Image({TarBuilder().File("arch", "amd64").Take()}, {}, "amd64");
  layout.Tag(layout.Index({arm, amd}), "multi");
  ASSERT_EQ(PushWithSkopeo(layout.dir(), "multi", TestRegistry() + "/" + repo + ":multi"), "");
  StatusOr<ResolvedImage> image = Resolve(TestRegistry() + "/" + repo + ":multi");
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(Slurp(image->rootfs + "/arch"), HostArchitecture());
  EXPECT_EQ(image->digest, (HostArchitecture() == "arm64" ? arm : amd)["digest"]);
}

TEST_F(ImagePullerTest, PullPoliciesAsGitLabRunnerHasThem) {
  std::string repo = UniqueRepo("policy");
  TestRegistryProxy proxy(TestRegistry(), "plain");
  std::string name = proxy.host() + "/" + repo + ":v1";
  // never: only what the store has.
  StatusOr<ResolvedImage> image = Resolve(name, "never");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            "image " + name + " is not in the image store " + store_->dir() +
                " and its pull_policy is never (load it with `slipway image "
                "pull` or `slipway "
                "image import`)");
  Push(repo, {TarBuilder().File("version", "1").Take()});
  StatusOr<ResolvedImage> first = Resolve(name, "if-not-present");
  ASSERT_TRUE(first.ok()) << first.status().message();
  // always: the tag's current manifest; the new image, from the registry.
  Push(repo, {TarBuilder().File("version", "2").Take()});
  StatusOr<ResolvedImage> second = Resolve(name, "always");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_NE(first->digest, second->digest);
  EXPECT_EQ(Slurp(second->rootfs + "/version"), "2");
  EXPECT_EQ(Slurp(first->rootfs + "/version"), "1") << "an image in the store never changes";
  // if-not-present and never: the store's, without asking the registry.
  proxy.Stop();
  for (const char* policy : {"if-not-present", "never"}) {
    StatusOr<ResolvedImage> local = Resolve(name, policy);
    ASSERT_TRUE(local.ok()) << policy << ": " << local.status().message();
    EXPECT_EQ(local->digest, second->digest);
  }
  image = Resolve(name, "always");
  ASSERT_FALSE(image.ok()) << "always asks the registry, which is down";
  EXPECT_NE(image.status().message().find("cannot pull " + name + ": "), std::string::npos)
      << image.status().message();
  EXPECT_NE(image.status().message().find("cannot connect to 127.0.0.1"), std::string::npos)
      << image.status().message();
  image = Resolve(name, "sometimes");
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "unknown pull_policy `sometimes` for image `" + name +
                                          "` (always, if-not-present or never)");
}

TEST_F(ImagePullerTest, AnUnknownTagOrRepositoryIsNamedWithTheRegistrysAnswer) {
  std::string repo = UniqueRepo("unknown");
  Push(repo, {TarBuilder().File("a", "1").Take()});
  std::string name = TestRegistry() + "/" + repo + ":nope";
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(), "cannot pull " + name +
                                          ": the manifest request for `nope` answered manifest "
                                          "unknown (HTTP 404)");
  name = TestRegistry() + "/slipway-test/no-such-repository:v1";
  image = Resolve(name);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("cannot pull " + name + ": "), std::string::npos)
      << image.status().message();
  EXPECT_NE(image.status().message().find("unknown"), std::string::npos)
      << image.status().message();
}

// A registry that is down: the port was just closed. The error names the
// image and what the connection answered; nothing is left in the store.
TEST_F(ImagePullerTest, ARegistryThatIsDownIsNamedAndNothingStays) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);  // Nothing listens there now.
  std::string name = "127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/app:v1";
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message().rfind("cannot pull " + name + ": ", 0), 0u)
      << image.status().message();
  EXPECT_NE(image.status().message().find("refused"), std::string::npos)
      << image.status().message();
  EXPECT_EQ(Count("tmp"), 0u);
  EXPECT_EQ(Count("rootfs"), 0u);
}

TEST_F(ImagePullerTest, ACorruptBlobIsRefusedAndNothingOfItStays) {
  std::string repo = UniqueRepo("corrupt");
  Push(repo, {TarBuilder().File("a", "1").Take()});
  // The config is the first blob fetched.
  PullCorrupt(repo, "corrupt", "the config sha256:");
  EXPECT_EQ(Count("tmp"), 0u);
  EXPECT_EQ(Count("blobs/sha256"), 0u);
  EXPECT_EQ(Count("rootfs"), 0u);
}

TEST_F(ImagePullerTest, BearerTokensFromTheRealmWithCredentialsFromDockerAuthConfig) {
  std::string repo = UniqueRepo("token");
  Push(repo, {TarBuilder().File("secret", "s").Take()});
  TestRegistryProxy proxy(TestRegistry(), "token", "robot:hunter2");
  std::string name = proxy.host() + "/" + repo + ":v1";
  // Without credentials the token service refuses.
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            "cannot pull " + name + ": pull access denied for " + proxy.host() + "/" + repo +
                ", the repository does not exist or needs credentials: the "
                "token service "
                "answered bad user or password (HTTP 401)");
  // Wrong credentials.
  RegistryOptions wrong;
  ASSERT_TRUE(wrong.credentials
                  .AddConfig(R"({"auths":{")" + proxy.host() + R"(":{"auth":"cm9ib3Q6d3Jvbmc="}}})",
                             "$DOCKER_AUTH_CONFIG")
                  .ok());  // robot:wrong
  ImagePuller wrong_puller(store_.get(), std::move(wrong));
  image = wrong_puller.Resolve({name, ""}, nullptr);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            "cannot pull " + name + ": wrong credentials for " + proxy.host() +
                " (from $DOCKER_AUTH_CONFIG): the token service answered bad "
                "user or password "
                "(HTTP 401)");
  // The right ones, as GitLab Runner reads them.
  RegistryOptions right;
  ASSERT_TRUE(right.credentials
                  .AddConfig(R"({"auths":{"http://)" + proxy.host() +
                                 R"(":{"auth":"cm9ib3Q6aHVudGVyMg=="}}})",
                             "$DOCKER_AUTH_CONFIG")
                  .ok());  // robot:hunter2
  ImagePuller right_puller(store_.get(), std::move(right));
  image = right_puller.Resolve({name, ""}, nullptr);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(Slurp(image->rootfs + "/secret"), "s");
  std::string requests = proxy.Requests();
  EXPECT_NE(requests.find("/token?service=test-registry&scope=repository%3A" +
                          repo.substr(0, repo.find('/')) + "%2F"),
            std::string::npos)
      << requests;
  EXPECT_NE(requests.find("Bearer token-for-slipway-test"), std::string::npos) << requests;
}

TEST_F(ImagePullerTest, BasicAuthentication) {
  std::string repo = UniqueRepo("basic");
  Push(repo, {TarBuilder().File("b", "b").Take()});
  TestRegistryProxy proxy(TestRegistry(), "basic", "robot:hunter2");
  std::string name = proxy.host() + "/" + repo + ":v1";
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            "cannot pull " + name + ": the registry " + proxy.host() +
                " asks for a user name and password, and none is configured "
                "(DOCKER_AUTH_CONFIG or ~/.docker/config.json)");
  RegistryOptions right;
  ASSERT_TRUE(
      right.credentials
          .AddConfig(R"({"auths":{")" + proxy.host() + R"(":{"auth":"cm9ib3Q6aHVudGVyMg=="}}})",
                     "~/.docker/config.json")
          .ok());
  ImagePuller right_puller(store_.get(), std::move(right));
  image = right_puller.Resolve({name, ""}, nullptr);
  ASSERT_TRUE(image.ok()) << image.status().message();
}

// DOCKER_AUTH_CONFIG naming a credential helper, as GitLab Runner reads it:
// a real docker-credential-* program (a script on PATH) gives the password
// the registry's basic auth wants; it never reaches the log or an error.
// Layers are unpacked while the next ones download: a corrupt second layer
// found after the first was unpacked leaves no root file system, nothing in
// tmp/, and only the blobs that were verified.
TEST_F(ImagePullerTest, ACorruptLaterLayerDiscardsWhatTheEarlierOnesUnpacked) {
  std::string repo = UniqueRepo("corrupt-later");
  std::string noise;
  for (uint32_t x = 1; noise.size() < 64 * 1024;) {
    x = x * 1664525u + 1013904223u;
    noise += static_cast<char>(x >> 24);
  }
  Push(repo, {TarBuilder().File("first", "1").Take(), TarBuilder().File("noise", noise).Take()});
  PullCorrupt(repo, "corrupt-large", "layer sha256:");
  EXPECT_EQ(Count("tmp"), 0u);
  EXPECT_EQ(Count("rootfs"), 0u);
  EXPECT_EQ(Count("images"), 0u);
  EXPECT_EQ(Count("blobs/sha256"), 3u) << "the manifest, the config and the first layer, verified";
}

TEST_F(ImagePullerTest, CredentialsFromADockerCredentialHelper) {
  std::string repo = UniqueRepo("helper");
  Push(repo, {TarBuilder().File("h", "h").Take()});
  TestRegistryProxy proxy(TestRegistry(), "basic", "robot:hunter2");
  std::string name = proxy.host() + "/" + repo + ":v1";
  std::string bin = tmp_.Sub("bin");
  fs::create_directories(bin);
  std::ofstream(bin + "/docker-credential-slipway-test")
      << "#!/bin/sh\nserver=$(cat)\necho \"$1 $server\" >> " << bin << "/asked\n"
      << "printf '{\"ServerURL\":\"%s\",\"Username\":\"robot\",\"Secret\":\"hunter2\"}' "
         "\"$server\"\n";
  fs::permissions(bin + "/docker-credential-slipway-test", fs::perms::owner_all);
  std::string old_path = std::getenv("PATH");
  setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  struct Restore {
    std::string path;
    ~Restore() { setenv("PATH", path.c_str(), 1); }
  } restore{old_path};

  RegistryOptions helped;
  ASSERT_TRUE(helped.credentials
                  .AddConfig(R"({"credHelpers":{")" + proxy.host() + R"(":"slipway-test"}})",
                             "$DOCKER_AUTH_CONFIG")
                  .ok());
  ImagePuller puller(store_.get(), std::move(helped));
  std::string log;
  StatusOr<ResolvedImage> image =
      puller.Resolve({name, ""}, [&](const std::string& line) { log += line + "\n"; });
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(Slurp(image->rootfs + "/h"), "h");
  EXPECT_EQ(Slurp(bin + "/asked"), "get " + proxy.host() + "\n") << "asked once, with get";
  EXPECT_EQ(log.find("hunter2"), std::string::npos) << log;

  // A helper that is not there fails the pull, naming it.
  RegistryOptions missing;
  ASSERT_TRUE(
      missing.credentials.AddConfig(R"({"credsStore":"slipway-nosuch"})", "config.json").ok());
  ImagePuller missing_puller(store_.get(), std::move(missing));
  image = missing_puller.Resolve({proxy.host() + "/" + repo + ":v2", ""}, nullptr);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().message(),
            "cannot pull " + proxy.host() + "/" + repo + ":v2: cannot get the credentials for " +
                proxy.host() +
                ": cannot run the credential helper docker-credential-slipway-nosuch: it is not "
                "in PATH (credsStore of config.json)");
}

TEST_F(ImagePullerTest, WhatAnInterruptedPullLeftIsNotTrusted) {
  std::string name = Push(UniqueRepo("crash"), {TarBuilder().File("f", "whole").Take()});
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_TRUE(image.ok()) << image.status().message();
  // As a kill -9 leaves it between writing the record and renaming the
  // unpacked tree into place: a record without a rootfs, a half tree and a
  // half blob in tmp/.
  fs::remove_all(image->rootfs);
  fs::create_directories(store_->dir() + "/tmp/rootfs-1-2-3/etc");
  std::ofstream(store_->dir() + "/tmp/blob-1-2-3") << "half";
  EXPECT_FALSE(store_->Find(image->digest));
  StatusOr<ResolvedImage> again = Resolve(name, "if-not-present");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->digest, image->digest);
  EXPECT_EQ(Slurp(again->rootfs + "/f"), "whole");
  StatusOr<PruneResult> pruned = store_->Prune();
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(pruned->temporaries, 2u);
  EXPECT_EQ(pruned->images, 0u);
  EXPECT_EQ(Count("tmp"), 0u);
  EXPECT_TRUE(store_->Find(image->digest));
}

// A job canceled while it waits for the store's per-image lock (another
// job pulls or unpacks the image) stops waiting: for the pull and for the
// unpacking again of a stored image (Restore).
TEST_F(ImagePullerTest, WaitingForAnotherJobsUnpackingEndsWhenCanceled) {
  std::string name = Push(UniqueRepo("wait"), {TarBuilder().File("f", "whole").Take()});
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_TRUE(image.ok()) << image.status().message();
  fs::remove_all(image->rootfs);  // To be unpacked again from its blobs.
  StatusOr<UniqueFd> held = store_->LockImage(image->digest);  // The other job's.
  ASSERT_TRUE(held.ok()) << held.status().message();
  int asked = 0;  // Asked only while the lock is busy: no request is made.
  auto canceled = [&] { return ++asked >= 3; };  // And stays so, as a job's token.
  StatusOr<UniqueFd> lock = store_->LockImage(image->digest, canceled);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().message(), "waiting for the lock " + store_->dir() + "/locks/" +
                                         image->digest.substr(7) + ".lock was canceled");
  asked = 0;
  ImageRequest request;
  request.name = name;
  request.pull_policy = "if-not-present";
  request.canceled = canceled;
  StatusOr<ResolvedImage> again = puller_->Resolve(request, nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message(), "the unpacking of " + name + " was canceled");
  EXPECT_GE(asked, 3);
  EXPECT_FALSE(store_->Find(image->digest));
  EXPECT_EQ(Count("tmp"), 0u);
  // Once the other job is done, the image is unpacked again.
  *held = UniqueFd();
  request.canceled = nullptr;
  again = puller_->Resolve(request, nullptr);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Slurp(again->rootfs + "/f"), "whole");
}

TEST_F(ImagePullerTest, ARootfsUnpackedInAnotherBootIsUnpackedAgainFromItsBlobs) {
  std::string repo = UniqueRepo("boot");
  Push(repo, {TarBuilder().File("f", "whole").Take()});
  TestRegistryProxy proxy(TestRegistry(), "plain");
  std::string name = proxy.host() + "/" + repo + ":v1";
  StatusOr<ResolvedImage> image = Resolve(name);
  ASSERT_TRUE(image.ok()) << image.status().message();
  std::string boot = Slurp("/proc/sys/kernel/random/boot_id");
  boot.pop_back();
  std::optional<ImageRecord> record = store_->Find(image->digest);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->unsynced_boot, boot) << "unpacked without a sync, trusted in this boot";
  // As a power loss leaves it: the record on disk (it is synced), the
  // rootfs's files torn, and the machine booted again.
  std::string path = store_->dir() + "/images/" + image->digest.substr(7) + ".json";
  std::string text = Slurp(path);
  text.replace(text.find(boot), boot.size(), "00000000-0000-0000-0000-000000000000");
  std::ofstream(path, std::ios::trunc) << text;
  std::ofstream(image->rootfs + "/f", std::ios::trunc) << "";
  EXPECT_FALSE(store_->Find(image->digest));
  // Unpacked again from the store's blobs, without the registry.
  proxy.Stop();
  StatusOr<ResolvedImage> again = Resolve(name, "if-not-present");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Slurp(again->rootfs + "/f"), "whole");
  ASSERT_TRUE(store_->Find(image->digest));
  EXPECT_EQ(store_->Find(image->digest)->unsynced_boot, boot);
  StatusOr<PruneResult> pruned = store_->Prune();
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_EQ(pruned->images, 0u);
  EXPECT_EQ(pruned->blobs, 0u);
}

TEST_F(ImagePullerTest, JobsAskingForTheSameImageAtOnceGetItPulledOnce) {
  std::string repo = UniqueRepo("once");
  Push(repo, {TarBuilder().File("big", std::string(1 << 20, 'x')).Take()});
  TestRegistryProxy proxy(TestRegistry(), "plain");
  std::string name = proxy.host() + "/" + repo + ":v1";
  std::vector<StatusOr<ResolvedImage>> results(4, Status::Error("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = puller_->Resolve({name, ""}, nullptr); });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->rootfs, results[0]->rootfs);
  }
  // Each asked for the tag; the layer was fetched once.
  std::string requests = proxy.Requests();
  size_t blob_requests = 0;
  for (size_t at = 0; (at = requests.find("/blobs/", at)) != std::string::npos; ++at) {
    ++blob_requests;
  }
  EXPECT_EQ(blob_requests, 2u) << requests;  // The config and the layer.
  EXPECT_EQ(Count("rootfs"), 1u);
  EXPECT_EQ(Count("tmp"), 0u);
}

}  // namespace
}  // namespace slipway
