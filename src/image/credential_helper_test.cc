// Docker credential helpers run as real processes: shell scripts the tests
// write into a directory put first on PATH.
#include "image/credential_helper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "image/credentials.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

// Puts dir first on PATH for the test's life.
class HelpersOnPath : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* path = std::getenv("PATH");
    old_path_ = path != nullptr ? path : "";
    setenv("PATH", (tmp_.path() + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override { setenv("PATH", old_path_.c_str(), 1); }
  // Writes docker-credential-<name> running body (sh).
  void Helper(const std::string& name, const std::string& body) {
    std::string path = tmp_.path() + "/docker-credential-" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0755);
  }
  std::string Asked() {
    std::ifstream in(tmp_.path() + "/asked");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // A helper that records the address it was asked for and knows host.
  void Knowing(const std::string& name, const std::string& host, const std::string& user,
               const std::string& secret) {
    Helper(name, "[ \"$1\" = get ] || exit 9\nserver=$(cat)\necho \"$server\" >> " + tmp_.path() +
                     "/asked\nif [ \"$server\" = '" + host +
                     "' ]; then printf '{\"ServerURL\":\"%s\",\"Username\":\"" + user +
                     "\",\"Secret\":\"" + secret +
                     "\"}' \"$server\"; else echo 'credentials not found in native keychain'; "
                     "exit 1; fi");
  }

  TempDir tmp_;
  std::string old_path_;
};

TEST_F(HelpersOnPath, GetWithTheServerOnStdinAnswersUsernameAndSecret) {
  Knowing("t1", "reg.example:5000", "robot", "hunter2");
  auto got = RunCredentialHelper("t1", "reg.example:5000");
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->username, "robot");
  EXPECT_EQ((*got)->secret, "hunter2");
  EXPECT_EQ(Asked(), "reg.example:5000\n");
  got = RunCredentialHelper("t1", "other.example");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_FALSE(*got) << "credentials not found: none, not an error";
}

TEST_F(HelpersOnPath, AMissingOrFailingHelperIsNamedAndTheSecretNeverShows) {
  auto got = RunCredentialHelper("nosuch-slipway", "reg.example");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "cannot run the credential helper docker-credential-nosuch-slipway: it is not in PATH");
  Helper("locked", "cat >/dev/null; echo 'the keychain is locked'; exit 3");
  got = RunCredentialHelper("locked", "reg.example");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "the credential helper docker-credential-locked failed for reg.example (exit status "
            "3): the keychain is locked");
  // An answer that is not the protocol's JSON is not quoted: it may hold
  // the secret.
  Helper("garbled", "cat >/dev/null; echo '{\"Username\": \"robot\", \"Secret\": \"hunter2\"'");
  got = RunCredentialHelper("garbled", "reg.example");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message().find("hunter2"), std::string::npos) << got.status().message();
  EXPECT_EQ(got.status().message(),
            "the credential helper docker-credential-garbled answered for reg.example with "
            "something else than {\"Username\": ..., \"Secret\": ...}");
}

// GitLab Runner refuses a helper name that is a path ("path traversal is
// not allowed"): a config must not make slipway run any program but
// docker-credential-NAME from PATH.
TEST_F(HelpersOnPath, AHelperNameThatIsAPathIsRefusedAndNothingRuns) {
  std::filesystem::create_directories(tmp_.Sub("docker-credential-x"));
  std::string evil = tmp_.Sub("docker-credential-x/evil");
  std::ofstream(evil) << "#!/bin/sh\ntouch " << tmp_.path() << "/ran\n";
  chmod(evil.c_str(), 0755);
  CredentialStore store;
  Status added =
      store.AddConfig(R"({"credHelpers": {"reg.example": "x/evil"}})", "$DOCKER_AUTH_CONFIG");
  EXPECT_EQ(added.message(),
            "$DOCKER_AUTH_CONFIG: the credential helper `x/evil` of `reg.example` in "
            "\"credHelpers\" is not a program name (docker-credential-NAME in PATH)");
  added = store.AddConfig(R"({"credsStore": "../x/evil"})", "$DOCKER_AUTH_CONFIG");
  EXPECT_EQ(added.message(),
            "$DOCKER_AUTH_CONFIG: the \"credsStore\" `../x/evil` is not a program name "
            "(docker-credential-NAME in PATH)");
  auto got = RunCredentialHelper("x/evil", "reg.example");
  EXPECT_FALSE(got.ok());
  EXPECT_FALSE(store.UsesHelpers());
  EXPECT_FALSE(std::ifstream(tmp_.path() + "/ran").good());
}

// The order GitLab Runner layers a document in: credHelpers over credsStore
// over auths; the first document (DOCKER_AUTH_CONFIG) over the next.
TEST_F(HelpersOnPath, PrecedenceAsGitLabRunnerLayersIt) {
  Knowing("per-host", "a.example", "from-credhelpers", "s1");
  Knowing("store", "a.example", "from-credsstore", "s2");
  Helper("store-b",
         "server=$(cat); [ \"$server\" = b.example ] && "
         "echo '{\"Username\":\"store-b\",\"Secret\":\"s3\"}' && exit 0; "
         "echo 'credentials not found in native keychain'; exit 1");
  CredentialStore store;
  ASSERT_TRUE(store
                  .AddConfig(R"({"auths": {"a.example": {"auth": "YXV0aHM6cA=="},
                                           "c.example": {"auth": "YXV0aHM6cA=="}},
                                 "credHelpers": {"a.example": "per-host"},
                                 "credsStore": "store"})",
                             "$DOCKER_AUTH_CONFIG")
                  .ok());
  ASSERT_TRUE(store
                  .AddConfig(R"({"credsStore": "store-b",
                                 "auths": {"d.example": {"auth": "ZmlsZTpw"}}})",
                             "/home/u/.docker/config.json")
                  .ok());
  auto a = store.For("a.example");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(*a);
  EXPECT_EQ((*a)->username, "from-credhelpers");
  EXPECT_EQ((*a)->source, "docker-credential-per-host, credHelpers of $DOCKER_AUTH_CONFIG");
  // c.example: the store has none, so the document's auths.
  auto c = store.For("c.example");
  ASSERT_TRUE(c.ok() && *c) << c.status().message();
  EXPECT_EQ((*c)->username, "auths");
  // b.example: nothing in the first document; the second's store.
  auto b = store.For("b.example");
  ASSERT_TRUE(b.ok() && *b) << b.status().message();
  EXPECT_EQ((*b)->username, "store-b");
  EXPECT_EQ((*b)->source, "docker-credential-store-b, credsStore of /home/u/.docker/config.json");
  auto d = store.For("d.example");
  ASSERT_TRUE(d.ok() && *d) << d.status().message();
  EXPECT_EQ((*d)->username, "file");
  // Asked once per registry; the answer is kept.
  std::string asked = Asked();
  ASSERT_TRUE(store.For("a.example").ok());
  EXPECT_EQ(Asked(), asked);
}

}  // namespace
}  // namespace slipway
