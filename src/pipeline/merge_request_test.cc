#include "pipeline/merge_request.h"

#include <gtest/gtest.h>

#include "pipeline/instantiate.h"

namespace slipway {
namespace {

TEST(MergeRequestTest, VariablesAreGitLabsForADetachedPipeline) {
  PipelineContext context;
  context.predefined.Set("CI_PIPELINE_SOURCE", "push");
  context.predefined.Set("CI_COMMIT_BRANCH", "feature");
  context.predefined.Set("CI_COMMIT_REF_PROTECTED", "true");
  context.predefined.Set("CI_PROJECT_ID", "4");
  context.predefined.Set("CI_PROJECT_PATH", "group/app");
  context.predefined.Set("CI_PROJECT_URL", "https://ci.example/group/app");
  context.predefined.Set("CI_DEFAULT_BRANCH", "main");
  context.changed_files = std::vector<std::string>{"stale"};
  MergeRequest mr;
  mr.iid = 12;
  mr.title = "Add a";
  mr.labels = {"backend", "urgent"};
  mr.source_branch = "feature/A";
  mr.target_branch = "main";
  ASSERT_TRUE(ApplyMergeRequest(mr, &context).ok());
  auto get = [&](const char* name) {
    const std::string* value = context.predefined.Get(name);
    return value != nullptr ? *value : std::string("<unset>");
  };
  EXPECT_EQ(get("CI_PIPELINE_SOURCE"), "merge_request_event");
  EXPECT_EQ(get("CI_COMMIT_BRANCH"), "<unset>");
  EXPECT_EQ(get("CI_COMMIT_REF_NAME"), "feature/A");
  EXPECT_EQ(get("CI_COMMIT_REF_SLUG"), "feature-a");
  EXPECT_EQ(get("CI_COMMIT_REF_PROTECTED"), "false");
  EXPECT_EQ(get("CI_MERGE_REQUEST_IID"), "12");
  EXPECT_EQ(get("CI_MERGE_REQUEST_LABELS"), "backend,urgent");
  EXPECT_EQ(get("CI_MERGE_REQUEST_EVENT_TYPE"), "detached");
  EXPECT_EQ(get("CI_MERGE_REQUEST_REF_PATH"), "refs/merge-requests/12/head");
  EXPECT_EQ(get("CI_MERGE_REQUEST_PROJECT_PATH"), "group/app");
  EXPECT_EQ(get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"), "4");
  EXPECT_EQ(get("CI_MERGE_REQUEST_TARGET_BRANCH_PROTECTED"), "true");
  EXPECT_EQ(get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"), "");
  EXPECT_EQ(get("CI_MERGE_REQUEST_DRAFT"), "false");
  // Without a diff base the changes are unknown (every changes rule holds).
  EXPECT_FALSE(context.changed_files.has_value());
}

TEST(MergeRequestTest, NoLabelsNoLabelsVariable) {
  PipelineContext context;
  ASSERT_TRUE(ApplyMergeRequest(MergeRequest{}, &context).ok());
  EXPECT_EQ(context.predefined.Get("CI_MERGE_REQUEST_LABELS"), nullptr);
}

TEST(MergeRequestTest, OpenMergeRequestsListsUpToFour) {
  EXPECT_EQ(OpenMergeRequestsValue("g/p", {}), "");
  EXPECT_EQ(OpenMergeRequestsValue("g/p", {3}), "g/p!3");
  EXPECT_EQ(OpenMergeRequestsValue("g/p", {1, 2, 3, 4, 5}), "g/p!1,g/p!2,g/p!3,g/p!4");
}

}  // namespace
}  // namespace slipway
