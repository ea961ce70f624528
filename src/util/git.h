// Running git as a subprocess: an argument vector handed to the process
// runner (util/subprocess.h), never a shell, so refs and paths from a repository cannot
// inject commands.
#ifndef SLIPWAY_UTIL_GIT_H_
#define SLIPWAY_UTIL_GIT_H_

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

struct GitResult {
  int exit_code = 0;
  std::string out;  // stdout, complete.
  std::string err;  // stderr, complete.
};

// Runs `git -C dir args...` and waits for it. Fails only when git cannot be
// started or waited for (e.g. not installed); a non-zero exit is a result.
// Interactive prompts are disabled so a call never blocks on a terminal.
StatusOr<GitResult> RunGit(const std::string& dir, const std::vector<std::string>& args);

// Like RunGit, but a non-zero exit becomes an error naming the command and
// git's first stderr line. Returns stdout without its trailing newline.
StatusOr<std::string> GitOutput(const std::string& dir, const std::vector<std::string>& args);

// Files changed in the repository at dir relative to the commit `base` names
// (any revision git understands): the committed diff base..HEAD plus staged,
// unstaged and untracked (non-ignored) changes in the working tree, as
// repo-relative paths, sorted and unique. A rename lists both paths, as
// GitLab's changed paths do. Errors if base does not name a commit.
// With a non-empty `commit` (a commit id), only the committed diff
// base..commit counts and the working tree is not looked at.
StatusOr<std::vector<std::string>> ChangedFilesSince(const std::string& dir,
                                                     const std::string& base,
                                                     const std::string& commit = "");

// The commit id (40 hex digits) that rev names in the repository at dir.
// Errors when rev names no commit, starts with '-', or dir is not in a git
// repository.
StatusOr<std::string> ResolveCommit(const std::string& dir, const std::string& rev);

// The files of commit's tree below dir, relative to dir (as `git ls-files`
// gives them for a checkout of commit), sorted. Submodules are one entry.
StatusOr<std::vector<std::string>> ListCommitFiles(const std::string& dir,
                                                   const std::string& commit);

// The content of the file at path (relative to dir) in commit. Errors with
// git's message when there is no such file.
StatusOr<std::string> ReadCommitFile(const std::string& dir, const std::string& commit,
                                     const std::string& path);

// Files of the work tree at dir that git knows or would add: tracked plus
// untracked, not ignored, relative to dir, sorted and unique. Errors when dir
// is not inside a git work tree.
StatusOr<std::vector<std::string>> ListWorkTreeFiles(const std::string& dir);

}  // namespace slipway

#endif  // SLIPWAY_UTIL_GIT_H_
