#include "server/repo_mirror.h"

#include <sys/file.h>

#include <filesystem>

#include "util/file_lock.h"
#include "util/git.h"
#include "util/logger.h"
#include "util/redact.h"
#include "util/ref_name.h"

namespace slipway {
namespace {

bool IsHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return !s.empty();
}

}  // namespace

RepoMirror::RepoMirror(std::string git_dir, std::string url)
    : git_dir_(std::move(git_dir)), url_(std::move(url)) {
  std::error_code ec;
  if (!url_.empty() && url_.find("://") == std::string::npos && std::filesystem::exists(url_, ec)) {
    url_ = std::filesystem::absolute(url_, ec).lexically_normal().string();
  }
}

FileLock RepoMirror::LockForWriting() const {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(git_dir_).parent_path(), ec);
  return FileLock(git_dir_ + ".lock", LOCK_EX);
}

Status RepoMirror::Fetch() {
  FileLock lock = LockForWriting();
  if (Status locked = lock.status(); !locked.ok()) return locked;
  std::error_code ec;
  if (!std::filesystem::exists(git_dir_ + "/HEAD", ec)) {
    std::filesystem::create_directories(git_dir_, ec);
    if (ec) return Status::Error("cannot create '" + git_dir_ + "': " + ec.message());
    StatusOr<std::string> init = GitOutput(git_dir_, {"init", "-q", "--bare"});
    if (!init.ok()) return init.status();
  }
  // The URL lives in the mirror's config rather than on the command line, so
  // that a URL starting with '-' cannot be read as an option.
  StatusOr<std::string> set =
      GitOutput(git_dir_, {"config", "--end-of-options", "remote.origin.url", url_});
  if (!set.ok()) return Status::Error(RedactUrlCredentials(set.status().message()));
  StatusOr<GitResult> fetched =
      RunGit(git_dir_, {"fetch", "-q", "--prune", "--force", "--no-tags", "origin",
                        "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"});
  if (!fetched.ok()) return fetched.status();
  if (fetched->exit_code != 0) {
    std::string err = fetched->err.substr(0, fetched->err.find('\n'));
    LogLine(LogLevel::kWarn, "fetch_error")
        .Str("repository", RedactUrlCredentials(url_))
        .Str("error", RedactUrlCredentials(err));
    return Status::Error(RedactUrlCredentials("cannot fetch " + url_ + ": " + err));
  }
  return Status::Ok();
}

StatusOr<std::string> RepoMirror::Resolve(const std::string& ref, bool tag) const {
  const char* kind = tag ? "tag" : "branch";
  if (Status valid = CheckBranchOrTagName(ref, tag); !valid.ok()) return valid;
  std::string full = std::string(tag ? "refs/tags/" : "refs/heads/") + ref;
  StatusOr<GitResult> r =
      RunGit(git_dir_, {"rev-parse", "--verify", "-q", "--end-of-options", full + "^{commit}"});
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return Status::Error(std::string("unknown ") + kind + " '" + ref + "'");
  std::string sha = r->out;
  while (!sha.empty() && sha.back() == '\n') sha.pop_back();
  return sha;
}

bool RepoMirror::HasCommit(const std::string& sha) const {
  StatusOr<GitResult> r =
      RunGit(git_dir_, {"cat-file", "-e", "--end-of-options", sha + "^{commit}"});
  return r.ok() && r->exit_code == 0;
}

StatusOr<std::string> RepoMirror::EnsureCommit(const std::string& sha) {
  if (sha.size() < 7 || sha.size() > 40 || !IsHex(sha)) {
    return Status::Error("'" + sha + "' is not a commit sha");
  }
  if (!HasCommit(sha)) {
    if (sha.size() == 40) {
      // Best effort: servers may refuse unadvertised objects.
      FileLock lock = LockForWriting();
      if (Status locked = lock.status(); !locked.ok()) return locked;
      (void)RunGit(git_dir_, {"fetch", "-q", "--no-tags", "--end-of-options", "origin", sha});
    }
    if (!HasCommit(sha)) {
      return Status::Error("commit " + sha + " is not in " + RedactUrlCredentials(url_));
    }
  }
  return GitOutput(git_dir_,
                   {"rev-parse", "--verify", "-q", "--end-of-options", sha + "^{commit}"});
}

Status RepoMirror::Checkout(const std::string& sha, const std::string& dir) const {
  // git checkout has no --end-of-options (2.39): only a full commit id, which
  // cannot look like an option, is handed to it.
  if (sha.size() != 40 || !IsHex(sha)) return Status::Error("'" + sha + "' is not a commit sha");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  StatusOr<GitResult> cloned =
      RunGit(".", {"clone", "-q", "--shared", "--no-checkout", "--", git_dir_, dir});
  if (!cloned.ok()) return cloned.status();
  if (cloned->exit_code != 0) {
    return Status::Error("cannot check out " + sha + ": " +
                         cloned->err.substr(0, cloned->err.find('\n')));
  }
  StatusOr<std::string> checked = GitOutput(dir, {"checkout", "-q", "--detach", sha, "--"});
  if (!checked.ok()) return checked.status();
  return Status::Ok();
}

}  // namespace slipway
