// GitLab's CI Lint of a project (`GET`/`POST /projects/:id/ci/lint`): the
// project's .gitlab-ci.yml at a commit, or given text read in the project's
// context (local includes from that commit), loaded by the same code as a
// new pipeline and simulated for a push of the ref; nothing is stored or
// run. See docs/api.md, "CI Lint".
#ifndef SLIPWAY_SERVER_PIPELINE_LINT_H_
#define SLIPWAY_SERVER_PIPELINE_LINT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/server_pipeline.h"

namespace slipway {

struct LintRequest {
  int64_t project_id = 0;
  std::string ref;  // A branch; empty: the project's default branch.
  std::string sha;  // A commit; empty: the tip of ref.
  // The text to lint as .gitlab-ci.yml; nullopt: the file of the commit.
  std::optional<std::string> content;
};

struct LintResult {
  std::string ref;
  std::string sha;  // The commit read.
  ServerPipeline loaded;
  std::vector<IncludeSource> sources;  // Every file read, the root first.
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_PIPELINE_LINT_H_
