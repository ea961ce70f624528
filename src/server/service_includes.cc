// Includes that are not local, in the server: remote and template includes
// over HTTPS to addresses outside the server's networks only (unless the
// operator allows one), project and component includes from the server's
// own projects of the including project's top-level group, each
// pipeline with its own include cache (docs/server.md, "Includes").
#include <algorithm>

#include "server/repo_mirror.h"
#include "server/service_impl.h"
#include "util/address_class.h"

namespace slipway {
namespace internal {

std::unique_ptr<NetworkFetcher> Service::MakeIncludeFetcher(const ProjectRecord& including,
                                                            const std::string& cache_dir) {
  FetchOptions fetch = options_.includes;
  fetch.cache_dir = cache_dir;
  fetch.use_cache = true;
  fetch.offline = false;
  fetch.refresh = false;
  fetch.include_server.clear();
  fetch.component_server.clear();
  std::vector<std::string> networks = options_.include_networks;
  fetch.http.allow_address = [networks](const std::string& address) {
    return !IsInternalAddress(address) ||
           std::any_of(networks.begin(), networks.end(), [&](const std::string& network) {
             return AddressInNetwork(address, network);
           });
  };
  fetch.locate_project = [this, including](const std::string& path) {
    return IncludedRepository(including, path);
  };
  return std::make_unique<NetworkFetcher>(std::move(fetch));
}

StatusOr<std::string> Service::IncludedRepository(const ProjectRecord& including,
                                                  const std::string& path) {
  // One answer for "unknown" and "not yours", as GitLab gives one.
  Status hidden = Status::Error("not found or access denied");
  StatusOr<std::optional<ProjectRecord>> found = store_->GetProjectByPath(path);
  if (!found.ok() || !*found) return hidden;
  const ProjectRecord& project = **found;
  if (project.id != including.id &&
      TopGroup(project.path_with_namespace) != TopGroup(including.path_with_namespace)) {
    return hidden;
  }
  std::lock_guard<std::mutex> repo_lock(RepoLock(project.id));
  RepoMirror mirror(MirrorDir(project.id), project.repo_url);
  Status fetched = mirror.Fetch();
  if (!fetched.ok()) return fetched;
  return mirror.git_dir();
}

}  // namespace internal
}  // namespace slipway
