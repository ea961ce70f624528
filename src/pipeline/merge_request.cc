#include "pipeline/merge_request.h"

#include "pipeline/instantiate.h"
#include "pipeline/predefined.h"
#include "util/git.h"

namespace slipway {
namespace {

std::string Predefined(const PipelineContext& context, std::string_view name) {
  const std::string* value = context.predefined.Get(name);
  return value != nullptr ? *value : std::string();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

// The branch name a revision such as "main", "origin/main" or
// "refs/heads/main" stands for; the revision itself when it is none.
std::string BranchNameOf(const std::string& dir, const std::string& target) {
  StatusOr<std::string> full =
      GitOutput(dir, {"rev-parse", "--symbolic-full-name", "--end-of-options", target});
  if (!full.ok()) return target;
  constexpr std::string_view kHeads = "refs/heads/";
  constexpr std::string_view kRemotes = "refs/remotes/";
  if (full->starts_with(kHeads)) return full->substr(kHeads.size());
  if (full->starts_with(kRemotes)) {
    std::string rest = full->substr(kRemotes.size());
    size_t slash = rest.find('/');
    if (slash != std::string::npos) return rest.substr(slash + 1);
  }
  return target;
}

}  // namespace

Status ApplyMergeRequest(const MergeRequest& mr, PipelineContext* context) {
  VariableList& v = context->predefined;
  std::string project_id = Predefined(*context, "CI_PROJECT_ID");
  std::string project_path = Predefined(*context, "CI_PROJECT_PATH");
  std::string project_url = Predefined(*context, "CI_PROJECT_URL");
  std::string default_branch = Predefined(*context, "CI_DEFAULT_BRANCH");
  v.Set("CI_PIPELINE_SOURCE", kMergeRequestSource);
  v.Erase("CI_COMMIT_BRANCH");
  v.Set("CI_COMMIT_REF_NAME", mr.source_branch);
  v.Set("CI_COMMIT_REF_SLUG", Slugify(mr.source_branch));
  v.Set("CI_COMMIT_REF_PROTECTED", "false");
  v.Set("CI_MERGE_REQUEST_ID", std::to_string(mr.iid));
  v.Set("CI_MERGE_REQUEST_IID", std::to_string(mr.iid));
  v.Set("CI_MERGE_REQUEST_TITLE", mr.title);
  v.Set("CI_MERGE_REQUEST_DRAFT", mr.draft ? "true" : "false");
  if (!mr.labels.empty()) v.Set("CI_MERGE_REQUEST_LABELS", Join(mr.labels));
  v.Set("CI_MERGE_REQUEST_EVENT_TYPE", "detached");
  v.Set("CI_MERGE_REQUEST_REF_PATH", "refs/merge-requests/" + std::to_string(mr.iid) + "/head");
  v.Set("CI_MERGE_REQUEST_PROJECT_ID", project_id);
  v.Set("CI_MERGE_REQUEST_PROJECT_PATH", project_path);
  v.Set("CI_MERGE_REQUEST_PROJECT_URL", project_url);
  v.Set("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", project_id);
  v.Set("CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", project_path);
  v.Set("CI_MERGE_REQUEST_SOURCE_PROJECT_URL", project_url);
  v.Set("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", mr.source_branch);
  v.Set("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", mr.target_branch);
  v.Set("CI_MERGE_REQUEST_TARGET_BRANCH_PROTECTED",
        mr.target_branch == default_branch ? "true" : "false");
  // GitLab fills the two branch SHAs only in merged results pipelines; in a
  // detached one they are empty (its predefined-variables reference).
  v.Set("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "");
  v.Set("CI_MERGE_REQUEST_TARGET_BRANCH_SHA", "");
  v.Set("CI_MERGE_REQUEST_DIFF_BASE_SHA", mr.diff_base_sha);
  context->changed_files.reset();
  if (mr.diff_base_sha.empty()) return Status::Ok();
  StatusOr<std::vector<std::string>> files =
      ChangedFilesSince(context->project_dir, mr.diff_base_sha, context->commit);
  if (!files.ok()) return files.status();
  context->changed_files = *std::move(files);
  return Status::Ok();
}

std::string OpenMergeRequestsValue(const std::string& project_path,
                                   const std::vector<int64_t>& iids) {
  std::vector<std::string> items;
  for (size_t i = 0; i < iids.size() && i < 4; ++i) {
    items.push_back(project_path + "!" + std::to_string(iids[i]));
  }
  return Join(items);
}

StatusOr<MergeRequest> LocalMergeRequest(const PipelineContext& context,
                                         const std::string& target) {
  const std::string& dir = context.project_dir;
  MergeRequest mr;
  mr.iid = 1;
  mr.title = Predefined(context, "CI_COMMIT_TITLE");
  mr.source_branch = Predefined(context, "CI_COMMIT_REF_NAME");
  mr.source_sha = Predefined(context, "CI_COMMIT_SHA");
  StatusOr<std::string> target_sha = ResolveCommit(dir, target);
  if (!target_sha.ok()) {
    return Status::Error("--merge-request " + target + ": " + target_sha.status().message());
  }
  mr.target_sha = *target_sha;
  mr.target_branch = BranchNameOf(dir, target);
  StatusOr<std::string> base =
      GitOutput(dir, {"merge-base", "--end-of-options", mr.target_sha, mr.source_sha});
  if (!base.ok()) {
    return Status::Error("--merge-request " + target + ": no merge base with " + mr.source_branch +
                         " (" + base.status().message() + ")");
  }
  mr.diff_base_sha = *base;
  return mr;
}

}  // namespace slipway
