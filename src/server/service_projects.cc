// PipelineService::DeleteProject: what a project leaves behind, removed
// once nothing of it runs.
#include <algorithm>
#include <filesystem>

#include "server/service_impl.h"

namespace slipway {
namespace internal {

StatusOr<bool> Service::DeleteProject(int64_t project_id) {
  StatusOr<std::optional<ProjectRecord>> project = store_->GetProject(project_id);
  if (!project.ok()) return project.status();
  if (!*project) return false;
  // The project's pipelines a worker runs or will run.
  std::vector<int64_t> busy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> ids(queue_.begin(), queue_.end());
    for (const auto& [id, active] : active_) ids.push_back(id);
    for (int64_t id : ids) {
      StatusOr<std::optional<PipelineRecord>> p = store_->GetPipeline(id);
      if (p.ok() && *p && (*p)->project_id == project_id) busy.push_back(id);
    }
  }
  for (int64_t id : busy) {
    if (Status canceled = CancelPipeline(id); !canceled.ok()) return canceled;
  }
  {
    // Canceling kills the jobs' processes; their workers then finish the
    // pipelines and leave active_ (notifying await_cv_).
    std::unique_lock<std::mutex> lock(mu_);
    await_cv_.wait(lock, [&] {
      return std::none_of(busy.begin(), busy.end(), [&](int64_t id) {
        return active_.count(id) > 0 || std::find(queue_.begin(), queue_.end(), id) != queue_.end();
      });
    });
  }
  StatusOr<std::optional<std::vector<int64_t>>> deleted = store_->DeleteProject(project_id);
  if (!deleted.ok()) return deleted.status();
  if (!*deleted) return false;
  std::error_code ec;
  for (int64_t id : **deleted) std::filesystem::remove_all(RunDir(id), ec);
  {
    std::lock_guard<std::mutex> repo_lock(RepoLock(project_id));
    std::filesystem::remove_all(MirrorDir(project_id), ec);
  }
  std::filesystem::remove_all(options_.data_dir + "/cache/" + std::to_string(project_id), ec);
  std::filesystem::remove_all(ProjectBuildsDir(project_id), ec);
  return true;
}

}  // namespace internal
}  // namespace slipway
