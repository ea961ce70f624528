// Pipeline trigger tokens (api_triggers.cc) on a real store: made, listed
// with only their first characters, and refused when wrong or deleted —
// without an API token, which the trigger endpoint neither needs nor takes
// as a substitute.
#include <gtest/gtest.h>

#include "server/api_test_util.h"

namespace slipway {
namespace {

using json = nlohmann::json;

class ApiTriggersTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    project_ = "/api/v4/projects/" + std::to_string(project_id_);
  }
  HttpResponse Trigger(const std::string& token, const std::string& api_token = "") {
    return Call("POST", project_ + "/trigger/pipeline", api_token,
                "token=" + token + "&ref=main&variables[DEPLOY]=yes",
                {{"content-type", "application/x-www-form-urlencoded"}});
  }
  std::string project_;
};

TEST_F(ApiTriggersTest, TokensAreShownOnceAndWrongOnesAreRefused) {
  HttpResponse created = Call("POST", project_ + "/triggers", run_, R"({"description":"deploy"})",
                              {{"content-type", "application/json"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json t = Json(created);
  std::string token = t["token"];
  EXPECT_EQ(token.rfind("glptt-", 0), 0u) << token;
  EXPECT_EQ(token.size(), 46u);
  EXPECT_TRUE(t["last_used"].is_null());
  std::string one = project_ + "/triggers/" + std::to_string(t["id"].get<int64_t>());
  // Afterwards only its first 4 characters after the prefix.
  EXPECT_EQ(Json(Call("GET", one, run_))["token"], token.substr(6, 4));
  EXPECT_EQ(Json(Call("GET", project_ + "/triggers", run_))[0]["token"], token.substr(6, 4));
  EXPECT_EQ(Call("GET", project_ + "/triggers", read_).status, 403);
  EXPECT_EQ(Call("POST", project_ + "/triggers", run_, "{}").status, 400);

  // The trigger endpoint: no API token needed; a wrong token is GitLab's 404
  // (this store-only API has no service, so a right one gets 503).
  EXPECT_EQ(Trigger(token).status, 503);
  EXPECT_EQ(Trigger("glptt-" + std::string(40, '0')).status, 404);
  EXPECT_EQ(Trigger("glptt-" + std::string(40, '0'), admin_).status, 404);
  EXPECT_EQ(Call("POST", project_ + "/trigger/pipeline", "", "ref=main",
                 {{"content-type", "application/x-www-form-urlencoded"}})
                .status,
            400);
  EXPECT_EQ(Call("GET", project_ + "/trigger/pipeline", "").status, 405);
  // Another project's token does not trigger this one.
  EXPECT_EQ(Call("POST", "/api/v4/projects/999/trigger/pipeline", "", "token=" + token + "&ref=x",
                 {{"content-type", "application/x-www-form-urlencoded"}})
                .status,
            404);
  EXPECT_FALSE(Json(Call("GET", one, run_))["last_used"].is_null());

  HttpResponse renamed = Call("PUT", one, run_, R"({"description":"deploy prod"})",
                              {{"content-type", "application/json"}});
  ASSERT_EQ(renamed.status, 200);
  EXPECT_EQ(Json(renamed)["description"], "deploy prod");
  EXPECT_EQ(Call("DELETE", one, run_).status, 204);
  EXPECT_EQ(Trigger(token).status, 404);
  EXPECT_EQ(Call("GET", one, run_).status, 404);
}

}  // namespace
}  // namespace slipway
