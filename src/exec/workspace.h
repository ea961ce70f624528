// Clean workspaces: every job starts in a fresh directory holding the
// project's files, as a GitLab job starts in a fresh checkout.
//
// Once per run (and per --ref), a *snapshot* of the project is made under
// <run_dir>/source[-<ref>]:
//   - working tree (no ref): the files `git ls-files --cached --others
//     --exclude-standard` names, i.e. tracked and untracked-but-not-ignored,
//     with uncommitted changes and without uncommitted deletions; `.slipway/`
//     is left out. A directory that is not a git repository is copied whole
//     (minus .git and .slipway).
//   - ref: the tree of that commit exactly as committed (git read-tree -u).
//   - a `.git` directory that makes git commands inside jobs work like in a
//     GitLab checkout: HEAD detached at the commit, the project's refs and
//     packed-refs copied (and packed: loose refs go into packed-refs, so a
//     workspace gets one file for them), objects shared read-only through
//     objects/info/alternates (nothing is cloned), an index of the commit's
//     tree (so `git status` shows the working tree's uncommitted changes).
// Each job's workspace is then a copy of the snapshot written from its
// TreeImage (small files from memory, larger ones with copy_file_range; modes
// and modification times kept), so its cost is proportional to the project's
// size and needs no process. Jobs may modify their workspace freely; nothing
// leaks into the project or other jobs.
//
// Workspaces are directories of the run's pool, <run_dir>/builds/<n>/<name>
// (as GitLab Runner's builds/<concurrent id>/<project>): a job takes one no
// running job holds, so there are at most as many as jobs ever ran at once.
// Before each job the directory is brought back to exactly the snapshot
// (TreeImage::WriteTo with stamps): what an earlier job added is deleted,
// what it changed or deleted is written again, the rest is left as it is.
// GitLab Runner's default (GIT_STRATEGY: fetch + git clean -ffdx) reuses a
// build directory the same way; slipway also restores ignored and changed
// files. Reuse spares the file system a create and a delete of every file
// per job, which on ext4 costs more than running a small job. When the
// factory is destroyed (the run has ended) the pool and the snapshots are
// removed; job directories (logs, artifacts) stay.
#ifndef SLIPWAY_EXEC_WORKSPACE_H_
#define SLIPWAY_EXEC_WORKSPACE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "exec/file_tree.h"
#include "exec/subprocess.h"
#include "exec/tree_image.h"
#include "util/status.h"

namespace slipway {

struct Snapshot {
  std::string dir;
  std::string commit_sha;               // Empty when not a git repo or no commit yet.
  std::vector<TreeEntry> entries;       // Everything under dir, .git included.
  std::unordered_set<std::string> source_files;  // Non-directory entries outside .git.
  TreeImage image;  // dir read once, written into each job's workspace.
};

// Thread-safe: jobs of one run share a snapshot, made by whichever asks first.
class WorkspaceFactory {
 public:
  explicit WorkspaceFactory(ProcessRunner* runner) : runner_(runner) {}
  ~WorkspaceFactory();
  WorkspaceFactory(const WorkspaceFactory&) = delete;
  WorkspaceFactory& operator=(const WorkspaceFactory&) = delete;

  // The snapshot of project_dir (at ref, if not empty) for the run in run_dir.
  StatusOr<std::shared_ptr<const Snapshot>> GetSnapshot(const std::string& project_dir,
                                                        const std::string& ref,
                                                        const std::string& run_dir);

  // A workspace for a job of the run in run_dir, holding exactly the
  // snapshot: a pool directory named `name` (the project's name) that no
  // other job holds until Release.
  StatusOr<std::string> Acquire(const Snapshot& snapshot, const std::string& run_dir,
                                const std::string& name);
  void Release(const std::string& workspace);

 private:
  struct Slot {
    std::string dir;
    bool busy = false;
    TreeImage::Stamps stamps;  // Owned by the holder while busy.
  };

  StatusOr<std::shared_ptr<const Snapshot>> MakeSnapshot(const std::string& project_dir,
                                                         const std::string& ref,
                                                         const std::string& dir);

  ProcessRunner* runner_;
  std::mutex mu_;
  // Key: run_dir + '\n' + ref. Guarded by mu_, which is also held while a
  // snapshot is made so that other jobs wait for it instead of duplicating it.
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Slot>> slots_;  // Guarded by pool_mu_ (but see Slot::stamps).
  std::vector<std::string> pool_roots_;       // <run_dir>/builds of every run seen.
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_WORKSPACE_H_
