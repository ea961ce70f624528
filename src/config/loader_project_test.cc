// include:project through the real NetworkFetcher and real git: projects are
// git repositories under a server directory (git's local transport, and
// file:// URLs), fetched into a private include cache.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"
#include "config/network_fetcher.h"
#include "config/test_project.h"
#include "util/git.h"
#include "util/spawn.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class ProjectIncludeTest : public ::testing::Test {
 protected:
  ProjectIncludeTest() {
    std::string tmpl = (fs::temp_directory_path() / "slipway-projects-XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    options_.cache_dir = root_ + "/cache";
    options_.include_server = root_ + "/server";
  }
  ~ProjectIncludeTest() override { fs::remove_all(root_); }

  // Commits files into the repository of project under the server (made
  // on first use, branch main), and returns the commit.
  std::string Commit(const std::string& project,
                     const std::vector<std::pair<std::string, std::string>>& files) {
    std::string dir = root_ + "/server/" + project;
    if (!fs::exists(dir + "/.git")) {
      fs::create_directories(dir);
      Git(dir, {"init", "-q", "-b", "main"});
      Git(dir, {"config", "user.name", "T"});
      Git(dir, {"config", "user.email", "t@example.com"});
    }
    for (const auto& [path, content] : files) {
      fs::create_directories(fs::path(dir + "/" + path).parent_path());
      std::ofstream(dir + "/" + path) << content;
    }
    Git(dir, {"add", "-A"});
    Git(dir, {"commit", "-q", "-m", "c"});
    return Git(dir, {"rev-parse", "HEAD"});
  }
  std::string Git(const std::string& dir, const std::vector<std::string>& args) {
    StatusOr<std::string> out = GitOutput(dir, args);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? *out : "";
  }

  using Result = FetchedLoad;
  Result LoadWith(const FetchOptions& fetch) {
    NetworkFetcher fetcher(fetch);
    return LoadWithFetcher(project_, &fetcher);
  }
  Loaded Load() { return LoadWith(options_).loaded; }

  std::string root_;
  TempProject project_;
  FetchOptions options_;
};

TEST_F(ProjectIncludeTest, ReadsFilesAtARefWithNestedLocalIncludesFromThatProject) {
  std::string v1 = Commit("group/ci", {{"templates/build.yml",
                                        "include:\n  - local: templates/common.yml\n"
                                        "build:\n  script: make v1\n"},
                                       {"templates/common.yml", "variables:\n  COMMON: ci\n"},
                                       {"templates/test.yml", "test:\n  script: test\n"}});
  Git(root_ + "/server/group/ci", {"tag", "v1"});
  Commit("group/ci", {{"templates/build.yml", "build:\n  script: make v2\n"}});
  // The project has a file of the same name: the nested include must not read it.
  project_.Write("templates/common.yml", "variables:\n  COMMON: mine\n");
  project_.Write(".gitlab-ci.yml",
                 "include:\n"
                 "  - project: Group/CI\n    ref: v1\n"
                 "    file: [/templates/build.yml, templates/test.yml]\n");
  Result r = LoadWith(options_);
  EXPECT_EQ(r.loaded.diagnostics, "");
  EXPECT_EQ(r.loaded.yaml,
            "variables:\n  COMMON: ci\nbuild:\n  script: make v1\ntest:\n  script: test\n");
  ASSERT_EQ(r.sources.size(), 4u);
  EXPECT_EQ(r.sources[1].name, "group/ci@v1:templates/build.yml");
  EXPECT_EQ(r.sources[1].origin, root_ + "/server/group/ci " + v1);
  EXPECT_EQ(r.sources[2].name, "group/ci@v1:templates/common.yml");
  EXPECT_EQ(r.sources[2].origin, r.sources[1].origin);
  // Without ref: the project's HEAD.
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    file: templates/build.yml\n");
  EXPECT_EQ(Load().yaml, "build:\n  script: make v2\n");
}

TEST_F(ProjectIncludeTest, ASecondLoadAndOfflineNeedNoServer) {
  Commit("group/ci", {{"a.yml", "a:\n  script: a\n"}});
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    ref: main\n    file: a.yml\n");
  Result first = LoadWith(options_);
  ASSERT_EQ(first.loaded.diagnostics, "");
  EXPECT_FALSE(first.sources[1].from_cache);
  fs::remove_all(root_ + "/server");
  Result second = LoadWith(options_);
  EXPECT_EQ(second.loaded.diagnostics, "");
  EXPECT_TRUE(second.sources[1].from_cache);
  FetchOptions offline = options_;
  offline.offline = true;
  EXPECT_EQ(LoadWith(offline).loaded.yaml, first.loaded.yaml);
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    ref: other\n    file: a.yml\n");
  EXPECT_EQ(LoadWith(offline).loaded.diagnostics,
            ".gitlab-ci.yml:2:5: error: Project `group/ci` reference `other` is not available "
            "offline: --offline, and the include cache `" +
                options_.cache_dir + "` has no copy of it\n");
}

// A commit never changes, so a file read from one is kept in the include
// cache: a second load reads it without git (here: with its blob gone from
// the cached repository, which only the cache can then answer).
TEST_F(ProjectIncludeTest, ACachedProjectFileIsReadWithoutGit) {
  std::string commit = Commit("group/ci", {{"a.yml", "a:\n  script: a\n"}});
  std::string blob = Git(root_ + "/server/group/ci", {"rev-parse", commit + ":a.yml"});
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    ref: main\n    file: a.yml\n");
  Result first = LoadWith(options_);
  ASSERT_EQ(first.loaded.diagnostics, "");
  int removed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(options_.cache_dir)) {
    if (entry.path().filename() == blob.substr(2) &&
        entry.path().parent_path().filename() == blob.substr(0, 2)) {
      removed += fs::remove(entry.path()) ? 1 : 0;
    }
  }
  ASSERT_EQ(removed, 1) << "the blob is not a loose object of the cached repository";
  Result second = LoadWith(options_);
  EXPECT_EQ(second.loaded.diagnostics, "");
  EXPECT_EQ(second.loaded.yaml, first.loaded.yaml);
}

// When every file a load reads is in the cache, the load asks git nothing:
// not even whether the cached repository still holds the ref's commit.
// When one is not, and the commit is gone, it is fetched again.
TEST_F(ProjectIncludeTest, ACachedLoadNeedsNoRepositoryAndAMissingCommitIsFetchedAgain) {
  Commit("group/ci", {{"a.yml", "a:\n  script: a\n"}, {"b.yml", "b:\n  script: b\n"}});
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    ref: main\n    file: a.yml\n");
  Result first = LoadWith(options_);
  ASSERT_EQ(first.loaded.diagnostics, "");
  fs::remove_all(options_.cache_dir + "/v1/git");
  fs::rename(root_ + "/server", root_ + "/away");
  Result cached = LoadWith(options_);
  EXPECT_EQ(cached.loaded.diagnostics, "");
  EXPECT_EQ(cached.loaded.yaml, first.loaded.yaml);

  // b.yml was never read: its load needs the commit, which is fetched again.
  fs::rename(root_ + "/away", root_ + "/server");
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    ref: main\n    file: [a.yml, b.yml]\n");
  Result more = LoadWith(options_);
  EXPECT_EQ(more.loaded.diagnostics, "");
  EXPECT_NE(more.loaded.yaml.find("script: b"), std::string::npos) << more.loaded.yaml;
}

TEST_F(ProjectIncludeTest, ReportsGitLabsMessages) {
  Commit("group/ci", {{"a.yml", "a:\n  script: a\n"}, {"empty.yml", "\n"}});
  // A repository beside the server, which `../` would reach.
  Commit("../etc", {{"a.yml", "stolen:\n  script: a\n"}});
  project_.Write(".gitlab-ci.yml",
                 "include:\n"
                 "  - project: group/ci\n    ref: nope\n    file: a.yml\n"
                 "  - project: group/missing\n    file: a.yml\n"
                 "  - project: group/ci\n    file: [missing.yml, empty.yml, a.txt]\n"
                 "  - project: ../etc\n    file: a.yml\n"
                 "  - project: group/ci\n    ref: --upload-pack=touch\n    file: a.yml\n");
  std::string d = Load().diagnostics;
  auto line = [&](int n) {
    size_t start = 0;
    for (int i = 1; i < n; ++i) start = d.find('\n', start) + 1;
    return d.substr(start, d.find('\n', start) - start);
  };
  EXPECT_EQ(line(1).rfind(".gitlab-ci.yml:2:5: error: Project `group/ci` reference `nope` does "
                          "not exist! (",
                          0),
            0u)
      << d;
  EXPECT_EQ(line(2).rfind(".gitlab-ci.yml:5:5: error: Project `group/missing` not found or access "
                          "denied! Make sure any includes in the pipeline configuration are "
                          "correctly defined. (",
                          0),
            0u)
      << d;
  EXPECT_EQ(line(3),
            ".gitlab-ci.yml:7:5: error: Project `group/ci` file `missing.yml` does not exist!");
  EXPECT_EQ(line(4), ".gitlab-ci.yml:7:5: error: Project `group/ci` file `empty.yml` is empty!");
  EXPECT_EQ(line(5),
            ".gitlab-ci.yml:7:5: error: Included file `a.txt` does not have YAML "
            "extension!");
  EXPECT_EQ(line(6),
            ".gitlab-ci.yml:9:5: error: Project `../etc` not found or access "
            "denied! Make sure any includes in the pipeline configuration are correctly "
            "defined. (not a project path)");
  EXPECT_EQ(line(7).rfind(".gitlab-ci.yml:11:5: error: Project `group/ci` reference "
                          "`--upload-pack=touch` does not exist!",
                          0),
            0u)
      << d;
}

TEST_F(ProjectIncludeTest, ACycleAcrossProjectsStopsAtGitLabsLimit) {
  Commit("group/a",
         {{"a.yml", "include:\n  - project: group/b\n    file: b.yml\na:\n  script: a\n"}});
  Commit("group/b",
         {{"b.yml", "include:\n  - project: group/a\n    file: a.yml\nb:\n  script: b\n"}});
  project_.Write(".gitlab-ci.yml", "include:\n  - project: group/a\n    file: a.yml\n");
  std::string d = Load().diagnostics;
  EXPECT_NE(d.find("error: Maximum of 150 nested includes are allowed!"), std::string::npos) << d;
}

TEST_F(ProjectIncludeTest, FindsProjectsOnTheForgeOfTheOriginRemote) {
  Commit("group/ci", {{"a.yml", "a:\n  script: a\n"}});
  Git(project_.dir(), {"init", "-q"});
  Git(project_.dir(), {"remote", "add", "origin", "file://" + root_ + "/server/group/app.git"});
  project_.Write(".gitlab-ci.yml", "include:\n  - project: group/ci\n    file: a.yml\n");
  FetchOptions from_origin = options_;
  from_origin.include_server.clear();
  from_origin.project_dir = project_.dir();
  // A file:// origin does not say where the forge's root is.
  EXPECT_NE(LoadWith(from_origin).loaded.diagnostics.find("give --include-server"),
            std::string::npos);
  // A file:// server does (and is git's file transport, not the local one).
  FetchOptions file_url = options_;
  file_url.include_server = "file://" + root_ + "/server";
  fs::rename(root_ + "/server/group/ci", root_ + "/server/group/ci.git");
  EXPECT_EQ(LoadWith(file_url).loaded.diagnostics, "");
}

TEST_F(ProjectIncludeTest, ComponentsResolveVersionsAsGitLabsCatalogDoes) {
  std::string comp = "group/components";
  auto release = [&](const std::string& version) {
    Commit(comp, {{"templates/build.yml",
                   "spec:\n  inputs:\n    stage:\n      default: build\n---\n"
                   "include:\n  - local: templates/common.yml\n"
                   "build-" +
                       version + ":\n  stage: $[[ inputs.stage ]]\n  script: make\n"},
                  {"templates/common.yml", "variables:\n  FROM: components\n"},
                  {"templates/test/template.yml", "test:\n  script: test " + version + "\n"}});
    Git(root_ + "/server/" + comp, {"tag", version});
  };
  for (const char* v : {"1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1"}) release(v);
  options_.component_server = root_ + "/server";
  auto load = [&](const std::string& version, const std::string& name = "build",
                  const std::string& more = "") {
    project_.Write(".gitlab-ci.yml", "include:\n  - component: gitlab.example.com/" + comp + "/" +
                                         name + "@" + version + "\n" + more);
    return Load();
  };
  EXPECT_EQ(load("~latest").yaml,
            "variables:\n  FROM: components\nbuild-1.10.0:\n  stage: build\n"
            "  script: make\n");
  EXPECT_NE(load("1.2").yaml.find("build-1.2.0:"), std::string::npos);
  EXPECT_NE(load("1").yaml.find("build-1.10.0:"), std::string::npos);
  EXPECT_NE(load("1.0.0").yaml.find("build-1.0.0:"), std::string::npos);
  EXPECT_NE(load("2.0.0-rc.1").yaml.find("build-2.0.0-rc.1:"), std::string::npos);  // A tag.
  EXPECT_EQ(load("main", "test").yaml, "test:\n  script: test 2.0.0-rc.1\n");
  EXPECT_NE(load("1", "build", "    inputs:\n      stage: deploy\n").yaml.find("stage: deploy"),
            std::string::npos);
  std::string address = "gitlab.example.com/" + comp + "/build";
  EXPECT_EQ(load("2").diagnostics,
            ".gitlab-ci.yml:2:5: error: Component '" + address +
                "@2' - content not found (no released version (a MAJOR.MINOR.PATCH tag) matches "
                "`2`)\n");
  EXPECT_EQ(
      load("9.9.9").diagnostics.rfind(
          ".gitlab-ci.yml:2:5: error: Component '" + address + "@9.9.9' - content not found (", 0),
      0u);
  EXPECT_EQ(load("1.0.0", "nope").diagnostics,
            ".gitlab-ci.yml:2:5: error: Component 'gitlab.example.com/" + comp +
                "/nope@1.0.0' - content not found (no templates/nope.yml or "
                "templates/nope/template.yml at 1.0.0)\n");
  std::string bad_input = load("1", "build", "    inputs:\n      nope: x\n").diagnostics;
  EXPECT_NE(bad_input.find("unknown input arguments: nope"), std::string::npos) << bad_input;
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - component: gitlab.example.com/group/missing/b@1\n");
  EXPECT_EQ(Load().diagnostics.rfind(".gitlab-ci.yml:2:5: error: Component "
                                     "'gitlab.example.com/group/missing/b@1' - project does not "
                                     "exist or you don't have sufficient permissions (",
                                     0),
            0u);
  // The resolved versions are cached: offline repeats them.
  fs::remove_all(root_ + "/server");
  FetchOptions offline = options_;
  offline.offline = true;
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - component: gitlab.example.com/" + comp + "/build@~latest\n");
  EXPECT_NE(LoadWith(offline).loaded.yaml.find("build-1.10.0:"), std::string::npos);
}

TEST_F(ProjectIncludeTest, NeverShowsTheServersCredentials) {
  // Nothing listens on port 1: git fails, and its message names the URL.
  options_.include_server = "http://user:s3cret@127.0.0.1:1";
  project_.Write(".gitlab-ci.yml", "include:\n  - project: group/ci\n    file: a.yml\n");
  std::string d = Load().diagnostics;
  EXPECT_NE(d.find("not found or access denied!"), std::string::npos) << d;
  EXPECT_EQ(d.find("s3cret"), std::string::npos) << d;
  options_.component_server = options_.include_server;
  project_.Write(".gitlab-ci.yml", "include:\n  - component: h/group/ci/x@~latest\n");
  d = Load().diagnostics;
  EXPECT_NE(d.find("project does not exist"), std::string::npos) << d;
  EXPECT_EQ(d.find("s3cret"), std::string::npos) << d;
}

// A port nothing listens on right now (git daemon cannot be given port 0
// and report the one it got).
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

TEST_F(ProjectIncludeTest, FetchesOverGitsOwnProtocolFromGitDaemon) {
  Commit("group/ci", {{"a.yml", "a:\n  script: a\n"}});
  // Forges answer PROJECT.git; so does git daemon for a directory of that name.
  fs::rename(root_ + "/server/group/ci", root_ + "/server/group/ci.git");
  int port = FreeLoopbackPort();
  ASSERT_NE(port, 0);
  SpawnRequest daemon;
  daemon.argv = {"git",
                 "daemon",
                 "--reuseaddr",
                 "--listen=127.0.0.1",
                 "--port=" + std::to_string(port),
                 "--base-path=" + root_ + "/server",
                 "--export-all",
                 "--informative-errors",
                 root_ + "/server"};
  for (char** e = environ; *e != nullptr; ++e) daemon.env.push_back(*e);
  daemon.parent_death_signal = SIGTERM;
  StatusOr<pid_t> pid = Spawn(daemon);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  std::string server = "git://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(WaitFor([&] {
    StatusOr<GitResult> r = RunGit(root_, {"ls-remote", server + "/group/ci.git"});
    return r.ok() && r->exit_code == 0;
  }));
  options_.include_server = server;
  project_.Write(".gitlab-ci.yml", "include:\n  - project: group/ci\n    file: a.yml\n");
  Loaded r = Load();
  EXPECT_EQ(r.yaml, "a:\n  script: a\n") << r.diagnostics;
  project_.Write(".gitlab-ci.yml",
                 "include:\n  - project: group/ci\n    ref: v7\n    file: a.yml\n");
  EXPECT_EQ(Load().diagnostics.rfind(
                ".gitlab-ci.yml:2:5: error: Project `group/ci` reference `v7` does not exist!", 0),
            0u);
  kill(*pid, SIGTERM);
  waitpid(*pid, nullptr, 0);
}

TEST(ForgeOfTest, KeepsSchemeUserHostAndPort) {
  EXPECT_EQ(*ForgeOf("https://gitlab.com/group/app.git"), "https://gitlab.com");
  EXPECT_EQ(*ForgeOf("ssh://git@host:2222/group/sub/app.git"), "ssh://git@host:2222");
  EXPECT_EQ(*ForgeOf("git@gitlab.com:group/app.git"), "git@gitlab.com:");
  EXPECT_EQ(*ForgeOf("git://host/app"), "git://host");
  EXPECT_FALSE(ForgeOf("/srv/git/app.git").ok());
  EXPECT_FALSE(ForgeOf("file:///srv/git/app.git").ok());
  EXPECT_EQ(ProjectRepositoryUrl("git@gitlab.com:", "g/ci"), "git@gitlab.com:g/ci.git");
  EXPECT_EQ(ProjectRepositoryUrl("https://h/", "g/ci"), "https://h/g/ci.git");
}

}  // namespace
}  // namespace slipway
