// `slipway project add` checks the repository before storing it, and
// `slipway project list` shows what is stored: the real binary, real git.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_test_util.h"
#include "cli/repository_check.h"
#include "store/store.h"
#include "util/test_repo.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class ProjectCommandTest : public ::testing::Test {
 protected:
  ProjectCommandTest() : data_(scratch_.dir() + "/data") {
    repo_.Write("README", "hello\n");
    repo_.Git({"add", "-A"});
    repo_.Git({"commit", "-q", "-m", "first"});
  }
  CliResult Add(std::vector<std::string> args) {
    args.insert(args.begin(), {"project", "add", "--data", data_});
    return RunSlipway(args);
  }
  std::string List() {
    CliResult r = RunSlipway({"project", "list", "--data", data_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  TestRepo repo_;
  TestRepo scratch_{false};
  std::string data_;
};

// A mistaken path is refused and does not take the name: the README's
// walkthrough with a path that does not exist.
TEST_F(ProjectCommandTest, MissingPathIsRefusedAndTheNameStaysFree) {
  std::string missing = scratch_.dir() + "/path/to/repo";
  CliResult r = Add({"demo", missing});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "slipway: repository " + missing + " does not exist; --no-check stores it anyway\n");
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(data_)) << "a refused project was stored";
  CliResult ok = Add({"demo", repo_.dir()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "1\n");
}

// Only executors slipway has are stored: a project naming another would
// fail every pipeline.
TEST_F(ProjectCommandTest, UnknownExecutorIsRefused) {
  CliResult r = Add({"demo", repo_.dir(), "--executor", "kubernetes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err,
      "slipway: executor 'kubernetes' is not supported: the executors are 'shell', 'sandbox', "
      "'slurm' and 'remote'\n");
  EXPECT_FALSE(fs::exists(data_)) << "a refused project was stored";
  CliResult ok = Add({"demo", repo_.dir(), "--executor", "shell"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(ProjectCommandTest, APlainDirectoryOrOneInsideAWorkTreeIsNotARepository) {
  fs::create_directories(scratch_.dir() + "/plain");
  fs::create_directories(repo_.dir() + "/sub");
  for (const std::string& dir : {scratch_.dir() + "/plain", repo_.dir() + "/sub"}) {
    CliResult r = Add({"demo", dir});
    EXPECT_EQ(r.exit_code, 2) << dir;
    EXPECT_EQ(r.err, "slipway: " + dir +
                         " is not a git repository: give its top directory, or a bare one; "
                         "--no-check stores it anyway\n");
  }
  std::ofstream(scratch_.dir() + "/file") << "x";
  EXPECT_EQ(Add({"demo", scratch_.dir() + "/file"}).err,
            "slipway: repository " + scratch_.dir() +
                "/file is not a directory; --no-check stores it anyway\n");
  EXPECT_FALSE(fs::exists(data_)) << "a refused project was stored";
}

TEST_F(ProjectCommandTest, RelativePathsBareRepositoriesAndFileUrlsAreAccepted) {
  std::string bare = scratch_.dir() + "/bare.git";
  repo_.Git({"clone", "-q", "--bare", repo_.dir(), bare});
  CliResult relative =
      RunSlipway({"project", "add", "--data", data_, "rel", fs::path(repo_.dir()).filename()},
                 fs::path(repo_.dir()).parent_path());
  EXPECT_EQ(relative.exit_code, 0) << relative.err;
  EXPECT_EQ(Add({"bare", bare, "--default-branch", "trunk"}).exit_code, 0);
  EXPECT_EQ(Add({"url", "file://" + repo_.dir(), "--path", "group/url"}).exit_code, 0);
  EXPECT_EQ(List(),
            "id  name  path       branch  repository\n"
            "1   rel   rel        main    " +
                repo_.dir() +
                "\n"
                "2   bare  bare       trunk   " +
                bare +
                "\n"
                "3   url   group/url  main    file://" +
                repo_.dir() + "\n");
}

TEST_F(ProjectCommandTest, UnreachableUrlIsRefused) {
  CliResult r = Add({"demo", "file://" + scratch_.dir() + "/nothing"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "slipway: cannot reach file://" + scratch_.dir() + "/nothing: '" +
                       scratch_.dir() +
                       "/nothing' does not appear to be a git repository; "
                       "--no-check stores it anyway\n");
  // A host name that starts with '-' is an option to ssh, not a host: git refuses it.
  CliResult option =
      RunSlipway({"project", "add", "--data", data_, "demo", "--", "-oProxyCommand=touch pwned:x"},
                 scratch_.dir());
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_EQ(option.err,
            "slipway: cannot reach -oProxyCommand=touch pwned:x: strange hostname "
            "'-oProxyCommand=touch pwned' blocked; --no-check stores it anyway\n");
  EXPECT_FALSE(fs::exists(scratch_.dir() + "/pwned"));
  EXPECT_FALSE(fs::exists(data_)) << "a refused project was stored";
}

// A server that accepts the connection and never answers: the check gives up
// after --check-timeout and kills git and its helpers.
TEST_F(ProjectCommandTest, SilentServerTimesOut) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/repo.git";
  CliResult r = Add({"demo", url, "--check-timeout", "1"});
  ::close(listener);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "slipway: " + url +
                       " did not answer `git ls-remote` within 1 s; --no-check stores it anyway\n");
  EXPECT_FALSE(fs::exists(data_)) << "a refused project was stored";
}

TEST_F(ProjectCommandTest, ListSaysWhenThereAreNone) {
  ASSERT_EQ(
      RunSlipway({"token", "create", "--data", data_, "--name", "n", "--role", "read"}).exit_code,
      0);
  EXPECT_EQ(List(), "no projects (add one with `slipway project add NAME REPO`)\n");
}

TEST_F(ProjectCommandTest, ListDoesNotCreateADataDirectory) {
  std::string typo = scratch_.dir() + "/dtaa";
  CliResult r = RunSlipway({"project", "list", "--data", typo});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "slipway: no server data in " + typo + " (no " + typo +
                       "/slipway.db); is --data right?\n");
  EXPECT_FALSE(fs::exists(typo));
}

TEST_F(ProjectCommandTest, NoCheckStoresAnything) {
  CliResult r = Add({"later", "https://git.example.invalid/later.git", "--no-check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(List(),
            "id  name   path   branch  repository\n"
            "1   later  later  main    https://git.example.invalid/later.git\n");
}

// Credentials in a URL stay out of what the commands print.
TEST_F(ProjectCommandTest, CredentialsInAUrlAreNotShown) {
  CliResult r = Add({"demo", "http://ci-bot:s3cret@127.0.0.1:1/repo.git"});  // Refused.
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("slipway: cannot reach http://*****:*****@127.0.0.1:1/repo.git: ", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
  r = Add({"later", "https://ci-bot:s3cret@git.example.invalid/later.git", "--no-check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(List(),
            "id  name   path   branch  repository\n"
            "1   later  later  main    https://*****:*****@git.example.invalid/later.git\n");
}

// --forge: where commit statuses go, with the token read from the
// environment (never a command-line argument `ps` would show) and stored
// encrypted; incomplete settings are refused before anything is stored.
TEST_F(ProjectCommandTest, ForgeSettingsTakeTheTokenFromTheEnvironment) {
  CliResult missing = Add({"demo", repo_.dir(), "--forge", "github", "--forge-project", "o/r"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "slipway: --forge github needs a token (--forge-token-env VARIABLE names the "
            "environment variable that holds it)\n");
  CliResult unset = Add({"demo", repo_.dir(), "--forge", "github", "--forge-project", "o/r",
                         "--forge-token-env", "NOPE_X"});
  EXPECT_EQ(unset.err, "slipway: --forge-token-env NOPE_X: not set in slipway's environment\n");
  CliResult no_forge = Add({"demo", repo_.dir(), "--forge-url", "https://api.github.com"});
  EXPECT_EQ(no_forge.exit_code, 2);
  EXPECT_FALSE(fs::exists(data_)) << "a refused project was stored";
  CliResult ok =
      RunSlipway({"project", "add", "--data", data_, "demo", repo_.dir(), "--path", "team/demo",
                  "--forge", "gitea", "--forge-url", "https://gitea.example/api/v1/",
                  "--forge-project", "team/demo", "--forge-token-env", "DEMO_FORGE_TOKEN"},
                 "", {"DEMO_FORGE_TOKEN=gitea-token-value"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out.find("gitea-token-value"), std::string::npos);
  StoreOptions options;
  options.secrets_key_file = data_ + "/secrets.key";
  auto store = OpenStore("sqlite:" + data_ + "/slipway.db", options);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto forge = (*store)->GetProjectForge(1);
  ASSERT_TRUE(forge.ok() && *forge);
  EXPECT_EQ((*forge)->kind, "gitea");
  EXPECT_EQ((*forge)->api_url, "https://gitea.example/api/v1");
  EXPECT_EQ((*forge)->forge_project, "team/demo");
  EXPECT_EQ((*forge)->token, "gitea-token-value");
}

TEST(RepositoryCheckTest, LocalPathsAsGitReadsThem) {
  EXPECT_TRUE(IsLocalRepository("/srv/repo"));
  EXPECT_TRUE(IsLocalRepository("repo"));
  EXPECT_TRUE(IsLocalRepository("./a:b"));
  EXPECT_FALSE(IsLocalRepository("git@host:group/repo.git"));
  EXPECT_FALSE(IsLocalRepository("https://host/repo.git"));
  EXPECT_FALSE(IsLocalRepository("file:///srv/repo"));
}

}  // namespace
}  // namespace slipway
