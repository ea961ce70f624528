// The remote runner that took a job's attempt (docs/runners.md), as GitLab's
// job JSON names it in `runner`: stored with the job row when the lease is
// taken, so that it survives a restart of the server.
#ifndef SLIPWAY_STORE_JOB_RUNNER_H_
#define SLIPWAY_STORE_JOB_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

namespace slipway {

struct JobRunner {
  int64_t id = 0;           // The runner's token id; 0: no runner took the job.
  std::string description;  // Its token's name.
  std::vector<std::string> tags;
};

}  // namespace slipway

#endif  // SLIPWAY_STORE_JOB_RUNNER_H_
