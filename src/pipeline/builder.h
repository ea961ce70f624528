// From the merged YAML tree to the static PipelineConfig: reserved top-level
// keywords, default:, extends:, inherit:, hidden jobs, every job keyword with
// its documented default, parallel expansion, and validation of everything
// GitLab's CI Lint rejects (each error with file:line:col, job and key).
#ifndef SLIPWAY_PIPELINE_BUILDER_H_
#define SLIPWAY_PIPELINE_BUILDER_H_

#include <optional>

#include "config/node.h"
#include "pipeline/job.h"
#include "util/diagnostic.h"

namespace slipway {

// Returns nullopt if any error was reported to diags.
std::optional<PipelineConfig> BuildPipelineConfig(const Node& root, Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_BUILDER_H_
