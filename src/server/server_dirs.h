// The server's directories and who may enter them (docs/server.md, "Data
// directory" and "Security model").
//
//   DATA/                      the server's user, 0700; files 0600. Jobs never
//                              need it: the server copies caches and artifacts
//                              in and out and keeps the logs.
//   BUILDS/                    --builds-dir, default DATA-builds (a sibling):
//                              the server's user, 0711 — jobs pass through it
//                              to their project's directory but cannot list it
//     <project id>/            the server's user : the project's gid, 0750 —
//                              only that project's jobs can enter, none can
//                              create or delete anything directly in it
//       source-ref/            snapshot of the pipeline's commit } exec/workspace.h
//                              (the server's alone)               }
//       builds/, builds/<n>/   the pool: the server's user : the  }
//                              project's gid, 0750, with the      }
//                              job's scripts (0640) beside        }
//       builds/<n>/<project>/  the job workspaces: the project's  }
//                              uid : gid                          }
//       git-objects/           the git objects the workspaces borrow
//                              (server/shared_objects.h), read-only
//       builds/<n>/<project>.home/  HOME of the job in the slot (fresh
//                              for each job, removed after it): the
//                              project's uid : gid, 0700
//       variables/<pipeline>/  file-type variables of a running pipeline
//
// Both are created with the server's umask (077). The owners come from the
// project's JobIdentity (server/job_users.h). When the jobs run as the
// server's own uid (a server that is not root) the owners are simply its user
// and group, and the group bits above are left off (0700, 0600): the owner's
// serve the jobs, and the server's group may be shared with other people.
#ifndef SLIPWAY_SERVER_SERVER_DIRS_H_
#define SLIPWAY_SERVER_SERVER_DIRS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "exec/job_identity.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace slipway {

// Sets the process's umask to 077, so that whatever the server and the admin
// commands create (database, logs, artifacts, caches, mirrors) is its user's
// alone. Call first, before any thread starts: the umask is process-wide, and
// exec/file_tree.h reads it once.
void UseServerUmask();

// Creates dir (0700) if missing; an existing one whose mode is wider than
// 0700 is narrowed to 0700, and each of `files` that exists (the SQLite
// database and its -wal, -shm and -journal files) to 0600. What was changed,
// and a directory owned by another user than the server's, is added to notes
// (one line each) for the caller to print.
Status SecureDataDir(const std::string& dir, const std::vector<std::string>& files,
                     std::vector<std::string>* notes);

// DATA-builds for DATA (trailing slashes ignored).
std::string DefaultBuildsDir(const std::string& data_dir);

// Creates the builds directory if missing and gives it exactly mode 0711
// (noted when it was wider). A symlink is refused.
Status PrepareBuildsDir(const std::string& dir, std::vector<std::string>* notes);

// Takes the builds directory for this server (an flock on its .server-lock,
// made 0600, held while the descriptor is open): a server's crash recovery
// kills the job processes it finds there, so two servers sharing one would
// kill each other's jobs (docs/replicas.md). An error names the directory
// when another server holds it.
StatusOr<UniqueFd> LockBuildsDir(const std::string& dir);

// Whether jobs that run as other users than the server's (and in none of
// its groups) can reach dir: every directory above it, symlinks resolved,
// must let others search it (o+x). The error names the first that does not
// and says what to do.
Status CheckJobsCanReach(const std::string& dir);

struct ProjectDirs {
  std::string root;  // BUILDS/<project id>: the workspace factory's state dir.
};

// BUILDS/<project id> with the owner and mode above, made or repaired (an
// existing one gets them again: the job user's ranges may have changed
// since); a home/ that older versions kept for all of the project's jobs is
// removed. A symlink in its place is refused.
StatusOr<ProjectDirs> PrepareProjectDirs(const std::string& builds_dir, int64_t project_id,
                                         const JobIdentity& identity);

// BUILDS/<project id>/variables/<pipeline id>, made empty for the pipeline's
// file-type variables (readable by the project's jobs, which need them).
StatusOr<std::string> PrepareVariablesDir(const std::string& project_root, int64_t pipeline_id,
                                          const JobIdentity& identity);

// The mode of a directory (or file) the server owns and the project's jobs
// may read: owner | group, the group bits for the project's gid, only when
// the jobs run as another uid than the server's (else the owner bits serve
// them, and the server's own group, which others may share, gets nothing).
mode_t ProjectSharedMode(const JobIdentity& identity, mode_t owner, mode_t group);

// Gives every regular file directly in dir (the file-type variables written
// there) the server's user : the project's gid and mode 0640, so that the
// project's jobs can read them and nothing else can.
Status ShareFilesWithProject(const std::string& dir, const JobIdentity& identity);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_SERVER_DIRS_H_
