// A job attempt as it travels from the server to a remote runner
// (docs/runners.md, "The job message"): the parts of the Job and its JobSpec
// that the runner's executor needs, as JSON. The repository is not in it:
// the runner fetches the commit from the server and points the spec at its
// own copy.
#ifndef SLIPWAY_EXEC_REMOTE_JOB_H_
#define SLIPWAY_EXEC_REMOTE_JOB_H_

#include <nlohmann/json.hpp>

#include "exec/executor.h"
#include "pipeline/job.h"
#include "util/status.h"

namespace slipway {

// The job message's "job" and "spec" members. Deployment checks are not
// sent (they run where the server runs them); image: and services: are not
// sent (a runner's shell executor runs on its host).
nlohmann::json RemoteJobToJson(const Job& job, const JobSpec& spec);

// The inverse, for what a server sent: every member is type-checked; an
// error names the member ("job.script[2]: expected a string"). spec's
// repository is left empty for the caller to fill in.
Status RemoteJobFromJson(const nlohmann::json& message, Job* job, JobSpec* spec);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_REMOTE_JOB_H_
