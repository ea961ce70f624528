// The checks GitLab's CI Lint makes once every job is known: stages exist,
// `needs` and `dependencies` name jobs of the current or earlier stages,
// no need is listed twice or forms a cycle, environment:on_stop names a
// stopping job. Needs and dependencies on a parallel job's base name are
// first resolved to all of its instances.
#ifndef SLIPWAY_PIPELINE_VALIDATE_H_
#define SLIPWAY_PIPELINE_VALIDATE_H_

#include <map>
#include <string>
#include <vector>

#include "pipeline/job.h"
#include "util/diagnostic.h"

namespace slipway {

// GitLab's default limit of needs per job (ci_needs_size_limit); exceeding
// it is a warning, since instances may raise it.
inline constexpr size_t kMaxNeeds = 50;

// parallel_instances maps a parallel job's base name to its instances'
// names. Rewrites needs/dependencies in config; returns false if errors
// were reported.
bool ResolveAndValidateJobs(
    PipelineConfig* config,
    const std::map<std::string, std::vector<std::string>>& parallel_instances, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_VALIDATE_H_
