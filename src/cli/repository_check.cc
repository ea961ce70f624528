#include "cli/repository_check.h"

#include <filesystem>
#include <string_view>

#include "util/redact.h"
#include "util/subprocess.h"

namespace slipway {
namespace {

// What git said went wrong: its first line ("ssh: Could not resolve
// hostname …", "fatal: unable to access …"), without "fatal: ".
std::string GitComplaint(const std::string& output) {
  size_t start = output.find_first_not_of('\n');
  if (start == std::string::npos) return "no message";
  std::string line = output.substr(start, output.find('\n', start) - start);
  return line.starts_with("fatal: ") ? line.substr(7) : line;
}

}  // namespace

bool IsLocalRepository(const std::string& repo) {
  size_t colon = repo.find(':');
  size_t slash = repo.find('/');
  return colon == std::string::npos || (slash != std::string::npos && slash < colon);
}

Status CheckRepository(const std::string& repo, std::chrono::seconds timeout) {
  bool local = IsLocalRepository(repo);
  if (local) {
    std::error_code ec;
    if (!std::filesystem::exists(repo, ec)) {
      return Status::Error("repository " + repo + " does not exist");
    }
    if (!std::filesystem::is_directory(repo, ec)) {
      return Status::Error("repository " + repo + " is not a directory");
    }
  }
  ProcessSpec spec;
  // "--" keeps a repo that starts with '-' from being read as an option.
  spec.argv = {ResolveExecutable("git"), "ls-remote", "--", repo, "HEAD"};
  spec.env = HostEnvironmentForTools();
  spec.env.push_back("GIT_TERMINAL_PROMPT=0");  // Never ask for a password.
  spec.env.push_back("LC_ALL=C");               // git's messages as quoted here.
  spec.timeout = timeout;
  spec.kill_grace = std::chrono::milliseconds(500);
  std::string output;
  PosixProcessRunner runner;
  StatusOr<ProcessResult> result = runner.Run(
      spec, [&](std::string_view chunk) { output.append(chunk); }, nullptr);
  // A URL's credentials stay out of what is printed (util/redact.h).
  std::string shown = RedactUrlCredentials(repo);
  if (!result.ok()) {
    return Status::Error("cannot check " + shown + ": " + result.status().message());
  }
  if (result->timed_out) {
    return Status::Error(shown + " did not answer `git ls-remote` within " +
                         std::to_string(timeout.count()) + " s");
  }
  if (result->exit_code == 0) return Status::Ok();
  if (local) {
    return Status::Error(repo + " is not a git repository: give its top directory, or a bare one");
  }
  return Status::Error("cannot reach " + shown + ": " + RedactUrlCredentials(GitComplaint(output)));
}

}  // namespace slipway
