#include "pipeline/pipeline_context.h"

#include <gtest/gtest.h>

#include "util/test_repo.h"

namespace slipway {
namespace {

TEST(MakePipelineContextTest, PredefinedAndChangedFiles) {
  TestRepo repo;
  repo.Commit("base", "README.md");
  repo.Git({"branch", "base"});
  repo.Commit("change", "src/a.c");
  ContextOptions options;
  options.predefined.project_dir = repo.dir();
  options.cli_variables.Set("X", "1");
  options.changes_since = "base";
  StatusOr<PipelineContext> context = MakePipelineContext(options);
  ASSERT_TRUE(context.ok()) << context.status().message();
  EXPECT_EQ(context->project_dir, repo.dir());
  EXPECT_EQ(*context->predefined.Get("CI_COMMIT_BRANCH"), "main");
  EXPECT_EQ(*context->cli_variables.Get("X"), "1");
  EXPECT_EQ(context->changed_files, (std::vector<std::string>{"src/a.c"}));
}

TEST(MakePipelineContextTest, WithoutABaseChangesAreUnknown) {
  TestRepo repo;
  repo.Commit("base");
  ContextOptions options;
  options.predefined.project_dir = repo.dir();
  StatusOr<PipelineContext> context = MakePipelineContext(options);
  ASSERT_TRUE(context.ok()) << context.status().message();
  EXPECT_FALSE(context->changed_files.has_value());
}

TEST(MakePipelineContextTest, UnknownBaseIsAnError) {
  TestRepo repo;
  repo.Commit("base");
  ContextOptions options;
  options.predefined.project_dir = repo.dir();
  options.changes_since = "origin/main";
  StatusOr<PipelineContext> context = MakePipelineContext(options);
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().message(), "'origin/main' is not a commit in " + repo.dir());
}

TEST(FinalJobVariablesTest, Precedence) {
  PipelineContext context;
  context.predefined.Set("CI_COMMIT_BRANCH", "main");
  context.predefined.Set("CI_JOB_NAME", "pipeline-level placeholder");
  context.predefined.Set("SHADOWED", "predefined");
  context.cli_variables.Set("FROM_CLI", "cli");
  context.cli_variables.Set("BOTH", "cli");
  Job job;
  job.name = "build";
  job.stage = "build";
  job.variables.Set("SHADOWED", "job");
  job.variables.Set("BOTH", "job");
  VariableList vars = FinalJobVariables(job, 7, context);
  EXPECT_EQ(*vars.Get("CI_COMMIT_BRANCH"), "main");
  EXPECT_EQ(*vars.Get("CI_JOB_NAME"), "build");
  EXPECT_EQ(*vars.Get("CI_JOB_ID"), "7");
  EXPECT_EQ(*vars.Get("SHADOWED"), "job");
  EXPECT_EQ(*vars.Get("BOTH"), "cli");
  EXPECT_EQ(*vars.Get("FROM_CLI"), "cli");
}

// Dotenv reports of the jobs a job takes artifacts from rank above its YAML
// variables and below the pipeline's (GitLab's precedence list), the later
// source above the earlier.
TEST(JobVariablesTest, DotenvBetweenYamlAndPipelineVariables) {
  VariableList predefined;
  predefined.Set("CI_COMMIT_BRANCH", "main");
  Job job;
  job.name = "deploy";
  job.variables.Set("URL", "yaml");
  job.variables.Set("PINNED", "yaml");
  job.variables.Set("ONLY_YAML", "yaml");
  VariableList build_env, test_env, pipeline;
  build_env.Set("URL", "build");
  build_env.Set("PINNED", "build");
  test_env.Set("URL", "test");
  pipeline.Set("PINNED", "pipeline");
  VariableList vars = JobVariables(job, 3, predefined, {&build_env, &test_env}, pipeline);
  EXPECT_EQ(*vars.Get("URL"), "test");
  EXPECT_EQ(*vars.Get("PINNED"), "pipeline");
  EXPECT_EQ(*vars.Get("ONLY_YAML"), "yaml");
  EXPECT_EQ(*vars.Get("CI_JOB_ID"), "3");
  EXPECT_EQ(*vars.Get("CI_COMMIT_BRANCH"), "main");
}

}  // namespace
}  // namespace slipway
