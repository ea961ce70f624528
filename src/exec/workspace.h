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

  // The snapshot of project_dir (at ref, if not empty) for the run in run_dir.
  StatusOr<std::shared_ptr<const Snapshot>> GetSnapshot(const std::string& project_dir,
                                                        const std::string& ref,
                                                        const std::string& run_dir);

  // Makes dest (removing whatever was there) a copy of snapshot.
  static Status Populate(const Snapshot& snapshot, const std::string& dest);

 private:
  StatusOr<std::shared_ptr<const Snapshot>> MakeSnapshot(const std::string& project_dir,
                                                         const std::string& ref,
                                                         const std::string& dir);

  ProcessRunner* runner_;
  std::mutex mu_;
  // Key: run_dir + '\n' + ref. Guarded by mu_, which is also held while a
  // snapshot is made so that other jobs wait for it instead of duplicating it.
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_WORKSPACE_H_
