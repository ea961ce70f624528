// The pipeline schedules API (api_schedules.cc) on a real store: GitLab's
// shapes and validation, next_run_at computed from cron and time zone,
// variables shown only to tokens that may run pipelines.
#include <gtest/gtest.h>

#include "server/api_test_util.h"

namespace slipway {
namespace {

using json = nlohmann::json;

class ApiSchedulesTest : public ApiTestBase {
 protected:
  HttpResponse Send(const std::string& method, const std::string& path, const json& body,
                    const std::string& token) {
    return Call(method, path, token, body.dump(), {{"content-type", "application/json"}});
  }
  void SetUp() override {
    ApiTestBase::SetUp();
    base_ = "/api/v4/projects/" + std::to_string(project_id_) + "/pipeline_schedules";
  }
  std::string base_;
};

TEST_F(ApiSchedulesTest, CreateReadUpdateAndDeleteWithVariables) {
  HttpResponse created = Send("POST", base_,
                              {{"description", "nightly"},
                               {"ref", "main"},
                               {"cron", "0 3 * * *"},
                               {"cron_timezone", "Europe/Berlin"}},
                              run_);
  ASSERT_EQ(created.status, 201) << created.body;
  json s = Json(created);
  EXPECT_EQ(s["description"], "nightly");
  EXPECT_EQ(s["ref"], "main");
  EXPECT_EQ(s["cron_timezone"], "Europe/Berlin");
  EXPECT_EQ(s["active"], true);
  EXPECT_TRUE(s["last_pipeline"].is_null());
  // 03:00 in Berlin is 01:00 or 02:00 UTC, whole minutes.
  std::string next = s["next_run_at"];
  EXPECT_TRUE(next.find("T01:00:00.000Z") != std::string::npos ||
              next.find("T02:00:00.000Z") != std::string::npos)
      << next;
  std::string one = base_ + "/" + std::to_string(s["id"].get<int64_t>());

  // Validation, in GitLab's shape.
  EXPECT_EQ(
      Send("POST", base_, {{"description", "x"}, {"ref", "main"}, {"cron", "61 * * * *"}}, run_)
          .status,
      400);
  HttpResponse zone = Send("POST", base_,
                           {{"description", "x"},
                            {"ref", "main"},
                            {"cron", "* * * * *"},
                            {"cron_timezone", "Mars/Olympus"}},
                           run_);
  EXPECT_EQ(zone.status, 400);
  EXPECT_EQ(Json(zone)["message"]["cron_timezone"][0], "is invalid syntax");
  EXPECT_EQ(Send("POST", base_, {{"ref", "main"}, {"cron", "* * * * *"}}, run_).status, 400);
  EXPECT_EQ(
      Send("POST", base_, {{"description", "x"}, {"ref", "main"}, {"cron", "* * * * *"}}, read_)
          .status,
      403);

  // Variables: added, changed, shown to run tokens only, removed.
  ASSERT_EQ(
      Send("POST", one + "/variables", {{"key", "TARGET"}, {"value", "staging-1"}}, run_).status,
      201);
  EXPECT_EQ(Send("POST", one + "/variables", {{"key", "TARGET"}, {"value", "x"}}, run_).status,
            400);
  HttpResponse changed = Send("PUT", one + "/variables/TARGET", {{"value", "production-1"}}, run_);
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(Json(changed)["value"], "production-1");
  EXPECT_EQ(Json(Call("GET", one, run_))["variables"],
            (json::array(
                {{{"key", "TARGET"}, {"value", "production-1"}, {"variable_type", "env_var"}}})));
  EXPECT_FALSE(Json(Call("GET", one, read_)).contains("variables"));
  EXPECT_EQ(Call("DELETE", one + "/variables/TARGET", run_).status, 200);
  EXPECT_EQ(Call("DELETE", one + "/variables/TARGET", run_).status, 404);

  // Deactivated: no next run; listed by scope.
  HttpResponse paused = Send("PUT", one, {{"active", false}, {"cron", "*/5 * * * *"}}, run_);
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_TRUE(Json(paused)["next_run_at"].is_null());
  EXPECT_EQ(Json(paused)["cron"], "*/5 * * * *");
  EXPECT_EQ(Json(Call("GET", base_ + "?scope=active", read_)).size(), 0u);
  EXPECT_EQ(Json(Call("GET", base_ + "?scope=inactive", read_)).size(), 1u);
  EXPECT_EQ(Call("GET", base_ + "?scope=nope", read_).status, 400);

  EXPECT_EQ(Call("DELETE", one, run_).status, 204);
  EXPECT_EQ(Call("GET", one, read_).status, 404);
  EXPECT_EQ(Call("GET", base_ + "/999999", read_).status, 404);
}

}  // namespace
}  // namespace slipway
