// Where the loader gets the includes that are not in the project: the seam
// between config/'s loader (GitLab's rules for what an include means) and the
// network, the cache and git (how its bytes are obtained). LoadOptions
// carries one; lint, list, run, config and serve give it the real
// NetworkFetcher (config/network_fetcher.h).
#ifndef SLIPWAY_CONFIG_INCLUDE_FETCHER_H_
#define SLIPWAY_CONFIG_INCLUDE_FETCHER_H_

#include <string>
#include <vector>

#include "util/source_tree.h"
#include "util/status.h"

namespace slipway {

// Why a fetch failed; the loader words each case as GitLab does.
struct FetchError {
  enum class Kind {
    kHttpStatus,  // The server answered http_status (>= 400).
    kSocket,      // Resolving, connecting, reading.
    kTimeout,
    kTls,        // Handshake, certificate verification.
    kRefused,    // Plain HTTP without permission; detail says how to allow it.
    kNotCached,  // Offline, and the cache has no copy.
    kNoProject,  // include:project: not found, not reachable, no access.
    kNoRef,      // include:project: the project has no such ref.
    kNoVersion,  // include:component: no released version matches.
    kOther,      // Too large, too many redirects, a bad response ...
  };
  Kind kind = Kind::kOther;
  int http_status = 0;
  std::string detail;  // Never holds credentials.
};

struct FetchedFile {
  std::string content;
  // Where it came from, for `slipway config --sources`: the URL (credentials
  // masked), and whether it was read from the cache.
  std::string origin;
  bool from_cache = false;
};

// A commit of another project (include:project), fetched with git into a
// local repository the loader reads files from (SourceTree::AtCommit).
struct ProjectCommit {
  std::string repo_dir;  // A git repository holding commit.
  std::string commit;    // 40 hex digits.
  std::string origin;    // The repository URL, credentials masked.
  bool from_cache = false;
  std::string ref;  // The ref fetched (for a component: the resolved tag).
};

// One fetch a file's `include:` list will ask for (PrefetchRequest::kProject:
// name is the project, ref its ref).
struct PrefetchRequest {
  enum class Kind { kUrl, kTemplate, kProject };
  Kind kind = Kind::kUrl;
  std::string name;
  std::string ref;
};

// Implementations are used by one load at a time (not thread-safe unless
// they say so).
class IncludeFetcher {
 public:
  virtual ~IncludeFetcher() = default;

  // The loader says what a file's include list fetches before it merges its
  // entries one by one (only entries without `rules:` or variables, which
  // are fetched whatever happens), so that an implementation may fetch them
  // all at once; the calls that follow then get their answers. This default
  // does nothing.
  virtual void Prefetch(const std::vector<PrefetchRequest>& requests) {}

  // The document at url (include:remote). On error, *error says why.
  virtual StatusOr<FetchedFile> FetchUrl(const std::string& url, FetchError* error) = 0;

  // GitLab's CI template `name` (include:template; "Jobs/Build.gitlab-ci.yml").
  // A template the source does not have is kHttpStatus 404.
  virtual StatusOr<FetchedFile> FetchTemplate(const std::string& name, FetchError* error) = 0;

  // The commit ref ("HEAD", a branch, a tag or a commit id) names in project
  // ("group/sub/name"), fetched. kNoProject / kNoRef say which is missing.
  virtual StatusOr<ProjectCommit> FetchProject(const std::string& project, const std::string& ref,
                                               FetchError* error) = 0;

  // The commit of a CI/CD component's project ("group/sub/project" on host)
  // that version names (config/component_version.h: `~latest`, `1`, `1.2`,
  // or a tag, branch or commit id). kNoVersion when no released version
  // matches.
  virtual StatusOr<ProjectCommit> FetchComponent(const std::string& host,
                                                 const std::string& project,
                                                 const std::string& version, FetchError* error) = 0;
  // The file at path of a fetched commit, tree being that commit
  // (SourceTree::AtCommit of commit.repo_dir): what tree.Read gives, which
  // this default returns. A commit never changes, so an implementation may
  // keep what it read and answer later loads without git.
  virtual StatusOr<std::string> ReadProjectFile(const ProjectCommit& commit, const SourceTree& tree,
                                                const std::string& path, ReadError* error) {
    return tree.Read(path, error);
  }
};

}  // namespace slipway

#endif  // SLIPWAY_CONFIG_INCLUDE_FETCHER_H_
