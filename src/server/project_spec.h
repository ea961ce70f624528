// A new project from what a user gives (`slipway project add`, POST
// /api/v4/projects): the path is checked, or derived from the name.
#ifndef SLIPWAY_SERVER_PROJECT_SPEC_H_
#define SLIPWAY_SERVER_PROJECT_SPEC_H_

#include <string>

#include "store/store.h"
#include "util/status.h"

namespace slipway {

struct ProjectSpec {
  std::string name;
  std::string path;  // path_with_namespace, e.g. "group/app"; empty: derived from name.
  std::string repo_url;
  std::string default_branch;  // Empty: "main".
  std::string webhook_secret;
  bool allow_unsigned_webhooks = false;
  std::string executor;  // Empty: "shell"; else checked by CheckExecutorName.
};

// Validates spec and builds the record to store. Paths are made of
// letters, digits, '_', '-', '.' and '/' between non-empty segments; a
// derived path replaces other characters of the name with '-'. An executor
// slipway lacks is an error naming it (server/executor_factory.h).
StatusOr<ProjectRecord> MakeProject(const ProjectSpec& spec);

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PROJECT_SPEC_H_
