// One job's keywords, after `extends` is resolved, into a Job: `default:`
// values filled in as `inherit:default` allows, global variables as
// `inherit:variables` allows, every keyword checked as GitLab checks it.
#ifndef SLIPWAY_PIPELINE_JOB_PARSER_H_
#define SLIPWAY_PIPELINE_JOB_PARSER_H_

#include <optional>
#include <string>

#include "config/node.h"
#include "config/variables.h"
#include "pipeline/job.h"
#include "util/diagnostic.h"

namespace slipway {

// What every job may inherit.
struct JobContextDefaults {
  // `default:` merged with the deprecated top-level before_script,
  // after_script, image, services and cache (default: wins); only keys
  // that validated.
  Node defaults = Node::Map();
  VariableList global_variables;
};

struct ParsedJob {
  Job job;  // name == base_name; not yet expanded by parallel.
  std::optional<Node> parallel;
};

// Returns nullopt after reporting errors (job name and key in each).
std::optional<ParsedJob> ParseJob(const std::string& name, const Mark& mark, const Node& config,
                                  const JobContextDefaults& context, Diagnostics* diags);

// Reports a top-level entry that is not a job (no script, run or trigger):
// that error, with "did you mean" when its key is near a top-level keyword
// (`stagse:`), and its unknown keys as for a job (`scirpt:`).
void ReportNotAJob(const MapEntry& entry, Diagnostics* diags);

// Validates the keys of a `default:` block (key names reported as
// "default:<key>") and returns the keys that are valid.
Node ValidateDefaults(const Node& defaults, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_JOB_PARSER_H_
