// What a job takes from stored jobs of other pipelines: their artifacts and
// dotenv variables as the store and the run directories keep them, and
// needs:project, GitLab's artifacts of another project's (or ref's) latest
// successful pipeline (docs/child-pipelines.md, "needs:project").
#include <algorithm>
#include <filesystem>

#include "exec/dotenv.h"
#include "exec/downstream_create.h"
#include "server/service_impl.h"

namespace slipway {
namespace internal {
namespace {

// A need's project, job and ref as the job's variables make them.
struct ProjectNeed {
  std::string project, job, ref;
  Mark mark;
};

std::string Describe(const ProjectNeed& need) {
  return need.mark.ToString() + ": needs:project: job `" + need.job + "` of project `" +
         need.project + "` at `" + need.ref + "`";
}

}  // namespace

std::string Service::StoredJobDir(int64_t job_id, const std::string& file_type, std::string* kept) {
  auto job = store_->GetJob(job_id);
  // A newer attempt's artifacts replaced a retried one's (one job dir per name).
  if (!job.ok() || !*job || (*job)->retried) return "";
  auto artifacts = store_->ListArtifacts(job_id);
  if (!artifacts.ok()) return "";
  for (const ArtifactRecord& a : *artifacts) {
    if (a.file_type != file_type) continue;
    // The recorder wrote it, but a path must stay inside the run directory.
    std::filesystem::path relative(a.path);
    if (relative.empty() || relative.is_absolute() ||
        std::any_of(relative.begin(), relative.end(),
                    [](const std::filesystem::path& part) { return part == ".."; })) {
      return "";
    }
    std::string dir = RunDir((*job)->pipeline_id) + "/" + a.path;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return "";
    *kept = dir;
    // <job dir>/artifacts or <job dir>/reports/<type> (IndexJobArtifacts).
    int depth = file_type == "archive" ? 1 : 2;
    std::filesystem::path job_dir(dir);
    for (int i = 0; i < depth; ++i) job_dir = job_dir.parent_path();
    return job_dir.string();
  }
  return "";
}

std::string Service::ArtifactsDir(int64_t job_id) {
  std::string dir;
  StoredJobDir(job_id, "archive", &dir);
  return dir;
}

std::string Service::ReportDir(int64_t job_id, const std::string& report_type) {
  if (report_type == "archive") return "";
  std::string dir;
  StoredJobDir(job_id, report_type, &dir);
  return dir;
}

VariableList Service::DotenvOf(int64_t job_id) {
  std::string reports;
  std::string job_dir = StoredJobDir(job_id, "dotenv", &reports);
  return job_dir.empty() ? VariableList() : ReadDotenvReports(job_dir);
}

StatusOr<std::vector<UpstreamArtifacts>> Service::ProjectArtifactsFor(
    const Job& job, const PipelineContext& context, const ProjectRecord& project) {
  std::vector<UpstreamArtifacts> out;
  VariableList variables = NeedPipelineVariables(job, context);
  for (const Need& written : *job.needs) {
    if (written.project.empty() || !written.artifacts) continue;
    ProjectNeed need{ExpandVariables(written.project, variables),
                     ExpandVariables(written.job, variables),
                     ExpandVariables(written.ref, variables), written.mark};
    // The rule of include:project and trigger:project (no users per
    // project): the project itself, or one of its top-level group; one
    // answer for "unknown" and "not yours", as GitLab gives.
    StatusOr<std::optional<ProjectRecord>> found = store_->GetProjectByPath(need.project);
    if (!found.ok()) return found.status();
    if (!*found || ((*found)->id != project.id && TopGroup((*found)->path_with_namespace) !=
                                                      TopGroup(project.path_with_namespace))) {
      return Status::Error(Describe(need) + ": project `" + need.project +
                           "` not found or access denied (a pipeline may read the artifacts of "
                           "the projects of its top-level group `" +
                           TopGroup(project.path_with_namespace) + "`)");
    }
    if (need.ref.empty()) need.ref = (*found)->default_branch;
    // GitLab's Project#latest_successful_build_for_ref: the job of the
    // latest successful pipeline for the ref, when it has artifacts.
    PipelineFilter filter;
    filter.project_id = (*found)->id;
    filter.ref = need.ref;
    filter.status = CiStatus::kSuccess;
    filter.per_page = 1;
    StatusOr<Page<PipelineRecord>> latest = store_->ListPipelines(filter);
    if (!latest.ok()) return latest.status();
    if (latest->items.empty()) {
      return Status::Error(Describe(need) + ": project `" + need.project +
                           "` has no successful pipeline for `" + need.ref + "`");
    }
    const PipelineRecord& pipeline = latest->items[0];
    StatusOr<std::vector<JobRecord>> jobs = LatestJobRecords(store_, pipeline.id);
    if (!jobs.ok()) return jobs.status();
    auto it = std::find_if(jobs->begin(), jobs->end(),
                           [&](const JobRecord& j) { return j.name == need.job; });
    std::string dir = it == jobs->end() ? "" : ArtifactsDir(it->id);
    if (dir.empty()) {
      return Status::Error(Describe(need) + ": the latest successful pipeline for `" + need.ref +
                           "` (" + std::to_string(pipeline.id) + ") has no job `" + need.job +
                           "` with artifacts");
    }
    out.push_back({need.job, dir, DotenvOf(it->id)});
  }
  return out;
}

}  // namespace internal
}  // namespace slipway
