#include "server/stored_artifacts.h"

#include <algorithm>
#include <filesystem>

#include "server/run_recorder.h"

namespace slipway {
namespace {

// The newest pipeline (successful ones only, if asked) of the project for
// ref, not counting child pipelines.
StatusOr<std::optional<PipelineRecord>> LatestPipeline(Store* store, int64_t project_id,
                                                       const std::string& ref, bool successful) {
  PipelineFilter filter;
  filter.project_id = project_id;
  filter.ref = ref;
  if (successful) filter.status = CiStatus::kSuccess;
  filter.per_page = 1;
  StatusOr<Page<PipelineRecord>> latest = store->ListPipelines(filter);
  if (!latest.ok()) return latest.status();
  if (latest->items.empty()) return std::optional<PipelineRecord>();
  return std::optional<PipelineRecord>(latest->items[0]);
}

}  // namespace

StatusOr<std::optional<JobRecord>> LatestSuccessfulJob(Store* store, int64_t project_id,
                                                       const std::string& ref,
                                                       const std::string& name) {
  StatusOr<std::optional<PipelineRecord>> pipeline = LatestPipeline(store, project_id, ref, true);
  if (!pipeline.ok()) return pipeline.status();
  if (!*pipeline) return std::optional<JobRecord>();
  StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store, (*pipeline)->id);
  if (!jobs.ok()) return jobs.status();
  for (const JobRecord& job : *jobs) {
    if (job.name == name && job.status == CiStatus::kSuccess) return std::optional<JobRecord>(job);
  }
  return std::optional<JobRecord>();
}

StatusOr<bool> ArtifactsLocked(Store* store, const PipelineRecord& pipeline) {
  // A child pipeline is kept with its parent (GitLab locks a pipeline
  // family); the depth of the chain is bounded by GitLab's (and slipway's)
  // limit on nesting, and a loop in the records by the count.
  PipelineRecord root = pipeline;
  for (int depth = 0; root.source == "parent_pipeline" && root.upstream_pipeline_id && depth < 64;
       ++depth) {
    StatusOr<std::optional<PipelineRecord>> up = store->GetPipeline(*root.upstream_pipeline_id);
    if (!up.ok()) return up.status();
    if (!*up) break;
    root = **up;
  }
  for (bool successful : {false, true}) {
    StatusOr<std::optional<PipelineRecord>> latest =
        LatestPipeline(store, root.project_id, root.ref, successful);
    if (!latest.ok()) return latest.status();
    if (*latest && (*latest)->id == root.id) return true;
  }
  return false;
}

StatusOr<bool> RemoveJobArtifacts(Store* store, const std::string& run_dir, const JobRecord& job) {
  StatusOr<std::vector<ArtifactRecord>> artifacts = store->ListArtifacts(job.id);
  if (!artifacts.ok()) return artifacts.status();
  if (artifacts->empty()) return false;
  if (!job.retried) {
    for (const ArtifactRecord& a : *artifacts) {
      std::filesystem::path relative(a.path);
      if (relative.empty() || relative.is_absolute() ||
          std::any_of(relative.begin(), relative.end(),
                      [](const std::filesystem::path& part) { return part == ".."; })) {
        return Status::Error("job " + std::to_string(job.id) + ": artifact path '" + a.path +
                             "' is not inside its pipeline's directory");
      }
      // remove_all removes a link itself, never what it points to; the
      // record's own components were written by slipway (jobs/<dir>/...),
      // never by a job.
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(run_dir) / relative, ec);
      if (ec) {
        return Status::Error("job " + std::to_string(job.id) + ": removing " + a.path + ": " +
                             ec.message());
      }
    }
  }
  if (Status s = store->DeleteArtifacts(job.id); !s.ok()) return s;
  return true;
}

}  // namespace slipway
