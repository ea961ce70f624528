// Incidents through GitLab's issues API, Alertmanager's webhook at GitLab's
// URL (and attacks on its token), and GET /projects/:id/dora/metrics.
#include <gtest/gtest.h>

#include "server/api_test_util.h"
#include "server/gitlab_json.h"
#include "store/store_test_records.h"

namespace slipway {
namespace {

using json = nlohmann::json;

// Alertmanager's webhook payload (version 4) as its documentation gives it
// (prometheus.io/docs/alerting/latest/configuration/#webhook_config).
json AlertmanagerPayload(const std::string& status, const std::string& ends_at) {
  json alert = {{"status", status},
                {"labels",
                 {{"alertname", "HighErrorRate"},
                  {"severity", "page"},
                  {"gitlab_environment_name", "production"}}},
                {"annotations",
                 {{"summary", "Error rate above 5%"}, {"description", "5xx answers on /checkout"}}},
                {"startsAt", "2026-12-05T13:40:00.123456789Z"},
                {"endsAt", ends_at},
                {"generatorURL", "http://prometheus:9090/graph?g0.expr=rate%28errors%5B5m%5D%29"},
                {"fingerprint", "c6a3b2d1e0f12345"}};
  return {{"version", "4"},
          {"groupKey", "{}:{alertname=\"HighErrorRate\"}"},
          {"truncatedAlerts", 0},
          {"status", status},
          {"receiver", "slipway"},
          {"groupLabels", {{"alertname", "HighErrorRate"}}},
          {"commonLabels", alert["labels"]},
          {"commonAnnotations", alert["annotations"]},
          {"externalURL", "http://alertmanager:9093"},
          {"alerts", json::array({alert})}};
}

class ApiIncidentsTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    environment_id_ = AddTestEnvironment(store_.get(), project_id_, "production", "production");
    deployment_id_ =
        AddTestDeployment(store_.get(), project_id_, environment_id_, sha_, "success").id;
    ASSERT_TRUE(store_->AddDeploymentCommits(deployment_id_, {{shipped_, 1}, {sha_, 2}}).ok());
  }

  HttpResponse Notify(const std::string& body, const std::string& token,
                      const std::string& path = "/group/app/prometheus/alerts/notify.json") {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["authorization"] = "Bearer " + token;
    headers["content-type"] = "application/json";
    return Call("POST", path, "", body, headers);
  }

  int64_t IncidentCount() { return store_->ListIncidents(Filter())->total; }
  IncidentFilter Filter() {
    IncidentFilter filter;
    filter.project_id = project_id_;
    return filter;
  }

  std::string sha_ = std::string(40, 'b');
  std::string shipped_ = "0123456789abcdef0123456789abcdef01234567";
  int64_t environment_id_ = 0, deployment_id_ = 0;
};

TEST_F(ApiIncidentsTest, AnIncidentIsAnIssueOfTypeIncidentLinkedByItsRootCause) {
  HttpResponse created =
      Call("POST", "/api/v4/projects/group%2Fapp/issues", run_,
           json({{"title", "Checkout fails"},
                 {"issue_type", "incident"},
                 {"description", "Since the deploy.\nroot cause: " + shipped_.substr(0, 10)}})
               .dump(),
           {{"content-type", "application/json"}});
  ASSERT_EQ(created.status, 201) << created.body;
  json incident = Json(created);
  EXPECT_EQ(incident["iid"], 1);
  EXPECT_EQ(incident["state"], "opened");
  EXPECT_EQ(incident["issue_type"], "incident");
  EXPECT_EQ(incident["type"], "INCIDENT");
  EXPECT_EQ(incident["deployment_id"], deployment_id_);
  EXPECT_EQ(incident["web_url"], "http://ci.example:8080/group/app/-/issues/1");

  HttpResponse listed =
      Call("GET", "/api/v4/projects/1/issues?issue_type=incident&state=opened", read_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(Json(listed).size(), 1u);
  EXPECT_EQ(Header(listed, "X-Total"), "1");
  EXPECT_EQ(Json(Call("GET", "/api/v4/projects/1/issues?issue_type=issue", read_)).size(), 0u);

  clock_.Advance(std::chrono::minutes(30));
  HttpResponse closed = Call("PUT", "/api/v4/projects/1/issues/1", run_, "state_event=close",
                             {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Json(closed)["state"], "closed");
  EXPECT_EQ(Json(closed)["closed_at"], IsoTime(UnixMillis(clock_.WallNow())));
  EXPECT_EQ(Json(Call("GET", "/api/v4/projects/1/issues/1", read_))["state"], "closed");

  // By deployment id; one of another project's is refused.
  HttpResponse by_id =
      Call("POST", "/api/v4/projects/1/issues", run_,
           "title=x&issue_type=incident&deployment_id=" + std::to_string(deployment_id_),
           {{"content-type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(by_id.status, 201) << by_id.body;
  EXPECT_EQ(Json(by_id)["deployment_id"], deployment_id_);
  EXPECT_EQ(Call("POST", "/api/v4/projects/1/issues", run_,
                 "title=x&issue_type=incident&deployment_id=999",
                 {{"content-type", "application/x-www-form-urlencoded"}})
                .status,
            400);
  // Only incidents; a read token cannot open one.
  EXPECT_EQ(Call("POST", "/api/v4/projects/1/issues", run_, "title=x").status, 400);
  EXPECT_EQ(Call("POST", "/api/v4/projects/1/issues", read_, "title=x&issue_type=incident").status,
            403);
  EXPECT_EQ(Call("GET", "/api/v4/projects/1/issues/99", read_).status, 404);
}

TEST_F(ApiIncidentsTest, AnAlertmanagerAlertOpensOneIncidentAndItsResolutionResolvesIt) {
  HttpResponse made = Call("POST", "/api/v4/projects/1/alert_token", admin_);
  ASSERT_EQ(made.status, 201) << made.body;
  std::string token = Json(made)["token"];
  EXPECT_EQ(Json(made)["url"], "http://ci.example:8080/group/app/prometheus/alerts/notify.json");

  std::string firing = AlertmanagerPayload("firing", "0001-01-01T00:00:00Z").dump();
  HttpResponse first = Notify(firing, token);
  ASSERT_EQ(first.status, 200) << first.body;
  // Alertmanager repeats a firing alert: still one incident.
  ASSERT_EQ(Notify(firing, token, "/group/app/alerts/notify.json").status, 200);
  auto incidents = store_->ListIncidents(Filter());
  ASSERT_EQ(incidents->total, 1);
  IncidentRecord incident = incidents->items[0];
  EXPECT_EQ(incident.title, "Error rate above 5%");
  EXPECT_EQ(incident.source, "alertmanager");
  EXPECT_EQ(incident.external_key, "c6a3b2d1e0f12345");
  EXPECT_EQ(incident.created_at, *ParseIsoTime("2026-12-05T13:40:00.123Z"));
  // Its environment label names production: its last deployment.
  EXPECT_EQ(incident.deployment_id, deployment_id_);
  EXPECT_NE(incident.description.find("severity: page"), std::string::npos);

  HttpResponse resolved =
      Notify(AlertmanagerPayload("resolved", "2026-12-05T13:55:00Z").dump(), token);
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(Json(resolved)["resolved"], json::array({1}));
  auto after = store_->GetIncident(incident.id);
  EXPECT_EQ((*after)->status, "resolved");
  EXPECT_EQ((*after)->resolved_at, *ParseIsoTime("2026-12-05T13:55:00Z"));
}

TEST_F(ApiIncidentsTest, AnAlertWithoutTheProjectsTokenGets401AndRecordsNothing) {
  std::string token = Json(Call("POST", "/api/v4/projects/1/alert_token", admin_))["token"];
  ProjectRecord other;
  other.name = other.path_with_namespace = "group/other";
  int64_t other_id = store_->CreateProject(other)->id;
  std::string other_token = *store_->CreateAlertToken(other_id);
  std::string firing = AlertmanagerPayload("firing", "0001-01-01T00:00:00Z").dump();

  EXPECT_EQ(Notify(firing, "").status, 401);           // None.
  EXPECT_EQ(Notify(firing, token + "0").status, 401);  // Wrong.
  EXPECT_EQ(Notify(firing, other_token).status, 401);  // Another project's.
  EXPECT_EQ(Notify(firing, admin_).status, 401);       // An API token is not one.
  EXPECT_EQ(Call("POST", "/group/app/prometheus/alerts/notify.json", admin_, firing).status, 401);
  EXPECT_EQ(Notify(firing, token, "/group/nothing/prometheus/alerts/notify.json").status, 401);
  std::map<std::string, std::string> basic = {{"authorization", "Basic " + token}};
  EXPECT_EQ(Call("POST", "/group/app/prometheus/alerts/notify.json", "", firing, basic).status,
            401);
  EXPECT_EQ(IncidentCount(), 0);

  // With the token: malformed payloads get 400 and record nothing either.
  EXPECT_EQ(Notify("{not json", token).status, 400);
  EXPECT_EQ(Notify("{\"version\":\"4\"}", token).status, 400);
  EXPECT_EQ(Notify(std::string(100, '[') + std::string(100, ']'), token).status, 400);
  json half = AlertmanagerPayload("firing", "0001-01-01T00:00:00Z");
  half["alerts"].push_back({{"status", "pending"}});
  EXPECT_EQ(Notify(half.dump(), token).status, 400);
  EXPECT_EQ(Notify(std::string(2 << 20, ' '), token).status, 413);
  EXPECT_EQ(Call("GET", "/group/app/prometheus/alerts/notify.json", "").status, 405);
  EXPECT_EQ(IncidentCount(), 0);
}

TEST_F(ApiIncidentsTest, DoraMetricsAnswerInGitLabsShape) {
  // The deployment of SetUp finished 2026-12-05; commits at 1 and 2 ms.
  HttpResponse daily = Call("GET",
                            "/api/v4/projects/1/dora/metrics?metric=deployment_frequency&"
                            "start_date=2026-12-04&end_date=2026-12-06&interval=daily",
                            read_);
  ASSERT_EQ(daily.status, 200) << daily.body;
  json points = Json(daily);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0], json({{"date", "2026-12-04"},
                             {"value", 0},
                             {"per_day", 0.0},
                             {"bands", {{"2022", "low"}, {"2024", "low"}}}}));
  EXPECT_EQ(points[1]["date"], "2026-12-05");
  EXPECT_EQ(points[1]["value"], 1);
  HttpResponse all = Call("GET",
                          "/api/v4/projects/1/dora/metrics?metric=change_failure_rate&"
                          "start_date=2026-12-01&end_date=2026-12-31&interval=all",
                          read_);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Json(all)[0]["date"], nullptr);
  EXPECT_EQ(Json(all)[0]["value"], 0.0);
  EXPECT_EQ(Json(all)[0]["deployments"], 1);
  // No production deployment in staging's figures.
  HttpResponse staging = Call("GET",
                              "/api/v4/projects/1/dora/metrics?metric=deployment_frequency&"
                              "start_date=2026-12-01&end_date=2026-12-31&interval=all&"
                              "environment_tiers[]=staging",
                              read_);
  EXPECT_EQ(Json(staging)[0]["value"], 0);

  EXPECT_EQ(Call("GET", "/api/v4/projects/1/dora/metrics", read_).status, 400);
  HttpResponse bad = Call("GET", "/api/v4/projects/1/dora/metrics?metric=speed", read_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Json(bad)["message"], "400 Bad request - metric does not have a valid value");
  EXPECT_EQ(
      Call("GET", "/api/v4/projects/1/dora/metrics?metric=lead_time_for_changes&interval=weekly",
           read_)
          .status,
      400);
  EXPECT_EQ(Call("GET",
                 "/api/v4/projects/1/dora/metrics?metric=lead_time_for_changes&"
                 "start_date=2026-12-05&end_date=2026-12-01",
                 read_)
                .status,
            400);
  EXPECT_EQ(Call("GET",
                 "/api/v4/projects/1/dora/metrics?metric=lead_time_for_changes&"
                 "environment_tiers[]=prod",
                 read_)
                .status,
            400);
  EXPECT_EQ(Call("GET",
                 "/api/v4/projects/1/dora/metrics?metric=lead_time_for_changes&"
                 "start_date=2020-01-01&end_date=2026-01-01",
                 read_)
                .status,
            400);
}

}  // namespace
}  // namespace slipway
