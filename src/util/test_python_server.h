// Test helper (header-only, tests only): starts a python3 script that
// serves on loopback, port 0, prints its port on its first line and exits
// when its stdin closes, so that it stops with the test (also when the test
// process dies). The servers of util/test_https_server.h and
// image/test_registry_proxy.h are such scripts.
#ifndef SLIPWAY_UTIL_TEST_PYTHON_SERVER_H_
#define SLIPWAY_UTIL_TEST_PYTHON_SERVER_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "util/spawn.h"
#include "util/unique_fd.h"

extern char** environ;

namespace slipway {

class TestPythonServer {
 public:
  // argv without "python3": the script's path and its arguments.
  explicit TestPythonServer(const std::vector<std::string>& argv) {
    int in[2], out[2];
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    stdin_ = UniqueFd(in[1]);
    UniqueFd child_in(in[0]), child_out(out[1]), reader(out[0]);
    SpawnRequest request;
    request.argv = {"python3"};
    request.argv.insert(request.argv.end(), argv.begin(), argv.end());
    for (char** e = environ; *e != nullptr; ++e) request.env.push_back(*e);
    request.stdin_fd = child_in.get();
    request.stdout_fd = child_out.get();
    StatusOr<pid_t> pid = Spawn(request);
    EXPECT_TRUE(pid.ok()) << pid.status().message();
    pid_ = pid.ok() ? *pid : -1;
    child_out.Reset();
    std::string line;
    char c;
    while (read(reader.get(), &c, 1) == 1 && c != '\n') line += c;
    port_ = line.empty() ? 0 : std::stoi(line);
    EXPECT_NE(port_, 0) << "the test server did not start";
  }
  ~TestPythonServer() { Stop(); }
  TestPythonServer(const TestPythonServer&) = delete;
  TestPythonServer& operator=(const TestPythonServer&) = delete;

  // Closes its stdin and waits for it; its port then refuses connections.
  void Stop() {
    stdin_.Reset();
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  UniqueFd stdin_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_PYTHON_SERVER_H_
