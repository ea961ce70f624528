// The deployments `slipway run` made, kept per project in
// .slipway/deployments.json (docs/deployments.md, "slipway run"), so that a
// local run can roll an environment back to an earlier successful
// deployment: that deployment's job is run again in its own run directory,
// with the artifacts its run kept.
//
// The file: {"deployments": [{"id", "environment", "run", "job", "commit",
// "status", "finished_at", "checks", "rollback_of"}, ...]}, oldest first.
// Writers take an exclusive flock on it and replace it atomically.
#ifndef SLIPWAY_EXEC_DEPLOY_HISTORY_H_
#define SLIPWAY_EXEC_DEPLOY_HISTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace slipway {

struct LocalDeployment {
  int64_t id = 0;  // 1, 2, ... per project; assigned by Append.
  std::string environment;
  int64_t run = 0;            // The run (.slipway/runs/<run>) whose job deployed.
  std::string job;            // The job's name.
  std::string commit;         // The commit the run was of; empty: a working tree with changes.
  std::string status;         // success, failed or canceled.
  std::string finished_at;    // ISO 8601, UTC.
  std::string checks = "[]";  // CheckResultsJson.
  std::optional<int64_t> rollback_of;
};

class DeployHistory {
 public:
  // <project_dir>/.slipway/deployments.json.
  explicit DeployHistory(const std::string& project_dir);

  // Every deployment, oldest first; none when the file does not exist.
  StatusOr<std::vector<LocalDeployment>> Read() const;
  // Adds deployment with the next id, which it returns.
  StatusOr<int64_t> Append(LocalDeployment deployment);

  // The newest successful deployment of environment older than before_id
  // (0: any) that can be run again (it has a commit), if any.
  static std::optional<LocalDeployment> LastSuccessful(const std::vector<LocalDeployment>& all,
                                                       const std::string& environment,
                                                       int64_t before_id);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace slipway

#endif  // SLIPWAY_EXEC_DEPLOY_HISTORY_H_
