#include "exec/downstream_create.h"

#include <fcntl.h>

#include "config/include_messages.h"
#include "exec/artifacts.h"
#include "exec/beneath_io.h"
#include "exec/run_dir.h"
#include "pipeline/pipeline_context.h"

namespace slipway {
namespace {

// GitLab's limit on the artifact a dynamic child pipeline is read from.
constexpr size_t kMaxChildConfigBytes = size_t{5} << 20;

void SetPipelineId(PipelineContext* context, const std::string& id) {
  context->predefined.Set("CI_PIPELINE_ID", id);
  context->predefined.Set("CI_PIPELINE_IID", id);
}

std::optional<CreatedPipeline> Instantiate(const PipelineConfig& config, PipelineContext context,
                                           Diagnostics* diags) {
  std::optional<Pipeline> pipeline = InstantiatePipeline(config, context, diags);
  if (!pipeline) return std::nullopt;
  CreatedPipeline created;
  created.pipeline = std::make_shared<Pipeline>(std::move(*pipeline));
  created.context = std::move(context);
  created.context.predefined.Set("CI_PIPELINE_NAME", created.pipeline->name);
  return created;
}

std::optional<CreatedPipeline> CreateChild(const Trigger& trigger, const TriggerContext& context,
                                           const DownstreamSource& source, Diagnostics* diags) {
  PipelineContext child = source.parent;
  child.cli_variables = source.variables;
  child.predefined.Set("CI_PIPELINE_SOURCE", "parent_pipeline");
  SetPipelineId(&child, source.pipeline_id);
  LoadOptions load = ChildLoadOptions(trigger, child, source.fetcher);
  load.read_artifact = [&context](const std::string& job,
                                  const std::string& path) -> StatusOr<LoadOptions::ArtifactFile> {
    LoadOptions::ArtifactFile file;
    StatusOr<std::string> text = ReadTriggerArtifact(context, job, path, &file.name);
    if (!text.ok()) return text.status();
    file.text = std::move(*text);
    return file;
  };
  LoadedPipeline loaded;
  loaded.context = child;
  if (!LoadAndBuild(load, &loaded, diags)) return std::nullopt;
  return Instantiate(loaded.config, std::move(child), diags);
}

std::optional<CreatedPipeline> CreateMultiProject(const Trigger& trigger,
                                                  const TriggerContext& context,
                                                  const DownstreamSource& source,
                                                  Diagnostics* diags) {
  std::string project = ExpandVariables(trigger.project, context.variables);
  std::string branch = ExpandVariables(trigger.branch, context.variables);
  std::string project_dir = source.project_dir;
  std::string revision = branch;
  if (project_dir.empty()) {
    // Not mapped: fetched as include:project fetches projects (the include
    // cache, --include-server), at trigger:branch or the default branch.
    std::string why = "no fetcher";
    if (source.fetcher != nullptr) {
      FetchError error;
      std::string ref = branch.empty() ? "HEAD" : branch;
      StatusOr<ProjectCommit> fetched = source.fetcher->FetchProject(project, ref, &error);
      if (fetched.ok()) {
        project_dir = fetched->repo_dir;
        revision = fetched->commit;
      } else {
        why = ProjectFetchMessage(project, ref, error);
      }
    }
    if (project_dir.empty()) {
      diags->Error(trigger.mark, "cannot run the pipeline of project `" + project +
                                     "`: its repository is not mapped (--project-dir " + project +
                                     "=PATH) and cannot be fetched: " + why);
      return std::nullopt;
    }
  }
  ContextOptions options;
  options.predefined.project_dir = project_dir;
  options.predefined.pipeline_source = "pipeline";
  options.predefined.revision = revision;
  options.cli_variables = source.variables;
  StatusOr<PipelineContext> made = MakePipelineContext(options);
  if (!made.ok()) {
    diags->Error(trigger.mark, "cannot run the pipeline of project `" + project + "` (" +
                                   project_dir + "): " + made.status().message());
    return std::nullopt;
  }
  SetPipelineId(&*made, source.pipeline_id);
  std::optional<LoadedPipeline> loaded =
      LoadPipelineFile(*made, ".gitlab-ci.yml", diags, source.fetcher);
  if (!loaded) return std::nullopt;
  return Instantiate(loaded->config, std::move(*made), diags);
}

}  // namespace

VariableList TriggerVariables(const Job& job, const Trigger& trigger, const TriggerContext& context,
                              const VariableList& parent_pipeline_variables) {
  VariableList out;
  if (trigger.forward_yaml_variables) {
    for (const Variable& v : job.variables.items()) {
      Variable passed = v;
      if (v.expand) passed.value = ExpandVariables(v.value, context.variables);
      out.Set(std::move(passed));
    }
  }
  if (trigger.forward_pipeline_variables) out.Merge(parent_pipeline_variables);
  return out;
}

JobResult FailTrigger(const Job& job, LogSink* log, const std::string& reason,
                      const std::string& message) {
  if (log != nullptr) log->Write(job.name, "ERROR: Job failed: " + message + "\n");
  JobResult failed;
  failed.outcome = JobOutcome::kFailed;
  failed.failure_reason = reason;
  failed.failure_message = message;
  return failed;
}

std::optional<TriggerAttempt> BeginTrigger(const Job& job, const JobSpec& spec, const JobHost& host,
                                           LogSink* log, JobResult* failed) {
  StatusOr<TriggerContext> made = MakeTriggerContext(spec, host);
  if (!made.ok()) {
    *failed = FailTrigger(job, log, "runner_system_failure", made.status().message());
    return std::nullopt;
  }
  Diagnostics diags;
  std::optional<Trigger> trigger = ParseTrigger(*job.trigger, job.name, &diags);
  if (!trigger) {
    *failed = FailTrigger(job, log, kTriggerFailureReason, diags.items().front().Format());
    return std::nullopt;
  }
  return TriggerAttempt{std::move(*made), std::move(*trigger)};
}

std::string DownstreamDepthProblem(bool child, int child_depth, int depth, std::string* reason) {
  if (child && child_depth >= kMaxChildPipelineDepth) {
    *reason = kMaxDepthFailureReason;
    return std::string(kMaxDepthMessage) + " (" + std::to_string(kMaxChildPipelineDepth) +
           " levels of child pipelines below the pipeline started)";
  }
  if (depth >= kMaxDownstreamDepth) {
    *reason = "reached_max_pipeline_hierarchy_size";
    return "The downstream pipeline tree is too large (" + std::to_string(kMaxDownstreamDepth) +
           " levels of downstream pipelines)";
  }
  return "";
}

VariableList NeedPipelineVariables(const Job& job, const PipelineContext& context) {
  VariableList vars = context.predefined;
  vars.Merge(job.variables);
  vars.Merge(context.cli_variables);
  return vars;
}

JobResult DownstreamOutcome(CiStatus status, const std::string& strategy) {
  JobResult result;
  switch (status) {
    case CiStatus::kSuccess:
      result.outcome = JobOutcome::kSuccess;
      break;
    case CiStatus::kCanceled:
      result.outcome = JobOutcome::kCanceled;
      break;
    default:
      result.outcome = JobOutcome::kFailed;
      result.failure_reason = "unknown_failure";
      result.failure_message = std::string("the downstream pipeline ") + CiStatusName(status) +
                               " (strategy: " + strategy + ")";
      break;
  }
  return result;
}

StatusOr<std::string> ReadTriggerArtifact(const TriggerContext& context,
                                          const std::string& job_name, const std::string& artifact,
                                          std::string* shown_name) {
  std::string rel = artifact;
  while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
  for (const UpstreamArtifacts& source : context.sources) {
    if (source.job_name != job_name || source.artifacts_dir.empty()) continue;
    const std::string& dir = source.artifacts_dir;
    std::string path = JoinPath(dir, rel);
    *shown_name = PathForDisplay(path, context.project_dir);
    if (!IsPlainRelativePath(rel)) {
      return Status::Error("Included file `" + artifact + "` is not a path inside the artifacts");
    }
    StatusOr<UniqueFd> fd = OpenDirNoFollow(dir);
    if (!fd.ok()) break;
    StatusOr<std::string> text = ReadFileBeneath(fd->get(), rel, path, kMaxChildConfigBytes);
    if (!text.ok()) {
      return Status::Error("Artifact `" + artifact + "` of job `" + job_name +
                           "` cannot be read: " + text.status().message());
    }
    return text;
  }
  return Status::Error("Job `" + job_name +
                       "` not found in parent pipeline or does not have artifacts!");
}

StatusOr<TriggerContext> MakeTriggerContext(const JobSpec& spec, const JobHost& host) {
  TriggerContext context;
  context.project_dir = spec.repository;
  context.job_dir = host.job_dir;
  context.variables = spec.variables;
  for (const JobSpec::ArtifactSource& from : spec.artifacts_from) {
    UpstreamArtifacts source;
    source.job_name = from.job_name;
    if (host.artifacts != nullptr) {
      StatusOr<std::string> dir = host.artifacts->Fetch(from);
      if (!dir.ok()) return dir.status();
      source.artifacts_dir = *dir;
      source.dotenv = host.artifacts->Dotenv(from);
    }
    context.sources.push_back(std::move(source));
  }
  return context;
}

std::optional<CreatedPipeline> CreateDownstreamPipeline(const Trigger& trigger,
                                                        const TriggerContext& context,
                                                        const DownstreamSource& source,
                                                        Diagnostics* diags) {
  if (trigger.kind == Trigger::Kind::kProject) {
    return CreateMultiProject(trigger, context, source, diags);
  }
  return CreateChild(trigger, context, source, diags);
}

}  // namespace slipway
