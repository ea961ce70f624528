// CDEvents end to end below the server: deployments and incidents written
// to a real store (SQLite, PostgreSQL) are announced to a local HTTP server
// (server/test_http_recorder.h, standing in for an event broker, since none
// runs here) that records each request; the test checks every event's CloudEvents
// headers and CDEvents body against spec v0.4.1, the retry after a failed
// POST, and that nothing else is sent.
#include "server/cdevents_publisher.h"

#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "server/test_http_recorder.h"
#include "store/store_test_backend.h"
#include "store/store_test_records.h"
#include "util/test_wait.h"

namespace slipway {
namespace {

using nlohmann::json;

class CdEventsTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    // The first request to /flaky is answered 502.
    sink_ = std::make_unique<TestHttpRecorder>("", "/flaky");
    project_ = AddTestProject(store_.get(), "group/app");
    AddTestProject(store_.get(), "group/quiet");  // No sink: nothing about it is sent.
  }

  // The requests received so far, by event id (each once).
  std::map<std::string, json> Received() {
    std::map<std::string, json> out;
    for (const json& r : sink_->Requests()) {
      if (r["status"] != 201) continue;  // Refused: it comes again.
      out[r["path"].get<std::string>() + " " + r["headers"].value("ce-id", "")] = r;
    }
    return out;
  }

  std::string Url(const std::string& path) { return sink_->Url(path); }

  std::unique_ptr<TestHttpRecorder> sink_;
  int64_t project_ = 0;
};

// CloudEvents binary mode: the context in ce- headers, the CDEvent as body.
void ExpectEvent(const json& request, const std::string& type, const std::string& subject_type) {
  const json& h = request["headers"];
  EXPECT_EQ(h["ce-specversion"], "1.0");
  EXPECT_EQ(h["ce-type"], type);
  EXPECT_EQ(h["ce-source"], "http://ci.example/group/app");
  EXPECT_EQ(h["content-type"], "application/json");
  json body = json::parse(request["body"].get<std::string>());
  const json& context = body["context"];
  EXPECT_EQ(context["version"], "0.4.1");
  EXPECT_EQ(context["type"], type);
  EXPECT_EQ(context["id"], h["ce-id"]);
  EXPECT_EQ(context["source"], h["ce-source"]);
  EXPECT_EQ(context["timestamp"], h["ce-time"]);
  EXPECT_EQ(body["subject"]["id"], h["ce-subject"]);
  EXPECT_EQ(body["subject"]["type"], subject_type);
  EXPECT_TRUE(body["subject"]["content"]["environment"].contains("id")) << body.dump();
}

TEST_P(CdEventsTest, AnnouncesDeploymentsRollbacksAndIncidentsAndRetries) {
  CdEventsOptions options;
  options.base_url = "http://ci.example";
  ASSERT_TRUE(AddCdEventSink("group/app=" + Url("/events"), &options).ok());
  ASSERT_TRUE(AddCdEventSink("*=" + Url("/flaky"), &options).ok());
  options.scan_interval = std::chrono::milliseconds(50);
  options.first_retry = std::chrono::milliseconds(50);
  options.clock = &clock_;
  int64_t production = AddTestEnvironment(store_.get(), project_, "production", "production");
  AddTestDeployment(store_.get(), project_, production, "aaaa", "success");  // Before: not sent.
  clock_.Advance(std::chrono::seconds(1));
  CdEventsPublisher publisher(store_.get(), options, NowMs());

  DeploymentRecord v1 =
      AddTestDeployment(store_.get(), project_, production, "1111111111111111", "success");
  DeploymentRecord v2 =
      AddTestDeployment(store_.get(), project_, production, "2222222222222222", "failed");
  DeploymentRecord back;
  back.project_id = project_;
  back.environment_id = production;
  back.ref = "main";
  back.sha = v1.sha;
  back.status = "running";
  back.rollback_of = v2.id;
  auto created = store_->CreateDeployment(back);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(store_->SetDeploymentStatus(created->id, "success").ok());
  auto incident = store_->CreateIncident(
      NewIncident(project_, v2.id, "deployment #2 failed its checks", "rollback"));
  ASSERT_TRUE(incident.ok()) << incident.status().message();
  clock_.Advance(std::chrono::seconds(30));
  auto resolved = store_->ResolveIncident(incident->id, std::nullopt);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();

  // Four events, to both sinks; /flaky refused its first request, which
  // came again.
  ASSERT_TRUE(WaitFor([&] { return Received().size() == 8; })) << Received().size();
  std::map<std::string, json> got = Received();
  const std::string deployed = "deployment-" + std::to_string(v1.id) + "-deployed";
  const std::string rolledback = "deployment-" + std::to_string(created->id) + "-rolledback";
  const std::string detected = "incident-" + std::to_string(incident->id) + "-detected";
  ASSERT_TRUE(got.count("/events " + deployed)) << got.size();
  ASSERT_TRUE(got.count("/events " + rolledback));
  ASSERT_TRUE(got.count("/events " + detected));
  ExpectEvent(got["/events " + deployed], "dev.cdevents.service.deployed.0.2.0", "service");
  ExpectEvent(got["/events " + rolledback], "dev.cdevents.service.rolledback.0.2.0", "service");
  ExpectEvent(got["/events " + detected], "dev.cdevents.incident.detected.0.2.0", "incident");
  json d = json::parse(got["/events " + deployed]["body"].get<std::string>());
  EXPECT_EQ(d["subject"]["id"], "group/app");
  EXPECT_EQ(d["subject"]["content"]["environment"]["id"], "production");
  EXPECT_EQ(d["subject"]["content"]["artifactId"], "pkg:generic/group/app@1111111111111111");
  json i = json::parse(got["/events " + detected]["body"].get<std::string>());
  EXPECT_EQ(i["subject"]["id"], "group/app/-/issues/" + std::to_string(incident->iid));
  EXPECT_EQ(i["subject"]["content"]["description"], "deployment #2 failed its checks");
  EXPECT_EQ(i["subject"]["content"]["environment"]["id"], "production");
  EXPECT_EQ(i["subject"]["content"]["artifactId"], "pkg:generic/group/app@2222222222222222");
  int resolved_events = 0;
  for (const auto& [key, request] : got) {
    if (request["headers"]["ce-type"] != "dev.cdevents.incident.resolved.0.2.0") continue;
    ++resolved_events;
    ExpectEvent(request, "dev.cdevents.incident.resolved.0.2.0", "incident");
  }
  EXPECT_EQ(resolved_events, 2);
  // Nothing about the failed deployment, the one before the start, or twice.
  for (const auto& [key, request] : got) {
    EXPECT_EQ(key.find("deployment-" + std::to_string(v2.id) + "-"), std::string::npos) << key;
  }
  // The receiver answers before the publisher counts the answer.
  EXPECT_TRUE(WaitFor([&] { return publisher.counts().delivered == 8; }));
  CdEventsPublisher::Counts counts = publisher.counts();
  EXPECT_EQ(counts.delivered, 8);
  EXPECT_GE(counts.retried, 1);
  EXPECT_EQ(counts.dropped, 0);
}

TEST(CdEventSinkTest, OnlyProjectEqualsHttpUrl) {
  CdEventsOptions options;
  EXPECT_TRUE(AddCdEventSink("group/app=https://broker.example/events", &options).ok());
  EXPECT_FALSE(AddCdEventSink("https://broker.example/events", &options).ok());
  EXPECT_FALSE(AddCdEventSink("=https://broker.example/events", &options).ok());
  Status bad = AddCdEventSink("group/app=file:///etc/passwd", &options);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("not an http(s) URL"), std::string::npos) << bad.message();
  EXPECT_EQ(options.sinks["group/app"].size(), 1u);
}

SLIPWAY_STORE_TEST_SUITE(CdEventsTest);

}  // namespace
}  // namespace slipway
