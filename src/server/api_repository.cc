// GitLab's repository API, read from the server's mirror of the project
// (fetched first, so answers are the repository's as it is now):
//   GET /projects/:id/repository/branches[/:branch]
//   GET /projects/:id/repository/commits[/:sha]
//   GET /projects/:id/repository/files/:file_path[/raw]
// See docs/api.md, "Repository".
#include "server/api_handlers.h"
#include "server/api_util.h"
#include "server/gitlab_json.h"
#include "server/repository_reader.h"
#include "util/base64.h"
#include "util/sha256.h"

namespace slipway {
namespace {

using json = nlohmann::json;

// A file read through the API is held in memory whole (GitLab's own limit
// for the files API is in the same range).
constexpr int64_t kMaxFileBytes = 64ll << 20;

json CommitJson(const CommitInfo& c, const ProjectRecord& project, const std::string& base_url) {
  return {{"id", c.id},
          {"short_id", c.id.substr(0, 8)},
          {"created_at", c.committed_date},
          {"parent_ids", c.parent_ids},
          {"title", c.Title()},
          {"message", c.message},
          {"author_name", c.author_name},
          {"author_email", c.author_email},
          {"authored_date", c.authored_date},
          {"committer_name", c.committer_name},
          {"committer_email", c.committer_email},
          {"committed_date", c.committed_date},
          {"trailers", json::object()},
          {"extended_trailers", json::object()},
          {"web_url", base_url + "/" + project.path_with_namespace + "/-/commit/" + c.id}};
}

json BranchJson(const BranchInfo& b, const ProjectRecord& project, const std::string& base_url) {
  // slipway's protected refs are GitLab's default: the default branch only
  // (CI_COMMIT_REF_PROTECTED, docs/variables.md).
  bool is_default = b.name == project.default_branch;
  return {{"name", b.name},
          {"commit", CommitJson(b.commit, project, base_url)},
          {"merged", b.merged},
          {"protected", is_default},
          {"default", is_default},
          {"developers_can_push", false},
          {"developers_can_merge", false},
          {"can_push", false},
          {"web_url", base_url + "/" + project.path_with_namespace + "/-/tree/" + b.name}};
}

// The project of the request and its mirror's git directory, fetched;
// nullopt with *error set (404 for the project, 502 naming the fetch error,
// whose URL credentials repo_mirror.h masks).
struct Repository {
  ProjectRecord project;
  std::string git_dir;
};
std::optional<Repository> OpenRepository(ApiContext& ctx, HttpResponse* error) {
  auto project = LoadProject(ctx, error);
  if (!project) return std::nullopt;
  if (ctx.service == nullptr) {
    *error = ServiceUnavailable();
    return std::nullopt;
  }
  StatusOr<std::string> dir = ctx.service->FetchMirror(project->id);
  if (!dir.ok()) {
    *error = JsonError(502, "502 Bad Gateway - " + dir.status().message());
    return std::nullopt;
  }
  return Repository{std::move(*project), *dir};
}

// The branches of the request's repository, as JSON objects, in name order.
std::optional<std::vector<json>> BranchesJson(ApiContext& ctx, HttpResponse* error) {
  auto repo = OpenRepository(ctx, error);
  if (!repo) return std::nullopt;
  auto branches = ListBranches(repo->git_dir, repo->project.default_branch);
  if (!branches.ok()) {
    *error = StoreError(branches.status());
    return std::nullopt;
  }
  std::vector<json> out;
  for (const BranchInfo& b : *branches) out.push_back(BranchJson(b, repo->project, ctx.base_url));
  return out;
}

// A page of items (already filtered) with GitLab's pagination headers.
HttpResponse Paged(ApiContext& ctx, const PageRequest& page, const std::vector<json>& all) {
  json items = json::array();
  size_t first = static_cast<size_t>(page.page - 1) * static_cast<size_t>(page.per_page);
  for (size_t i = first; i < all.size() && i < first + static_cast<size_t>(page.per_page); ++i) {
    items.push_back(all[i]);
  }
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, page, static_cast<int64_t>(all.size()), &response);
  return response;
}

// GitLab's branch search: a substring, or ^prefix / suffix$.
bool MatchesSearch(const std::string& name, std::string search) {
  if (search.empty()) return true;
  bool anchored_start = search.front() == '^';
  if (anchored_start) search.erase(0, 1);
  bool anchored_end = !search.empty() && search.back() == '$';
  if (anchored_end) search.pop_back();
  if (anchored_start && anchored_end) return name == search;
  if (anchored_start) return name.starts_with(search);
  if (anchored_end) return name.ends_with(search);
  return name.find(search) != std::string::npos;
}

}  // namespace

HttpResponse ListBranches(ApiContext& ctx) {
  HttpResponse error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  auto branches = BranchesJson(ctx, &error);
  if (!branches) return error;
  std::string search = ctx.req.Query("search").value_or("");
  std::erase_if(*branches, [&](const json& b) { return !MatchesSearch(b["name"], search); });
  return Paged(ctx, *page, *branches);
}

HttpResponse GetBranch(ApiContext& ctx) {
  HttpResponse error;
  auto branches = BranchesJson(ctx, &error);
  if (!branches) return error;
  for (const json& b : *branches) {
    if (b["name"] == ctx.params["branch"]) return JsonOk(200, b);
  }
  return JsonError(404, "404 Branch Not Found");
}

HttpResponse ListCommits(ApiContext& ctx) {
  HttpResponse error;
  auto page = ParsePage(ctx.req, &error);
  if (!page) return error;
  auto repo = OpenRepository(ctx, &error);
  if (!repo) return error;
  const ProjectRecord* project = &repo->project;
  const std::string* dir = &repo->git_dir;
  std::string ref = ctx.req.Query("ref_name").value_or("");
  if (ref.empty()) ref = project->default_branch;
  auto start = ReadCommit(*dir, ref);
  if (!start.ok()) return StoreError(start.status());
  if (!*start) return JsonError(404, "404 Reference Not Found");
  CommitQuery query;
  query.rev = (*start)->id;
  query.path = ctx.req.Query("path").value_or("");
  query.since = ctx.req.Query("since").value_or("");
  query.until = ctx.req.Query("until").value_or("");
  if (auto first = ctx.req.Query("first_parent"); first && !first->empty()) {
    std::optional<bool> b = ParseBool(*first);
    if (!b) return BadParam("first_parent");
    query.first_parent = *b;
  }
  query.skip = static_cast<int64_t>(page->page - 1) * page->per_page;
  query.max_count = page->per_page;
  auto commits = ListCommits(*dir, query);
  if (!commits.ok()) return JsonError(400, "400 Bad request - " + commits.status().message());
  auto total = CountCommits(*dir, query);
  if (!total.ok()) return JsonError(400, "400 Bad request - " + total.status().message());
  json items = json::array();
  for (const CommitInfo& c : *commits) items.push_back(CommitJson(c, *project, ctx.base_url));
  HttpResponse response = JsonOk(200, items);
  SetPaginationHeaders(ctx, *page, *total, &response);
  return response;
}

HttpResponse GetCommit(ApiContext& ctx) {
  HttpResponse error;
  auto repo = OpenRepository(ctx, &error);
  if (!repo) return error;
  auto commit = ReadCommit(repo->git_dir, ctx.params["sha"]);
  if (!commit.ok()) return StoreError(commit.status());
  if (!*commit) return JsonError(404, "404 Commit Not Found");
  json j = CommitJson(**commit, repo->project, ctx.base_url);
  j["project_id"] = repo->project.id;
  return JsonOk(200, j);
}

namespace {

// The file ctx.params["file_path"] at the request's ref; nullopt with
// *error set. ref is required for the JSON form, as in GitLab; raw
// defaults to the default branch.
std::optional<RepositoryFile> LoadFile(ApiContext& ctx, bool ref_required, std::string* ref,
                                       HttpResponse* error) {
  auto repo = OpenRepository(ctx, error);
  if (!repo) return std::nullopt;
  const std::string* dir = &repo->git_dir;
  *ref = ctx.req.Query("ref").value_or("");
  if (ref->empty()) {
    if (ref_required) {
      *error = JsonError(400, "400 Bad request - ref is missing");
      return std::nullopt;
    }
    *ref = repo->project.default_branch;
  }
  auto commit = ReadCommit(*dir, *ref);
  if (!commit.ok()) {
    *error = StoreError(commit.status());
    return std::nullopt;
  }
  if (!*commit) {
    *error = JsonError(404, "404 Commit Not Found");
    return std::nullopt;
  }
  auto file = ReadRepositoryFile(*dir, (*commit)->id, ctx.params["file_path"], kMaxFileBytes);
  if (!file.ok()) {
    *error = StoreError(file.status());
    return std::nullopt;
  }
  if (!*file) {
    *error = JsonError(404, "404 File Not Found");
    return std::nullopt;
  }
  if ((*file)->size > kMaxFileBytes) {
    *error = JsonError(413, "413 Request Entity Too Large - " + (*file)->path + " is " +
                                std::to_string((*file)->size) + " bytes, over the limit of " +
                                std::to_string(kMaxFileBytes));
    return std::nullopt;
  }
  return std::move(**file);
}

}  // namespace

HttpResponse GetRepositoryFile(ApiContext& ctx) {
  HttpResponse error;
  std::string ref;
  auto file = LoadFile(ctx, true, &ref, &error);
  if (!file) return error;
  std::string name = file->path.substr(file->path.rfind('/') + 1);
  return JsonOk(200, {{"file_name", name},
                      {"file_path", file->path},
                      {"size", file->size},
                      {"encoding", "base64"},
                      {"content_sha256", Sha256Hex(file->content)},
                      {"ref", ref},
                      {"blob_id", file->blob_id},
                      {"commit_id", file->commit_id},
                      {"last_commit_id", file->last_commit_id},
                      {"execute_filemode", file->executable},
                      {"content", Base64Encode(file->content)}});
}

HttpResponse GetRawRepositoryFile(ApiContext& ctx) {
  HttpResponse error;
  std::string ref;
  auto file = LoadFile(ctx, false, &ref, &error);
  if (!file) return error;
  // Never rendered by a browser as the server's own page.
  HttpResponse response = TextResponse(200, std::move(file->content), "text/plain; charset=utf-8");
  response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  response.headers.push_back({"Content-Disposition", "inline"});
  response.headers.push_back({"X-Gitlab-Blob-Id", file->blob_id});
  response.headers.push_back({"X-Gitlab-Commit-Id", file->commit_id});
  response.headers.push_back({"X-Gitlab-Last-Commit-Id", file->last_commit_id});
  return response;
}

}  // namespace slipway
