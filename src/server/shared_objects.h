// A project's git objects, shared read-only with the project's jobs
// (docs/server.md, "Security model").
//
// A job's workspace has a .git that borrows every object through
// objects/info/alternates (exec/workspace.h), so that git log, git describe
// and the like work in jobs without a clone per job. The objects are in the
// server's mirror, DATA/repos/<project id>.git, which jobs cannot enter: the
// data directory is the server's alone, and the mirror's config holds the
// repository's URL, credentials included when the URL has them. So the
// server keeps a copy of the mirror's object files — and of nothing else —
// in BUILDS/<project id>/git-objects, which the workspaces' alternates name:
//
//   git-objects/               the server's user : the project's gid, 0750
//     pack/pack-<hash>.pack    } the mirror's packs (.pack, .idx, .rev)
//     <xx>/<rest of the hash>  } and loose objects, 0440
//
// (0700 and 0400, the server's own, when the jobs run as the server's uid.)
// A job can read them, never change them: the directories are not its to
// write. Another project's jobs cannot enter BUILDS/<project id>/.
//
// Packs and loose objects are named by their content and never change once
// written, so a copy is only ever added or removed, never rewritten: a new
// file is copied under a temporary name and renamed into place (a pack
// before its index, which is what git looks for), and files the mirror no
// longer has (git gc repacked them) are removed once everything the mirror
// has is in place. A job that is reading them keeps what it opened. The
// mirror's commit-graph, multi-pack-index and bitmaps are left out: git
// works without them.
#ifndef SLIPWAY_SERVER_SHARED_OBJECTS_H_
#define SLIPWAY_SERVER_SHARED_OBJECTS_H_

#include <string>

#include "exec/job_identity.h"
#include "util/status.h"

namespace slipway {

// Brings `to` (created if missing) to hold exactly the object files of the
// object directory `from`, with the owners and modes above. A file already
// there with the right size is kept (its owner and mode repaired if need
// be). A file that is copied is hard-linked instead when it already has the
// wanted owner and mode and both are on one file system. Not thread-safe
// for one `to`, nor while `from` is written: callers hold the project's
// repository lock (git's own background maintenance may still delete files
// meanwhile; then the copy starts again). Errors name the file.
Status ShareGitObjects(const std::string& from, const std::string& to, const JobIdentity& identity);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_SHARED_OBJECTS_H_
