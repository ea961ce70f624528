// Test helper (header-only, tests only): the real `slipway` binary run as a
// command or as a server on a free loopback port, and plain HTTP/1.1
// requests to it.
#ifndef SLIPWAY_CLI_SERVE_TEST_UTIL_H_
#define SLIPWAY_CLI_SERVE_TEST_UTIL_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "util/test_dir.h"
#include "util/test_wait.h"

namespace slipway {
namespace serve_test {

namespace fs = std::filesystem;

// Runs argv (argv[0] looked up on PATH) to completion; returns its stdout.
// Its stderr goes to *err when given (else to the test's).
inline std::string RunCommand(const std::vector<std::string>& argv, int* exit_code,
                              std::string* err = nullptr) {
  int out[2];
  if (pipe(out) != 0) return "";
  FILE* err_file = err != nullptr ? std::tmpfile() : nullptr;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    if (err_file != nullptr) dup2(fileno(err_file), 2);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (err_file != nullptr) {
    err->clear();
    std::rewind(err_file);
    while ((n = static_cast<ssize_t>(std::fread(buf, 1, sizeof buf, err_file))) > 0) {
      err->append(buf, static_cast<size_t>(n));
    }
    std::fclose(err_file);
  }
  return text;
}

// Runs `slipway args...` to completion, as RunCommand.
inline std::string RunSlipway(const std::vector<std::string>& args, int* exit_code,
                              std::string* err = nullptr) {
  std::vector<std::string> argv = {SLIPWAY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, exit_code, err);
}

// Adds repo_dir to the data directory as the project "app" (webhook secret
// "s") with the executor, and makes an admin token ("ops"); returns it.
inline std::string AddProjectAndAdmin(const std::string& data, const std::string& repo_dir,
                                      const std::string& executor) {
  int rc = 0;
  std::string out = RunSlipway({"project", "add", "--data", data, "app", repo_dir,
                                "--webhook-secret", "s", "--executor", executor},
                               &rc);
  EXPECT_EQ(rc, 0) << out;
  std::string admin =
      RunSlipway({"token", "create", "--data", data, "--name", "ops", "--role", "admin"}, &rc);
  EXPECT_EQ(rc, 0) << admin;
  return admin;
}

// A directory `parent`/marks (made) where the jobs of a server under test
// leave files for the test to read (pids, "I am running" markers). A
// server running as root runs its jobs as their project's uid, not the
// test's (docs/server.md, "Security model"), so the directory is open to
// every user (01777, as /tmp is): the markers are all it holds.
inline std::string MarkerDir(const std::string& parent) {
  std::string dir = parent + "/marks";
  fs::create_directories(dir);
  EXPECT_EQ(chmod(dir.c_str(), 01777), 0) << dir;
  return dir;
}

// Starts `slipway args...` in the background with `env` (NAME=value) on
// top of this process's environment, its stdout and stderr appended to
// log_path; its pid.
inline pid_t SpawnSlipway(const std::vector<std::string>& args, const std::string& log_path,
                          const std::vector<std::string>& env = {}) {
  pid_t pid = fork();
  if (pid == 0) {
    // Close-on-exec: the child's only descriptors above 2 are its own.
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    // What this test process inherited stays here.
    syscall(SYS_close_range, 3, ~0U, 0);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<std::string> storage = {SLIPWAY_BINARY};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// `slipway serve` listening on `listen` (default: a free loopback port),
// with `env` (NAME=value) set on top of this process's environment and
// `extra` options after the usual ones (--max-pipelines 1 unless extra has
// its own); its output goes to a file.
class Server {
 public:
  Server(const std::string& data_dir, const std::string& log_path,
         const std::string& listen = "127.0.0.1:0", const std::vector<std::string>& env = {},
         const std::vector<std::string>& extra = {})
      : log_path_(log_path), log_start_(fs::exists(log_path) ? fs::file_size(log_path) : 0) {
    std::vector<std::string> args = {"serve", "--data", data_dir, "--listen",
                                     listen,  "--jobs", "2"};
    // One pipeline at a time unless extra says otherwise.
    if (std::find(extra.begin(), extra.end(), "--max-pipelines") == extra.end()) {
      args.insert(args.end(), {"--max-pipelines", "1"});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = SpawnSlipway(args, log_path, env);
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The port from this start's "listening on http(s)://127.0.0.1:PORT" line
  // (the log file collects every start).
  int WaitForPort() {
    int port = 0;
    WaitFor([&] {
      std::string log = fs::exists(log_path_) ? Slurp(log_path_) : "";
      if (log.size() < log_start_) return false;
      log = log.substr(log_start_);
      // http:// or https://.
      size_t at = log.find("listening on http");
      if (at != std::string::npos) at = log.find("://127.0.0.1:", at);
      if (at == std::string::npos || log.find('\n', at) == std::string::npos) return false;
      port = std::atoi(log.c_str() + at + std::string("://127.0.0.1:").size());
      return true;
    });
    return port;
  }
  void Kill9() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  std::string log_path_;
  size_t log_start_;
  pid_t pid_ = -1;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 request on a fresh connection to the IPv4 address.
inline HttpReply HttpAt(const std::string& address, int port, const std::string& method,
                        const std::string& target, const std::vector<std::string>& headers,
                        const std::string& body = "") {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + address + "\r\n" +
                        "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  for (const std::string& h : headers) request += h + "\r\n";
  request += "\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  if (response.size() > 12) reply.status = std::atoi(response.c_str() + 9);
  size_t head_end = response.find("\r\n\r\n");
  if (head_end != std::string::npos) {
    std::string head = response.substr(0, head_end);
    reply.body = response.substr(head_end + 4);
    if (head.find("Transfer-Encoding: chunked") != std::string::npos ||
        head.find("transfer-encoding: chunked") != std::string::npos) {
      std::string decoded;
      size_t pos = 0;
      while (pos < reply.body.size()) {
        size_t line_end = reply.body.find("\r\n", pos);
        if (line_end == std::string::npos) break;
        size_t size = std::strtoul(reply.body.substr(pos, line_end - pos).c_str(), nullptr, 16);
        if (size == 0) break;
        decoded += reply.body.substr(line_end + 2, size);
        pos = line_end + 2 + size + 2;
      }
      reply.body = decoded;
    }
  }
  return reply;
}

// One HTTP/1.1 request on a fresh loopback connection.
inline HttpReply Http(int port, const std::string& method, const std::string& target,
                      const std::vector<std::string>& headers, const std::string& body = "") {
  return HttpAt("127.0.0.1", port, method, target, headers, body);
}

inline std::string HmacSha256Hex(const std::string& key, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

}  // namespace serve_test
}  // namespace slipway

#endif  // SLIPWAY_CLI_SERVE_TEST_UTIL_H_
