// Job processes left behind by a server that was killed: they run in their
// own process groups, so they outlive it. A restarted server finds them by
// their environment — every job process has CI_PROJECT_DIR set to its
// workspace under the builds directory (inherited by what it starts) — and kills
// their process groups before it resumes anything, so that a retried job
// never shares its directory with the interrupted attempt.
#ifndef SLIPWAY_SERVER_ORPHAN_JOBS_H_
#define SLIPWAY_SERVER_ORPHAN_JOBS_H_

#include <string>

namespace slipway {

// SIGKILLs the process group (and the process) of every process whose
// environment has CI_PROJECT_DIR under dir/ and that this process may read
// (its own user's; root: every user's, so the job users' too). Returns how
// many processes matched. Processes that hide or clear their environment are not
// found. Linux only (/proc); elsewhere returns 0.
int KillOrphanedJobs(const std::string& dir);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_ORPHAN_JOBS_H_
