// The real IncludeFetcher: HTTPS (util/http_get.h) in front of the include
// cache (config/include_cache.h). A cached copy is used without asking the
// network; `--refresh-includes` fetches again; `--offline` never asks it.
#ifndef SLIPWAY_CONFIG_NETWORK_FETCHER_H_
#define SLIPWAY_CONFIG_NETWORK_FETCHER_H_

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/include_cache.h"
#include "config/include_fetcher.h"
#include "util/http_get.h"
#include "util/thread_annotations.h"

namespace slipway {

// GitLab's own templates, as GitLab names their raw location.
inline constexpr const char* kDefaultTemplateSource =
    "https://gitlab.com/gitlab-org/gitlab/-/raw/master/lib/gitlab/ci/templates";

struct FetchOptions {
  HttpGetOptions http;    // allow_http is --allow-http-includes.
  bool offline = false;   // Only the cache; a missing entry is kNotCached.
  bool refresh = false;   // Fetch even what the cache has (and update it).
  std::string cache_dir;  // Empty: DefaultIncludeCacheDir().
  bool use_cache = true;  // False: neither read nor write the cache.
  // URL prefix templates are read from: <prefix>/<name>. Also
  // SLIPWAY_TEMPLATE_SOURCE in the environment (FetchOptionsFromEnvironment).
  std::string template_source = kDefaultTemplateSource;
  // include:project: where projects live. A URL of any transport git speaks
  // (https://host, ssh://git@host:2222, git://host, file:///srv/git) or an
  // scp-like "git@host:" or a local directory; a project's repository is
  // <server>/<project>.git (for a directory, <project> when there is no
  // <project>.git). Empty: the forge the `origin` remote of the repository
  // at project_dir points to (its scheme, user, host and port).
  std::string include_server;
  std::string project_dir = ".";
  // include:component: where a component's project is, instead of
  // https://<host> (SLIPWAY_COMPONENT_SERVER in the environment): any git
  // URL or directory, as include_server.
  std::string component_server;
  // Set: where project and component includes are, instead of
  // include_server and component_server: the repository (any URL or
  // directory git fetches from) of a project path, or an error saying why
  // there is none (unknown, or not to be read by this pipeline) — the
  // server's registered projects. A component's host is then not asked.
  std::function<StatusOr<std::string>(const std::string& project)> locate_project;
  // For all the fetches of one load together (GitLab's Config::TIMEOUT_SECONDS):
  // a fetch that would start later fails, and an HTTP fetch gets at most
  // what is left. (A git fetch that has started is not cut short.)
  std::chrono::milliseconds total_timeout{30000};
};

// FetchOptions with the environment's settings applied:
// SLIPWAY_TEMPLATE_SOURCE (a URL prefix for include:template),
// SLIPWAY_COMPONENT_SERVER (FetchOptions::component_server).
FetchOptions FetchOptionsFromEnvironment();

// One per load: the overall time bound starts when it is made.
class NetworkFetcher : public IncludeFetcher {
 public:
  explicit NetworkFetcher(FetchOptions options);

  // Fetches every request at once (a thread each, at most kPrefetchThreads
  // at a time) and keeps the answers for the calls that follow.
  void Prefetch(const std::vector<PrefetchRequest>& requests) override;
  StatusOr<FetchedFile> FetchUrl(const std::string& url, FetchError* error) override;
  StatusOr<FetchedFile> FetchTemplate(const std::string& name, FetchError* error) override;
  // Defined in config/project_fetch.cc.
  StatusOr<ProjectCommit> FetchProject(const std::string& project, const std::string& ref,
                                       FetchError* error) override;
  StatusOr<ProjectCommit> FetchComponent(const std::string& host, const std::string& project,
                                         const std::string& version, FetchError* error) override;
  // Through the cache, keyed by the cached repository, the commit and path.
  StatusOr<std::string> ReadProjectFile(const ProjectCommit& commit, const SourceTree& tree,
                                        const std::string& path, ReadError* error) override;

 private:
  // Reads url through the cache, stored under (kind, key).
  StatusOr<FetchedFile> Fetch(const std::string& kind, const std::string& url, FetchError* error);
  // The commit ref names in project on server, through the cache.
  // The repository of project: through locate_project when set, else on server.
  StatusOr<std::string> RepositoryUrl(const std::string& server, const std::string& project,
                                      FetchError* error);
  StatusOr<ProjectCommit> FetchFrom(std::string server, const std::string& project,
                                    const std::string& ref, FetchError* error);

  // Fails (kTimeout) once options_.total_timeout has passed since the
  // fetcher was made; else the time left.
  StatusOr<std::chrono::milliseconds> TimeLeft(FetchError* error) const;

  template <typename T>
  struct Answer {
    StatusOr<T> result;
    FetchError error;
  };
  // The answer Prefetch kept for key, taken out of prefetched_; none: fetch.
  template <typename T>
  static std::optional<Answer<T>> TakePrefetched(std::map<std::string, Answer<T>>* kept,
                                                 const std::string& key) {
    auto it = kept->find(key);
    if (it == kept->end()) return std::nullopt;
    Answer<T> answer = std::move(it->second);
    kept->erase(it);
    return answer;
  }
  // Where include:template `name` is read from.
  std::string TemplateUrl(const std::string& name) const;
  // FetchProject without asking what Prefetch kept (Prefetch's threads call it).
  StatusOr<ProjectCommit> FetchProjectNow(const std::string& project, const std::string& ref,
                                          FetchError* error);

  FetchOptions options_;
  IncludeCache cache_;
  std::mutex mu_;  // For unverified_ while Prefetch runs.
  std::map<std::string, Answer<FetchedFile>> prefetched_files_;       // By URL.
  std::map<std::string, Answer<ProjectCommit>> prefetched_projects_;  // By "project\nref".
  std::chrono::steady_clock::time_point deadline_;
  // Commits taken from the cache's "git-ref" entries without asking git
  // whether the cached repository still holds them (a process per project
  // include, which the cached load is meant to spare): by "<repo_dir>\n<commit>",
  // where and by which ref to fetch them again should a file be read from
  // one that is gone.
  struct Unverified {
    std::string server;
    std::string project;
    std::string ref;
  };
  std::map<std::string, Unverified> unverified_ GUARDED_BY(mu_);
};

// The server name the cache keys located projects under
// (FetchOptions::locate_project).
inline constexpr const char* kLocatedProjects = "slipway:located";

// How many fetches Prefetch runs at once.
inline constexpr size_t kPrefetchThreads = 8;

// The repository URL of project on server (FetchOptions::include_server).
std::string ProjectRepositoryUrl(const std::string& server, const std::string& project);

// The forge an `origin` URL points to, as an include_server: "https://host",
// "ssh://git@host:2222", "git@host:". Errors for a local path (nothing
// tells where its projects are) or something that is not a URL.
StatusOr<std::string> ForgeOf(const std::string& origin);

// url without the user and password it may carry (the cache's key: a token
// is not part of what a document is).
std::string WithoutCredentials(const std::string& url);

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_NETWORK_FETCHER_H_
