#include "util/git.h"

#include <algorithm>
#include <string_view>

#include "util/subprocess.h"

namespace slipway {
namespace {

// The tools' environment (HostEnvironmentForTools) with git kept from
// waiting for a user or the index lock, and its messages untranslated.
// getenv() takes the first of duplicate names, so these go first.
std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env = {
      "GIT_TERMINAL_PROMPT=0",
      // Status queries must not take the index lock a concurrent git may hold.
      "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C"};
  for (std::string& e : HostEnvironmentForTools()) env.push_back(std::move(e));
  return env;
}

}  // namespace

StatusOr<GitResult> RunGit(const std::string& dir, const std::vector<std::string>& args) {
  // git leaves nothing running: its process group is all there is to
  // contain (ProcessSpec::contain), so no Containment is looked up.
  static PosixProcessRunner* const runner = new PosixProcessRunner(Containment{});
  ProcessSpec spec;
  spec.argv = {"git", "-C", dir};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = ChildEnvironment();
  spec.contain = false;
  GitResult result;
  spec.stderr_output = [&result](std::string_view chunk) { result.err.append(chunk); };
  StatusOr<ProcessResult> ran = runner->Run(
      spec, [&result](std::string_view chunk) { result.out.append(chunk); }, nullptr);
  if (!ran.ok()) return ran.status();
  result.exit_code = ran->exit_code;
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
  std::vector<std::string> args = {"diff",          "--name-only",      "-z",     "--no-renames",
                                   "--no-ext-diff", "--end-of-options", *base_sha};
  if (!commit.empty()) args.push_back(commit);
  args.push_back("--");
  StatusOr<GitResult> diff = RunGit(dir, args);
  if (!diff.ok()) return diff.status();
  if (diff->exit_code != 0) {
    return Status::Error("git diff against '" + base +
                         "' failed: " + diff->err.substr(0, diff->err.find('\n')));
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
