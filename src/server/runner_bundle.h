// How a commit travels from the server's mirror to a remote runner
// (docs/runners.md, "The repository"): as a git bundle of one ref, made in a
// scratch repository that borrows the server's objects (its repositories
// are not written to), and fetched by the runner into a bare repository of its
// own.
#ifndef SLIPWAY_SERVER_RUNNER_BUNDLE_H_
#define SLIPWAY_SERVER_RUNNER_BUNDLE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <string>

#include "util/status.h"
#include "util/thread_annotations.h"

namespace slipway {

// Writes a bundle of commit (and its history) from the git repository
// repository (bare or not; its objects may be borrowed) to bundle_path.
// Fails naming the commit when repository lacks it.
Status MakeCommitBundle(const std::string& repository, const std::string& commit,
                        const std::string& bundle_path);

// Brings commit from the bundle at bundle_path into the bare repository repo
// (created when missing) as `refs/slipway/jobs/<commit>`: the bundle must
// hold commit and need no other; its pack is checked and indexed by `git
// index-pack` (the one process this runs) and kept as one of repo's packs.
// Only the keep_refs most recent of those refs stay (their commits' objects
// do too).
Status FetchCommitBundle(const std::string& bundle_path, const std::string& commit,
                         const std::string& repo, size_t keep_refs = 64);

// The bundles of the commits runners ask for: one per commit, made once and
// shared by every lease of that commit (every job of a pipeline, on every
// runner), started as soon as a job of the commit waits for a runner so that
// it is ready, or under way, when the runner asks. Kept in dir as
// <commit>.bundle, the `keep` most recently made; a lease gets a hard link
// of its own (LinkTo), so removing the shared name never breaks a download
// in progress, here or in another replica sharing dir. Thread-safe.
class CommitBundles {
 public:
  explicit CommitBundles(std::string dir, size_t keep = 32);
  // Waits for the bundles being made.
  ~CommitBundles();

  // Starts making commit's bundle from repository in the background, unless
  // it is made or being made.
  void Prepare(const std::string& repository, const std::string& commit);
  // Links commit's bundle at path (made now if needed, or waited for while
  // being made); an existing path is left as it is.
  Status LinkTo(const std::string& repository, const std::string& commit, const std::string& path);

 private:
  struct Entry {
    uint64_t id = 0;
    std::shared_future<Status> made;
  };

  Entry StartLocked(const std::string& repository, const std::string& commit) REQUIRES(mu_);
  // Forgets entry id of commit (it failed, or its file is gone).
  void Forget(const std::string& commit, uint64_t id);
  std::string PathOf(const std::string& commit) const { return dir_ + "/" + commit + ".bundle"; }

  const std::string dir_;
  const size_t keep_;
  std::mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
  std::map<std::string, Entry> bundles_ GUARDED_BY(mu_);  // By commit.
  std::deque<std::string> order_ GUARDED_BY(mu_);         // Commits, oldest first.
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_RUNNER_BUNDLE_H_
