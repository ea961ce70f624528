// Who a job's processes run as: the credentials an executor gives them and
// the owner of the files it prepares for them (its HOME among them: each
// job has its own, exec/job_lifecycle.h). The server resolves one per
// project (server/job_users.h); `slipway run` has none (jobs run as the
// user who runs slipway).
#ifndef SLIPWAY_EXEC_JOB_IDENTITY_H_
#define SLIPWAY_EXEC_JOB_IDENTITY_H_

#include <sys/types.h>

#include <string>

namespace slipway {

struct JobIdentity {
  uid_t uid = 0;
  gid_t gid = 0;  // The only group: no supplementary groups are kept.
  // USER and LOGNAME of the job (the job user's name, shared by every
  // project even when each has its own uid).
  std::string user;
  // The umask the job's processes start with (the server itself runs with
  // 077; jobs get a login's usual one).
  mode_t umask = 022;
  bool operator==(const JobIdentity&) const = default;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_JOB_IDENTITY_H_
