// Turning the static configuration into the pipeline GitLab would create for a
// given commit: workflow:rules, rules / only / except per job, rules:variables,
// rules:needs, optional needs pruned, in GitLab's order.
#ifndef SLIPWAY_PIPELINE_INSTANTIATE_H_
#define SLIPWAY_PIPELINE_INSTANTIATE_H_

#include <optional>
#include <string>
#include <vector>

#include "config/variables.h"
#include "pipeline/job.h"
#include "util/diagnostic.h"

namespace slipway {

struct PipelineContext {
  std::string project_dir = ".";
  // The commit id the pipeline is for when it is not the working tree
  // (`slipway run --ref REV`), and REV as the user wrote it: the pipeline
  // file, its includes and rules:exists are read from that commit.
  std::string commit;
  std::string commit_label;
  VariableList predefined;     // CI_* variables (see predefined.h).
  VariableList cli_variables;  // --variable KEY=VALUE; highest precedence.
  // Files changed by this pipeline relative to its compare target, for
  // rules:changes / only:changes. nullopt: unknown, and then changes rules are
  // true, as GitLab does for pipelines without a diff base.
  std::optional<std::vector<std::string>> changed_files;
};

struct Pipeline {
  // false when workflow:rules filtered the pipeline out or no job is left
  // outside .pre/.post; not_created_reason then says which, in GitLab's words.
  bool created = true;
  std::string not_created_reason;
  std::string name;  // workflow:name, expanded.
  std::vector<std::string> stages;
  VariableList variables;  // predefined + global + cli, for reference.
  // Created jobs only, in GitLab's order (stage order, then YAML order),
  // with rules applied: final when / allow_failure / start_in / needs /
  // interruptible, rules:variables and workflow:rules:variables merged into
  // variables, optional needs on absent jobs and such dependencies dropped.
  std::vector<Job> jobs;
  SlipwaySettings slipway;  // PipelineConfig::slipway, as is.
  const Job* FindJob(std::string_view name) const;
};

// Returns nullopt if an error was reported (e.g. a `needs` naming a job that
// rules removed, without optional: true). A pipeline that workflow:rules
// filter out is not an error: it comes back with created == false.
//
// rules:if and only:variables see the predefined variables, the job's
// CI_JOB_* variables, the job's variables (global ones included) and the CLI
// variables, in rising precedence; workflow:rules:if sees predefined, global
// and CLI variables.
std::optional<Pipeline> InstantiatePipeline(const PipelineConfig& config,
                                            const PipelineContext& context, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_INSTANTIATE_H_
