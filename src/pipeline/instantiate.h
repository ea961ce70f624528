// Turning the static configuration into the pipeline GitLab would create for a
// given commit: workflow:rules, rules / only / except per job, rules:variables,
// rules:needs, optional needs pruned, in GitLab's order.
#ifndef SLIPWAY_PIPELINE_INSTANTIATE_H_
#define SLIPWAY_PIPELINE_INSTANTIATE_H_

#include <optional>
#include <string>
#include <vector>

#include "pipeline/job.h"
#include "pipeline/variables.h"
#include "util/diagnostic.h"

namespace slipway {

struct PipelineContext {
  std::string project_dir = ".";
  VariableList predefined;     // CI_* variables (see predefined.h).
  VariableList cli_variables;  // --variable KEY=VALUE; highest precedence.
  // Files changed by this pipeline relative to its compare target, for
  // rules:changes / only:changes. nullopt: unknown, and then changes rules are
  // true, as GitLab does for pipelines without a diff base.
  std::optional<std::vector<std::string>> changed_files;
};

struct Pipeline {
  bool created = true;       // false when workflow:rules filtered it out.
  std::string name;          // workflow:name, expanded.
  std::vector<std::string> stages;
  VariableList variables;    // predefined + global + cli, for reference.
  std::vector<Job> jobs;     // Created jobs only, in GitLab's order.
  const Job* FindJob(std::string_view name) const;
};

// Returns nullopt if an error was reported (e.g. a `needs` naming a job that
// rules removed, without optional: true).
std::optional<Pipeline> InstantiatePipeline(const PipelineConfig& config,
                                            const PipelineContext& context,
                                            Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_INSTANTIATE_H_
