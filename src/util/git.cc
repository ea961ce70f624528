#include "util/git.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "util/children.h"
#include "util/spawn.h"

extern char** environ;

namespace slipway {
namespace {

// Variables that would point git at another repository than dir, or make it
// wait for a user.
bool IsDroppedFromEnvironment(std::string_view entry) {
  static constexpr std::string_view kDropped[] = {
      "GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=", "GIT_OBJECT_DIRECTORY=",
      "GIT_COMMON_DIR=", "GIT_PREFIX=", "GIT_TERMINAL_PROMPT=", "GIT_OPTIONAL_LOCKS=",
      "LC_ALL="};
  for (std::string_view d : kDropped) {
    if (entry.substr(0, d.size()) == d) return true;
  }
  return false;
}

std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!IsDroppedFromEnvironment(*e)) env.emplace_back(*e);
  }
  env.emplace_back("GIT_TERMINAL_PROMPT=0");
  // Status queries must not take the index lock a concurrent git may hold.
  env.emplace_back("GIT_OPTIONAL_LOCKS=0");
  env.emplace_back("LC_ALL=C");
  return env;
}

std::string ErrnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// Reads both pipes to EOF without letting either fill up and block the child.
void DrainPipes(int out_fd, int err_fd, std::string* out, std::string* err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {out, err};
  int open_count = 2;
  char buf[65536];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

StatusOr<GitResult> RunGit(const std::string& dir, const std::vector<std::string>& args) {
  SpawnRequest request;
  request.argv = {"git", "-C", dir};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.env = ChildEnvironment();
  // In slipway's process group, as a command a user runs would be.
  request.new_process_group = false;

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::Error(ErrnoText("git: pipe", errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    int saved = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Status::Error(ErrnoText("git: pipe", saved));
  }
  request.stdout_fd = out_pipe[1];
  request.stderr_fd = err_pipe[1];
  StatusOr<pid_t> pid = Spawn(request);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!pid.ok()) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return pid.status();
  }

  GitResult result;
  DrainPipes(out_pipe[0], err_pipe[0], &result.out, &result.err);
  close(out_pipe[0]);
  close(err_pipe[0]);

  int wstatus = ReapChild(*pid);
  if (wstatus < 0) return Status::Error("git: waitpid failed");
  result.exit_code = ExitCodeOf(wstatus);
  return result;
}

StatusOr<std::string> GitOutput(const std::string& dir, const std::vector<std::string>& args) {
  StatusOr<GitResult> r = RunGit(dir, args);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    std::string command = "git";
    for (const std::string& a : args) command += " " + a;
    std::string first_line = r->err.substr(0, r->err.find('\n'));
    return Status::Error(command + " failed (exit " + std::to_string(r->exit_code) +
                         (first_line.empty() ? ")" : "): " + first_line));
  }
  std::string out = std::move(r->out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

namespace {

void AppendNulSeparated(const std::string& text, std::vector<std::string>* paths) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) paths->emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// The NUL-separated paths a git command (args, with -z) prints, sorted and
// unique. Errors name the command and git's first stderr line.
StatusOr<std::vector<std::string>> ListedPaths(const std::string& dir,
                                               const std::vector<std::string>& args) {
  StatusOr<GitResult> listed = RunGit(dir, args);
  if (!listed.ok()) return listed.status();
  if (listed->exit_code != 0) {
    return Status::Error("git " + args[0] + " failed in " + dir + ": " +
                         listed->err.substr(0, listed->err.find('\n')));
  }
  std::vector<std::string> paths;
  AppendNulSeparated(listed->out, &paths);
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

}  // namespace

StatusOr<std::vector<std::string>> ChangedFilesSince(const std::string& dir,
                                                     const std::string& base,
                                                     const std::string& commit) {
  StatusOr<std::string> base_sha = ResolveCommit(dir, base);
  if (!base_sha.ok()) return base_sha.status();

  std::vector<std::string> paths;
  // Diffing base against the working tree covers committed, staged and
  // unstaged changes at once; untracked files are listed separately.
  std::vector<std::string> args = {"diff",          "--name-only",      "-z", "--no-renames",
                                   "--no-ext-diff", "--end-of-options", *base_sha};
  if (!commit.empty()) args.push_back(commit);
  args.push_back("--");
  StatusOr<GitResult> diff = RunGit(dir, args);
  if (!diff.ok()) return diff.status();
  if (diff->exit_code != 0) {
    return Status::Error("git diff against '" + base + "' failed: " +
                         diff->err.substr(0, diff->err.find('\n')));
  }
  AppendNulSeparated(diff->out, &paths);
  if (commit.empty()) {
    StatusOr<GitResult> untracked =
        RunGit(dir, {"ls-files", "-z", "--others", "--exclude-standard"});
    if (!untracked.ok()) return untracked.status();
    if (untracked->exit_code == 0) AppendNulSeparated(untracked->out, &paths);
  }

  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

StatusOr<std::vector<std::string>> ListWorkTreeFiles(const std::string& dir) {
  return ListedPaths(dir, {"ls-files", "-z", "--cached", "--others", "--exclude-standard"});
}

StatusOr<std::string> ResolveCommit(const std::string& dir, const std::string& rev) {
  Status not_commit = Status::Error("'" + rev + "' is not a commit in " + dir);
  if (rev.empty() || rev.front() == '-') return not_commit;
  StatusOr<GitResult> r =
      RunGit(dir, {"rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"});
  if (!r.ok()) return r.status();
  std::string sha = r->out.substr(0, r->out.find('\n'));
  if (r->exit_code != 0 || sha.empty()) return not_commit;
  return sha;
}

StatusOr<std::vector<std::string>> ListCommitFiles(const std::string& dir,
                                                   const std::string& commit) {
  // Run in dir, ls-tree lists only dir's part of the tree, relative to it.
  return ListedPaths(dir, {"ls-tree", "-r", "-z", "--name-only", "--end-of-options", commit});
}

StatusOr<std::string> ReadCommitFile(const std::string& dir, const std::string& commit,
                                     const std::string& path) {
  // `commit:./path` is relative to the directory git runs in, like path.
  StatusOr<GitResult> read =
      RunGit(dir, {"cat-file", "blob", "--end-of-options", commit + ":./" + path});
  if (!read.ok()) return read.status();
  if (read->exit_code != 0) {
    std::string message = read->err.substr(0, read->err.find('\n'));
    if (message.starts_with("fatal: ")) message.erase(0, 7);
    return Status::Error(message.empty() ? "git cat-file failed" : message);
  }
  return std::move(read->out);
}

}  // namespace slipway
