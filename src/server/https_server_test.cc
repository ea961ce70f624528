// The real server serving HTTPS on a loopback port chosen by the kernel,
// with a certificate made at test time by the openssl CLI, driven by an
// OpenSSL client that verifies it: requests, live logs ended by a clean TLS
// close, plain HTTP sent to the TLS port, clients that stall before or in
// the handshake, old protocol versions, and certificate and key files that
// must be refused.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "server/api_test_util.h"
#include "server/http_server.h"
#include "server/log_stream.h"
#include "server/test_http_reader.h"
#include "util/test_dir.h"

namespace slipway {
namespace {

// A self-signed certificate for 127.0.0.1 and its key (0600) in dir:
// NAME.crt, NAME.key. The certificate is its own CA for the client.
void MakeCertificate(const std::string& dir, const std::string& name) {
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=slipway-test -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      dir + "/" + name + ".key -out " + dir + "/" + name + ".crt >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  ASSERT_EQ(chmod((dir + "/" + name + ".key").c_str(), 0600), 0);
}

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{30, 0};  // A broken server fails the test instead of hanging it.
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// What the server did with a connection the client holds open without
// finishing anything: "closed" (EOF or reset) or "still open" (the read
// timed out).
std::string AwaitServerClose(int fd) {
  char buf[256];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;  // A TLS alert, say.
    if (n == 0 || errno == ECONNRESET) return "closed";
    return "still open";
  }
}

// An OpenSSL client that checks the server's certificate against ca_file
// and the name 127.0.0.1.
class TlsClient : public TestHttpReader {
 public:
  TlsClient(uint16_t port, const std::string& ca_file, int max_version = 0) {
    fd_ = ConnectLoopback(port);
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (max_version != 0) {
      // Offer the old version for real: OpenSSL's own floor would refuse
      // it before the server had a say.
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx_, max_version);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    ERR_clear_error();
    handshake_ok_ = fd_ >= 0 && SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  bool handshake_ok() const { return handshake_ok_; }
  std::string version() const { return SSL_get_version(ssl_); }

  void Send(const std::string& data) {
    if (!data.empty()) SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
  }
  // True when the server ended the connection with a TLS close_notify
  // (not a bare TCP close, which a reader cannot tell from a cut).
  bool ClosedCleanly() {
    while (Fill()) {
    }
    return buffer_.empty() && last_error_ == SSL_ERROR_ZERO_RETURN;
  }

 protected:
  bool Fill() override {
    char buf[4096];
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) {
      last_error_ = SSL_get_error(ssl_, n);
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false;
  int last_error_ = 0;
};

class HttpsServerTest : public ApiTestBase {
 protected:
  void SetUp() override {
    ApiTestBase::SetUp();
    MakeCertificate(dir_.path(), "server");
    MakeCertificate(dir_.path(), "other");
  }

  // Starts a server with the given TLS files (defaults: server.crt/key).
  Status StartServer(HttpServerOptions options = {}) {
    options.port = 0;
    if (options.io_threads == 0) options.io_threads = 2;
    options.heartbeat_s = 1;
    if (options.tls_cert_file.empty()) options.tls_cert_file = Path("server.crt");
    if (options.tls_key_file.empty()) options.tls_key_file = Path("server.key");
    server_ = std::make_unique<HttpServer>(api_.get(), store_.get(), &hub_, options);
    return server_->Start();
  }
  std::string Path(const std::string& name) const { return dir_.Sub(name); }
  std::string Get(const std::string& target) const {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\nPRIVATE-TOKEN: " + read_ + "\r\n\r\n";
  }

  TempDir dir_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpsServerTest, ServesRequestsOverAVerifiedConnection) {
  ASSERT_TRUE(StartServer().ok());
  EXPECT_STREQ(server_->scheme(), "https");
  TlsClient client(server_->port(), Path("server.crt"));
  ASSERT_TRUE(client.handshake_ok());
  EXPECT_TRUE(client.version() == "TLSv1.3" || client.version() == "TLSv1.2") << client.version();
  client.Send(Get("/api/v4/projects/1") + Get("/healthz"));
  std::string first = client.ReadResponse();
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  EXPECT_NE(first.find("\"path_with_namespace\":\"group/app\""), std::string::npos);
  std::string second = client.ReadResponse();
  EXPECT_NE(second.find("\r\n\r\nok\n"), std::string::npos) << second;
}

TEST_F(HttpsServerTest, AClientThatTrustsAnotherCertificateRefusesTheServer) {
  ASSERT_TRUE(StartServer().ok());
  TlsClient client(server_->port(), Path("other.crt"));
  EXPECT_FALSE(client.handshake_ok());
}

// A live log's response has no length: its end is the connection's. Over
// TLS the server says so with close_notify, so that the client can tell
// the end from a cut (curl reports an error otherwise).
TEST_F(HttpsServerTest, LiveLogEndsWithACleanTlsClose) {
  ASSERT_TRUE(StartServer().ok());
  PipelineRecord p =
      AddPipeline("main", CiStatus::kRunning, {{"build", "build", CiStatus::kRunning}});
  int64_t job = Jobs(p.id)[0].id;
  ASSERT_TRUE(store_->AppendLog(job, "line 1\n").ok());
  TlsClient client(server_->port(), Path("server.crt"));
  ASSERT_TRUE(client.handshake_ok());
  client.Send(Get("/api/v4/projects/1/jobs/" + std::to_string(job) + "/trace/stream"));
  std::string head = client.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
  EXPECT_EQ(client.ReadUntil("\n\n"), SseAppendEvent(7, "line 1\n"));
  ASSERT_EQ(hub_.watchers(), 1u);
  ASSERT_TRUE(store_->AppendLog(job, "line 2\n").ok());
  hub_.Publish(job, 7, "line 2\n");
  std::string event = client.ReadUntil("\n\n");
  while (event == kSseHeartbeat) event = client.ReadUntil("\n\n");
  EXPECT_EQ(event, SseAppendEvent(14, "line 2\n"));
  SetJobStatus(job, CiStatus::kSuccess);
  hub_.Finish(job);
  event = client.ReadUntil("\n\n");
  while (event == kSseHeartbeat) event = client.ReadUntil("\n\n");
  EXPECT_EQ(event, SseEndEvent("success"));
  EXPECT_TRUE(client.ClosedCleanly());
}

TEST_F(HttpsServerTest, PlainHttpToTheTlsPortIsToldToUseHttps) {
  ASSERT_TRUE(StartServer().ok());
  int fd = ConnectLoopback(server_->port());
  ASSERT_GE(fd, 0);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("this port speaks HTTPS: use an https:// URL"), std::string::npos)
      << response;
}

// Connections that send nothing, or stop inside the handshake, are closed
// after the handshake timeout; meanwhile the server's one IO thread serves
// others.
TEST_F(HttpsServerTest, StalledHandshakesAreDroppedAndBlockNobody) {
  HttpServerOptions options;
  options.io_threads = 1;
  options.tls_handshake_timeout_s = 1;
  options.idle_timeout_s = 600;  // Not what closes them.
  ASSERT_TRUE(StartServer(options).ok());
  int silent = ConnectLoopback(server_->port());
  int halfway = ConnectLoopback(server_->port());
  ASSERT_GE(silent, 0);
  ASSERT_GE(halfway, 0);
  // A TLS record header announcing a ClientHello that never comes.
  const char record[] = {0x16, 0x03, 0x01, 0x01, 0x00, 0x01};
  ASSERT_EQ(send(halfway, record, sizeof record, MSG_NOSIGNAL),
            static_cast<ssize_t>(sizeof record));
  {
    TlsClient client(server_->port(), Path("server.crt"));
    ASSERT_TRUE(client.handshake_ok());
    client.Send(Get("/healthz"));
    EXPECT_NE(client.ReadResponse().find("\r\n\r\nok\n"), std::string::npos);
  }
  EXPECT_EQ(AwaitServerClose(silent), "closed");
  EXPECT_EQ(AwaitServerClose(halfway), "closed");
  close(silent);
  close(halfway);
}

// The server sets TLS 1.2 as its floor; OpenSSL 3's default security
// level refuses older versions as well, so this holds either way.
TEST_F(HttpsServerTest, TlsOlderThan12IsRefused) {
  ASSERT_TRUE(StartServer().ok());
  TlsClient old(server_->port(), Path("server.crt"), TLS1_1_VERSION);
  EXPECT_FALSE(old.handshake_ok());
  TlsClient tls12(server_->port(), Path("server.crt"), TLS1_2_VERSION);
  EXPECT_TRUE(tls12.handshake_ok());
  EXPECT_EQ(tls12.version(), "TLSv1.2");
}

TEST_F(HttpsServerTest, BadCertificateAndKeyFilesStopTheStart) {
  auto start = [&](const std::string& cert, const std::string& key) {
    HttpServerOptions options;
    options.port = 0;
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    HttpServer server(api_.get(), store_.get(), &hub_, options);
    return server.Start().message();
  };
  EXPECT_EQ(start(Path("server.crt"), ""),
            "--tls-cert and --tls-key go together: give both or neither");
  EXPECT_EQ(start("", Path("server.key")),
            "--tls-cert and --tls-key go together: give both or neither");
  // The key of another certificate.
  EXPECT_THAT(start(Path("server.crt"), Path("other.key")),
              ::testing::StartsWith("--tls-key " + Path("other.key") +
                                    " is not the key of the certificate in --tls-cert " +
                                    Path("server.crt") + " ("));
  // A key others may read.
  ASSERT_EQ(chmod(Path("other.key").c_str(), 0644), 0);
  EXPECT_EQ(start(Path("other.crt"), Path("other.key")),
            "--tls-key " + Path("other.key") +
                " has mode 0644: others than its owner may read it; chmod 600 it (and consider "
                "the key known)");
  EXPECT_EQ(start(Path("server.crt"), Path("missing.key")),
            "--tls-key " + Path("missing.key") + ": No such file or directory");
  // Files of the wrong kind.
  EXPECT_THAT(start(Path("server.key"), Path("server.key")),
              ::testing::StartsWith("--tls-cert " + Path("server.key") +
                                    ": not a PEM certificate chain ("));
  std::filesystem::copy_file(Path("server.crt"), Path("cert-as.key"));
  ASSERT_EQ(chmod(Path("cert-as.key").c_str(), 0600), 0);
  EXPECT_THAT(
      start(Path("server.crt"), Path("cert-as.key")),
      ::testing::StartsWith("--tls-key " + Path("cert-as.key") + ": not a PEM private key ("));
}

// Behind a proxy that terminates TLS, the links in answers follow the
// proxy's X-Forwarded-Proto; a cached answer is not served to the other
// scheme.
TEST_F(HttpsServerTest, LinksFollowTheProxysScheme) {
  HttpResponse plain = Call("GET", "/api/v4/projects/1", read_);
  EXPECT_EQ(Json(plain)["web_url"], "http://ci.example:8080/group/app");
  HttpResponse proxied =
      Call("GET", "/api/v4/projects/1", read_, "", {{"x-forwarded-proto", "https"}});
  EXPECT_EQ(Json(proxied)["web_url"], "https://ci.example:8080/group/app");
  HttpResponse odd =
      Call("GET", "/api/v4/projects/1", read_, "", {{"x-forwarded-proto", "gopher"}});
  EXPECT_EQ(Json(odd)["web_url"], "http://ci.example:8080/group/app");
}

}  // namespace
}  // namespace slipway
