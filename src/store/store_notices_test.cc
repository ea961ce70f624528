// Notices among servers and action requests (replica_notices.h,
// action_requests.h) against both backends; the listener against the real
// PostgreSQL server, with a second store as the other server.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <vector>

#include "store/action_requests.h"
#include "store/pipeline_leases.h"
#include "store/replica_notices.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

TEST(ReplicaNoticeTest, PayloadsRoundTripAndOthersAreRefused) {
  for (auto kind : {ReplicaNotice::Kind::kFree, ReplicaNotice::Kind::kRequest,
                    ReplicaNotice::Kind::kRequestDone, ReplicaNotice::Kind::kChanged,
                    ReplicaNotice::Kind::kLog}) {
    std::optional<ReplicaNotice> back = ParseNotice(NoticePayload({kind, 42}));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->kind, kind);
    EXPECT_EQ(back->id, 42);
  }
  EXPECT_EQ(NoticePayload({ReplicaNotice::Kind::kFree, 7}), "free:7");
  for (const char* bad : {"", "free", "free:", "free:x", "free:-1", "free:1 ", "nope:1", ":1",
                          "free:1234567890123456789", "missed:0"}) {
    EXPECT_FALSE(ParseNotice(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseNotice("free:" + std::string(100, '1')).has_value());
}

class StoreNoticesTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    project_id_ = AddTestProject(store_.get(), "group/app");
    requests_ = ActionRequestsOf(store_.get());
    ASSERT_NE(requests_, nullptr);
    ASSERT_NE(NoticesOf(store_.get()), nullptr);
  }

  int64_t AddPipeline(CiStatus status = CiStatus::kRunning) {
    JobRecord job;
    job.name = "build";
    PipelineRecord p;
    p.project_id = project_id_;
    p.ref = "main";
    p.status = status;
    auto created = store_->CreatePipeline(p, {job});
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  ActionRequest Ask(int64_t pipeline_id, const char* action = "cancel_pipeline") {
    ActionRequest asked;
    asked.pipeline_id = pipeline_id;
    asked.action = action;
    asked.requested_by = "b";
    auto created = requests_->CreateActionRequest(asked);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : ActionRequest{};
  }

  // Listens to store_'s notices: their payloads in Heard().
  void Record() {
    auto listener = NoticesOf(store_.get())->Listen([this](const ReplicaNotice& notice) {
      std::lock_guard<std::mutex> lock(heard_mu_);
      heard_.push_back(NoticePayload(notice));
    });
    ASSERT_TRUE(listener.ok()) << listener.status().message();
    listener_ = std::move(*listener);
  }
  std::vector<std::string> Heard() {
    std::lock_guard<std::mutex> lock(heard_mu_);
    return heard_;
  }
  // Waits for a first notice, then stops listening: nothing more arrives.
  std::vector<std::string> HeardOnceSomething() {
    EXPECT_TRUE(WaitFor([&] { return !Heard().empty(); }));
    listener_.reset();
    return Heard();
  }

  int64_t project_id_ = 0;
  ActionRequests* requests_ = nullptr;
  std::mutex heard_mu_;
  std::vector<std::string> heard_;
  std::unique_ptr<NoticeListener> listener_;
};

TEST_P(StoreNoticesTest, OnlyThePipelinesOwnerTakesARequestAndOnlyOnce) {
  int64_t id = AddPipeline();
  PipelineLeases* leases = LeasesOf(store_.get());
  ASSERT_TRUE(*leases->ClaimPipeline(id, "a", NowMs() + 30000));
  ActionRequest asked = Ask(id);
  EXPECT_EQ(asked.state, "pending");
  EXPECT_EQ(asked.requested_by, "b");
  EXPECT_EQ(*requests_->PendingActionRequests("a"), std::vector<int64_t>{asked.id});
  EXPECT_TRUE(requests_->PendingActionRequests("b")->empty());

  EXPECT_FALSE(requests_->TakeActionRequest(asked.id, "b")->has_value());  // Not b's pipeline.
  auto taken = requests_->TakeActionRequest(asked.id, "a");
  ASSERT_TRUE(taken.ok() && taken->has_value());
  EXPECT_EQ((*taken)->state, "taken");
  EXPECT_EQ((*taken)->taken_by, "a");
  EXPECT_FALSE(requests_->TakeActionRequest(asked.id, "a")->has_value());  // Once.
  EXPECT_FALSE(*requests_->AbandonActionRequest(asked.id, "late"));        // Taken: stays.
  EXPECT_TRUE(requests_->PendingActionRequests("a")->empty());

  EXPECT_FALSE(*requests_->FinishActionRequest(asked.id, "b", id, ""));  // Not b's.
  EXPECT_TRUE(*requests_->FinishActionRequest(asked.id, "a", id, ""));
  auto done = requests_->GetActionRequest(asked.id);
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_EQ((*done)->state, "done");
  EXPECT_EQ((*done)->result_id, id);
  EXPECT_FALSE(*requests_->FinishActionRequest(asked.id, "a", id, ""));  // Answered once.
}

TEST_P(StoreNoticesTest, AnAbandonedRequestIsNeverTakenAndAFailedOneKeepsItsError) {
  int64_t id = AddPipeline();
  ASSERT_TRUE(*LeasesOf(store_.get())->ClaimPipeline(id, "a", NowMs() + 30000));
  ActionRequest first = Ask(id);
  EXPECT_TRUE(*requests_->AbandonActionRequest(first.id, "nobody answered"));
  EXPECT_FALSE(requests_->TakeActionRequest(first.id, "a")->has_value());
  EXPECT_EQ((*requests_->GetActionRequest(first.id))->error, "nobody answered");

  ActionRequest second = Ask(id, "retry_job");
  ASSERT_TRUE(requests_->TakeActionRequest(second.id, "a")->has_value());
  EXPECT_TRUE(*requests_->FinishActionRequest(second.id, "a", std::nullopt,
                                              "job 3 cannot be "
                                              "retried"));
  auto failed = *requests_->GetActionRequest(second.id);
  EXPECT_EQ(failed->state, "failed");
  EXPECT_EQ(failed->error, "job 3 cannot be retried");
  EXPECT_FALSE(failed->result_id.has_value());
  // A free pipeline's requests are nobody's until it is claimed.
  ActionRequest third = Ask(id);
  ASSERT_TRUE(LeasesOf(store_.get())->ReleasePipeline(id, "a").ok());
  EXPECT_TRUE(requests_->PendingActionRequests("a")->empty());
  EXPECT_FALSE(requests_->TakeActionRequest(third.id, "a")->has_value());
  EXPECT_FALSE(requests_->GetActionRequest(9999)->has_value());
  EXPECT_FALSE(requests_->CreateActionRequest({.pipeline_id = id, .action = "explode"}).ok());
}

TEST_P(StoreNoticesTest, AListenerHearsTheOtherServersWritesAndIgnoresMalformedPayloads) {
  ReplicaNotices* notices = NoticesOf(store_.get());
  std::mutex mu;
  std::vector<std::string> heard;
  auto listener = notices->Listen([&](const ReplicaNotice& notice) {
    std::lock_guard<std::mutex> lock(mu);
    heard.push_back(NoticePayload(notice));
  });
  if (GetParam() == Backend::kSqlite) {
    EXPECT_FALSE(listener.ok());  // One server: nobody to hear.
    EXPECT_TRUE(notices->Notify({ReplicaNotice::Kind::kChanged, 0}).ok());
    return;
  }
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  auto other = OpenStore(url_, Options());
  ASSERT_TRUE(other.ok()) << other.status().message();
  int64_t running = AddPipeline();
  int64_t finished = AddPipeline(CiStatus::kSuccess);
  PipelineLeases* leases = LeasesOf(other->get());
  ASSERT_TRUE(*leases->ClaimPipeline(running, "a", NowMs() + 30000));
  ASSERT_TRUE(*leases->ClaimPipeline(finished, "a", NowMs() + 30000));
  // Garbage on the channel, as any database user could send.
  std::unique_ptr<SqlDatabase> raw = RawDatabase();
  ASSERT_TRUE(raw->Query(std::string("SELECT pg_notify(") + kNoticeChannelSql + ", ?)",
                         {std::string(5000, 'x')})
                  .ok());
  ASSERT_TRUE(
      raw->Query(std::string("SELECT pg_notify(") + kNoticeChannelSql + ", 'free:abc')").ok());
  // Freed while it still has to run: a notice; a finished one: none.
  ASSERT_TRUE(leases->ReleasePipeline(finished, "a").ok());
  ASSERT_TRUE(leases->ReleasePipeline(running, "a").ok());
  ASSERT_TRUE(NoticesOf(other->get())->Notify({ReplicaNotice::Kind::kChanged, 0}).ok());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return heard.size() >= 2;
  }));
  listener->reset();  // Stops the thread: nothing more arrives.
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(heard, (std::vector<std::string>{"free:" + std::to_string(running), "changed:0"}));
}

TEST_P(StoreNoticesTest, ANoticeInsideATransactionWaitsForItsCommit) {
  if (GetParam() == Backend::kSqlite) GTEST_SKIP() << "no notices with SQLite";
  ASSERT_NO_FATAL_FAILURE(Record());
  std::unique_ptr<SqlDatabase> raw = RawDatabase();
  ASSERT_TRUE(raw->Begin().ok());
  ASSERT_TRUE(
      raw->Query(std::string("SELECT pg_notify(") + kNoticeChannelSql + ", 'free:1')").ok());
  ASSERT_TRUE(raw->ExecScript("ROLLBACK").ok());
  ASSERT_TRUE(raw->Begin().ok());
  ASSERT_TRUE(
      raw->Query(std::string("SELECT pg_notify(") + kNoticeChannelSql + ", 'free:2')").ok());
  ASSERT_TRUE(raw->ExecScript("COMMIT").ok());
  // The rolled back one never came.
  EXPECT_EQ(HeardOnceSomething(), std::vector<std::string>{"free:2"});
}

// A log append tells the other servers (after its commit): their live-log
// watchers of the job read it (docs/replicas.md, "Live logs"). A failed
// append tells nobody.
TEST_P(StoreNoticesTest, ALogAppendSendsItsJobsLogNotice) {
  if (GetParam() == Backend::kSqlite) GTEST_SKIP() << "no notices with SQLite";
  ASSERT_NO_FATAL_FAILURE(Record());
  auto other = OpenStore(url_, Options());
  ASSERT_TRUE(other.ok()) << other.status().message();
  int64_t pipeline = AddPipeline();
  auto jobs = store_->ListJobs({.pipeline_id = pipeline});
  ASSERT_TRUE(jobs.ok() && jobs->items.size() == 1u);
  const int64_t job = jobs->items[0].id;
  EXPECT_FALSE((*other)->AppendLog(job + 1000, "no such job\n").ok());
  ASSERT_TRUE((*other)->AppendLog(job, "line 1\n").ok());
  EXPECT_EQ(HeardOnceSomething(), std::vector<std::string>{"log:" + std::to_string(job)});
}

// The descriptors open now, by number.
std::set<int> OpenDescriptors() {
  std::set<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') fds.insert(std::atoi(entry->d_name));
  }
  closedir(dir);
  return fds;
}

// A job must not inherit the listening connection or its wake-up pipe.
TEST_P(StoreNoticesTest, TheListenersDescriptorsAreClosedOnExec) {
  if (GetParam() == Backend::kSqlite) GTEST_SKIP() << "no notices with SQLite";
  std::set<int> before = OpenDescriptors();
  std::mutex mu;
  bool heard = false;
  auto listener = NoticesOf(store_.get())->Listen([&](const ReplicaNotice&) {
    std::lock_guard<std::mutex> lock(mu);
    heard = true;
  });
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  // Heard: its connection is open.
  ASSERT_TRUE(WaitFor([&] {
    EXPECT_TRUE(NoticesOf(store_.get())->Notify({ReplicaNotice::Kind::kChanged, 0}).ok());
    std::lock_guard<std::mutex> lock(mu);
    return heard;
  }));
  int added = 0;
  for (int fd : OpenDescriptors()) {
    if (before.count(fd) > 0) continue;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) continue;  // The directory listing's own, closed since.
    ++added;
    EXPECT_NE(flags & FD_CLOEXEC, 0) << "descriptor " << fd << " would reach a job";
  }
  EXPECT_GE(added, 2);  // The connection and the pipe at least.
  listener->reset();
}

TEST_P(StoreNoticesTest, AListenerThatLosesItsConnectionListensAgainAndSaysWhatItMissed) {
  if (GetParam() == Backend::kSqlite) GTEST_SKIP() << "no notices with SQLite";
  std::mutex mu;
  std::vector<std::string> heard;
  auto listener = NoticesOf(store_.get())->Listen([&](const ReplicaNotice& notice) {
    std::lock_guard<std::mutex> lock(mu);
    heard.push_back(NoticePayload(notice));
  });
  ASSERT_TRUE(listener.ok()) << listener.status().message();
  auto heard_now = [&](const std::string& payload) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(heard.begin(), heard.end(), payload) != heard.end();
  };
  // The database ends the listening session, as a restart or a network
  // failure would.
  std::unique_ptr<SqlDatabase> raw = RawDatabase();
  auto ended =
      raw->Query(std::string("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> "
                             "pg_backend_pid() AND query = 'LISTEN \"' || ") +
                 kNoticeChannelSql + " || '\"'");
  ASSERT_TRUE(ended.ok()) << ended.status().message();
  ASSERT_EQ(ended->size(), 1u);
  ASSERT_TRUE(WaitFor([&] { return heard_now("missed:0"); }));
  ASSERT_TRUE(WaitFor([&] {
    // Sent until heard: one sent before the new LISTEN is lost, as said.
    EXPECT_TRUE(NoticesOf(store_.get())->Notify({ReplicaNotice::Kind::kChanged, 0}).ok());
    return heard_now("changed:0");
  }));
}

SLIPWAY_STORE_TEST_SUITE(StoreNoticesTest);

}  // namespace
}  // namespace slipway
