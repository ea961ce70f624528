// What a merge-request pipeline knows about its merge request: plain data,
// which the store keeps with the pipeline verbatim (as it keeps
// pipeline/ci_status.h's statuses); pipeline/merge_request.h applies it.
#ifndef SLIPWAY_PIPELINE_MERGE_REQUEST_INFO_H_
#define SLIPWAY_PIPELINE_MERGE_REQUEST_INFO_H_

#include <cstdint>
#include <string>
#include <vector>

namespace slipway {

struct MergeRequest {
  int64_t iid = 0;  // The forge's number (GitLab's iid, GitHub's and Gitea's PR number).
  std::string title;
  std::vector<std::string> labels;
  bool draft = false;
  std::string source_branch;
  std::string target_branch;
  std::string source_sha;  // The source branch's head: the pipeline's commit.
  std::string target_sha;  // The target branch's tip when the pipeline was created.
  // The merge base of source_sha and target_sha: what rules:changes and
  // CI_MERGE_REQUEST_DIFF_BASE_SHA compare with (GitLab's MR diff base).
  std::string diff_base_sha;
};

// The source of every merge-request pipeline (CI_PIPELINE_SOURCE).
inline constexpr char kMergeRequestSource[] = "merge_request_event";

}  // namespace slipway

#endif  // SLIPWAY_PIPELINE_MERGE_REQUEST_INFO_H_
