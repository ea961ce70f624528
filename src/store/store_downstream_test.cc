// The store's links of downstream pipelines (docs/database.md): a pipeline's
// upstream pipeline and trigger job, which jobs are trigger jobs, and the
// pipelines list leaving child pipelines out unless asked for them.
#include <gtest/gtest.h>

#include "store/store.h"
#include "store/store_test_backend.h"

namespace slipway {
namespace {

class StoreDownstreamTest : public StoreTest {};

TEST_P(StoreDownstreamTest, LinksAChildToItsTriggerJobAndListsItOnlyBySource) {
  ProjectRecord project;
  project.name = "app";
  project.path_with_namespace = "group/app";
  project.repo_url = "/srv/git/app";
  auto stored_project = store_->CreateProject(project);
  ASSERT_TRUE(stored_project.ok());
  PipelineRecord parent;
  parent.project_id = stored_project->id;
  parent.ref = "main";
  parent.sha = std::string(40, 'a');
  parent.source = "push";
  JobRecord build;
  build.name = "build";
  JobRecord trigger;
  trigger.name = "child";
  trigger.bridge = true;
  auto stored_parent = store_->CreatePipeline(parent, {build, trigger});
  ASSERT_TRUE(stored_parent.ok()) << stored_parent.status().message();
  JobFilter filter;
  filter.pipeline_id = stored_parent->id;
  auto jobs = store_->ListJobs(filter);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->items.size(), 2u);
  EXPECT_FALSE(jobs->items[0].bridge);
  ASSERT_TRUE(jobs->items[1].bridge);
  int64_t trigger_id = jobs->items[1].id;
  EXPECT_FALSE(stored_parent->upstream_pipeline_id);

  PipelineRecord child = parent;
  child.source = "parent_pipeline";
  child.upstream_pipeline_id = stored_parent->id;
  child.upstream_job_id = trigger_id;
  auto stored_child = store_->CreatePipeline(child, {build});
  ASSERT_TRUE(stored_child.ok()) << stored_child.status().message();
  auto read = store_->GetPipeline(stored_child->id);
  ASSERT_TRUE(read.ok() && *read);
  EXPECT_EQ((*read)->upstream_pipeline_id, stored_parent->id);
  EXPECT_EQ((*read)->upstream_job_id, trigger_id);
  auto downstream = store_->ListDownstreamPipelines(stored_parent->id);
  ASSERT_TRUE(downstream.ok());
  ASSERT_EQ(downstream->size(), 1u);
  EXPECT_EQ((*downstream)[0].id, stored_child->id);
  EXPECT_TRUE(store_->ListDownstreamPipelines(stored_child->id)->empty());

  // A new attempt of a trigger job is a trigger job too.
  ASSERT_TRUE(store_->UpdateJob(trigger_id, JobUpdate{CiStatus::kFailed}).ok());
  auto retried = store_->RetryJob(trigger_id);
  ASSERT_TRUE(retried.ok()) << retried.status().message();
  EXPECT_TRUE(retried->bridge);

  PipelineFilter list;
  list.project_id = stored_project->id;
  auto listed = store_->ListPipelines(list);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].id, stored_parent->id);
  EXPECT_EQ(listed->total, 1);
  list.scope = "branches";  // The latest pipeline of main is the parent.
  listed = store_->ListPipelines(list);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].id, stored_parent->id);
  list.scope.clear();
  list.source = "parent_pipeline";
  listed = store_->ListPipelines(list);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].id, stored_child->id);

  // Deleting the parent leaves the child, unlinked.
  ASSERT_TRUE(store_->DeletePipeline(stored_parent->id).ok());
  read = store_->GetPipeline(stored_child->id);
  ASSERT_TRUE(read.ok() && *read);
  EXPECT_FALSE((*read)->upstream_pipeline_id);
  EXPECT_FALSE((*read)->upstream_job_id);
}

SLIPWAY_STORE_TEST_SUITE(StoreDownstreamTest);

}  // namespace
}  // namespace slipway
