// Test helpers for the sandbox executor (tests only): an ImageSource that
// serves a real root file system built from the host's static busybox, and
// a fixture that runs jobs through ShellExecutor + SandboxScriptRunner.
#ifndef SLIPWAY_EXEC_SANDBOX_TEST_UTIL_H_
#define SLIPWAY_EXEC_SANDBOX_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
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
  }
  std::string Text(const std::string& job) {
    std::lock_guard<std::mutex> lock(mu_);
    return text_[job];
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> text_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_SANDBOX_TEST_UTIL_H_
