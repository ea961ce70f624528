#include "image/credential_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/bounded_json.h"
#include "util/children.h"
#include "util/spawn.h"
#include "util/unique_fd.h"

extern char** environ;

namespace slipway {
namespace {

constexpr size_t kMaxAnswer = 64 << 10;

// The first line of text, trimmed and bounded, for an error message.
std::string FirstLine(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  std::string line = text.substr(start, text.find('\n', start) - start);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

}  // namespace

bool IsCredentialHelperName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != ".." &&
         name.find('\0') == std::string::npos;
}

StatusOr<std::optional<HelperCredentials>> RunCredentialHelper(const std::string& name,
                                                               const std::string& server,
                                                               std::chrono::milliseconds timeout) {
  std::string program = "docker-credential-" + name;
  if (!IsCredentialHelperName(name)) {
    return Status::Error("`" + name + "` is not a credential helper's name (a program " +
                         "docker-credential-NAME in PATH)");
  }
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Status::Error("cannot run " + program);
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::Error("cannot run " + program);
  UniqueFd out_read(out_pipe[0]), out_write(out_pipe[1]);
  // Written before the helper starts, while the read end is ours (no
  // SIGPIPE): an address fits in the pipe's buffer.
  if (server.size() > 4096 ||
      write(in_write.get(), server.data(), server.size()) != static_cast<ssize_t>(server.size())) {
    return Status::Error("cannot run " + program + ": cannot pass it the server address");
  }
  in_write.Reset();
  SpawnRequest request;
  request.argv = {program, "get"};
  for (char** e = environ; *e != nullptr; ++e) request.env.emplace_back(*e);
  request.stdin_fd = in_read.get();
  request.stdout_fd = out_write.get();
  request.stderr_fd = out_write.get();
  StatusOr<pid_t> pid = Spawn(request);
  if (!pid.ok()) {
    return Status::Error("cannot run the credential helper " + program + ": " +
                         (pid.status().message().find("No such file") != std::string::npos
                              ? std::string("it is not in PATH")
                              : pid.status().message()));
  }
  in_read.Reset();
  out_write.Reset();
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out_read.get(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[4096];
    ssize_t n = read(out_read.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() < kMaxAnswer) out.append(buf, static_cast<size_t>(n));
  }
  if (timed_out) kill(-*pid, SIGKILL);
  int status = ReapChild(*pid);
  if (timed_out) {
    return Status::Error("the credential helper " + program + " did not answer for " + server +
                         " within " + std::to_string(timeout.count() / 1000) + " s");
  }
  int code = ExitCodeOf(status);
  if (code != 0) {
    if (out.find("credentials not found") != std::string::npos) {
      return std::optional<HelperCredentials>();
    }
    std::string said = FirstLine(out);
    return Status::Error("the credential helper " + program + " failed for " + server +
                         " (exit status " + std::to_string(code) + ")" +
                         (said.empty() ? "" : ": " + said));
  }
  BoundedJson parsed = ParseBoundedJson(out);
  HelperCredentials credentials;
  bool ok = parsed.error == JsonParseError::kNone && parsed.value.is_object();
  if (ok) {
    auto user = parsed.value.find("Username");
    auto secret = parsed.value.find("Secret");
    ok = user != parsed.value.end() && secret != parsed.value.end() && user->is_string() &&
         secret->is_string();
    if (ok) {
      credentials.username = user->get<std::string>();
      credentials.secret = secret->get<std::string>();
    }
  }
  if (!ok) {
    // Not quoted: what it printed may hold the secret.
    return Status::Error("the credential helper " + program + " answered for " + server +
                         " with something else than {\"Username\": ..., \"Secret\": ...}");
  }
  if (credentials.username == "<token>") {
    return Status::Error("the credential helper " + program + " gave an identity token for " +
                         server + ", which slipway does not use (it needs a user name and " +
                         "password)");
  }
  return std::optional<HelperCredentials>(std::move(credentials));
}

}  // namespace slipway
