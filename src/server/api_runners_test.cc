// The runner role at the API: a runner token reaches the runner routes and
// nothing else; other tokens do not reach the runner routes; the runner
// routes check the lease's fence (the full exchange with real processes is
// in cli/runner_e2e_test.cc).
#include <gtest/gtest.h>

#include "server/api_test_util.h"
#include "server/runner_hub.h"

namespace slipway {
namespace {

class ApiRunnersTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    runner_ = store_->CreateToken("gpu-box", TokenRole::kRunner)->raw;
    RunnerHub::Options options;
    options.clock = &clock_;
    options.bundle_dir = "/nonexistent";
    runners_ = std::make_unique<RunnerHub>(options);
    ApiOptions api_options;
    api_options.clock = &clock_;
    api_options.runners = runners_.get();
    api_ = std::make_unique<Api>(store_.get(), nullptr, &hub_, api_options);
  }

  // A concrete target for a route's pattern: every capture "1".
  static std::string Target(const std::string& pattern) {
    std::string out;
    size_t start = 0;
    while (start < pattern.size()) {
      size_t slash = pattern.find('/', start + 1);
      if (slash == std::string::npos) slash = pattern.size();
      std::string segment = pattern.substr(start, slash - start);
      out += segment.size() > 1 && (segment[1] == ':' || segment[1] == '*') ? "/1" : segment;
      start = slash;
    }
    return out;
  }

  std::string runner_;
  std::unique_ptr<RunnerHub> runners_;
};

TEST_F(ApiRunnersTest, RunnerTokenReachesRunnerRoutesOnly) {
  int runner_routes = 0;
  for (const Api::RouteSummary& route : Api::ApiRouteSummaries()) {
    std::string target = Target(route.path);
    if (route.open) continue;  // Its own credential: no API token is looked at.
    HttpResponse as_runner = Call(route.method, target, runner_, "{}");
    HttpResponse as_admin = Call(route.method, target, admin_, "{}");
    if (route.runner_only) {
      ++runner_routes;
      EXPECT_NE(as_runner.status, 403) << route.method << " " << target << ": " << as_runner.body;
      EXPECT_EQ(as_admin.status, 403) << route.method << " " << target << ": " << as_admin.body;
    } else {
      EXPECT_EQ(as_runner.status, 403) << route.method << " " << target << ": " << as_runner.body;
    }
  }
  // connect, slots, heartbeat, trace, finish, repository, artifacts up and down.
  EXPECT_EQ(runner_routes, 8);
}

TEST_F(ApiRunnersTest, ReportsForJobsNotLeasedGet409AndBadParams400) {
  HttpResponse r = Call("POST", "/api/v4/runners/jobs/7/trace?fence=3", runner_, "hello");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Json(r)["message"], "409 Conflict - job 7 is not leased to this runner");
  r = Call("POST", "/api/v4/runners/jobs/7/heartbeat", runner_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"], "400 Bad request - fence does not have a valid value");
  r = Call("PUT", "/api/v4/runners/jobs/7?fence=3", runner_, R"({"outcome":"won"})");
  EXPECT_EQ(r.status, 400);
  r = Call("GET", "/api/v4/runners/connect?concurrency=-1", runner_);
  EXPECT_EQ(r.status, 400);
  r = Call("GET", "/api/v4/runners/connect?concurrency=257", runner_);
  EXPECT_EQ(r.status, 400);
  // 0: connected without a free slot (a runner of several replicas).
  r = Call("GET", "/api/v4/runners/connect?concurrency=0", runner_);
  EXPECT_EQ(r.status, 200) << r.body;
  r = Call("GET", "/api/v4/runners/connect?executor=docker", runner_);
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiRunnersTest, SlotsChangeOnlyALiveConnectionWithinTheRange) {
  HttpResponse r = Call("POST", "/api/v4/runners/slots", runner_, R"({"concurrency":2})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Json(r)["message"], "409 Conflict - this runner is not connected");
  r = Call("GET", "/api/v4/runners/connect?concurrency=0", runner_);
  ASSERT_EQ(r.status, 200) << r.body;
  std::shared_ptr<PushChannel> connection = r.push;
  for (const char* bad : {R"({"concurrency":257})", R"({"concurrency":-1})",
                          R"({"concurrency":"2"})", R"({"concurrency":1.5})", R"({})"}) {
    r = Call("POST", "/api/v4/runners/slots", runner_, bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(Json(r)["message"], "400 Bad request - concurrency does not have a valid value");
  }
  r = Call("POST", "/api/v4/runners/slots", runner_, "[2]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["message"], "400 Bad request - the body is not a JSON object");
  EXPECT_EQ(Call("POST", "/api/v4/runners/slots", admin_, R"({"concurrency":2})").status, 403);
  EXPECT_EQ(Call("POST", "/api/v4/runners/slots", "slw_not-a-token", R"({"concurrency":2})").status,
            401);
  r = Call("POST", "/api/v4/runners/slots", runner_, R"({"concurrency":256})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["status"], "ok");
  ASSERT_EQ(runners_->Runners().size(), 1u);
  EXPECT_EQ(runners_->Runners()[0].info.concurrency, 256);
  bool closed = false;
  connection->Take(&closed);
  EXPECT_FALSE(closed) << "the connection was replaced";
}

TEST_F(ApiRunnersTest, UnknownTokenIs401AndRunnersAreListedForAdmins) {
  EXPECT_EQ(Call("GET", "/api/v4/runners/connect", "slw_not-a-token").status, 401);
  HttpResponse r = Call("GET", "/api/v4/runners", admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Json(r).size(), 1u);
  EXPECT_EQ(Json(r)[0]["description"], "gpu-box");
  EXPECT_EQ(Json(r)[0]["status"], "offline");
  r = Call("GET", "/api/v4/runners/connect?tags=gpu,%20cuda&concurrency=2", runner_);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(r.push, nullptr);
  bool closed = false;
  EXPECT_NE(r.push->Take(&closed).find("\"type\":\"hello\""), std::string::npos);
  r = Call("GET", "/api/v4/runners", admin_);
  EXPECT_EQ(Json(r)[0]["status"], "online");
  EXPECT_EQ(Json(r)[0]["tag_list"], nlohmann::json({"gpu", "cuda"}));
  EXPECT_EQ(Json(r)[0]["contacted_at"], "2026-12-05T13:45:00.123Z");
  EXPECT_EQ(Call("GET", "/api/v4/runners", read_).status, 403);
}

}  // namespace
}  // namespace slipway
