// Which pipelines keep their artifacts past expire_in, which job a ref's
// artifacts come from, and removing a job's artifacts without following
// the links a job left in them.
#include "server/stored_artifacts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "store/store_test_backend.h"
#include "store/store_test_records.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;

class StoredArtifactsTest : public StoreTest {
 protected:
  // A pipeline of project at ref with one job `build`, both with status.
  PipelineRecord Add(int64_t project, const std::string& ref, CiStatus status) {
    PipelineRecord p;
    p.project_id = project;
    p.ref = ref;
    JobRecord build;
    build.name = "build";
    auto created = store_->CreatePipeline(p, {build});
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return p;
    auto jobs = store_->ListJobs({.pipeline_id = created->id});
    EXPECT_TRUE(jobs.ok() && jobs->items.size() == 1u);
    if (status != CiStatus::kCreated) {
      for (CiStatus step : {CiStatus::kPending, CiStatus::kRunning}) {
        EXPECT_TRUE(store_->UpdateJob(jobs->items[0].id, {.status = step}).ok());
      }
      EXPECT_TRUE(store_->UpdateJob(jobs->items[0].id, {.status = status}).ok());
      EXPECT_TRUE(store_->UpdatePipelineStatus(created->id, CiStatus::kRunning).ok());
      auto moved = store_->UpdatePipelineStatus(created->id, status);
      EXPECT_TRUE(moved.ok()) << moved.status().message();
      if (moved.ok()) return *moved;
    }
    return *created;
  }
  bool Locked(const PipelineRecord& p) {
    StatusOr<bool> locked = ArtifactsLocked(store_.get(), p);
    EXPECT_TRUE(locked.ok()) << locked.status().message();
    return locked.ok() && *locked;
  }
};

// GitLab's rule (Ci::Refs::UnlockPreviousPipelinesWorker, gitlab MR
// 114426): of a ref's pipelines the latest one and the latest successful
// one stay locked; every other pipeline's artifacts follow expire_in. Refs
// and projects are apart.
TEST_P(StoredArtifactsTest, TheLatestAndTheLatestSuccessfulPipelineOfARefAreLocked) {
  int64_t app = AddTestProject(store_.get(), "group/app");
  int64_t other = AddTestProject(store_.get(), "group/other");
  PipelineRecord old_success = Add(app, "main", CiStatus::kSuccess);
  EXPECT_TRUE(Locked(old_success));  // The only one.
  PipelineRecord success = Add(app, "main", CiStatus::kSuccess);
  EXPECT_FALSE(Locked(old_success));
  EXPECT_TRUE(Locked(success));
  PipelineRecord failed = Add(app, "main", CiStatus::kFailed);
  EXPECT_TRUE(Locked(success));  // Still the latest successful.
  EXPECT_TRUE(Locked(failed));   // The latest: a retry may make it pass.
  PipelineRecord failed_again = Add(app, "main", CiStatus::kFailed);
  EXPECT_FALSE(Locked(failed));
  EXPECT_TRUE(Locked(failed_again));
  EXPECT_TRUE(Locked(Add(app, "feature", CiStatus::kFailed)));
  EXPECT_TRUE(Locked(Add(other, "main", CiStatus::kSuccess)));
  EXPECT_TRUE(Locked(success));
}

TEST_P(StoredArtifactsTest, TheLatestSuccessfulJobOfARefIsTheOneOfItsLatestSuccessfulPipeline) {
  int64_t app = AddTestProject(store_.get(), "group/app");
  EXPECT_FALSE(*LatestSuccessfulJob(store_.get(), app, "main", "build"));
  PipelineRecord first = Add(app, "main", CiStatus::kSuccess);
  Add(app, "main", CiStatus::kFailed);
  Add(app, "feature", CiStatus::kSuccess);
  auto job = LatestSuccessfulJob(store_.get(), app, "main", "build");
  ASSERT_TRUE(job.ok() && *job);
  EXPECT_EQ((*job)->pipeline_id, first.id);
  EXPECT_FALSE(*LatestSuccessfulJob(store_.get(), app, "main", "test"));
  EXPECT_FALSE(*LatestSuccessfulJob(store_.get(), app, "tags", "build"));
}

// A job's artifacts may hold a link to anything (here the "data directory"
// beside the run); removing them removes the link, never what it leads to.
// A record whose path climbs out of the run directory (only a damaged or
// edited database has one) is refused, and nothing is removed for it.
TEST_P(StoredArtifactsTest, RemovingArtifactsRemovesLinksNotWhatTheyPointTo) {
  std::string tmpl = (fs::temp_directory_path() / "slipway-stored-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  fs::path root = tmpl;
  fs::path run_dir = root / "runs/1";
  fs::create_directories(run_dir / "jobs/build/artifacts/dir");
  fs::create_directories(run_dir / "jobs/build/reports/junit");
  fs::create_directories(root / "data");
  std::ofstream(root / "data/slipway.db") << "precious";
  std::ofstream(run_dir / "jobs/build/artifacts/out.txt") << "x";
  std::ofstream(run_dir / "jobs/build/reports/junit/report.xml") << "<testsuite/>";
  fs::create_directory_symlink(root / "data", run_dir / "jobs/build/artifacts/dir/data");
  fs::create_directory_symlink(root / "data", run_dir / "jobs/build/artifacts/link");

  int64_t app = AddTestProject(store_.get(), "group/app");
  PipelineRecord p = Add(app, "main", CiStatus::kSuccess);
  JobRecord job = store_->ListJobs({.pipeline_id = p.id})->items.at(0);
  ASSERT_TRUE(
      store_->AddArtifact({job.id, "jobs/build/artifacts", "archive", 1, "", "a.zip", "zip"}).ok());
  ASSERT_TRUE(store_
                  ->AddArtifact(
                      {job.id, "jobs/build/reports/junit", "junit", 1, "", "junit.xml.gz", "gzip"})
                  .ok());
  StatusOr<bool> removed = RemoveJobArtifacts(store_.get(), run_dir.string(), job);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(fs::exists(run_dir / "jobs/build/artifacts"));
  EXPECT_FALSE(fs::exists(run_dir / "jobs/build/reports/junit"));
  EXPECT_TRUE(fs::exists(root / "data/slipway.db"));
  EXPECT_TRUE(store_->ListArtifacts(job.id)->empty());
  EXPECT_FALSE(*RemoveJobArtifacts(store_.get(), run_dir.string(), job));  // Nothing left.

  ASSERT_TRUE(
      store_->AddArtifact({job.id, "jobs/../../../data", "archive", 1, "", "a.zip", "zip"}).ok());
  removed = RemoveJobArtifacts(store_.get(), run_dir.string(), job);
  EXPECT_FALSE(removed.ok());
  EXPECT_TRUE(fs::exists(root / "data/slipway.db"));
  fs::remove_all(root);
}

SLIPWAY_STORE_TEST_SUITE(StoredArtifactsTest);

}  // namespace
}  // namespace slipway
