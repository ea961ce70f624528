// The store against both backends: migrations, reopening, projects and
// pipelines. Jobs and logs are in store_jobs_test.cc, tokens and schedules in
// store_admin_test.cc.
#include "store/store.h"

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "store/store_test_backend.h"

namespace slipway {
namespace {

class StorePipelinesTest : public StoreTest {
 protected:
  ProjectRecord AddProject(const std::string& path) {
    ProjectRecord p;
    p.name = path.substr(path.rfind('/') + 1);
    p.path_with_namespace = path;
    p.repo_url = "/srv/git/" + path;
    auto created = store_->CreateProject(p);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : ProjectRecord{};
  }

  PipelineRecord AddPipeline(int64_t project_id, const std::string& ref,
                             std::vector<JobRecord> jobs = {}) {
    PipelineRecord p;
    p.project_id = project_id;
    p.ref = ref;
    p.sha = "0123456789abcdef0123456789abcdef01234567";
    p.source = "push";
    auto created = store_->CreatePipeline(p, jobs);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : PipelineRecord{};
  }

  std::vector<int64_t> Iids(const Page<PipelineRecord>& page) {
    std::vector<int64_t> iids;
    for (const PipelineRecord& p : page.items) iids.push_back(p.iid);
    return iids;
  }
};

TEST_P(StorePipelinesTest, MigratesAnEmptyDatabaseToTheLatestVersionOnce) {
  auto db = RawDatabase();
  ASSERT_NE(db, nullptr);
  auto version = SchemaVersion(db.get());
  ASSERT_TRUE(version.ok()) << version.status().message();
  EXPECT_EQ(*version, LatestSchemaVersion());
  // Migrating again changes nothing.
  ASSERT_TRUE(Migrate(db.get()).ok());
  EXPECT_EQ(*SchemaVersion(db.get()), LatestSchemaVersion());
}

TEST_P(StorePipelinesTest, RefusesADatabaseNewerThanThisBuild) {
  auto db = RawDatabase();
  ASSERT_NE(db, nullptr);
  int newer = LatestSchemaVersion() + 1;
  Status set = GetParam() == Backend::kSqlite
                   ? db->ExecScript("PRAGMA user_version = " + std::to_string(newer))
                   : db->Query("INSERT INTO schema_migrations (version) VALUES (?)",
                               {static_cast<int64_t>(newer)})
                         .status();
  ASSERT_TRUE(set.ok()) << set.message();
  store_.reset();
  auto reopened = OpenStore(url_, Options());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().message(), "database schema version " + std::to_string(newer) +
                                             " is newer than this slipway understands (" +
                                             std::to_string(LatestSchemaVersion()) +
                                             "); upgrade slipway");
}

TEST_P(StorePipelinesTest, ReopeningKeepsEverything) {
  ProjectRecord project = AddProject("group/app");
  JobRecord job;
  job.name = "build";
  PipelineRecord pipeline = AddPipeline(project.id, "main", {job});
  ASSERT_TRUE(store_->AppendLog(1, "hello\n").ok());
  Reopen();
  auto got = store_->GetPipeline(pipeline.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->ref, "main");
  auto log = store_->ReadLog(1, 0, 100);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ(log->bytes, "hello\n");
  // Numbering continues where it stopped.
  EXPECT_EQ(AddPipeline(project.id, "main").iid, 2);
}

TEST_P(StorePipelinesTest, ProjectsByIdAndPath) {
  ProjectRecord a = AddProject("group/app");
  ProjectRecord b = AddProject("group/lib");
  EXPECT_EQ(a.id + 1, b.id);
  EXPECT_EQ(a.created_at, NowMs());
  EXPECT_EQ(a.default_branch, "main");

  auto by_path = store_->GetProjectByPath("group/lib");
  ASSERT_TRUE(by_path.ok() && by_path->has_value());
  EXPECT_EQ((*by_path)->id, b.id);
  EXPECT_EQ((*by_path)->repo_url, "/srv/git/group/lib");
  auto missing = store_->GetProject(999);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ProjectRecord again;
  again.name = "app";
  again.path_with_namespace = "group/app";
  auto duplicate = store_->CreateProject(again);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.status().message(), "project path 'group/app' has already been taken");

  auto all = store_->ListProjects();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].path_with_namespace, "group/lib");
}

TEST_P(StorePipelinesTest, CreatesAPipelineWithItsJobsAndNumbersItPerProject) {
  ProjectRecord app = AddProject("group/app");
  ProjectRecord lib = AddProject("group/lib");
  JobRecord build;
  build.name = "build";
  build.stage = "build";
  JobRecord test;
  test.name = "test 1/2";
  test.stage_idx = 1;
  test.when = "manual";
  test.status = CiStatus::kManual;
  test.allow_failure = true;
  test.needs = {"build"};

  PipelineRecord p;
  p.project_id = app.id;
  p.ref = "v1.0";
  p.tag = true;
  p.sha = "abc";
  p.before_sha = "def";
  p.source = "api";
  p.name = "release";
  p.variables = {{"DEPLOY", "yes", "env_var"}, {"CONFIG", "a=1\n", "file"}};
  auto created = store_->CreatePipeline(p, {build, test});
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->iid, 1);
  EXPECT_EQ(created->status, CiStatus::kCreated);
  EXPECT_EQ(created->created_at, NowMs());
  EXPECT_EQ(created->updated_at, NowMs());
  EXPECT_FALSE(created->started_at.has_value());
  EXPECT_EQ(created->variables, p.variables);
  EXPECT_TRUE(created->tag);
  EXPECT_EQ(AddPipeline(app.id, "main").iid, 2);
  EXPECT_EQ(AddPipeline(lib.id, "main").iid, 1);

  auto jobs = store_->ListJobs({.pipeline_id = created->id});
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  ASSERT_EQ(jobs->items.size(), 2u);
  const JobRecord& second = jobs->items[1];
  EXPECT_EQ(second.pipeline_id, created->id);
  EXPECT_EQ(second.name, "test 1/2");
  EXPECT_EQ(second.stage, "test");
  EXPECT_EQ(second.stage_idx, 1);
  EXPECT_EQ(second.status, CiStatus::kManual);
  EXPECT_EQ(second.when, "manual");
  EXPECT_TRUE(second.allow_failure);
  EXPECT_EQ(second.needs, std::vector<std::string>{"build"});
  EXPECT_EQ(second.log_size, 0);
}

TEST_P(StorePipelinesTest, APipelineIsWrittenWholeOrNotAtAll) {
  ProjectRecord app = AddProject("group/app");
  JobRecord good;
  good.name = "build";
  JobRecord bad;  // No name.
  PipelineRecord p;
  p.project_id = app.id;
  p.ref = "main";
  auto failed = store_->CreatePipeline(p, {good, bad});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "job name must not be empty");
  auto listed = store_->ListPipelines({.project_id = app.id});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->total, 0);
  EXPECT_EQ(AddPipeline(app.id, "main").iid, 1);  // The counter rolled back too.

  p.project_id = 42;
  auto orphan = store_->CreatePipeline(p, {});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.status().message(), "project 42 not found");
}

TEST_P(StorePipelinesTest, PipelineStatusSetsTimestamps) {
  ProjectRecord app = AddProject("group/app");
  PipelineRecord p = AddPipeline(app.id, "main");
  clock_.Advance(std::chrono::milliseconds(1000));
  auto running = store_->UpdatePipelineStatus(p.id, CiStatus::kRunning);
  ASSERT_TRUE(running.ok()) << running.status().message();
  EXPECT_EQ(running->started_at, NowMs());
  clock_.Advance(std::chrono::milliseconds(2500));
  auto done = store_->UpdatePipelineStatus(p.id, CiStatus::kFailed);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->finished_at, NowMs());
  EXPECT_EQ(done->duration_ms, 2500);
  EXPECT_EQ(done->updated_at, NowMs());
  // Retrying makes it run again: it keeps its start, loses its finish.
  auto again = store_->UpdatePipelineStatus(p.id, CiStatus::kRunning);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->started_at, running->started_at);
  EXPECT_FALSE(again->finished_at.has_value());
  auto stored = store_->GetPipeline(p.id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, CiStatus::kRunning);
  EXPECT_FALSE((*stored)->duration_ms.has_value());

  auto missing = store_->UpdatePipelineStatus(999, CiStatus::kRunning);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "pipeline 999 not found");
}

TEST_P(StorePipelinesTest, ListsPipelinesWithGitLabFiltersAndPagination) {
  ProjectRecord app = AddProject("group/app");
  ProjectRecord other = AddProject("group/other");
  AddPipeline(other.id, "main");
  // iids 1..25 on refs main, dev, main, dev ...; every fifth one succeeds.
  for (int i = 1; i <= 25; ++i) {
    clock_.Advance(std::chrono::milliseconds(10));
    PipelineRecord p = AddPipeline(app.id, i % 2 ? "main" : "dev");
    if (i % 5 == 0) {
      ASSERT_TRUE(store_->UpdatePipelineStatus(p.id, CiStatus::kSuccess).ok());
    }
  }

  auto first = store_->ListPipelines({.project_id = app.id});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->total, 25);
  ASSERT_EQ(first->items.size(), 20u);
  EXPECT_EQ(first->items[0].iid, 25);

  auto last = store_->ListPipelines({.project_id = app.id, .page = 3, .per_page = 10});
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->total, 25);
  EXPECT_EQ(Iids(*last), (std::vector<int64_t>{5, 4, 3, 2, 1}));

  auto asc =
      store_->ListPipelines({.project_id = app.id, .ref = "dev", .sort = "asc", .per_page = 3});
  ASSERT_TRUE(asc.ok());
  EXPECT_EQ(asc->total, 12);
  EXPECT_EQ(Iids(*asc), (std::vector<int64_t>{2, 4, 6}));

  auto success = store_->ListPipelines({.project_id = app.id, .status = CiStatus::kSuccess});
  ASSERT_TRUE(success.ok());
  EXPECT_EQ(Iids(*success), (std::vector<int64_t>{25, 20, 15, 10, 5}));
  auto finished = store_->ListPipelines({.project_id = app.id, .scope = "finished"});
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(finished->total, 5);

  // Updated ones move to the front when ordered by updated_at.
  auto by_update =
      store_->ListPipelines({.project_id = app.id, .order_by = "updated_at", .per_page = 2});
  ASSERT_TRUE(by_update.ok());
  EXPECT_EQ(Iids(*by_update), (std::vector<int64_t>{25, 24}));
  auto after =
      store_->ListPipelines({.project_id = app.id, .updated_after = NowMs() - 25, .sort = "asc"});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Iids(*after), (std::vector<int64_t>{23, 24, 25}));

  // scope=branches: the latest pipeline of each branch.
  auto branches = store_->ListPipelines({.project_id = app.id, .scope = "branches"});
  ASSERT_TRUE(branches.ok());
  EXPECT_EQ(Iids(*branches), (std::vector<int64_t>{25, 24}));

  auto bad = store_->ListPipelines({.project_id = app.id, .order_by = "user_id"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "order_by does not have a valid value: 'user_id' (id, status, ref, updated_at)");
  auto bad_scope = store_->ListPipelines({.project_id = app.id, .scope = "all"});
  ASSERT_FALSE(bad_scope.ok());
  EXPECT_EQ(bad_scope.status().message(),
            "scope does not have a valid value: 'all' (running, pending, finished, branches, "
            "tags)");
}

TEST_P(StorePipelinesTest, DeletingAPipelineRemovesItsJobsAndLogs) {
  ProjectRecord app = AddProject("group/app");
  JobRecord job;
  job.name = "build";
  PipelineRecord p = AddPipeline(app.id, "main", {job});
  auto jobs = store_->ListJobs({.pipeline_id = p.id});
  ASSERT_TRUE(jobs.ok() && jobs->items.size() == 1);
  int64_t job_id = jobs->items[0].id;
  ASSERT_TRUE(store_->AppendLog(job_id, "line\n").ok());
  ASSERT_TRUE(store_->AddArtifact({.job_id = job_id, .path = "out.bin", .size = 3}).ok());
  ASSERT_TRUE(store_->DeletePipeline(p.id).ok());
  auto gone = store_->GetJob(job_id);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  auto db = RawDatabase();
  auto chunks = db->Query("SELECT COUNT(*) FROM job_log_chunks");
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(chunks->at(0).Int(0), 0);
  Status again = store_->DeletePipeline(p.id);
  EXPECT_EQ(again.message(), "pipeline " + std::to_string(p.id) + " not found");
}

SLIPWAY_STORE_TEST_SUITE(StorePipelinesTest);

}  // namespace
}  // namespace slipway
