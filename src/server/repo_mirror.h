// The server's copy of a project's repository: a bare mirror under
// data_dir/repos/<project id>.git, fetched from the project's repo_url
// before each pipeline, and per-pipeline checkouts that share its objects.
// git runs as a subprocess with argument vectors (util/git.h): refs, shas
// and URLs from requests never reach a shell.
#ifndef SLIPWAY_SERVER_REPO_MIRROR_H_
#define SLIPWAY_SERVER_REPO_MIRROR_H_

#include <string>

#include "util/file_lock.h"
#include "util/status.h"

namespace slipway {

// Not thread-safe: callers serialise the operations on one mirror (the
// service holds a lock per project). What writes the mirror (Fetch,
// EnsureCommit's fetch) also holds an flock on git_dir + ".lock", so that
// servers sharing the data directory (docs/replicas.md) never fetch into
// one mirror at once (git's ref locks would fail one of them).
class RepoMirror {
 public:
  // git_dir: where the bare mirror lives (created on first Fetch). url: a
  // local path (made absolute) or any URL git fetches.
  RepoMirror(std::string git_dir, std::string url);

  // Creates the mirror if missing, then fetches every branch and tag of the
  // remote, pruning what the remote deleted. Errors name the URL and git's
  // message, with the credentials of any URL in them masked
  // (util/redact.h); so do EnsureCommit's.
  Status Fetch();

  // The commit a branch (or tag) names in the mirror after Fetch.
  // Errors: "unknown branch 'x'" / "unknown tag 'x'".
  StatusOr<std::string> Resolve(const std::string& ref, bool tag) const;

  // The full sha of `sha` (40 hex, or an abbreviation of at least 7) when it
  // is a commit in the mirror; fetches it explicitly from the remote first if
  // it is missing (a push whose branch moved on since).
  StatusOr<std::string> EnsureCommit(const std::string& sha);

  // Makes dir (which must not exist) a checkout of sha: a clone sharing the
  // mirror's objects, HEAD detached at sha, working tree as committed.
  Status Checkout(const std::string& sha, const std::string& dir) const;

  const std::string& git_dir() const { return git_dir_; }

 private:
  bool HasCommit(const std::string& sha) const;
  // Waits for the mirror's lock file (made with its parent directory).
  FileLock LockForWriting() const;

  std::string git_dir_;
  std::string url_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_REPO_MIRROR_H_
