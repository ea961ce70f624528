#include "cli/run_deliver.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "exec/deploy_verifier.h"
#include "exec/file_tree.h"
#include "exec/run_dir.h"
#include "util/bounded_json.h"
#include "util/git.h"
#include "util/iso_time.h"

namespace slipway {
namespace {

const char* DeploymentStatus(CiStatus status) {
  switch (status) {
    case CiStatus::kSuccess:
      return "success";
    case CiStatus::kFailed:
      return "failed";
    case CiStatus::kCanceled:
      return "canceled";
    default:
      return nullptr;
  }
}

}  // namespace

std::vector<LocalRollbackRequest> RecordLocalDeployments(
    const Pipeline& pipeline, const RunResult& result, int run_id, const std::string& project_dir,
    const std::string& commit, std::optional<int64_t> rollback_of, std::FILE* err) {
  std::vector<LocalRollbackRequest> requests;
  DeployHistory history(project_dir);
  for (const JobRun& run : result.jobs) {
    const JobRun::Environment& env = run.environment;
    if (env.name.empty() || (env.action != "start" && !env.action.empty())) continue;
    const char* status = DeploymentStatus(run.status);
    if (status == nullptr) continue;  // Never ran (skipped, manual ...).
    LocalDeployment d;
    d.environment = env.name;
    d.run = run_id;
    d.job = run.job->name;
    d.commit = commit;
    d.status = status;
    d.finished_at = Iso8601Seconds(UnixMillis(MachineClock()->WallNow()));
    d.checks = CheckResultsJson(run.checks);
    d.rollback_of = rollback_of;
    StatusOr<int64_t> id = history.Append(d);
    if (!id.ok()) {
      std::fprintf(err, "warning: deployment not recorded: %s\n", id.status().message().c_str());
      continue;
    }
    d.id = *id;
    if (d.status != "failed" || rollback_of) continue;
    const EnvironmentSettings* settings = pipeline.slipway.ForEnvironment(env.name);
    if (settings == nullptr || !settings->rollback.automatic) continue;
    bool checks_failed = !run.checks.empty() && run.checks.back().outcome != CheckOutcome::kPass;
    if (!checks_failed && !settings->rollback.on_any_failure) continue;
    requests.push_back({d});
  }
  return requests;
}

StatusOr<std::map<std::string, PriorJob>> PriorJobsOfRun(const std::string& project_dir, int run_id,
                                                         const std::string& job) {
  std::string path = RunsDir(project_dir) + "/" + std::to_string(run_id) + "/" + kRunReportFile;
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  BoundedJson report = ParseBoundedJson(*text);
  if (report.error != JsonParseError::kNone || !report.value.is_object() ||
      !report.value.contains("jobs") || !report.value["jobs"].is_array()) {
    return Status::Error(path + ": not a run report");
  }
  std::map<std::string, PriorJob> prior;
  for (const nlohmann::json& j : report.value["jobs"]) {
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) continue;
    std::string name = j["name"];
    if (name == job) continue;
    std::optional<CiStatus> status = ParseCiStatus(j.value("status", ""));
    if (!status || !IsFinished(*status)) continue;
    PriorJob p;
    p.status = *status;
    p.allow_failure = j.value("allow_failure", false);
    prior[name] = p;
  }
  return prior;
}

int RollBackLocally(const LocalRollbackRequest& request, const PipelineOptions& options,
                    RunFrontOptions front, Executor* executor, Clock* clock) {
  const LocalDeployment& failed = request.failed;
  const std::string project_dir = AbsoluteProjectDir(options.project_dir);
  StatusOr<std::vector<LocalDeployment>> all = DeployHistory(project_dir).Read();
  std::optional<LocalDeployment> target;
  if (all.ok()) target = DeployHistory::LastSuccessful(*all, failed.environment, failed.id);
  if (!target) {
    std::fprintf(front.err,
                 "slipway: automatic rollback of %s: no earlier successful deployment of a "
                 "commit in .slipway/deployments.json\n",
                 failed.environment.c_str());
    return kExitFailed;
  }
  std::fprintf(front.out,
               "slipway: rolling %s back to deployment %lld (run %lld, commit %.8s): job '%s' "
               "runs again with that run's artifacts\n",
               failed.environment.c_str(), static_cast<long long>(target->id),
               static_cast<long long>(target->run), target->commit.c_str(), target->job.c_str());
  std::fflush(front.out);
  StatusOr<std::map<std::string, PriorJob>> prior =
      PriorJobsOfRun(project_dir, static_cast<int>(target->run), target->job);
  if (!prior.ok()) {
    std::fprintf(front.err, "slipway: automatic rollback: %s\n", prior.status().message().c_str());
    return kExitFailed;
  }
  PipelineOptions at_commit = options;
  at_commit.ref = target->commit;
  Diagnostics diags;
  std::optional<LoadedPipeline> loaded = LoadPipelineFromOptions(at_commit, &diags);
  std::optional<Pipeline> pipeline;
  if (loaded) pipeline = InstantiatePipeline(loaded->config, loaded->context, &diags);
  PrintDiagnostics(diags);
  if (!pipeline || !pipeline->created) {
    std::fprintf(front.err, "slipway: automatic rollback: the pipeline of %s cannot be loaded\n",
                 target->commit.c_str());
    return kExitFailed;
  }
  front.ref = loaded->context.commit;
  front.deploy_commit = target->commit;
  front.job_names = {target->job};
  front.rerun_id = static_cast<int>(target->run);
  front.prior = std::move(*prior);
  front.rollback_of = failed.id;
  front.rollbacks = nullptr;
  front.report.clear();
  return RunPipelineLocally(*pipeline, loaded->context, front, executor, clock);
}

std::string CleanWorkTreeCommit(const std::string& project_dir) {
  StatusOr<std::string> changes = GitOutput(project_dir, {"status", "--porcelain"});
  if (!changes.ok() || !changes->empty()) return "";
  StatusOr<std::string> head = GitOutput(project_dir, {"rev-parse", "--verify", "HEAD^{commit}"});
  return head.ok() ? *head : "";
}

}  // namespace slipway
