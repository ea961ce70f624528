// The project variables API (api_variables.cc) on a real store: GitLab's
// shapes and errors, admin tokens only, hidden values never sent back.
#include <gtest/gtest.h>

#include "server/api_test_util.h"

namespace slipway {
namespace {

using json = nlohmann::json;

class ApiVariablesTest : public ApiTestBase {};

TEST_F(ApiVariablesTest, CreateListUpdateAndDelete) {
  std::string base = "/api/v4/projects/" + std::to_string(project_id_) + "/variables";
  const std::string json_type = "application/json";
  auto post = [&](const json& body) {
    return Call("POST", base, admin_, body.dump(), {{"content-type", json_type}});
  };
  HttpResponse created = post({{"key", "DEPLOY_TOKEN"},
                               {"value", "deploy-token-5e2b77"},
                               {"masked", true},
                               {"protected", "true"},
                               {"description", "for prod"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(created), (json{{"variable_type", "env_var"},
                                 {"key", "DEPLOY_TOKEN"},
                                 {"value", "deploy-token-5e2b77"},
                                 {"protected", true},
                                 {"masked", true},
                                 {"hidden", false},
                                 {"raw", false},
                                 {"environment_scope", "*"},
                                 {"description", "for prod"}}));
  HttpResponse again = post({{"key", "DEPLOY_TOKEN"}, {"value", "x"}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(Json(again)["message"]["key"][0], "(DEPLOY_TOKEN) has already been taken");

  // What cannot be masked, a bad key, a scope slipway would not apply.
  EXPECT_EQ(post({{"key", "PIN"}, {"value", "1234"}, {"masked", true}}).status, 400);
  EXPECT_EQ(post({{"key", "PEM"}, {"value", "line one\nline two"}, {"masked", true}}).status, 400);
  EXPECT_EQ(post({{"key", "BAD-KEY"}, {"value", "v"}}).status, 400);
  EXPECT_EQ(post({{"key", "PROD"}, {"value", "v"}, {"environment_scope", "production"}}).status,
            400);
  EXPECT_EQ(post({{"key", "X"}, {"value", "v"}, {"variable_type", "nope"}}).status, 400);

  // A hidden variable's value never comes back.
  ASSERT_EQ(
      post({{"key", "HIDDEN"}, {"value", "hidden-value-123"}, {"masked_and_hidden", true}}).status,
      201);
  json listed = Json(Call("GET", base, admin_));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["key"], "DEPLOY_TOKEN");
  EXPECT_EQ(listed[1]["key"], "HIDDEN");
  EXPECT_TRUE(listed[1]["value"].is_null());
  EXPECT_EQ(listed[1]["hidden"], true);
  EXPECT_EQ(Call("GET", base + "/HIDDEN", admin_).body.find("hidden-value"), std::string::npos);

  // Only admin tokens (GitLab's Maintainer) see or change variables.
  EXPECT_EQ(Call("GET", base, read_).status, 403);
  EXPECT_EQ(Call("GET", base, run_).status, 403);
  EXPECT_EQ(
      Call("POST", base, run_, R"({"key":"K","value":"v"})", {{"content-type", json_type}}).status,
      403);

  HttpResponse updated =
      Call("PUT", base + "/DEPLOY_TOKEN", admin_,
           R"({"value":"rotated-token-99","protected":false})", {{"content-type", json_type}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Json(updated)["value"], "rotated-token-99");
  EXPECT_EQ(Json(updated)["protected"], false);
  EXPECT_EQ(Json(updated)["masked"], true);
  EXPECT_EQ(Call("PUT", base + "/DEPLOY_TOKEN", admin_, R"({"value":"short"})",
                 {{"content-type", json_type}})
                .status,
            400);
  EXPECT_EQ(
      Call("PUT", base + "/HIDDEN", admin_, R"({"masked":false})", {{"content-type", json_type}})
          .status,
      400);
  EXPECT_EQ(
      Call("PUT", base + "/NOPE", admin_, R"({"value":"v"})", {{"content-type", json_type}}).status,
      404);

  EXPECT_EQ(Call("DELETE", base + "/DEPLOY_TOKEN", admin_).status, 204);
  EXPECT_EQ(Call("DELETE", base + "/DEPLOY_TOKEN", admin_).status, 404);
  EXPECT_EQ(Call("GET", base + "/DEPLOY_TOKEN", admin_).status, 404);
  EXPECT_EQ(Json(Call("GET", base, admin_)).size(), 1u);
}

}  // namespace
}  // namespace slipway
