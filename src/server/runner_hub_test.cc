// RunnerHub without sockets: jobs pushed to the runners whose tags fit,
// concurrency, leases that expire on a fake clock, fencing, cancel.
#include "server/runner_hub.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "exec/test_log_sink.h"
#include "image/test_tar.h"
#include "util/sha256.h"
#include "util/test_dir.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

// Whether the hub's bundle directory holds nothing of a lease (the commits'
// bundles, in commits/, outlive leases: runner_bundle.h).
bool NoLeaseFilesIn(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() != "commits") return false;
  }
  return true;
}

using nlohmann::json;

// What a connection was pushed, message by message.
class Inbox {
 public:
  explicit Inbox(std::shared_ptr<RunnerHub::Connection> c) : connection_(std::move(c)) {}
  // The next message of type (skipping others), waiting for it.
  json Next(const std::string& type) {
    json found;
    EXPECT_TRUE(WaitFor([&] {
      bool closed = false;
      buffer_ += connection_->Take(&closed);
      for (size_t nl; (nl = buffer_.find('\n')) != std::string::npos;) {
        json m = json::parse(buffer_.substr(0, nl));
        buffer_.erase(0, nl + 1);
        if (m["type"] == type) {
          found = m;
          return true;
        }
      }
      return false;
    })) << "no "
        << type << " message";
    return found;
  }
  // Whether anything but hello was pushed so far.
  bool HasJob() {
    bool closed = false;
    buffer_ += connection_->Take(&closed);
    return buffer_.find("\"type\":\"job\"") != std::string::npos;
  }

 private:
  std::shared_ptr<RunnerHub::Connection> connection_;
  std::string buffer_;
};

class RunnerHubTest : public ::testing::Test {
 protected:
  RunnerHubTest() {
    RunnerHub::Options options;
    options.clock = &clock_;
    options.lease_timeout = std::chrono::seconds(30);
    options.bundle_dir = bundles_.path();
    options.max_artifacts_bytes = 4096;
    hub_ = std::make_unique<RunnerHub>(options);
  }

  static Job MakeJob(std::string name, std::vector<std::string> tags) {
    Job job;
    job.name = std::move(name);
    job.script = {"true"};
    job.tags = std::move(tags);
    return job;
  }
  static JobSpec MakeSpec(int64_t id) {
    JobSpec spec;
    spec.job_id = id;
    spec.commit = std::string(40, 'a');
    return spec;
  }
  static RemoteJobFiles Files(std::string repository) {
    RemoteJobFiles files;
    files.repository = std::move(repository);
    return files;
  }
  static RunnerInfo Runner(int64_t id, std::vector<std::string> tags, int concurrency = 1) {
    RunnerInfo info;
    info.id = id;
    info.description = "runner-" + std::to_string(id);
    info.tags = std::move(tags);
    info.concurrency = concurrency;
    return info;
  }

  TempDir bundles_;
  FakeClock clock_;
  std::unique_ptr<RunnerHub> hub_;
};

TEST_F(RunnerHubTest, TaggedJobGoesOnlyToARunnerWithAllItsTags) {
  Inbox plain(hub_->Connect(Runner(1, {})));
  Inbox gpu(hub_->Connect(Runner(2, {"gpu", "linux"})));
  Job job = MakeJob("train", {"gpu", "linux"});
  JobSpec spec = MakeSpec(10);
  TextSink log;
  CancelToken cancel;
  std::promise<RunnerInfo> leased;
  auto done = std::async(std::launch::async, [&] {
    return hub_->Run(job, spec, Files("/repo.git"), &log, cancel,
                     [&](const RunnerInfo& info) { leased.set_value(info); });
  });
  json message = gpu.Next("job");
  EXPECT_EQ(message["job_id"], 10);
  EXPECT_EQ(message["job"]["name"], "train");
  EXPECT_FALSE(plain.HasJob());
  int64_t fence = message["fence"].get<int64_t>();
  RunnerInfo taken = leased.get_future().get();
  EXPECT_EQ(taken.id, 2);
  EXPECT_EQ(taken.description, "runner-2");
  EXPECT_EQ(taken.tags, (std::vector<std::string>{"gpu", "linux"}));
  EXPECT_EQ(hub_->StuckReason(10), std::nullopt) << "a leased job is not stuck";

  int refused = -1;
  std::string why;
  EXPECT_EQ(hub_->AppendLog(2, 10, fence, 0, "hello from the runner\n", &refused, &why),
            LeaseError::kNone);
  EXPECT_EQ(refused, 0) << why;
  // Sent again (its answer was lost) with more: only what is new is kept.
  EXPECT_EQ(hub_->AppendLog(2, 10, fence, 0, "hello from the runner\nand more\n", &refused, &why),
            LeaseError::kNone);
  EXPECT_EQ(refused, 0) << why;
  // Past what was received: a gap, refused.
  EXPECT_EQ(hub_->AppendLog(2, 10, fence, 100, "gap\n", &refused, &why), LeaseError::kNone);
  EXPECT_EQ(refused, 416);
  EXPECT_EQ(why, "the log chunk starts at byte 100 but 31 were received");
  // Another runner, or this one with another fence, cannot touch the job.
  EXPECT_EQ(hub_->AppendLog(1, 10, fence, std::nullopt, "forged\n", &refused, &why),
            LeaseError::kStaleFence);
  EXPECT_EQ(hub_->Finish(2, 10, fence - 1, JobResult()), LeaseError::kStaleFence);
  JobResult ok;
  ok.outcome = JobOutcome::kSuccess;
  EXPECT_EQ(hub_->Finish(2, 10, fence, ok), LeaseError::kNone);
  EXPECT_EQ(done.get().outcome, JobOutcome::kSuccess);
  EXPECT_EQ(log.text(), "hello from the runner\nand more\n");
  // Ended: any later report is refused.
  EXPECT_EQ(hub_->Heartbeat(2, 10, fence), LeaseError::kUnknownJob);
}

TEST_F(RunnerHubTest, JobNoRunnerCanTakeWaitsAndSaysWhy) {
  Inbox plain(hub_->Connect(Runner(1, {})));
  Job job = MakeJob("train", {"gpu"});
  JobSpec spec = MakeSpec(11);
  TextSink log;
  CancelToken cancel;
  auto done = std::async(std::launch::async,
                         [&] { return hub_->Run(job, spec, Files("/repo.git"), &log, cancel); });
  ASSERT_TRUE(WaitFor([&] { return !log.text().empty(); }));
  EXPECT_EQ(log.text(), "Waiting for a runner with the tags [gpu]...\n");
  EXPECT_FALSE(plain.HasJob());
  EXPECT_EQ(hub_->StuckReason(11),
            "This job is stuck because no runner online has all of its tags: gpu");
  // A runner that has the tag arrives: it gets the job at once.
  Inbox gpu(hub_->Connect(Runner(2, {"gpu"})));
  json message = gpu.Next("job");
  EXPECT_EQ(hub_->StuckReason(11), std::nullopt);
  JobResult failed;
  failed.outcome = JobOutcome::kFailed;
  failed.failure_reason = "script_failure";
  failed.exit_code = 3;
  EXPECT_EQ(hub_->Finish(2, 11, message["fence"].get<int64_t>(), failed), LeaseError::kNone);
  JobResult result = done.get();
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.failure_reason, "script_failure");
}

TEST_F(RunnerHubTest, JobWithoutAnyRunnerOnlineIsStuck) {
  Job job = MakeJob("build", {});
  JobSpec spec = MakeSpec(12);
  TextSink log;
  CancelToken cancel;
  auto done = std::async(std::launch::async,
                         [&] { return hub_->Run(job, spec, Files("/repo.git"), &log, cancel); });
  ASSERT_TRUE(WaitFor([&] { return !log.text().empty(); }));
  EXPECT_EQ(hub_->StuckReason(12), "This job is stuck because no runner is online.");
  EXPECT_EQ(hub_->StuckReason(99), std::nullopt) << "not waiting";
  EXPECT_FALSE(hub_->Online(1));
  cancel.Cancel();
  // Run looks at cancel every 200 ms of its (fake) clock.
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(std::chrono::milliseconds(200));
    return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }));
  EXPECT_EQ(done.get().outcome, JobOutcome::kCanceled);
}

TEST_F(RunnerHubTest, ConcurrencyBoundsJobsPerRunner) {
  Inbox runner(hub_->Connect(Runner(1, {}, 1)));
  Job a = MakeJob("a", {}), b = MakeJob("b", {});
  JobSpec sa = MakeSpec(20), sb = MakeSpec(21);
  TextSink log;
  CancelToken cancel;
  auto done_a = std::async(std::launch::async,
                           [&] { return hub_->Run(a, sa, Files("/r.git"), &log, cancel); });
  json first = runner.Next("job");
  auto done_b = std::async(std::launch::async,
                           [&] { return hub_->Run(b, sb, Files("/r.git"), &log, cancel); });
  ASSERT_TRUE(WaitFor([&] { return log.text().find("Waiting") != std::string::npos; }));
  EXPECT_FALSE(runner.HasJob()) << "a second job went to a runner with one slot";
  EXPECT_EQ(hub_->StuckReason(21), std::nullopt) << "waiting for a busy runner is not stuck";
  JobResult ok;
  ok.outcome = JobOutcome::kSuccess;
  ASSERT_EQ(hub_->Finish(1, first["job_id"].get<int64_t>(), first["fence"].get<int64_t>(), ok),
            LeaseError::kNone);
  EXPECT_EQ(done_a.get().outcome, JobOutcome::kSuccess);
  json second = runner.Next("job");
  EXPECT_EQ(second["job_id"], 21);
  EXPECT_GT(second["fence"].get<int64_t>(), first["fence"].get<int64_t>());
  EXPECT_EQ(hub_->Finish(1, 21, second["fence"].get<int64_t>(), ok), LeaseError::kNone);
  EXPECT_EQ(done_b.get().outcome, JobOutcome::kSuccess);
}

// A runner of several replicas changes its connection's free slots in
// place (POST /api/v4/runners/slots): a job waiting for a slot is pushed the
// moment they grow, on the same connection.
TEST_F(RunnerHubTest, SlotsThatGrowOnTheLiveConnectionTakeAWaitingJobAtOnce) {
  auto connection = hub_->Connect(Runner(1, {}, 0));
  Inbox runner(connection);
  EXPECT_FALSE(hub_->SetConcurrency(2, 1)) << "runner 2 is not connected";
  Job job = MakeJob("a", {});
  JobSpec spec = MakeSpec(30);
  TextSink log;
  CancelToken cancel;
  auto done = std::async(std::launch::async,
                         [&] { return hub_->Run(job, spec, Files("/r.git"), &log, cancel); });
  ASSERT_TRUE(WaitFor([&] { return log.text().find("Waiting") != std::string::npos; }));
  EXPECT_FALSE(runner.HasJob()) << "a job went to a runner without a free slot";
  EXPECT_TRUE(hub_->SetConcurrency(1, 1));
  json message = runner.Next("job");
  EXPECT_EQ(message["job_id"], 30);
  EXPECT_TRUE(hub_->Online(1));
  bool closed = false;
  connection->Take(&closed);
  EXPECT_FALSE(closed) << "the connection was replaced";
  JobResult ok;
  ok.outcome = JobOutcome::kSuccess;
  ASSERT_EQ(hub_->Finish(1, 30, message["fence"].get<int64_t>(), ok), LeaseError::kNone);
  EXPECT_EQ(done.get().outcome, JobOutcome::kSuccess);
  // Gone: nothing to change.
  connection->Closed();
  EXPECT_FALSE(hub_->SetConcurrency(1, 1));
}

TEST_F(RunnerHubTest, SilentRunnerLosesTheLeaseAndItsLateReportIsRefused) {
  Inbox runner(hub_->Connect(Runner(1, {})));
  Job job = MakeJob("slow", {});
  JobSpec spec = MakeSpec(30);
  TextSink log;
  CancelToken cancel;
  auto done = std::async(std::launch::async,
                         [&] { return hub_->Run(job, spec, Files("/r.git"), &log, cancel); });
  json message = runner.Next("job");
  int64_t fence = message["fence"].get<int64_t>();
  // A heartbeat before the deadline renews the lease ...
  clock_.Advance(std::chrono::seconds(20));
  ASSERT_EQ(hub_->Heartbeat(1, 30, fence), LeaseError::kNone);
  clock_.Advance(std::chrono::seconds(20));
  EXPECT_EQ(done.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  // ... silence past it ends the job.
  clock_.Advance(std::chrono::seconds(11));
  JobResult result = done.get();
  EXPECT_EQ(result.outcome, JobOutcome::kFailed);
  EXPECT_EQ(result.failure_reason, "runner_system_failure");
  EXPECT_NE(log.text().find("its lease expired"), std::string::npos) << log.text();
  // The runner is told, and what it says later changes nothing.
  EXPECT_EQ(runner.Next("cancel")["job_id"], 30);
  EXPECT_EQ(hub_->Finish(1, 30, fence, JobResult()), LeaseError::kUnknownJob);
}

TEST_F(RunnerHubTest, CancelReachesTheRunnerAndWaitsForItsReport) {
  Inbox runner(hub_->Connect(Runner(1, {})));
  Job job = MakeJob("long", {});
  JobSpec spec = MakeSpec(40);
  TextSink log;
  CancelToken cancel;
  auto done = std::async(std::launch::async,
                         [&] { return hub_->Run(job, spec, Files("/r.git"), &log, cancel); });
  json message = runner.Next("job");
  cancel.Cancel();
  // Run looks at the token every 200 ms of its clock.
  clock_.Advance(std::chrono::milliseconds(200));
  json cancel_message = runner.Next("cancel");
  EXPECT_EQ(cancel_message["fence"], message["fence"]);
  JobResult canceled;
  canceled.outcome = JobOutcome::kCanceled;
  EXPECT_EQ(hub_->Finish(1, 40, message["fence"].get<int64_t>(), canceled), LeaseError::kNone);
  EXPECT_EQ(done.get().outcome, JobOutcome::kCanceled);
}

TEST_F(RunnerHubTest, ShutdownEndsWaitingAndRunningJobs) {
  Inbox runner(hub_->Connect(Runner(1, {})));
  Job job = MakeJob("long", {}), other = MakeJob("never", {"nobody-has-this"});
  JobSpec spec = MakeSpec(50), other_spec = MakeSpec(51);
  TextSink log;
  CancelToken cancel;
  auto running = std::async(std::launch::async,
                            [&] { return hub_->Run(job, spec, Files("/r.git"), &log, cancel); });
  auto waiting = std::async(std::launch::async, [&] {
    return hub_->Run(other, other_spec, Files("/r.git"), &log, cancel);
  });
  runner.Next("job");
  ASSERT_TRUE(WaitFor([&] { return log.text().find("Waiting") != std::string::npos; }));
  hub_->Shutdown();
  EXPECT_EQ(running.get().outcome, JobOutcome::kCanceled);
  EXPECT_EQ(waiting.get().outcome, JobOutcome::kCanceled);
}

// Uploads: in order (416 otherwise), bounded (413), only by the lease's
// runner and fence; the finish report's digest decides whether they are
// unpacked into the job dir or the job fails as a runner_system_failure.
TEST_F(RunnerHubTest, ArtifactsUploadIsOrderedBoundedAndCheckedAgainstItsDigest) {
  Inbox runner(hub_->Connect(Runner(1, {})));
  TempDir job_dir;
  for (bool honest : {true, false}) {
    int64_t id = honest ? 30 : 31;
    std::filesystem::create_directories(job_dir.Sub(std::to_string(id)));
    std::ofstream(job_dir.Sub(std::to_string(id) + "/log")) << "the server's own\n";
    Job job = MakeJob("build", {});
    JobSpec spec = MakeSpec(id);
    TextSink log;
    CancelToken cancel;
    RemoteJobFiles files = Files("/r.git");
    files.job_dir = job_dir.Sub(std::to_string(id));
    auto done =
        std::async(std::launch::async, [&] { return hub_->Run(job, spec, files, &log, cancel); });
    int64_t fence = runner.Next("job")["fence"].get<int64_t>();
    // The job dir's log is not the runner's to write: dropped.
    std::string tar =
        TarBuilder().File("artifacts/a.txt", "made remotely").File("log", "forged").Take();
    int refused = 0;
    std::string why;
    EXPECT_EQ(hub_->AppendArtifacts(2, id, fence, 0, tar, &refused, &why), LeaseError::kStaleFence);
    EXPECT_EQ(hub_->AppendArtifacts(1, id, fence, 5, tar, &refused, &why), LeaseError::kNone);
    EXPECT_EQ(refused, 416) << why;
    EXPECT_EQ(hub_->AppendArtifacts(1, id, fence, 0, std::string(4097, 'x'), &refused, &why),
              LeaseError::kNone);
    EXPECT_EQ(refused, 413) << why;
    EXPECT_EQ(hub_->AppendArtifacts(1, id, fence, 0, tar.substr(0, 600), &refused, &why),
              LeaseError::kNone);
    EXPECT_EQ(refused, 0) << why;
    EXPECT_EQ(hub_->AppendArtifacts(1, id, fence, 600, tar.substr(600), &refused, &why),
              LeaseError::kNone);
    EXPECT_EQ(refused, 0) << why;
    ArchiveFile declared{tar.size(), "sha256:" + Sha256Hex(honest ? tar : tar + "x")};
    JobResult ok;
    ok.outcome = JobOutcome::kSuccess;
    EXPECT_EQ(hub_->Finish(1, id, fence, ok, declared), LeaseError::kNone);
    JobResult result = done.get();
    std::ifstream unpacked(files.job_dir + "/artifacts/a.txt");
    if (honest) {
      EXPECT_EQ(result.outcome, JobOutcome::kSuccess) << log.text();
      EXPECT_EQ(std::string(std::istreambuf_iterator<char>(unpacked), {}), "made remotely");
    } else {
      EXPECT_EQ(result.outcome, JobOutcome::kFailed);
      EXPECT_EQ(result.failure_reason, "runner_system_failure");
      EXPECT_NE(log.text().find("the artifacts the runner sent were refused"), std::string::npos)
          << log.text();
      EXPECT_FALSE(unpacked.is_open());
    }
    std::ifstream kept(files.job_dir + "/log");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "the server's own\n");
    EXPECT_FALSE(std::filesystem::exists(files.job_dir + "/.unpacking"));
    // Its lease ended: no more chunks, and nothing left in the bundle dir.
    EXPECT_EQ(hub_->AppendArtifacts(1, id, fence, tar.size(), "late", &refused, &why),
              LeaseError::kUnknownJob);
    EXPECT_TRUE(NoLeaseFilesIn(bundles_.path()));
  }
}

// A runner gets the artifacts of the jobs its job gets them from, and of
// no other job: one archive per job that left them, packed on the first ask
// and shared by every lease that gets them, removed when the last ends.
TEST_F(RunnerHubTest, ArtifactsGoOnlyToTheJobsThatGetThemPackedOnceForAll) {
  TempDir stored;
  std::filesystem::create_directories(stored.Sub("39/out"));
  std::ofstream(stored.Sub("39/out/a.txt")) << "built\n";
  std::filesystem::create_directories(stored.Sub("38"));  // Left nothing.
  Inbox runner(hub_->Connect(Runner(1, {}, 2)));
  Job job = MakeJob("test", {}), other = MakeJob("lint", {});
  JobSpec spec = MakeSpec(40), other_spec = MakeSpec(41);
  TextSink log;
  CancelToken cancel;
  RemoteJobFiles files = Files("/r.git");
  files.artifacts_from[39] = stored.Sub("39");
  files.artifacts_from[38] = stored.Sub("38");
  auto done =
      std::async(std::launch::async, [&] { return hub_->Run(job, spec, files, &log, cancel); });
  int64_t fence = runner.Next("job")["fence"].get<int64_t>();
  std::string path;
  ArchiveFile archive;
  Status packed;
  EXPECT_EQ(hub_->ArtifactsArchive(1, 40, fence, 39, &path, &archive, &packed), LeaseError::kNone);
  ASSERT_TRUE(packed.ok()) << packed.message();
  ASSERT_NE(path, "");
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(archive.size, std::filesystem::file_size(path));
  EXPECT_EQ(archive.digest, "sha256:" + Sha256Hex(Slurp(path)));
  const std::string first_path = path, first_digest = archive.digest;
  EXPECT_EQ(hub_->ArtifactsArchive(1, 40, fence, 38, &path, &archive, &packed), LeaseError::kNone);
  EXPECT_EQ(path, "") << "an empty tree is not sent";
  EXPECT_EQ(hub_->ArtifactsArchive(1, 40, fence, 12, &path, &archive, &packed), LeaseError::kNone);
  EXPECT_EQ(path, "") << "not a job 40 gets artifacts from";
  EXPECT_EQ(hub_->ArtifactsArchive(2, 40, fence, 39, &path, &archive, &packed),
            LeaseError::kStaleFence);
  EXPECT_EQ(hub_->ArtifactsArchive(1, 40, fence + 1, 39, &path, &archive, &packed),
            LeaseError::kStaleFence);

  // Another job getting 39's artifacts gets the same archive, not packed
  // again (a file added now would change a new one).
  std::ofstream(stored.Sub("39/out/late.txt")) << "late\n";
  auto other_done = std::async(std::launch::async,
                               [&] { return hub_->Run(other, other_spec, files, &log, cancel); });
  int64_t other_fence = runner.Next("job")["fence"].get<int64_t>();
  EXPECT_EQ(hub_->ArtifactsArchive(1, 41, other_fence, 39, &path, &archive, &packed),
            LeaseError::kNone);
  EXPECT_EQ(path, first_path);
  EXPECT_EQ(archive.digest, first_digest);
  // Kept while a lease that gets it lives; gone with the last one.
  EXPECT_EQ(hub_->Finish(1, 40, fence, JobResult()), LeaseError::kNone);
  done.get();
  EXPECT_TRUE(std::filesystem::exists(first_path));
  EXPECT_EQ(hub_->Finish(1, 41, other_fence, JobResult()), LeaseError::kNone);
  other_done.get();
  EXPECT_TRUE(NoLeaseFilesIn(bundles_.path()));
}

}  // namespace
}  // namespace slipway
