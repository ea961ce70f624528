// Jobs, crash recovery, logs and artifacts against both backends.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <limits>
#include <map>
#include <sstream>
#include <thread>

#include "store/pipeline_leases.h"
#include "store/store.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"

namespace slipway {
namespace {

class StoreJobsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    project_id_ = AddTestProject(store_.get(), "group/app");
    ASSERT_NE(project_id_, 0);
  }

  // What a single server starting after a crash does (Service::Recover):
  // every running job fails with runner_system_failure; returns them.
  StatusOr<std::vector<JobRecord>> InterruptedJobs() {
    LeaseRecovery everything;
    everything.everything = true;
    auto recovered = LeasesOf(store_.get())->RecoverPipelines(everything);
    if (!recovered.ok()) return recovered.status();
    return recovered->jobs;
  }

  // A pipeline with jobs named as given; returns their ids in order.
  std::vector<int64_t> AddPipeline(const std::vector<std::string>& names) {
    std::vector<JobRecord> jobs;
    for (const std::string& name : names) {
      JobRecord j;
      j.name = name;
      jobs.push_back(j);
    }
    PipelineRecord p;
    p.project_id = project_id_;
    p.ref = "main";
    auto created = store_->CreatePipeline(p, jobs);
    EXPECT_TRUE(created.ok()) << created.status().message();
    pipeline_id_ = created.ok() ? created->id : 0;
    auto listed = store_->ListJobs({.pipeline_id = pipeline_id_});
    std::vector<int64_t> ids;
    if (listed.ok()) {
      for (const JobRecord& j : listed->items) ids.push_back(j.id);
    }
    return ids;
  }

  JobRecord Update(int64_t id, CiStatus status) {
    auto updated = store_->UpdateJob(id, {.status = status});
    EXPECT_TRUE(updated.ok()) << updated.status().message();
    return updated.ok() ? *updated : JobRecord{};
  }

  std::string ReadAll(int64_t job_id) {
    auto slice = store_->ReadLog(job_id, 0, int64_t{1} << 40);
    EXPECT_TRUE(slice.ok()) << slice.status().message();
    return slice.ok() ? slice->bytes : "";
  }

  int64_t project_id_ = 0;
  int64_t pipeline_id_ = 0;
};

TEST_P(StoreJobsTest, StatusChangesFollowGitLabAndSetTimestamps) {
  int64_t id = AddPipeline({"build"})[0];
  clock_.Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(Update(id, CiStatus::kPending).queued_at, NowMs());
  clock_.Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(Update(id, CiStatus::kRunning).started_at, NowMs());
  clock_.Advance(std::chrono::milliseconds(1500));
  auto failed = store_->UpdateJob(
      id, {.status = CiStatus::kFailed, .exit_code = 2, .failure_reason = "script_failure"});
  ASSERT_TRUE(failed.ok()) << failed.status().message();
  auto stored = store_->GetJob(id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  const JobRecord& j = **stored;
  EXPECT_EQ(j.status, CiStatus::kFailed);
  EXPECT_EQ(j.exit_code, 2);
  EXPECT_EQ(j.failure_reason, "script_failure");
  EXPECT_EQ(j.runner.id, 0);
  EXPECT_EQ(j.finished_at, NowMs());
  EXPECT_EQ(j.duration_ms, 1500);

  auto refused = store_->UpdateJob(id, {.status = CiStatus::kRunning});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(
      refused.status().message(),
      "job " + std::to_string(id) + " ('build'): cannot change status from failed to running");
  auto missing = store_->UpdateJob(999, {.status = CiStatus::kRunning});
  EXPECT_EQ(missing.status().message(), "job 999 not found");
}

TEST_P(StoreJobsTest, TheRunnerThatTookAJobIsKeptAndNotCopiedToItsRetry) {
  int64_t id = AddPipeline({"build"})[0];
  Update(id, CiStatus::kPending);
  JobRunner runner{.id = 7, .description = "gpu-box", .tags = {"gpu", "linux"}};
  auto running = store_->UpdateJob(id, {.status = CiStatus::kRunning, .runner = runner});
  ASSERT_TRUE(running.ok()) << running.status().message();
  // A later update without a runner keeps it.
  ASSERT_TRUE(store_->UpdateJob(id, {.status = CiStatus::kFailed}).ok());
  auto stored = store_->GetJob(id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->runner.id, 7);
  EXPECT_EQ((*stored)->runner.description, "gpu-box");
  EXPECT_EQ((*stored)->runner.tags, (std::vector<std::string>{"gpu", "linux"}));
  auto retry = store_->RetryJob(id);
  ASSERT_TRUE(retry.ok()) << retry.status().message();
  EXPECT_EQ(retry->runner.id, 0);
  EXPECT_TRUE(retry->runner.tags.empty());
}

TEST_P(StoreJobsTest, AnUpdateCanSetTheEffectiveAllowFailure) {
  std::vector<int64_t> ids = AddPipeline({"allowed", "strict"});
  for (int64_t id : ids) {
    Update(id, CiStatus::kPending);
    Update(id, CiStatus::kRunning);
  }
  // allow_failure:exit_codes matched: failed, allowed to fail.
  auto allowed = store_->UpdateJob(
      ids[0], {.status = CiStatus::kFailed, .exit_code = 3, .allow_failure = true});
  ASSERT_TRUE(allowed.ok()) << allowed.status().message();
  EXPECT_TRUE(allowed->allow_failure);
  // Left empty, the stored value stays.
  Update(ids[1], CiStatus::kFailed);
  auto stored = store_->ListJobs({.pipeline_id = pipeline_id_});
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->items.size(), 2u);
  EXPECT_TRUE(stored->items[0].allow_failure);
  EXPECT_EQ(stored->items[0].exit_code, 3);
  EXPECT_FALSE(stored->items[1].allow_failure);
  auto retry = store_->RetryJob(ids[0]);
  ASSERT_TRUE(retry.ok()) << retry.status().message();
  auto reset = store_->UpdateJob(retry->id, {.status = CiStatus::kPending, .allow_failure = false});
  ASSERT_TRUE(reset.ok()) << reset.status().message();
  auto got = store_->GetJob(retry->id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_FALSE((*got)->allow_failure);
}

TEST_P(StoreJobsTest, RetryCreatesANewAttemptAndHidesTheOldOne) {
  std::vector<int64_t> ids = AddPipeline({"build", "test"});
  Update(ids[0], CiStatus::kPending);
  auto running_retry = store_->RetryJob(ids[0]);
  ASSERT_FALSE(running_retry.ok());
  EXPECT_EQ(running_retry.status().message(),
            "job " + std::to_string(ids[0]) + " ('build') cannot be retried while pending");
  Update(ids[0], CiStatus::kCanceled);
  ASSERT_TRUE(store_->AppendLog(ids[0], "first attempt\n").ok());

  auto retry = store_->RetryJob(ids[0]);
  ASSERT_TRUE(retry.ok()) << retry.status().message();
  EXPECT_EQ(retry->name, "build");
  EXPECT_EQ(retry->status, CiStatus::kCreated);
  EXPECT_EQ(retry->retry_count, 1);
  EXPECT_EQ(retry->log_size, 0);
  auto twice = store_->RetryJob(ids[0]);
  EXPECT_EQ(twice.status().message(),
            "job " + std::to_string(ids[0]) + " ('build') has already been retried");

  auto latest = store_->ListJobs({.pipeline_id = pipeline_id_});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->total, 2);
  EXPECT_EQ(latest->items[0].name, "test");
  EXPECT_EQ(latest->items[1].id, retry->id);
  auto all = store_->ListJobs({.pipeline_id = pipeline_id_, .include_retried = true});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 3);
  EXPECT_TRUE(all->items[0].retried);
}

TEST_P(StoreJobsTest, ListsJobsByScopeAndProjectNewestFirst) {
  std::vector<int64_t> first = AddPipeline({"a", "b", "c"});
  std::vector<int64_t> second = AddPipeline({"d", "e"});
  Update(first[0], CiStatus::kSkipped);
  Update(second[1], CiStatus::kPending);
  Update(second[1], CiStatus::kRunning);

  auto project = store_->ListJobs({.project_id = project_id_, .per_page = 2});
  ASSERT_TRUE(project.ok()) << project.status().message();
  EXPECT_EQ(project->total, 5);
  ASSERT_EQ(project->items.size(), 2u);
  EXPECT_EQ(project->items[0].name, "e");
  EXPECT_EQ(project->items[1].name, "d");
  auto page3 = store_->ListJobs({.project_id = project_id_, .page = 3, .per_page = 2});
  ASSERT_TRUE(page3.ok());
  ASSERT_EQ(page3->items.size(), 1u);
  EXPECT_EQ(page3->items[0].name, "a");

  auto scoped = store_->ListJobs(
      {.project_id = project_id_, .scope = {CiStatus::kRunning, CiStatus::kSkipped}});
  ASSERT_TRUE(scoped.ok());
  ASSERT_EQ(scoped->total, 2);
  EXPECT_EQ(scoped->items[0].name, "e");
  EXPECT_EQ(scoped->items[1].name, "a");

  auto neither = store_->ListJobs({});
  EXPECT_EQ(neither.status().message(),
            "listing jobs needs exactly one of a pipeline id and a project id");
}

TEST_P(StoreJobsTest, InterruptedJobsFailWithRunnerSystemFailure) {
  std::vector<int64_t> ids = AddPipeline({"running", "pending", "done"});
  Update(ids[0], CiStatus::kPending);
  Update(ids[0], CiStatus::kRunning);
  Update(ids[1], CiStatus::kPending);
  Update(ids[2], CiStatus::kSuccess);
  ASSERT_TRUE(store_->UpdatePipelineStatus(pipeline_id_, CiStatus::kRunning).ok());
  Reopen();  // As after a crash.

  auto interrupted = InterruptedJobs();
  ASSERT_TRUE(interrupted.ok()) << interrupted.status().message();
  ASSERT_EQ(interrupted->size(), 1u);
  EXPECT_EQ((*interrupted)[0].id, ids[0]);
  EXPECT_EQ((*interrupted)[0].status, CiStatus::kFailed);
  EXPECT_EQ((*interrupted)[0].failure_reason, "runner_system_failure");
  auto stored = store_->GetJob(ids[0]);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->failure_reason, "runner_system_failure");
  EXPECT_EQ((*store_->GetJob(ids[1]))->status, CiStatus::kPending);
  // Nothing is running any more, so a second call finds nothing.
  EXPECT_TRUE(InterruptedJobs()->empty());

  // The pipeline is still to run: the server claims it again.
  auto resume = LeasesOf(store_.get())->ClaimNextPipeline("server", 1);
  ASSERT_TRUE(resume.ok());
  EXPECT_EQ(*resume, std::optional<int64_t>(pipeline_id_));
}

TEST_P(StoreJobsTest, LogsAreReadByByteOffset) {
  int64_t id = AddPipeline({"build"})[0];
  EXPECT_EQ(*store_->AppendLog(id, "$ make\n"), 7);
  EXPECT_EQ(*store_->AppendLog(id, ""), 7);
  std::string binary("\0\xff\x1b[31mred\x1b[0m\n", 15);
  EXPECT_EQ(*store_->AppendLog(id, binary), 22);
  EXPECT_EQ(*store_->AppendLog(id, "done\n"), 27);

  auto middle = store_->ReadLog(id, 5, 10);  // Spans the first two chunks.
  ASSERT_TRUE(middle.ok()) << middle.status().message();
  EXPECT_EQ(middle->bytes, std::string("e\n\0\xff\x1b[31mre", 10));
  EXPECT_EQ(middle->offset, 5);
  EXPECT_EQ(middle->total_size, 27);
  EXPECT_EQ(ReadAll(id), "$ make\n" + binary + "done\n");
  auto tail = store_->ReadLog(id, 25, 100);
  EXPECT_EQ(tail->bytes, "e\n");
  auto past_end = store_->ReadLog(id, 1000, 100);
  ASSERT_TRUE(past_end.ok());
  EXPECT_EQ(past_end->bytes, "");
  EXPECT_EQ(past_end->offset, 27);
  EXPECT_EQ((*store_->GetJob(id))->log_size, 27);

  EXPECT_EQ(store_->ReadLog(id, -1, 10).status().message(), "log offset must not be negative");
  EXPECT_EQ(store_->ReadLog(id, 0, 0).status().message(), "log read size must be positive");
  EXPECT_EQ(store_->AppendLog(999, "x").status().message(), "job 999 not found");
  EXPECT_EQ(store_->ReadLog(999, 0, 1).status().message(), "job 999 not found");
}

TEST_P(StoreJobsTest, ConcurrentAppendsKeepEveryLineWhole) {
  std::vector<int64_t> ids = AddPipeline({"a", "b"});
  constexpr int kThreads = 4;
  constexpr int kLines = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i) {
        std::string line = "thread " + std::to_string(t) + " line " + std::to_string(i) + "\n";
        auto appended = store_->AppendLog(ids[t % 2], line);
        ASSERT_TRUE(appended.ok()) << appended.status().message();
      }
    });
  }
  for (std::thread& t : threads) t.join();

  for (int job = 0; job < 2; ++job) {
    std::map<int, int> next_line;  // Per thread: lines arrive in order.
    std::istringstream in(ReadAll(ids[job]));
    std::string word, line_word;
    int thread = 0, line = 0, count = 0;
    while (in >> word >> thread >> line_word >> line) {
      ASSERT_EQ(word, "thread");
      ASSERT_EQ(thread % 2, job);
      EXPECT_EQ(line, next_line[thread]++);
      ++count;
    }
    EXPECT_EQ(count, kThreads / 2 * kLines);
  }
}

TEST_P(StoreJobsTest, LogLinesWrittenBeforeAKillSurvive) {
  int64_t id = AddPipeline({"build"})[0];
  Update(id, CiStatus::kPending);
  Update(id, CiStatus::kRunning);
  store_.reset();  // The child opens its own connection.
  constexpr int kLines = 50;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    auto store = OpenStore(url_, Options());
    if (!store.ok()) _exit(1);
    for (int i = 0; i < kLines; ++i) {
      if (!(*store)->AppendLog(id, "line " + std::to_string(i) + "\n").ok()) _exit(2);
      if (write(ready[1], "x", 1) != 1) _exit(3);  // Reported only once stored.
    }
    while (true) pause();  // Killed here, never exits cleanly.
  }
  close(ready[1]);
  int reported = 0;
  char c;
  while (reported < kLines && read(ready[0], &c, 1) == 1) ++reported;
  close(ready[0]);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(reported, kLines);

  Reopen();
  std::string expected;
  for (int i = 0; i < kLines; ++i) expected += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(ReadAll(id), expected);
  auto interrupted = InterruptedJobs();
  ASSERT_TRUE(interrupted.ok());
  ASSERT_EQ(interrupted->size(), 1u);
  EXPECT_EQ((*interrupted)[0].log_size, static_cast<int64_t>(expected.size()));
}

TEST_P(StoreJobsTest, ArtifactsIndexIsKeyedByPath) {
  int64_t id = AddPipeline({"build"})[0];
  auto add = [&](int64_t job, std::string path, std::string type, int64_t size,
                 std::string filename) {
    return store_->AddArtifact(
        {job, std::move(path), std::move(type), size, "", std::move(filename), "gzip"});
  };
  ASSERT_TRUE(add(id, "jobs/build/reports/junit", "junit", 10, "junit.xml.gz").ok());
  ASSERT_TRUE(add(id, "jobs/build/artifacts", "archive", 3, "artifacts.zip").ok());
  ASSERT_TRUE(add(id, "jobs/build/reports/junit", "junit", 12, "tests.xml.gz").ok());  // Replaces.
  auto listed = store_->ListArtifacts(id);
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].path, "jobs/build/artifacts");
  EXPECT_EQ((*listed)[0].filename, "artifacts.zip");
  EXPECT_EQ((*listed)[1].size, 12);
  EXPECT_EQ((*listed)[1].file_type, "junit");
  EXPECT_EQ((*listed)[1].filename, "tests.xml.gz");
  EXPECT_EQ((*listed)[1].file_format, "gzip");
  EXPECT_FALSE(add(999, "x", "archive", 1, "x.zip").ok());
  EXPECT_EQ(add(id, "", "archive", 1, "x.zip").message(), "artifact path must not be empty");
}

// The cleaner's query: jobs whose artifacts expired by now, newest first, paged;
// none that never expire or expire later; gone once deleted or kept.
TEST_P(StoreJobsTest, ExpiredArtifactsAreFoundByTimeAndForgotten) {
  std::vector<int64_t> ids = AddPipeline({"a", "b", "c"});
  auto add = [&](int64_t job, std::string path, std::optional<int64_t> expire_at) {
    ArtifactRecord a{job, std::move(path), "archive", 1, "", "artifacts.zip", "zip"};
    a.expire_at = expire_at;
    return store_->AddArtifact(a);
  };
  ASSERT_TRUE(add(ids[0], "jobs/a/artifacts", 2000).ok());
  ASSERT_TRUE(add(ids[0], "jobs/a/reports/junit", 2000).ok());
  ASSERT_TRUE(add(ids[1], "jobs/b/artifacts", 1000).ok());
  ASSERT_TRUE(add(ids[2], "jobs/c/artifacts", std::nullopt).ok());
  const int64_t kAll = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*store_->JobsWithExpiredArtifacts(999, kAll, 10), std::vector<int64_t>{});
  EXPECT_EQ(*store_->JobsWithExpiredArtifacts(1000, kAll, 10), std::vector<int64_t>{ids[1]});
  EXPECT_EQ(*store_->JobsWithExpiredArtifacts(5000, kAll, 10),
            (std::vector<int64_t>{ids[1], ids[0]}));
  EXPECT_EQ(*store_->JobsWithExpiredArtifacts(5000, kAll, 1), std::vector<int64_t>{ids[1]});
  EXPECT_EQ(*store_->JobsWithExpiredArtifacts(5000, ids[1], 1), std::vector<int64_t>{ids[0]});
  EXPECT_EQ((*store_->ListArtifacts(ids[0]))[0].expire_at, std::optional<int64_t>(2000));
  EXPECT_EQ((*store_->ListArtifacts(ids[2]))[0].expire_at, std::nullopt);

  ASSERT_TRUE(store_->SetArtifactsExpireAt(ids[1], std::nullopt).ok());  // Kept.
  ASSERT_TRUE(store_->DeleteArtifacts(ids[0]).ok());
  EXPECT_EQ(*store_->JobsWithExpiredArtifacts(5000, kAll, 10), std::vector<int64_t>{});
  EXPECT_TRUE(store_->ListArtifacts(ids[0])->empty());
  EXPECT_EQ(store_->ListArtifacts(ids[1])->size(), 1u);
}

SLIPWAY_STORE_TEST_SUITE(StoreJobsTest);

}  // namespace
}  // namespace slipway
