// Creating a downstream pipeline for a trigger: job, as GitLab's
// CreateDownstreamPipelineService does before anything of it runs: the
// variables the trigger passes, the child's configuration read from its
// include entries (an artifact of a job of the parent too) or the other
// project's repository, and the pipeline instantiated with
// CI_PIPELINE_SOURCE parent_pipeline (child) or pipeline (multi-project).
#ifndef SLIPWAY_EXEC_DOWNSTREAM_CREATE_H_
#define SLIPWAY_EXEC_DOWNSTREAM_CREATE_H_

#include <map>
#include <memory>
#include <string>

#include "config/include_fetcher.h"
#include "config/variables.h"
#include "exec/downstream.h"
#include "exec/executor.h"
#include "pipeline/instantiate.h"
#include "pipeline/trigger.h"
#include "util/diagnostic.h"

namespace slipway {

// The variables a trigger job passes down, the downstream pipeline's
// pipeline variables (GitLab's Bridge#downstream_variables): with
// forward:yaml_variables (default) the job's YAML variables, global ones
// included, expanded with the job's variables (context.variables); with
// forward:pipeline_variables the parent's own pipeline variables on top.
VariableList TriggerVariables(const Job& job, const Trigger& trigger, const TriggerContext& context,
                              const VariableList& parent_pipeline_variables);

// Reads `artifact` among the artifacts of job `job_name` that the trigger
// job's attempt receives (context.sources), without
// following a link and at most GitLab's 5 MB. The error is GitLab's when
// the job is not one of them.
StatusOr<std::string> ReadTriggerArtifact(const TriggerContext& context,
                                          const std::string& job_name, const std::string& artifact,
                                          std::string* shown_name);

// Levels of downstream pipelines of any kind below the pipeline a user
// started; slipway's bound against trigger:project cycles (A triggers B
// triggers A), where GitLab bounds the hierarchy's size.
inline constexpr int kMaxDownstreamDepth = 10;

// A failed trigger job's result, the message written to its log too.
JobResult FailTrigger(const Job& job, LogSink* log, const std::string& reason,
                      const std::string& message);

// The first steps of a trigger job's attempt: its context (MakeTriggerContext)
// and its trigger: (ParseTrigger). nullopt, with *failed the job's result,
// when either fails.
struct TriggerAttempt {
  TriggerContext context;
  Trigger trigger;
};
std::optional<TriggerAttempt> BeginTrigger(const Job& job, const JobSpec& spec, const JobHost& host,
                                           LogSink* log, JobResult* failed);

// Why a trigger job of a pipeline that is child_depth levels of child
// pipelines and depth levels of downstream pipelines below the one a user
// started may not start one more (GitLab's failure_reason in *reason, and
// its message), or "".
std::string DownstreamDepthProblem(bool child, int child_depth, int depth, std::string* reason);

// The variables a child job's needs:pipeline value is expanded with: the
// pipeline's predefined ones, the job's own and the pipeline variables.
VariableList NeedPipelineVariables(const Job& job, const PipelineContext& context);

// The result a trigger job with strategy: depend (or mirror) takes from its
// downstream pipeline once that has ended (GitLab's
// Bridge#inherit_status_from_downstream!): success -> success, canceled ->
// canceled, anything else (failed, skipped) -> failed, saying so.
JobResult DownstreamOutcome(CiStatus status, const std::string& strategy);

struct DownstreamSource {
  PipelineContext parent;             // The parent pipeline's context.
  VariableList variables;             // TriggerVariables.
  std::string pipeline_id;            // CI_PIPELINE_ID (and _IID) of the new pipeline.
  IncludeFetcher* fetcher = nullptr;  // Template and project includes; may be null.
  // trigger:project: the repository the project is mapped to (empty: not
  // mapped).
  std::string project_dir;
};

struct CreatedPipeline {
  std::shared_ptr<Pipeline> pipeline;  // created may be false (workflow:rules).
  PipelineContext context;
};

// Creates the downstream pipeline of trigger. Errors (unreadable or invalid
// configuration, an unmapped project) go to diags; nullopt then.
std::optional<CreatedPipeline> CreateDownstreamPipeline(const Trigger& trigger,
                                                        const TriggerContext& context,
                                                        const DownstreamSource& source,
                                                        Diagnostics* diags);

}  // namespace slipway

#endif  // SLIPWAY_EXEC_DOWNSTREAM_CREATE_H_
