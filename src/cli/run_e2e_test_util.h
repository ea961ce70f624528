// Test helper (header-only, tests only) for the end-to-end tests of
// `slipway run`: the real binary started on a small git repository
// (TestRepo) with real bash, and what it left: exit code, output, the JSON
// report's job statuses and logs.
#ifndef SLIPWAY_CLI_RUN_E2E_TEST_UTIL_H_
#define SLIPWAY_CLI_RUN_E2E_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/test_dir.h"
#include "util/test_repo.h"
#include "util/test_wait.h"

namespace slipway {

// A started `slipway` process whose output goes to a file.
class SlipwayProcess {
 public:
  // env: NAME=value set for it on top of this process's environment.
  SlipwayProcess(const std::string& dir, const std::vector<std::string>& args,
                 const std::vector<std::string>& env = {})
      : output_path_(dir + "/../" + std::filesystem::path(dir).filename().string() + ".out") {
    std::vector<std::string> argv_storage = {SLIPWAY_BINARY};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(output_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      // fd stays open too, without close-on-exec: a descriptor slipway
      // inherits and must not hand on to jobs.
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      for (std::string& a : argv_storage) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~SlipwayProcess() { std::remove(output_path_.c_str()); }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Waits for the process; returns its exit code (128 + signal if killed).
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Output() const { return Slurp(output_path_); }

 private:
  std::string output_path_;
  pid_t pid_ = -1;
};

struct RunOutcome {
  int exit_code = -1;
  std::string output;
  nlohmann::json report;
  std::map<std::string, std::string> status;  // job name -> status
  const nlohmann::json& Job(const std::string& name) const {
    for (const nlohmann::json& j : report["jobs"]) {
      if (j["name"] == name) return j;
    }
    static const nlohmann::json kNone;
    ADD_FAILURE() << "no job '" << name << "' in the report";
    return kNone;
  }
};

class RunE2eTest : public ::testing::Test {
 protected:
  // Writes .gitlab-ci.yml and commits it with any other files.
  void Pipeline(const std::string& yaml) {
    repo_.Write(".gitlab-ci.yml", yaml);
    repo_.Git({"add", "-A"});
    repo_.Git({"commit", "-q", "-m", "pipeline"});
  }
  RunOutcome Run(std::vector<std::string> args = {}, const std::vector<std::string>& env = {}) {
    std::vector<std::string> full = {"run", "--report", "report.json", "--jobs", "2"};
    full.insert(full.end(), args.begin(), args.end());
    std::filesystem::remove(std::filesystem::path(repo_.dir()) / "report.json");
    SlipwayProcess process(repo_.dir(), full, env);
    RunOutcome out;
    out.exit_code = process.Wait();
    out.output = process.Output();
    std::filesystem::path report = std::filesystem::path(repo_.dir()) / "report.json";
    if (std::filesystem::exists(report)) {
      out.report = nlohmann::json::parse(Slurp(report), nullptr, false);
      for (const nlohmann::json& j : out.report["jobs"]) {
        out.status[j["name"].get<std::string>()] = j["status"].get<std::string>();
      }
    }
    return out;
  }
  std::string Log(const RunOutcome& out, const std::string& job) {
    const nlohmann::json& j = out.Job(job);
    if (!j.contains("log") || !j["log"].is_string()) return "";
    return Slurp(std::filesystem::path(repo_.dir()) / j["log"].get<std::string>());
  }
  // A path outside the repository for state that outlives a job workspace.
  std::string Scratch(const std::string& name) { return repo_.dir() + "-" + name; }

  TestRepo repo_;
};

using Statuses = std::map<std::string, std::string>;

}  // namespace slipway

#endif  // SLIPWAY_CLI_RUN_E2E_TEST_UTIL_H_
