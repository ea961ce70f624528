// Assembling what InstantiatePipeline needs from the repository and the
// command line, and the variables a created job finally runs with.
#ifndef SLIPWAY_PIPELINE_PIPELINE_CONTEXT_H_
#define SLIPWAY_PIPELINE_PIPELINE_CONTEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/node.h"
#include "pipeline/instantiate.h"
#include "pipeline/predefined.h"
#include "util/diagnostic.h"
#include "util/status.h"

namespace slipway {

struct ContextOptions {
  PredefinedOptions predefined;  // project_dir, ref overrides, source ...
  VariableList cli_variables;    // --variable KEY=VALUE.
  // Revision that rules:changes / only:changes compare against (e.g.
  // "origin/main"). Unset: changes are unknown and every `changes` condition
  // is true, as in GitLab for a new branch's first push.
  std::optional<std::string> changes_since;
};

// Reads the repository once: predefined variables and, with changes_since,
// the changed files. With predefined.revision, all of it describes that
// commit, and context.commit / commit_label are set so the pipeline file is
// read from it too. Errors when project_dir is missing, or changes_since or
// the revision names no commit.
StatusOr<PipelineContext> MakePipelineContext(const ContextOptions& options);

struct LoadedPipeline {
  Node root;                // Merged configuration.
  PipelineConfig config;    // Static model.
  PipelineContext context;  // Predefined and --variable values.
};

// Loads `file` (relative to context.project_dir; from context.commit when it
// is set) and its includes and builds
// the static model; the context's predefined and CLI variables are visible
// to include:rules. Diagnostics (warnings too) go to diags; nullopt when
// there were errors. `slipway run` and the server load pipelines this way.
// fetcher, sources and root_text are LoadOptions' (null: no fetched
// includes, no list, the file read).
std::optional<LoadedPipeline> LoadPipelineFile(PipelineContext context, const std::string& file,
                                               Diagnostics* diags,
                                               IncludeFetcher* fetcher = nullptr,
                                               std::vector<IncludeSource>* sources = nullptr,
                                               const std::string* root_text = nullptr);

// The step both ways of loading share: loads with `load` and builds the
// static model into out->root and out->config (out->context is left as it
// is). False when there were errors (in diags).
bool LoadAndBuild(const LoadOptions& load, LoadedPipeline* out, Diagnostics* diags);

// The variables a job runs with, in GitLab's precedence (lowest first):
// pipeline predefined, the job's CI_JOB_* / CI_NODE_* / CI_ENVIRONMENT_*, the
// job's YAML variables (global ones, workflow and rules variables already
// merged in by InstantiatePipeline), the dotenv reports of the jobs it takes
// artifacts from (in order), the pipeline's variables (CLI, API, trigger,
// schedule). The one place this order is written down.
VariableList JobVariables(const Job& job, int64_t job_id, const VariableList& predefined,
                          const std::vector<const VariableList*>& dotenv,
                          const VariableList& pipeline_variables);

// JobVariables of a created job before it runs: no dotenv yet.
VariableList FinalJobVariables(const Job& job, int64_t job_id, const PipelineContext& context);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_PIPELINE_CONTEXT_H_
