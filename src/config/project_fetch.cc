// NetworkFetcher::FetchProject: include:project with git. Each project's
// repository gets a private git repository in the include cache
// (<root>/v1/git/<sha256 of server and project>/, no checkout) that fetches only the
// commit asked for (--depth=1); the ref's commit is remembered (kind
// "git-ref") so that a second load, or an --offline one, needs no network.
#include <filesystem>

#include "config/component_version.h"
#include "config/network_fetcher.h"
#include "util/git.h"
#include "util/redact.h"
#include "util/ref_name.h"

namespace slipway {
namespace {

bool IsCommitId(const std::string& ref) {
  return ref.size() == 40 && ref.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A project path as GitLab writes it: "group/sub/name", each part of
// letters, digits, '_', '-', '.', none starting with '.' or '-'. Anything
// else (.., absolute paths, options) never reaches git or the disk.
bool IsProjectPath(const std::string& project) {
  if (project.empty()) return false;
  size_t start = 0;
  while (start <= project.size()) {
    size_t end = project.find('/', start);
    if (end == std::string::npos) end = project.size();
    std::string part = project.substr(start, end - start);
    if (part.empty() || part[0] == '.' || part[0] == '-') return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

// Fills *error and returns it as a Status; detail is shown credentials masked.
Status Fail(FetchError* error, FetchError::Kind kind, const std::string& detail) {
  error->kind = kind;
  error->detail = RedactUrlCredentials(detail);
  return Status::Error(error->detail);
}

bool IsUrlLike(const std::string& s) { return s.find("://") != std::string::npos; }

// "user@host:path" (git's scp-like syntax): a ':' before any '/'.
bool IsScpLike(const std::string& s) {
  size_t colon = s.find(':');
  return colon != std::string::npos && colon > 0 && s.find('/') > colon && !IsUrlLike(s);
}

StatusOr<GitResult> FetchRef(const std::string& repo_dir, const std::string& url,
                             const std::string& ref) {
  return RunGit(repo_dir,
                {"fetch", "--quiet", "--no-tags", "--depth=1", "--end-of-options", url, ref});
}

}  // namespace

StatusOr<std::string> ForgeOf(const std::string& origin) {
  if (IsUrlLike(origin)) {
    size_t start = origin.find("://") + 3;
    if (origin.compare(0, start, "file://") == 0) {
      return Status::Error("the origin remote `" + origin +
                           "` is a local path, which does not say where other projects are");
    }
    size_t end = origin.find('/', start);
    return origin.substr(0, end);
  }
  if (IsScpLike(origin)) return origin.substr(0, origin.find(':') + 1);
  return Status::Error("the origin remote `" + RedactUrlCredentials(origin) +
                       "` is a local path, which does not say where other projects are");
}

std::string ProjectRepositoryUrl(const std::string& server, const std::string& project) {
  std::string base = server;
  if (IsScpLike(base) && base.back() == ':') return base + project + ".git";
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (!IsUrlLike(base) && !IsScpLike(base)) {
    std::error_code ec;
    if (!std::filesystem::exists(base + "/" + project + ".git", ec) &&
        std::filesystem::exists(base + "/" + project, ec)) {
      return base + "/" + project;
    }
  }
  return base + "/" + project + ".git";
}

StatusOr<ProjectCommit> NetworkFetcher::FetchProject(const std::string& project,
                                                     const std::string& ref, FetchError* error) {
  if (auto kept = TakePrefetched(&prefetched_projects_, project + "\n" + ref)) {
    *error = kept->error;
    return std::move(kept->result);
  }
  return FetchProjectNow(project, ref, error);
}

StatusOr<ProjectCommit> NetworkFetcher::FetchProjectNow(const std::string& project,
                                                        const std::string& ref, FetchError* error) {
  std::string server = options_.locate_project ? kLocatedProjects : options_.include_server;
  if (server.empty()) {
    auto fail = [&](FetchError::Kind kind, const std::string& detail) {
      return Fail(error, kind, detail);
    };
    StatusOr<GitResult> origin =
        RunGit(options_.project_dir, {"config", "--get", "remote.origin.url"});
    if (!origin.ok() || origin->exit_code != 0 || origin->out.empty()) {
      return fail(FetchError::Kind::kNoProject,
                  "the project has no `origin` remote to find other projects by; give "
                  "--include-server");
    }
    std::string url = origin->out.substr(0, origin->out.find('\n'));
    StatusOr<std::string> forge = ForgeOf(url);
    if (!forge.ok()) {
      return fail(FetchError::Kind::kNoProject,
                  forge.status().message() + "; give --include-server");
    }
    server = *forge;
  }
  return FetchFrom(server, project, ref, error);
}

StatusOr<ProjectCommit> NetworkFetcher::FetchComponent(const std::string& host,
                                                       const std::string& project,
                                                       const std::string& version,
                                                       FetchError* error) {
  auto fail = [&](FetchError::Kind kind, const std::string& detail) {
    return Fail(error, kind, detail);
  };
  if (!IsProjectPath(host) || host.find('/') != std::string::npos) {
    return fail(FetchError::Kind::kNoProject, "not a host name");
  }
  std::string server = options_.locate_project             ? kLocatedProjects
                       : options_.component_server.empty() ? "https://" + host
                                                           : options_.component_server;
  if (!NeedsTagList(version)) return FetchFrom(server, project, version, error);
  // `~latest` and partial versions: the released tags decide; the choice is
  // cached like a ref's commit, so --offline can repeat it.
  std::string key = WithoutCredentials(server) + "\n" + project + "\n" + version;
  std::optional<std::string> tag;
  if (!options_.refresh || options_.offline) tag = cache_.Get("component-version", key);
  if (!tag && options_.offline) {
    return fail(FetchError::Kind::kNotCached,
                "--offline, and the include cache `" + cache_.root() + "` has no copy of it");
  }
  if (!tag) {
    if (!IsProjectPath(project)) return fail(FetchError::Kind::kNoProject, "not a project path");
    if (StatusOr<std::chrono::milliseconds> left = TimeLeft(error); !left.ok()) {
      return left.status();
    }
    StatusOr<std::string> url = RepositoryUrl(server, project, error);
    if (!url.ok()) return url.status();
    StatusOr<GitResult> listed =
        RunGit(options_.project_dir, {"ls-remote", "--tags", "--refs", "--end-of-options", *url});
    if (!listed.ok()) return fail(FetchError::Kind::kOther, listed.status().message());
    if (listed->exit_code != 0) {
      std::string first = listed->err.substr(0, listed->err.find('\n'));
      if (first.starts_with("fatal: ")) first.erase(0, 7);
      return fail(FetchError::Kind::kNoProject, first);
    }
    std::vector<std::string> tags;
    size_t start = 0;
    while (start < listed->out.size()) {
      size_t end = listed->out.find('\n', start);
      if (end == std::string::npos) end = listed->out.size();
      std::string line = listed->out.substr(start, end - start);
      size_t name = line.find("refs/tags/");
      if (name != std::string::npos) tags.push_back(line.substr(name + 10));
      start = end + 1;
    }
    tag = ResolveComponentVersion(tags, version);
    if (!tag) {
      return fail(FetchError::Kind::kNoVersion,
                  "no released version (a MAJOR.MINOR.PATCH tag) matches `" + version + "`");
    }
    (void)cache_.Put("component-version", key, *tag);
  }
  return FetchFrom(server, project, *tag, error);
}

StatusOr<std::string> NetworkFetcher::RepositoryUrl(const std::string& server,
                                                    const std::string& project, FetchError* error) {
  if (!options_.locate_project) return ProjectRepositoryUrl(server, project);
  StatusOr<std::string> url = options_.locate_project(project);
  if (!url.ok()) return Fail(error, FetchError::Kind::kNoProject, url.status().message());
  return url;
}

StatusOr<ProjectCommit> NetworkFetcher::FetchFrom(std::string server, const std::string& project,
                                                  const std::string& ref, FetchError* error) {
  auto fail = [&](FetchError::Kind kind, const std::string& detail) {
    return Fail(error, kind, detail);
  };
  if (!IsProjectPath(project)) return fail(FetchError::Kind::kNoProject, "not a project path");
  if (ref != "HEAD" && !IsCommitId(ref) && !CheckBranchOrTagName(ref, /*tag=*/true).ok()) {
    return fail(FetchError::Kind::kNoRef, "not a ref name");
  }
  // Keyed by server and project rather than by url, which for a directory
  // depends on what exists there (so a cached copy outlives the directory).
  while (server.size() > 1 && server.back() == '/') server.pop_back();
  std::string key = WithoutCredentials(server) + "\n" + project;
  ProjectCommit out;
  out.origin = options_.locate_project
                   ? project
                   : RedactUrlCredentials(ProjectRepositoryUrl(server, project));
  out.ref = ref;
  StatusOr<std::string> dir = cache_.Directory("git", key);
  if (!dir.ok()) return fail(FetchError::Kind::kOther, dir.status().message());
  out.repo_dir = *dir;
  if (!std::filesystem::exists(out.repo_dir + "/.git")) {
    StatusOr<GitResult> init = RunGit(out.repo_dir, {"init", "--quiet"});
    if (!init.ok() || init->exit_code != 0) {
      return fail(FetchError::Kind::kOther, "cannot make a repository in the include cache");
    }
  }
  std::string ref_key = key + "\n" + ref;
  auto have = [&](const std::string& commit) {
    StatusOr<GitResult> r =
        RunGit(out.repo_dir, {"cat-file", "-e", "--end-of-options", commit + "^{commit}"});
    return r.ok() && r->exit_code == 0;
  };
  if (!options_.refresh || options_.offline) {
    std::optional<std::string> cached = cache_.Get("git-ref", ref_key);
    if (cached && IsCommitId(*cached)) {
      // The files a load reads are usually all in the cache too: whether
      // the repository holds the commit is asked only when one is not.
      out.commit = *cached;
      out.from_cache = true;
      std::lock_guard<std::mutex> lock(mu_);
      unverified_[out.repo_dir + "\n" + out.commit] = {server, project, ref};
      return out;
    }
    if (IsCommitId(ref) && have(ref)) {
      out.commit = ref;
      out.from_cache = true;
      return out;
    }
  }
  if (options_.offline) {
    return fail(FetchError::Kind::kNotCached,
                "--offline, and the include cache `" + cache_.root() + "` has no copy of it");
  }
  if (StatusOr<std::chrono::milliseconds> left = TimeLeft(error); !left.ok()) {
    return left.status();
  }
  // Located (a server's mirror, fetched by the locator) only now that the
  // cache has no answer.
  StatusOr<std::string> url = RepositoryUrl(server, project, error);
  if (!url.ok()) return url.status();
  StatusOr<GitResult> fetched = FetchRef(out.repo_dir, *url, ref);
  if (!fetched.ok()) return fail(FetchError::Kind::kOther, fetched.status().message());
  if (fetched->exit_code != 0) {
    const std::string& err = fetched->err;
    std::string first = err.substr(0, err.find('\n'));
    if (first.starts_with("fatal: ")) first.erase(0, 7);
    bool no_ref = err.find("couldn't find remote ref") != std::string::npos ||
                  err.find("not our ref") != std::string::npos ||
                  err.find("no such remote ref") != std::string::npos ||
                  err.find("unadvertised object") != std::string::npos;
    return fail(no_ref ? FetchError::Kind::kNoRef : FetchError::Kind::kNoProject, first);
  }
  StatusOr<std::string> commit =
      GitOutput(out.repo_dir, {"rev-parse", "--verify", "--end-of-options", "FETCH_HEAD^{commit}"});
  if (!commit.ok()) return fail(FetchError::Kind::kNoRef, commit.status().message());
  out.commit = *commit;
  (void)cache_.Put("git-ref", ref_key, out.commit);
  return out;
}

StatusOr<std::string> NetworkFetcher::ReadProjectFile(const ProjectCommit& commit,
                                                      const SourceTree& tree,
                                                      const std::string& path, ReadError* error) {
  // Only what a commit holds as a regular file is kept, so a cached answer
  // is what tree.Read would give again; errors are not kept.
  std::string key = commit.repo_dir + "\n" + commit.commit + "\n" + path;
  if (options_.use_cache) {
    if (std::optional<std::string> cached = cache_.Get("project-file", key)) return *cached;
  }
  std::optional<Unverified> recheck;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto unverified = unverified_.find(commit.repo_dir + "\n" + commit.commit);
    if (unverified != unverified_.end()) {
      recheck = unverified->second;
      unverified_.erase(unverified);
    }
  }
  if (recheck) {
    StatusOr<GitResult> has = RunGit(
        commit.repo_dir, {"cat-file", "-e", "--end-of-options", commit.commit + "^{commit}"});
    // Gone from the cached repository (pruned, or a copy of the cache
    // without it): fetched again, by ref. A ref that moved since leaves the
    // commit missing, and the read below says so.
    if (!options_.offline && (!has.ok() || has->exit_code != 0)) {
      FetchError ignored;
      StatusOr<std::string> url = RepositoryUrl(recheck->server, recheck->project, &ignored);
      if (url.ok()) (void)FetchRef(commit.repo_dir, *url, recheck->ref);
    }
  }
  StatusOr<std::string> text = tree.Read(path, error);
  if (text.ok() && options_.use_cache) (void)cache_.Put("project-file", key, *text);
  return text;
}

}  // namespace slipway
