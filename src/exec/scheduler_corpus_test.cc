// Schedules every self-contained pipeline of the shared corpus with a fake
// executor: the run must end (no job left pending, scheduled or running),
// and every job must have started only after what it waits for ended — its
// needs for a DAG job, every job of the earlier stages otherwise.
#include <filesystem>
#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "config/loader.h"
#include "exec/fake_executor.h"
#include "exec/scheduler.h"
#include "pipeline/builder.h"
#include "pipeline/instantiate.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(SLIPWAY_SOURCE_DIR) / ".." / "shared" / "corpus";

// The self-contained entries (MANIFEST.md) except 10, whose workflow:rules
// use changes:compare_to, which needs the project's git history.
const char* const kSelfContained[] = {
    "03", "04", "05", "06", "08", "09", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20",
    "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35"};

// Sequence numbers of each job's first start and last end.
class OrderRecorder : public RunObserver {
 public:
  void OnJobUpdate(const JobRun& run) override {
    std::lock_guard<std::mutex> guard(mu_);
    ++clock_;
    if (run.status == CiStatus::kRunning && !started_.count(run.job->name)) {
      started_[run.job->name] = clock_;
    }
    if (run.status == CiStatus::kSuccess || run.status == CiStatus::kFailed) {
      ended_[run.job->name] = clock_;
    }
  }
  std::map<std::string, int> started_;
  std::map<std::string, int> ended_;

 private:
  std::mutex mu_;
  int clock_ = 0;
};

std::optional<Pipeline> LoadCorpusPipeline(const fs::path& dir, std::string* errors) {
  VariableList vars;
  vars.Set("CI_COMMIT_BRANCH", "main");
  vars.Set("CI_COMMIT_REF_NAME", "main");
  vars.Set("CI_DEFAULT_BRANCH", "main");
  vars.Set("CI_PIPELINE_SOURCE", "push");
  vars.Set("CI_PROJECT_PATH", "g/p");
  vars.Set("CI_PROJECT_NAMESPACE", "g");
  vars.Set("CI_SERVER_HOST", "gitlab.example.com");
  LoadOptions options;
  options.project_dir = dir.string();
  options.variables = vars;
  Diagnostics diags;
  std::optional<Pipeline> pipeline;
  if (std::optional<Node> root = LoadConfig(options, &diags)) {
    if (std::optional<PipelineConfig> config = BuildPipelineConfig(*root, &diags)) {
      PipelineContext context;
      context.project_dir = dir.string();
      context.predefined = vars;
      pipeline = InstantiatePipeline(*config, context, &diags);
    }
  }
  if (!pipeline) *errors = diags.FormatAll();
  return pipeline;
}

class SchedulerCorpusTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SchedulerCorpusTest, RunsToTheEndInDependencyOrder) {
  if (!fs::exists(kCorpus)) GTEST_SKIP() << "no corpus at " << kCorpus;
  std::optional<fs::path> dir;
  for (const auto& entry : fs::directory_iterator(kCorpus)) {
    if (entry.path().filename().string().starts_with(std::string(GetParam()) + "-")) {
      dir = entry.path();
    }
  }
  ASSERT_TRUE(dir.has_value());
  std::string errors;
  std::optional<Pipeline> pipeline = LoadCorpusPipeline(*dir, &errors);
  ASSERT_TRUE(pipeline.has_value()) << errors;
  if (!pipeline->created) return;

  for (bool fail_first : {false, true}) {
    FakeExecutor executor;
    if (fail_first && !pipeline->jobs.empty()) executor.Fail(pipeline->jobs.front().name, 1);
    FakeClock clock;
    OrderRecorder order;
    SchedulerOptions options;
    options.max_parallel = 4;
    // Other projects' artifacts (needs:project, e.g. xen's test jobs) are
    // found, and empty: this test is about the order jobs run in.
    options.project_artifacts = [](const Job&) {
      return StatusOr<std::vector<UpstreamArtifacts>>(std::vector<UpstreamArtifacts>());
    };
    Scheduler scheduler(*pipeline, &executor, &clock, nullptr, &order, options);
    StatusOr<RunResult> result = scheduler.Run();
    ASSERT_TRUE(result.ok()) << result.status().message();
    std::map<std::string, const JobRun*> runs;
    for (const JobRun& run : result->jobs) runs[run.job->name] = &run;
    std::map<std::string, size_t> stage_index;
    for (size_t s = 0; s < pipeline->stages.size(); ++s) stage_index[pipeline->stages[s]] = s;

    for (const JobRun& run : result->jobs) {
      const Job& job = *run.job;
      EXPECT_TRUE(run.status != CiStatus::kPending && run.status != CiStatus::kRunning &&
                  run.status != CiStatus::kScheduled)
          << job.name << " ended " << CiStatusName(run.status);
      if (!order.started_.count(job.name)) continue;
      int start = order.started_[job.name];
      if (job.needs) {
        for (const Need& need : *job.needs) {
          if (!runs.count(need.job) || !order.started_.count(need.job)) continue;
          EXPECT_LT(order.ended_[need.job], start) << job.name << " started before " << need.job;
        }
      } else {
        for (const JobRun& other : result->jobs) {
          if (stage_index[other.job->stage] >= stage_index[job.stage]) continue;
          if (!order.started_.count(other.job->name)) continue;
          EXPECT_LT(order.ended_[other.job->name], start)
              << job.name << " started before earlier-stage " << other.job->name;
        }
      }
    }
    if (!fail_first) {
      EXPECT_EQ(result->status, CiStatus::kSuccess);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, SchedulerCorpusTest, ::testing::ValuesIn(kSelfContained),
                         [](const auto& info) { return std::string("c") + info.param; });

}  // namespace
}  // namespace slipway
