// The real server on a loopback port chosen by the kernel, driven over
// plain sockets: keep-alive, limits, malformed requests and a live log.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/api_test_util.h"
#include "server/log_stream.h"
#include "server/test_http_reader.h"

namespace slipway {
namespace {

class Client : public TestHttpReader {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{30, 0};  // A broken server fails the test instead of hanging it.
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { close(fd_); }
  bool connected() const { return connected_; }

  void Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  bool Closed() { return buffer_.empty() && !Fill(); }

 protected:
  bool Fill() override {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

class HttpServerTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    HttpServerOptions options;
    options.port = 0;
    options.io_threads = 2;
    options.max_body_bytes = 1000;
    options.heartbeat_s = 1;
    server_ = std::make_unique<HttpServer>(api_.get(), store_.get(), &hub_, options);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
  }
  void TearDown() override { server_.reset(); }

  std::string Get(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nPRIVATE-TOKEN: " + read_ + "\r\n" +
           extra + "\r\n";
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  client.Send(Get("/api/v4/projects/1") + Get("/healthz"));
  std::string first = client.ReadResponse();
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  EXPECT_NE(first.find("\"path_with_namespace\":\"group/app\""), std::string::npos);
  std::string second = client.ReadResponse();
  EXPECT_EQ(second.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << second;
  EXPECT_NE(second.find("\r\n\r\nok\n"), std::string::npos);
  // A third after a pause, then Connection: close ends it.
  client.Send("GET /api/v4/user HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string third = client.ReadResponse();
  EXPECT_EQ(third.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u) << third;
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, HeadSendsTheHeadersOnly) {
  Client client(server_->port());
  client.Send("HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n" + Get("/healthz"));
  std::string head = client.ReadUntil("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos) << head;
  // No body: the next bytes are the second response.
  std::string next = client.ReadResponse();
  EXPECT_EQ(next.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << next;
  EXPECT_NE(next.find("\r\n\r\nok\n"), std::string::npos);
}

TEST_F(HttpServerTest, BlockingRequestsRunOffTheLoopAndAnswer) {
  Client client(server_->port());
  std::string body = R"({"name":"lib","repo_url":"/srv/lib"})";
  client.Send("POST /api/v4/projects HTTP/1.1\r\nHost: h\r\nPRIVATE-TOKEN: " + admin_ +
              "\r\nContent-Type: application/json\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body);
  std::string response = client.ReadResponse();
  EXPECT_EQ(response.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\"path_with_namespace\":\"lib\""), std::string::npos);
}

TEST_F(HttpServerTest, OversizedAndMalformedRequestsGetJsonErrors) {
  {
    Client client(server_->port());
    client.Send("POST /api/v4/projects HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n" +
                std::string(5000, 'x'));
    std::string response = client.ReadResponse();
    EXPECT_EQ(response.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("{\"message\":\"413 Payload Too Large"), std::string::npos);
  }
  {
    Client client(server_->port());
    client.Send("NOT HTTP AT ALL\r\n\r\n");
    std::string response = client.ReadResponse();
    EXPECT_EQ(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("{\"message\":\"400 Bad request"), std::string::npos);
  }
  {
    Client client(server_->port());
    client.Send("GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    std::string response = client.ReadResponse();
    EXPECT_EQ(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("headers too large"), std::string::npos);
  }
}

TEST_F(HttpServerTest, LiveLogStreamsStoredThenPublishedBytesThenEnds) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kRunning, {{"build", "build", CiStatus::kRunning}});
  int64_t job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_->AppendLog(job, "line 1\n").ok());
  Client client(server_->port());
  client.Send(Get("/api/v4/projects/1/jobs/" + std::to_string(job) + "/trace/stream"));
  std::string head = client.ReadUntil("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_EQ(client.ReadUntil("\n\n"), SseAppendEvent(7, "line 1\n"));

  // The watcher is subscribed once the stored part was sent; what the engine
  // appends and publishes now arrives live.
  ASSERT_EQ(hub_.watchers(), 1u);
  auto size = store_->AppendLog(job, "line 2\n");
  ASSERT_TRUE(size.ok());
  hub_.Publish(job, 7, "line 2\n");
  std::string event = client.ReadUntil("\n\n");
  while (event == kSseHeartbeat) event = client.ReadUntil("\n\n");
  EXPECT_EQ(event, SseAppendEvent(14, "line 2\n"));

  SetJobStatus(job, CiStatus::kSuccess);
  hub_.Finish(job);
  event = client.ReadUntil("\n\n");
  while (event == kSseHeartbeat) event = client.ReadUntil("\n\n");
  EXPECT_EQ(event, SseEndEvent("success"));
  EXPECT_TRUE(client.Closed());
}

// A job another server sharing the database runs: its bytes reach the store,
// not this server's LogHub, and the stream follows the store.
TEST_F(HttpServerTest, LiveLogFollowsTheStoreForBytesAnotherServerWrites) {
  HttpServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  // Without notices (SQLite) the follower polls.
  LogFollower log_follower(store_.get(), &hub_, {std::chrono::milliseconds(50)});
  options.follower = &log_follower;
  HttpServer follower(api_.get(), store_.get(), &hub_, options);
  ASSERT_TRUE(follower.Start().ok());
  PipelineRecord p =
      AddPipeline("main", CiStatus::kRunning, {{"build", "build", CiStatus::kRunning}});
  int64_t job = Jobs(p.id)[0].id;
  Client client(follower.port());
  client.Send(Get("/api/v4/projects/1/jobs/" + std::to_string(job) + "/trace/stream"));
  std::string head = client.ReadUntil("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  ASSERT_TRUE(store_->AppendLog(job, "from elsewhere\n").ok());  // Nothing published.
  EXPECT_EQ(client.ReadUntil("\n\n"), SseAppendEvent(15, "from elsewhere\n"));
  SetJobStatus(job, CiStatus::kSuccess);
  EXPECT_EQ(client.ReadUntil("\n\n"), SseEndEvent("success"));
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, StreamOfAFinishedJobResumesFromLastEventIdAndEnds) {
  PipelineRecord p =
      AddPipeline("main", CiStatus::kSuccess, {{"build", "build", CiStatus::kSuccess}});
  int64_t job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_->AppendLog(job, "0123456789").ok());
  Client client(server_->port());
  client.Send(Get("/api/v4/projects/1/jobs/" + std::to_string(job) + "/trace/stream",
                  "Last-Event-ID: 4\r\n"));
  std::string all = client.ReadUntil("event: end");
  all += client.ReadUntil("\n\n");
  EXPECT_NE(all.find(SseAppendEvent(10, "456789") + SseEndEvent("success")), std::string::npos)
      << all;
  EXPECT_TRUE(client.Closed());
}

}  // namespace
}  // namespace slipway
