// Merge-request pipelines (GitLab's "merge request pipelines", run
// detached on the source branch's commit): what a pipeline knows about its
// merge request, and the CI_MERGE_REQUEST_* variables and changed files it
// gives a pipeline. The server fills it from a forge's webhook, `slipway run
// --merge-request TARGET` from the local repository; both apply it with
// ApplyMergeRequest so that rules select the same jobs either way.
// docs/variables.md lists the variables, docs/server.md the webhooks.
#ifndef SLIPWAY_PIPELINE_MERGE_REQUEST_H_
#define SLIPWAY_PIPELINE_MERGE_REQUEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/merge_request_info.h"
#include "util/status.h"

namespace slipway {

struct PipelineContext;  // pipeline/instantiate.h

// Makes context a detached merge-request pipeline of mr, as GitLab does:
// CI_PIPELINE_SOURCE=merge_request_event; CI_MERGE_REQUEST_* (the project
// ones from the context's CI_PROJECT_*); CI_COMMIT_REF_NAME the source
// branch and no CI_COMMIT_BRANCH (GitLab sets it only in branch pipelines);
// CI_COMMIT_REF_PROTECTED false, so that protected variables never reach a
// merge request's code; and the changed files those between diff_base_sha
// and the pipeline's commit (context.commit, or with an empty commit the
// working tree), which rules:changes compares. Errors when the diff cannot
// be read.
Status ApplyMergeRequest(const MergeRequest& mr, PipelineContext* context);

// GitLab's CI_OPEN_MERGE_REQUESTS: "path!iid" of up to four open merge
// requests of the branch, comma-separated; empty for none.
std::string OpenMergeRequestsValue(const std::string& project_path,
                                   const std::vector<int64_t>& iids);

// The local merge request of `slipway run --merge-request TARGET`, for a
// context made by MakePipelineContext: the source is the context's branch
// and commit (CI_COMMIT_REF_NAME, CI_COMMIT_SHA), the target the revision
// TARGET names (its branch name without refs/heads/ or a remote's prefix),
// the diff base their merge base. The iid is 1 and the title the commit's
// (a local run has no merge request to read them from). Errors name
// --merge-request when TARGET names no commit or shares no history.
StatusOr<MergeRequest> LocalMergeRequest(const PipelineContext& context, const std::string& target);

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_MERGE_REQUEST_H_
