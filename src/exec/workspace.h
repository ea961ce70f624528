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
//     objects/info/alternates (nothing is cloned) — the project's own object
//     directory, or the one the factory is given (the server: a copy of its
//     mirror's objects that the jobs may read, server/shared_objects.h) —,
//     an index of the commit's tree (so `git status` shows the working
//     tree's uncommitted changes).
// Each job's workspace is then a copy of the snapshot written from its
// TreeImage (small files from memory, larger ones with copy_file_range; modes
// and modification times kept), so its cost is proportional to the project's
// size and needs no process. Jobs may modify their workspace freely; nothing
// leaks into the project or other jobs.
//
// Workspaces are directories of a pool, <builds>/<n>/<name> (as GitLab
// Runner's builds/<concurrent id>/<project>): a job takes one no running job
// holds, so there are at most as many as jobs ever ran at once. Before each
// job the directory is brought back to exactly the snapshot
// (TreeImage::WriteTo with stamps): what an earlier job added is deleted,
// what it changed or deleted is written again, the rest is left as it is.
// GitLab Runner's default (GIT_STRATEGY: fetch + git clean -ffdx) reuses a
// build directory the same way; slipway also restores ignored and changed
// files.
//
// With an owner (a server running as root, whose jobs run as another uid)
// the workspace and everything written into it belong to the owner, while
// the pool's directories (<builds>, <builds>/<n>) and the files beside a
// workspace (the job's scripts: WriteBeside) stay slipway's, given the
// owner's group and modes 0750 and 0640: the job can enter and read them
// but not change them, nor replace its workspace with something else. The
// snapshot, its locks and the stamps stay slipway's alone.
//
// With a state directory (the CLI: <project>/.slipway; the server:
// BUILDS/<project id>) the snapshot (state/source, or
// state/source-ref for a commit) and the pool (state/builds) outlive the run
// and the next run reconciles them in the same way: a run of an unchanged
// project writes almost nothing. A run holds what it uses with flock
// (<dir>.lock beside each directory); one that finds the snapshot
// taken by a concurrent run makes its own under the run directory instead,
// and takes the pool's next free n. The stamps of each directory are saved
// beside it (<dir>.stamps) when the run ends. Without a state directory
// everything lives under <run_dir> (source, builds) and is deleted when the
// run ends. Either way, creating and deleting every file for every job
// (which on ext4 costs more than running a small job) is avoided.
#ifndef SLIPWAY_EXEC_WORKSPACE_H_
#define SLIPWAY_EXEC_WORKSPACE_H_

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "exec/file_tree.h"
#include "exec/tree_image.h"
#include "util/status.h"
#include "util/subprocess.h"
#include "util/thread_annotations.h"

namespace slipway {

struct Snapshot {
  std::string dir;
  std::string commit_sha;                        // Empty when not a git repo or no commit yet.
  std::vector<TreeEntry> entries;                // Everything under dir, .git included.
  std::unordered_set<std::string> source_files;  // Non-directory entries outside .git.
  TreeImage image;  // dir read once, written into each job's workspace.
};

// Thread-safe: jobs of one run share a snapshot, made by whichever asks first.
class WorkspaceFactory {
 public:
  // state_dir: see above; empty: none. owner: who the files written into
  // workspaces belong to (TreeImage::WriteTo); unset: slipway's own user.
  // git_objects: the object directory the snapshot's .git borrows from;
  // empty: <the project's git common dir>/objects. It must hold every
  // object of the project's history.
  explicit WorkspaceFactory(ProcessRunner* runner, std::string state_dir = "",
                            OptionalOwner owner = {}, std::string git_objects = "")
      : runner_(runner),
        state_dir_(std::move(state_dir)),
        owner_(owner),
        git_objects_(std::move(git_objects)) {}
  ~WorkspaceFactory();
  WorkspaceFactory(const WorkspaceFactory&) = delete;
  WorkspaceFactory& operator=(const WorkspaceFactory&) = delete;

  // Starts making the working-tree snapshot of project_dir in the state
  // directory in the background, so that it overlaps loading the pipeline;
  // GetSnapshot then waits for it. Nothing without a state directory.
  void Prefetch(const std::string& project_dir);

  // The snapshot of project_dir (at ref, if not empty) for the run in run_dir.
  StatusOr<std::shared_ptr<const Snapshot>> GetSnapshot(const std::string& project_dir,
                                                        const std::string& ref,
                                                        const std::string& run_dir);

  // A workspace for a job of the run in run_dir, holding exactly the
  // snapshot: a pool directory named `name` (the project's name) that no
  // other job holds until Release. (The script files of the job go beside
  // it, in its parent.)
  StatusOr<std::string> Acquire(const Snapshot& snapshot, const std::string& run_dir,
                                const std::string& name);
  void Release(const std::string& workspace);

  // Writes content into the file `name` beside an acquired workspace (in
  // its parent, the pool's slot), replacing whatever is there without
  // writing through it; returns the file's path. With an owner the file is
  // slipway's, readable by the owner's group only (0640); else 0644 less
  // the umask.
  StatusOr<std::string> WriteBeside(const std::string& workspace, const std::string& name,
                                    std::string_view content);

  // The job's HOME, <workspace>.home beside an acquired workspace (the
  // ".home" suffix keeps it apart from the workspace whatever the project's
  // name): whatever is there (a former job's HOME, a symlink) is removed and
  // an empty directory made, mode 0700, the owner's (else slipway's user's).
  // The caller removes it with RemoveTree when the job ends.
  StatusOr<std::string> MakeHomeBeside(const std::string& workspace);

 private:
  // A directory this factory writes into and keeps stamps for: a snapshot
  // or a pool slot.
  struct Held {
    std::string dir;
    bool persistent = false;  // In state_dir_: kept (with its stamps) at the end.
    int lock_fd = -1;         // flock held on <dir>.lock while persistent.
    TreeImage::Stamps stamps;
    // Pool slots only:
    std::string root;  // The pool's directory.
    int number = 0;    // n in <root>/<n>/<name>.
    bool busy = false;
  };

  // Locks <dir>.lock and loads <dir>.stamps into held; false if another
  // run holds the lock.
  static StatusOr<bool> TakePersistent(const std::string& dir, Held* held);

  StatusOr<std::shared_ptr<const Snapshot>> MakeSnapshot(const std::string& project_dir,
                                                         const std::string& ref, Held* held);

  // A snapshot made in state_dir_: busy when a concurrent run holds it.
  struct Prepared {
    bool busy = false;
    std::unique_ptr<Held> held;
    StatusOr<std::shared_ptr<const Snapshot>> made = Status::Error("no snapshot");
  };
  Prepared PrepareInStateDir(const std::string& project_dir, const std::string& ref);

  ProcessRunner* runner_;
  const std::string state_dir_;
  const OptionalOwner owner_;
  const std::string git_objects_;
  std::mutex mu_;
  // Key: run_dir + '\n' + ref. mu_ is also held while a snapshot is made so
  // that other jobs wait for it instead of duplicating it.
  std::map<std::string, std::shared_ptr<const Snapshot>> snapshots_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Held>> snapshot_dirs_ GUARDED_BY(mu_);
  std::string prefetch_project_ GUARDED_BY(mu_);
  std::future<Prepared> prefetch_ GUARDED_BY(mu_);

  std::mutex pool_mu_;
  // A busy slot's stamps are its holder's, which reaches them through its
  // own Held*, not through slots_.
  std::vector<std::unique_ptr<Held>> slots_ GUARDED_BY(pool_mu_);
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_WORKSPACE_H_
