// Test helper (header-only, tests only): a git repository in a fresh
// temporary directory, removed again on destruction. Commands go through
// RunGit; a failing setup step fails the test with git's stderr.
#ifndef SLIPWAY_UTIL_TEST_REPO_H_
#define SLIPWAY_UTIL_TEST_REPO_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/git.h"

namespace slipway {

class TestRepo {
 public:
  // Makes an empty directory; `init` also runs `git init -b <branch>` with a
  // fixed identity, so commits are reproducible and need no global config.
  explicit TestRepo(bool init = true, const std::string& branch = "main") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-repo-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    dir_ = made ? made : "";
    // Keep the user's ~/.gitconfig and /etc/gitconfig out of the test.
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z", 1);
    setenv("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z", 1);
    if (init) {
      Git({"init", "-q", "-b", branch});
      Git({"config", "user.name", "Ada Lovelace"});
      Git({"config", "user.email", "ada@example.com"});
      Git({"config", "commit.gpgsign", "false"});
    }
  }
  ~TestRepo() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  TestRepo(const TestRepo&) = delete;
  TestRepo& operator=(const TestRepo&) = delete;

  const std::string& dir() const { return dir_; }

  // Runs git in the repository; returns stdout without the trailing newline.
  std::string Git(const std::vector<std::string>& args) {
    StatusOr<std::string> out = GitOutput(dir_, args);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? *out : std::string();
  }

  void Write(const std::string& path, const std::string& content) {
    std::filesystem::path p = std::filesystem::path(dir_) / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }

  // Writes path (default content: the message) and commits everything.
  std::string Commit(const std::string& message, const std::string& path = "file.txt") {
    Write(path, message);
    Git({"add", "-A"});
    Git({"commit", "-q", "-m", message});
    return Git({"rev-parse", "HEAD"});
  }

 private:
  std::string dir_;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_REPO_H_
