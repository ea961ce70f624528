#include "exec/remote_job.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

using nlohmann::json;

TEST(RemoteJobTest, RoundTripsWhatARunnerNeeds) {
  Job job;
  job.name = "test 1/2";
  job.stage = "test";
  job.before_script = {"echo before"};
  job.script = {"make test", "echo done"};
  job.after_script = {"echo after"};
  job.allow_failure.value = true;
  job.allow_failure.exit_codes = {3};
  job.timeout_seconds = 600;
  job.artifacts.present = true;
  job.artifacts.paths = {"out/"};
  job.artifacts.when = "always";
  job.artifacts.reports["dotenv"] = {"build.env"};
  Cache cache;
  cache.key = "deps-$CI_COMMIT_REF_SLUG";
  cache.paths = {"vendor/"};
  cache.policy = "pull";
  job.caches.push_back(cache);
  job.tags = {"gpu"};
  JobSpec spec;
  spec.job_id = 42;
  spec.repository = "/srv/mirror.git";
  spec.commit = std::string(40, 'c');
  spec.variables.Set("CI_JOB_ID", "42");
  Variable raw;
  raw.name = "RAW";
  raw.value = "$NOT_EXPANDED";
  raw.expand = false;
  spec.variables.Set(raw);
  spec.artifacts_from = {{41, "build"}};
  spec.timeout = std::chrono::milliseconds(600000);
  spec.attempt = 2;

  json wire = json::parse(RemoteJobToJson(job, spec).dump());
  Job got;
  JobSpec got_spec;
  ASSERT_TRUE(RemoteJobFromJson(wire, &got, &got_spec).ok());
  EXPECT_EQ(got.name, job.name);
  EXPECT_EQ(got.before_script, job.before_script);
  EXPECT_EQ(got.script, job.script);
  EXPECT_EQ(got.after_script, job.after_script);
  EXPECT_TRUE(got.allow_failure.value);
  EXPECT_EQ(got.allow_failure.exit_codes, std::vector<int>({3}));
  EXPECT_EQ(got.timeout_seconds, 600);
  EXPECT_EQ(got.artifacts.paths, job.artifacts.paths);
  EXPECT_EQ(got.artifacts.when, "always");
  EXPECT_EQ(got.artifacts.reports, job.artifacts.reports);
  ASSERT_EQ(got.caches.size(), 1u);
  EXPECT_EQ(got.caches[0].key, cache.key);
  EXPECT_EQ(got.caches[0].policy, "pull");
  EXPECT_EQ(got.tags, job.tags);
  EXPECT_EQ(got_spec.job_id, 42);
  EXPECT_EQ(got_spec.repository, "") << "the runner names its own copy";
  EXPECT_EQ(got_spec.commit, spec.commit);
  ASSERT_NE(got_spec.variables.Find("RAW"), nullptr);
  EXPECT_FALSE(got_spec.variables.Find("RAW")->expand);
  ASSERT_EQ(got_spec.artifacts_from.size(), 1u);
  EXPECT_EQ(got_spec.artifacts_from[0].job_name, "build");
  EXPECT_EQ(got_spec.timeout, std::chrono::milliseconds(600000));
  EXPECT_EQ(got_spec.attempt, 2);
}

TEST(RemoteJobTest, BadMessagesNameTheMember) {
  auto error = [](const std::string& text) {
    Job job;
    JobSpec spec;
    return RemoteJobFromJson(json::parse(text), &job, &spec).message();
  };
  std::string commit = std::string(40, 'c');
  EXPECT_EQ(error(R"({"job":{}})"), "message: expected members job and spec");
  EXPECT_EQ(error(R"({"job":{"script":["ok",7]},"spec":{"job_id":1,"commit":"x"}})"),
            "job.script[1]: expected a string");
  EXPECT_EQ(error(R"({"job":[],"spec":{}})"), "job: expected an object");
  EXPECT_EQ(error(R"({"job":{},"spec":{"job_id":"1"}})"), "spec.job_id: expected an integer");
  EXPECT_EQ(error(R"({"job":{},"spec":{"job_id":1}})"), "spec.commit: expected a commit");
  EXPECT_EQ(error(R"({"job":{"caches":[{"paths":"x"}]},"spec":{"job_id":1,"commit":"c"}})"),
            "job.caches[0].paths: expected an array of strings");
  EXPECT_EQ(error(R"({"job":{},"spec":{"job_id":1,"commit":"c","variables":[{"value":"v"}]}})"),
            "spec.variables: a variable without a key");
}

}  // namespace
}  // namespace slipway
