// Test helpers for the sandbox executor (tests only): an ImageSource that
// serves a real root file system built from the host's static busybox, and
// a fixture that runs jobs through ShellExecutor + SandboxScriptRunner.
#ifndef SLIPWAY_EXEC_SANDBOX_TEST_UTIL_H_
#define SLIPWAY_EXEC_SANDBOX_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "exec/artifacts.h"
#include "exec/sandbox.h"
#include "exec/shell_executor.h"
#include "util/test_dir.h"

namespace slipway {

// A root file system of busybox (/bin/busybox and a link per applet), an
// /etc/passwd with root and worker (uid 1234), served for every name.
class BusyboxImageSource : public ImageSource {
 public:
  explicit BusyboxImageSource(const std::string& dir) : rootfs_(dir) {
    int built = Sh(dir, R"(
      mkdir -p bin etc tmp root home/worker var/tmp
      cp /bin/busybox bin/busybox
      for a in $(bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "bin/$a"; done
      printf 'root:x:0:0:root:/root:/bin/sh\nworker:x:1234:1234::/home/worker:/bin/sh\n' > etc/passwd
      printf 'root:x:0:\nworker:x:1234:\n' > etc/group
      chown 1234:1234 home/worker
      echo image-file > etc/image-file
    )");
    EXPECT_EQ(built, 0);
  }
  StatusOr<ResolvedImage> Resolve(const ImageRequest& request, const ImageLogFn& log) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request.name);
    }
    log("Using docker image sha256:test for " + request.name + " ...");
    ResolvedImage image = image_;
    image.rootfs = rootfs_;
    image.reference = request.name;
    image.digest = "sha256:test";
    return image;
  }
  ResolvedImage image_;  // Env, User, Entrypoint to serve (rootfs is set).

 private:
  std::string rootfs_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

// A temporary directory outside /tmp (which every sandbox covers with its
// own tmpfs, so a run directory there would be hidden even without the
// sandbox's other guards): under the working directory.
class OutsideTmpDir {
 public:
  OutsideTmpDir() {
    std::string name = std::filesystem::current_path().string() + "/sandbox-test-XXXXXX";
    path_ = mkdtemp(name.data()) != nullptr ? name : "";
  }
  ~OutsideTmpDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  OutsideTmpDir(const OutsideTmpDir&) = delete;
  OutsideTmpDir& operator=(const OutsideTmpDir&) = delete;
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

class SandboxLogSink : public LogSink {
 public:
  void Write(std::string_view job_name, std::string_view bytes) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_[std::string(job_name)].append(bytes);
    if (on_write_) on_write_(text_[std::string(job_name)]);
  }
  // Called with a job's whole log after each write (under the sink's lock).
  std::function<void(const std::string&)> on_write_;
  std::string Text(const std::string& job) {
    std::lock_guard<std::mutex> lock(mu_);
    return text_[job];
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> text_;
};

// Runs jobs through ShellExecutor + SandboxScriptRunner (options_, network
// none unless a test says otherwise) on a one-commit project; the run
// directory is outside /tmp. Skips when not root. images_ serves a busybox
// root file system (built on first use).
class SandboxFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the sandbox tests run as root (mounts, namespaces)";
    ASSERT_EQ(Sh(tmp_.path(), R"(
      mkdir project image && cd project && git init -q
      echo hello > greeting.txt && git add -A && git commit -qm init
    )"),
              0);
    options_.network = "none";
  }

  BusyboxImageSource& Images() {
    if (!images_) {
      images_ = std::make_unique<BusyboxImageSource>(tmp_.Sub("image"));
      images_->image_.env = {"PATH=/bin"};
      options_.images = images_.get();
    }
    return *images_;
  }

  ShellExecutor& Executor() {
    if (!executor_) {
      sandbox_ = std::make_unique<SandboxScriptRunner>(options_, &runner_);
      ShellExecutor::Options options;
      options.kill_grace = std::chrono::milliseconds(500);
      options.scripts = sandbox_.get();
      executor_ = std::make_unique<ShellExecutor>(options, &runner_);
    }
    return *executor_;
  }

  static Job MakeJob(std::vector<std::string> script) {
    Job job;
    job.name = "job";
    job.script = std::move(script);
    return job;
  }

  JobResult Run(const Job& job, std::optional<std::chrono::milliseconds> timeout = {}) {
    JobSpec spec;
    spec.repository = tmp_.Sub("project");
    spec.timeout = timeout;
    spec.variables = job.variables;
    JobHost host;
    host.run_dir = outside_.Sub("run");
    host.job_dir = outside_.Sub("run/jobs/job");
    host.artifacts = &artifacts_;
    return Executor().Run(job, spec, host, &sink_, cancel_);
  }

  std::string Log() { return sink_.Text("job"); }

  TempDir tmp_;
  OutsideTmpDir outside_;  // The run directory.
  std::unique_ptr<BusyboxImageSource> images_;
  PosixProcessRunner runner_;
  SandboxScriptRunner::Options options_;
  std::unique_ptr<SandboxScriptRunner> sandbox_;
  std::unique_ptr<ShellExecutor> executor_;
  JobDirArtifacts artifacts_;
  SandboxLogSink sink_;
  CancelToken cancel_;
};

// Whether a process whose command line holds marker runs on the host.
inline bool RunningOnHost(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(marker) != std::string::npos) return true;
  }
  return false;
}

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_TEST_UTIL_H_
