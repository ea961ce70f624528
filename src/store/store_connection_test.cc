// Several connections to one database, lost connections and the in-memory
// store.
#include <gtest/gtest.h>

#include <thread>

#include "store/store.h"
#include "store/store_test_backend.h"

namespace slipway {
namespace {

class StoreConnectionTest : public StoreTest {};

// Two stores on one database stand for two processes (a server and a CLI
// command): appends through both still get consecutive offsets.
TEST_P(StoreConnectionTest, TwoConnectionsShareOneLogWithoutOverlap) {
  ProjectRecord project;
  project.name = "app";
  project.path_with_namespace = "group/app";
  int64_t project_id = store_->CreateProject(project)->id;
  PipelineRecord pipeline;
  pipeline.project_id = project_id;
  pipeline.ref = "main";
  JobRecord job;
  job.name = "build";
  ASSERT_TRUE(store_->CreatePipeline(pipeline, {job}).ok());
  int64_t job_id = store_->ListJobs({.project_id = project_id})->items.at(0).id;

  auto second = OpenStore(url_, Options());
  ASSERT_TRUE(second.ok()) << second.status().message();
  Store* stores[] = {store_.get(), second->get()};
  constexpr int kLines = 60;
  std::vector<std::thread> threads;
  for (int s = 0; s < 2; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kLines; ++i) {
        auto appended = stores[s]->AppendLog(job_id, std::string(10, static_cast<char>('a' + s)));
        ASSERT_TRUE(appended.ok()) << appended.status().message();
      }
    });
  }
  for (std::thread& t : threads) t.join();

  auto log = store_->ReadLog(job_id, 0, 1 << 20);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->bytes.size(), 2u * kLines * 10);
  // Every 10-byte record is whole: one writer's letter throughout.
  for (size_t at = 0; at < log->bytes.size(); at += 10) {
    EXPECT_EQ(log->bytes.substr(at, 10), std::string(10, log->bytes[at])) << "at " << at;
  }
  EXPECT_EQ((*second)->GetJob(job_id)->value().log_size, 2 * kLines * 10);
}

TEST_P(StoreConnectionTest, PostgresReconnectsAfterTheServerDropsTheConnection) {
  if (GetParam() != Backend::kPostgres) GTEST_SKIP() << "PostgreSQL only";
  // Tag this store's connection so that only it is terminated (other tests
  // share the server).
  store_.reset();
  std::string url =
      url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "application_name=" + schema_;
  auto opened = OpenStore(url, Options());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store_ = std::move(*opened);
  ASSERT_TRUE(store_->ListProjects().ok());

  auto admin = RawDatabase();
  // The timeout makes the call wait until the backend has exited.
  auto killed = admin->Query(
      "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = ?",
      {schema_});
  ASSERT_TRUE(killed.ok()) << killed.status().message();
  ASSERT_EQ(killed->size(), 1u);

  ProjectRecord project;
  project.name = "app";
  project.path_with_namespace = "group/app";
  // The first statement after the drop is retried on a new connection, which
  // keeps the store's schema.
  auto created = store_->CreateProject(project);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto found = store_->GetProjectByPath("group/app");
  ASSERT_TRUE(found.ok() && found->has_value());
}

SLIPWAY_STORE_TEST_SUITE(StoreConnectionTest);

TEST(InMemoryStoreTest, EachOpenIsAFreshPrivateDatabase) {
  auto first = OpenStore("sqlite::memory:");
  ASSERT_TRUE(first.ok()) << first.status().message();
  ProjectRecord project;
  project.name = "app";
  project.path_with_namespace = "group/app";
  ASSERT_TRUE((*first)->CreateProject(project).ok());
  auto second = OpenStore("sqlite::memory:");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->ListProjects()->empty());
  EXPECT_EQ((*first)->ListProjects()->size(), 1u);
}

}  // namespace
}  // namespace slipway
