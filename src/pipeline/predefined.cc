#include "pipeline/predefined.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <system_error>
#include <vector>

#include "pipeline/environment_tier.h"
#include "util/git.h"

namespace slipway {
namespace {

constexpr char kZeroSha[] = "0000000000000000000000000000000000000000";
constexpr char kServerVersion[] = "17.0.0";

// git output, or nullopt when git fails or is missing.
std::optional<std::string> Git(const std::string& dir, const std::vector<std::string>& args) {
  StatusOr<std::string> out = GitOutput(dir, args);
  if (!out.ok()) return std::nullopt;
  return *std::move(out);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// `git config --list` read once: key (lower-case section and name, as git
// prints them) to its last value, which is the one `git config --get` gives.
std::map<std::string, std::string> ReadGitConfig(const std::string& dir) {
  std::map<std::string, std::string> config;
  std::optional<std::string> out = Git(dir, {"config", "-z", "--list"});
  if (!out) return config;
  size_t start = 0;
  while (start < out->size()) {
    size_t end = out->find('\0', start);
    if (end == std::string::npos) end = out->size();
    std::string entry = out->substr(start, end - start);
    size_t nl = entry.find('\n');
    if (nl == std::string::npos) {
      config[entry] = "";
    } else {
      config[entry.substr(0, nl)] = entry.substr(nl + 1);
    }
    start = end + 1;
  }
  return config;
}

std::string ConfigValue(const std::map<std::string, std::string>& config, const char* key) {
  auto it = config.find(key);
  return it == config.end() ? std::string() : it->second;
}

// GitLab's default branch as the clone knows it: where origin/HEAD points,
// else init.defaultBranch, else `main` or `master` if such a branch exists
// (locally or on origin), else `main`. One `git for-each-ref` answers every
// question about refs at once.
std::string DetectDefaultBranch(const std::string& dir,
                                const std::map<std::string, std::string>& config) {
  constexpr std::string_view kOriginPrefix = "refs/remotes/origin/";
  static const char* const kCandidates[] = {"main", "master"};
  std::vector<std::string> args = {"for-each-ref", "--format=%(refname)%00%(symref)",
                                   "refs/remotes/origin/HEAD"};
  for (const char* name : kCandidates) {
    args.push_back(std::string("refs/heads/") + name);
    args.push_back(std::string(kOriginPrefix) + name);
  }
  // refname to symref target (empty for a plain ref). A pattern also matches
  // refs below it (refs/heads/main/x), so names are compared exactly.
  std::map<std::string, std::string> refs;
  if (auto out = Git(dir, args)) {
    for (const std::string& line : Lines(*out)) {
      size_t nul = line.find('\0');
      if (nul == std::string::npos) continue;
      refs[line.substr(0, nul)] = line.substr(nul + 1);
    }
  }
  if (auto head = refs.find("refs/remotes/origin/HEAD"); head != refs.end()) {
    const std::string& target = head->second;
    if (target.substr(0, kOriginPrefix.size()) == kOriginPrefix) {
      return target.substr(kOriginPrefix.size());
    }
  }
  if (std::string configured = ConfigValue(config, "init.defaultbranch"); !configured.empty()) {
    return configured;
  }
  for (const char* name : kCandidates) {
    if (refs.count(std::string("refs/heads/") + name) ||
        refs.count(std::string(kOriginPrefix) + name)) {
      return name;
    }
  }
  return "main";
}

// The branch or tag a revision names by itself: `main`, `refs/heads/main`,
// `origin/main` (a remote-tracking branch is that branch) or `v1.0`, with
// git's precedence when a name is both a tag and a branch. False for
// anything else (a SHA, `HEAD~1`, a detached HEAD).
bool NamedRef(const std::string& dir, const std::string& revision, RepositoryInfo* info) {
  auto full = Git(dir, {"rev-parse", "--verify", "--quiet", "--symbolic-full-name",
                        "--end-of-options", revision});
  if (!full) return false;
  std::string_view name = *full;
  if (name.starts_with("refs/heads/")) {
    info->ref = name.substr(11);
  } else if (name.starts_with("refs/tags/")) {
    info->ref = name.substr(10);
    info->is_tag = true;
  } else if (name.starts_with("refs/remotes/") && name.find('/', 13) != std::string_view::npos) {
    std::string_view branch = name.substr(name.find('/', 13) + 1);
    if (branch == "HEAD") return false;
    info->ref = branch;
  } else {
    return false;
  }
  return true;
}

// Decides the ref a pipeline for HEAD (or options.revision) belongs to. A
// revision that names a branch or tag is that ref, and an attached HEAD is
// its branch. Otherwise (a detached HEAD, as in a CI checkout, or a revision
// such as a SHA) a local branch at the commit is taken, else a tag at it,
// else a remote-tracking branch at it, else the short SHA as a branch name.
void DetectRef(const std::string& dir, const std::string& revision, RepositoryInfo* info) {
  if (!revision.empty()) {
    if (NamedRef(dir, revision, info)) return;
  } else if (auto branch = Git(dir, {"symbolic-ref", "--quiet", "--short", "HEAD"})) {
    info->ref = *branch;
    return;
  }
  if (!info->has_commit) {
    info->ref = info->default_branch;
    return;
  }
  auto first_ref = [&](const char* prefix) -> std::optional<std::string> {
    auto refs =
        Git(dir, {"for-each-ref", "--points-at=" + info->sha, "--format=%(refname)", prefix});
    if (!refs) return std::nullopt;
    std::vector<std::string> lines = Lines(*refs);
    std::string wanted = std::string(prefix) + "/" + info->default_branch;
    for (const std::string& l : lines) {
      if (l == wanted) return l.substr(wanted.size() - info->default_branch.size());
    }
    for (const std::string& l : lines) {
      std::string name = l.substr(std::string_view(prefix).size() + 1);
      if (name != "HEAD") return name;
    }
    return std::nullopt;
  };
  if (auto local = first_ref("refs/heads")) {
    info->ref = *local;
  } else if (auto tag = first_ref("refs/tags")) {
    info->ref = *tag;
    info->is_tag = true;
  } else if (auto remote = first_ref("refs/remotes/origin")) {
    info->ref = *remote;
  } else {
    info->ref = info->sha.substr(0, 8);
  }
}

// The message of the annotated tag `name`; empty for a lightweight tag or
// one that does not exist here.
std::string TagMessage(const std::string& dir, const std::string& name) {
  auto out =
      Git(dir, {"for-each-ref", "--format=%(objecttype)%00%(contents)", "refs/tags/" + name});
  if (!out || !out->starts_with(std::string("tag") + '\0')) return "";
  std::string message = out->substr(4);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
}

// GitLab writes UTC timestamps as "2022-01-31T16:47:55Z".
std::string Iso8601Utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Host and project path of a remote URL: https://host[:port]/a/b.git,
// ssh://git@host/a/b.git, or scp-like git@host:a/b.git. Empty when the URL
// has no recognisable host (e.g. a local path).
struct RemoteParts {
  std::string host;
  std::string path;
};

RemoteParts ParseRemote(std::string url) {
  RemoteParts parts;
  std::string rest;
  size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    rest = url.substr(scheme + 3);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return {};
    parts.host = rest.substr(0, slash);
    parts.path = rest.substr(slash + 1);
  } else {
    size_t colon = url.find(':');
    if (colon == std::string::npos || url.find('/') < colon) return {};
    parts.host = url.substr(0, colon);
    parts.path = url.substr(colon + 1);
  }
  size_t at = parts.host.rfind('@');
  if (at != std::string::npos) parts.host = parts.host.substr(at + 1);
  size_t port = parts.host.find(':');
  if (port != std::string::npos) parts.host = parts.host.substr(0, port);
  while (!parts.path.empty() && parts.path.back() == '/') parts.path.pop_back();
  if (parts.path.size() > 4 && parts.path.substr(parts.path.size() - 4) == ".git") {
    parts.path.resize(parts.path.size() - 4);
  }
  while (!parts.path.empty() && parts.path.front() == '/') parts.path.erase(0, 1);
  if (parts.host.empty() || parts.path.empty()) return {};
  return parts;
}

std::string AbsoluteDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(dir, ec);
  if (ec) p = std::filesystem::absolute(dir, ec);
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string Slugify(std::string_view text) {
  std::string slug;
  slug.reserve(text.size());
  for (char c : text) {
    char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool keep = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    slug.push_back(keep ? lower : '-');
  }
  if (slug.size() > 63) slug.resize(63);
  size_t first = slug.find_first_not_of('-');
  if (first == std::string::npos) return "";
  size_t last = slug.find_last_not_of('-');
  return slug.substr(first, last - first + 1);
}

Status CheckProjectDirectory(const std::string& project_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(project_dir, ec)) {
    return Status::Error("project directory '" + project_dir + "' does not exist");
  }
  return Status::Ok();
}

StatusOr<RepositoryInfo> ReadRepositoryInfo(const PredefinedOptions& options) {
  if (Status dir = CheckProjectDirectory(options.project_dir); !dir.ok()) return dir;
  const std::string& dir = options.project_dir;
  RepositoryInfo info;
  info.sha = kZeroSha;
  // One call for both: "true" (or "false" outside the work tree, e.g. in
  // .git) and then HEAD's commit, which fails (exit 1) before the first commit.
  if (StatusOr<GitResult> head = RunGit(
          dir, {"rev-parse", "--is-inside-work-tree", "--verify", "--quiet", "HEAD^{commit}"});
      head.ok()) {
    std::vector<std::string> lines = Lines(head->out);
    info.is_git = !lines.empty() && lines[0] == "true";
    if (info.is_git && head->exit_code == 0 && lines.size() == 2) {
      info.has_commit = true;
      info.sha = lines[1];
    }
  }
  if (!options.revision.empty()) {
    if (!info.is_git) {
      return Status::Error("--ref " + options.revision + ": " + dir + " is not a git repository");
    }
    StatusOr<std::string> sha = ResolveCommit(dir, options.revision);
    if (!sha.ok()) return Status::Error("--ref " + options.revision + ": not a commit in " + dir);
    info.has_commit = true;
    info.sha = *sha;
  }
  std::map<std::string, std::string> config;
  if (info.is_git) config = ReadGitConfig(dir);
  if (options.default_branch) {
    info.default_branch = *options.default_branch;
  } else {
    info.default_branch = info.is_git ? DetectDefaultBranch(dir, config) : std::string("main");
  }
  if (info.is_git) {
    if (info.has_commit) {
      // One call, fields separated by NUL: author, date, message.
      if (auto log = Git(dir, {"log", "-1", "--format=%an <%ae>%x00%ct%x00%B", "--end-of-options",
                               info.sha, "--"})) {
        size_t a = log->find('\0');
        size_t b = a == std::string::npos ? a : log->find('\0', a + 1);
        if (b != std::string::npos) {
          info.author = log->substr(0, a);
          info.timestamp =
              Iso8601Utc(std::strtoll(log->substr(a + 1, b - a - 1).c_str(), nullptr, 10));
          info.message = log->substr(b + 1);
          while (!info.message.empty() && info.message.back() == '\n') info.message.pop_back();
        }
      }
    }
    DetectRef(dir, options.revision, &info);
    info.origin_url = ConfigValue(config, "remote.origin.url");
    info.user_name = ConfigValue(config, "user.name");
    info.user_email = ConfigValue(config, "user.email");
  } else {
    info.ref = info.default_branch;
  }
  if (options.tag) {
    info.ref = *options.tag;
    info.is_tag = true;
  } else if (options.branch) {
    info.ref = *options.branch;
    info.is_tag = false;
  }
  if (info.is_tag && info.is_git) info.tag_message = TagMessage(dir, info.ref);
  if (info.user_name.empty() && !info.author.empty()) {
    size_t lt = info.author.find(" <");
    info.user_name = info.author.substr(0, lt);
    if (lt != std::string::npos && info.user_email.empty()) {
      info.user_email = info.author.substr(lt + 2);
      if (!info.user_email.empty() && info.user_email.back() == '>') info.user_email.pop_back();
    }
  }
  return info;
}

VariableList PredefinedVariablesFor(const RepositoryInfo& repo, const PredefinedOptions& options) {
  VariableList v;
  std::string project_dir = AbsoluteDir(options.project_dir);
  RemoteParts remote = ParseRemote(repo.origin_url);
  std::string dir_name = std::filesystem::path(project_dir).filename().string();
  if (remote.host.empty()) {
    remote.host = "gitlab.example.com";
    remote.path = "local/" + (dir_name.empty() ? std::string("project") : dir_name);
  }
  size_t last_slash = remote.path.rfind('/');
  std::string name =
      last_slash == std::string::npos ? remote.path : remote.path.substr(last_slash + 1);
  std::string name_space = last_slash == std::string::npos ? "" : remote.path.substr(0, last_slash);
  std::string root_namespace = name_space.substr(0, name_space.find('/'));
  std::string server_url = "https://" + remote.host;
  std::string project_url = server_url + "/" + remote.path;
  std::string pipeline_id = std::to_string(options.pipeline_id);

  v.Set("CI", "true");
  v.Set("GITLAB_CI", "true");
  v.Set("CI_SERVER", "yes");
  v.Set("CI_SERVER_NAME", "GitLab");
  v.Set("CI_SERVER_HOST", remote.host);
  v.Set("CI_SERVER_FQDN", remote.host);
  v.Set("CI_SERVER_PORT", "443");
  v.Set("CI_SERVER_PROTOCOL", "https");
  v.Set("CI_SERVER_URL", server_url);
  v.Set("CI_SERVER_SHELL_SSH_HOST", remote.host);
  v.Set("CI_SERVER_SHELL_SSH_PORT", "22");
  v.Set("CI_SERVER_VERSION", kServerVersion);
  v.Set("CI_SERVER_VERSION_MAJOR", "17");
  v.Set("CI_SERVER_VERSION_MINOR", "0");
  v.Set("CI_SERVER_VERSION_PATCH", "0");
  v.Set("CI_SERVER_REVISION", "");
  v.Set("CI_API_V4_URL", server_url + "/api/v4");
  v.Set("CI_API_GRAPHQL_URL", server_url + "/api/graphql");

  v.Set("CI_PROJECT_ID", "1");
  v.Set("CI_PROJECT_NAME", name);
  v.Set("CI_PROJECT_TITLE", name);
  v.Set("CI_PROJECT_PATH", remote.path);
  v.Set("CI_PROJECT_PATH_SLUG", Slugify(remote.path));
  v.Set("CI_PROJECT_NAMESPACE", name_space);
  v.Set("CI_PROJECT_NAMESPACE_SLUG", Slugify(name_space));
  v.Set("CI_PROJECT_ROOT_NAMESPACE", root_namespace);
  v.Set("CI_PROJECT_URL", project_url);
  v.Set("CI_PROJECT_VISIBILITY", "private");
  v.Set("CI_PROJECT_DIR", project_dir);
  v.Set("CI_BUILDS_DIR", std::filesystem::path(project_dir).parent_path().string());
  v.Set("CI_REPOSITORY_URL",
        "https://gitlab-ci-token:[MASKED]@" + remote.host + "/" + remote.path + ".git");
  v.Set("CI_CONFIG_PATH", options.config_path);
  v.Set("CI_DEFAULT_BRANCH", repo.default_branch);

  v.Set("CI_COMMIT_SHA", repo.sha);
  v.Set("CI_COMMIT_SHORT_SHA", repo.sha.substr(0, 8));
  v.Set("CI_COMMIT_BEFORE_SHA", kZeroSha);
  v.Set("CI_COMMIT_REF_NAME", repo.ref);
  v.Set("CI_COMMIT_REF_SLUG", Slugify(repo.ref));
  if (repo.is_tag) {
    v.Set("CI_COMMIT_TAG", repo.ref);
    v.Set("CI_COMMIT_TAG_MESSAGE", repo.tag_message);
  } else {
    v.Set("CI_COMMIT_BRANCH", repo.ref);
  }
  // GitLab protects the default branch of a new project and nothing else.
  v.Set("CI_COMMIT_REF_PROTECTED",
        !repo.is_tag && repo.ref == repo.default_branch ? "true" : "false");
  std::string title = repo.message.substr(0, repo.message.find('\n'));
  std::string description;
  if (title.size() >= 100) {
    description = repo.message;
  } else if (title.size() < repo.message.size()) {
    description = repo.message.substr(title.size() + 1);
  }
  v.Set("CI_COMMIT_MESSAGE", repo.message);
  v.Set("CI_COMMIT_TITLE", title);
  v.Set("CI_COMMIT_DESCRIPTION", description);
  v.Set("CI_COMMIT_AUTHOR", repo.author);
  v.Set("CI_COMMIT_TIMESTAMP", repo.timestamp);

  v.Set("CI_PIPELINE_ID", pipeline_id);
  v.Set("CI_PIPELINE_IID", std::to_string(options.pipeline_iid));
  v.Set("CI_PIPELINE_SOURCE", options.pipeline_source);
  v.Set("CI_PIPELINE_URL", project_url + "/-/pipelines/" + pipeline_id);
  // Without a creation time (`slipway run`): now on the machine's clock, a
  // stamp for the job to read that decides nothing here.
  v.Set("CI_PIPELINE_CREATED_AT",
        options.created_at.empty() ? Iso8601Utc(std::time(nullptr)) : options.created_at);
  if (options.pipeline_source == "trigger" || options.pipeline_source == "pipeline") {
    v.Set("CI_PIPELINE_TRIGGERED", "true");
  }

  v.Set("GITLAB_USER_ID", "1");
  v.Set("GITLAB_USER_LOGIN", Slugify(repo.user_name).empty() ? "user" : Slugify(repo.user_name));
  v.Set("GITLAB_USER_NAME", repo.user_name);
  v.Set("GITLAB_USER_EMAIL", repo.user_email);
  v.Set("GITLAB_FEATURES", "");
  return v;
}

StatusOr<VariableList> PredefinedVariables(const PredefinedOptions& options) {
  StatusOr<RepositoryInfo> repo = ReadRepositoryInfo(options);
  if (!repo.ok()) return repo.status();
  return PredefinedVariablesFor(*repo, options);
}

VariableList JobPredefinedVariables(const Job& job, int64_t job_id, const VariableList& pipeline,
                                    const VariableList& variables) {
  VariableList v;
  std::string id = std::to_string(job_id);
  const std::string* project_url = pipeline.Get("CI_PROJECT_URL");
  v.Set("CI_JOB_ID", id);
  v.Set("CI_JOB_NAME", job.name);
  v.Set("CI_JOB_NAME_SLUG", Slugify(job.name));
  v.Set("CI_JOB_STAGE", job.stage);
  v.Set("CI_JOB_URL", (project_url ? *project_url : std::string()) + "/-/jobs/" + id);
  v.Set("CI_JOB_TIMEOUT", std::to_string(job.timeout_seconds.value_or(3600)));
  if (job.when == When::kManual) v.Set("CI_JOB_MANUAL", "true");
  if (job.parallel_total > 0) {
    v.Set("CI_NODE_INDEX", std::to_string(job.parallel_index));
    v.Set("CI_NODE_TOTAL", std::to_string(job.parallel_total));
  } else {
    v.Set("CI_NODE_TOTAL", "1");
  }
  if (job.environment && !job.environment->name.empty()) {
    VariableList scope = pipeline;
    scope.Merge(variables);
    std::string env_name = ExpandVariables(job.environment->name, scope);
    v.Set("CI_ENVIRONMENT_NAME", env_name);
    std::string env_slug = Slugify(env_name).substr(0, 24);
    while (!env_slug.empty() && env_slug.back() == '-') env_slug.pop_back();
    v.Set("CI_ENVIRONMENT_SLUG", env_slug);
    v.Set("CI_ENVIRONMENT_ACTION", job.environment->action);
    v.Set("CI_ENVIRONMENT_TIER", EnvironmentTier(env_name, job.environment->deployment_tier));
    if (!job.environment->url.empty()) {
      v.Set("CI_ENVIRONMENT_URL", ExpandVariables(job.environment->url, scope));
    }
  }
  return v;
}

}  // namespace slipway
