#include "util/http_get.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "util/test_https_server.h"

namespace slipway {
namespace {

HttpGetOptions Trusting(const TestHttpsServer& server) {
  HttpGetOptions options;
  options.ca_file = server.ca_file();
  return options;
}

TEST(HttpGetTest, ReadsAFileOverHttpsCheckedAgainstTheGivenCa) {
  TestHttpsServer server;
  server.Write("ci/build.yml", "build:\n  script: make\n");
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/ci/build.yml"), Trusting(server));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "build:\n  script: make\n");
  // The host name is checked too (the certificate names localhost as well).
  got = HttpGet("https://localhost:" + std::to_string(server.port()) + "/ci/build.yml",
                Trusting(server));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 200);
}

TEST(HttpGetTest, AMissingFileIsAResultWithItsStatus) {
  TestHttpsServer server;
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/nope.yml"), Trusting(server));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 404);
}

TEST(HttpGetTest, RefusesACertificateFromAnotherCa) {
  TestHttpsServer server;
  server.Write("a.yml", "a: 1\n");
  HttpGetOptions options;
  options.ca_file = server.dir() + "/other_ca.crt";
  HttpFailure failure;
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/a.yml"), options, &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTls);
  EXPECT_NE(got.status().message().find("certificate verify failed"), std::string::npos)
      << got.status().message();
}

TEST(HttpGetTest, RefusesACertificateForAnotherName) {
  // Signed by the trusted CA, but for another host than the one asked.
  TestHttpsServer server(true, "user:secret", "DNS:elsewhere.example,IP:127.0.0.9");
  server.Write("a.yml", "a: 1\n");
  HttpFailure failure;
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/a.yml"), Trusting(server), &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTls);
  got = HttpGet("https://localhost:" + std::to_string(server.port()) + "/a.yml", Trusting(server),
                &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTls);
  EXPECT_NE(got.status().message().find("certificate verify failed: hostname mismatch"),
            std::string::npos)
      << got.status().message();
}

// The loaded CA file is kept between fetches, but a file changed in place
// is read again: a CA the user removed is not trusted from memory.
TEST(HttpGetTest, ACaFileChangedInPlaceIsReadAgain) {
  TestHttpsServer server;
  server.Write("a.yml", "a: 1\n");
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string trust = server.dir() + "/trust.pem";
  std::ofstream(trust) << read(server.ca_file());
  HttpGetOptions options;
  options.ca_file = trust;
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/a.yml"), options);
  ASSERT_TRUE(got.ok()) << got.status().message();
  got = HttpGet(server.Url("/a.yml"), options);  // From the kept context.
  ASSERT_TRUE(got.ok()) << got.status().message();
  std::ofstream(trust, std::ios::trunc) << read(server.dir() + "/other_ca.crt");
  HttpFailure failure;
  got = HttpGet(server.Url("/a.yml"), options, &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTls);
  std::ofstream(trust, std::ios::trunc) << read(server.ca_file());
  got = HttpGet(server.Url("/a.yml"), options);
  EXPECT_TRUE(got.ok()) << got.status().message();
}

TEST(HttpGetTest, SslCertFileReplacesTheSystemStore) {
  TestHttpsServer server;
  server.Write("a.yml", "a: 1\n");
  // The system store does not know the test CA ...
  unsetenv("SSL_CERT_FILE");
  HttpFailure failure;
  EXPECT_FALSE(HttpGet(server.Url("/a.yml"), HttpGetOptions(), &failure).ok());
  EXPECT_EQ(failure, HttpFailure::kTls);
  // ... and SSL_CERT_FILE makes it trusted, as for OpenSSL and git.
  setenv("SSL_CERT_FILE", server.ca_file().c_str(), 1);
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/a.yml"), HttpGetOptions());
  unsetenv("SSL_CERT_FILE");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "a: 1\n");
}

TEST(HttpGetTest, RefusesPlainHttpUnlessAllowed) {
  TestHttpsServer server(/*tls=*/false);
  server.Write("a.yml", "a: 1\n");
  HttpFailure failure;
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/a.yml"), HttpGetOptions(), &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kHttpRefused);
  EXPECT_EQ(server.Requests(), "");  // Not even asked.
  HttpGetOptions allowed;
  allowed.allow_http = true;
  got = HttpGet(server.Url("/a.yml"), allowed);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "a: 1\n");
}

TEST(HttpGetTest, ARedirectToPlainHttpIsRefusedToo) {
  TestHttpsServer secure;
  TestHttpsServer plain(/*tls=*/false);
  plain.Write("a.yml", "a: 1\n");
  HttpFailure failure;
  StatusOr<HttpGetResult> got =
      HttpGet(secure.Url("/redirect?to=" + plain.Url("/a.yml")), Trusting(secure), &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kHttpRefused);
  EXPECT_EQ(plain.Requests(), "");
}

// A URL that passes the address check must not lead, by a redirect, to an
// address that does not: every hop is checked before it connects.
TEST(HttpGetTest, AllowAddressGuardsEveryHop) {
  TestHttpsServer server;
  server.Write("a.yml", "a: 1\n");
  HttpGetOptions options = Trusting(server);
  options.allow_address = [](const std::string& address) { return address == "127.0.0.1"; };
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/a.yml"), options);
  ASSERT_TRUE(got.ok()) << got.status().message();
  std::string elsewhere = server.Url("/a.yml");
  elsewhere.replace(elsewhere.find("127.0.0.1"), 9, "127.0.0.2");
  HttpFailure failure;
  got = HttpGet(server.Url("/redirect?to=" + elsewhere), options, &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kAddressRefused);
  EXPECT_NE(got.status().message().find("127.0.0.2, an address this server does not fetch from"),
            std::string::npos)
      << got.status().message();
  options.allow_address = [](const std::string&) { return false; };
  got = HttpGet(server.Url("/a.yml"), options, &failure);
  EXPECT_EQ(failure, HttpFailure::kAddressRefused);
  EXPECT_EQ(server.Requests(), "/a.yml -\n/redirect?to=" + elsewhere + " -\n");
}

TEST(HttpGetTest, FollowsRedirectsUpToTheBound) {
  TestHttpsServer server;
  server.Write("a.yml", "a: 1\n");
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/redirect?to=/a.yml"), Trusting(server));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "a: 1\n");
  // A redirect to itself, for ever: stops after max_redirects.
  HttpGetOptions options = Trusting(server);
  options.max_redirects = 3;
  HttpFailure failure;
  got = HttpGet(server.Url("/loop"), options, &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTooManyRedirects);
}

TEST(HttpGetTest, BoundsTheBodySize) {
  TestHttpsServer server;
  server.Write("big.yml", std::string(5000, 'x'));
  HttpGetOptions options = Trusting(server);
  options.max_bytes = 4096;
  HttpFailure failure;
  StatusOr<HttpGetResult> got = HttpGet(server.Url("/big.yml"), options, &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTooLarge);
}

TEST(HttpGetTest, SendsCredentialsToTheirHostOnlyAndNeverShowsThem) {
  TestHttpsServer server;
  server.Write("a.yml", "a: 1\n");
  std::string with_auth =
      "https://user:secret@127.0.0.1:" + std::to_string(server.port()) + "/auth/a.yml";
  StatusOr<HttpGetResult> got = HttpGet(with_auth, Trusting(server));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->url.find("secret"), std::string::npos);
  // An error names the URL without them.
  HttpGetOptions other;
  other.ca_file = server.dir() + "/other_ca.crt";
  got = HttpGet(with_auth, other);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message().find("secret"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("https://*****:*****@127.0.0.1"), std::string::npos)
      << got.status().message();
  // A redirect to another server does not take them along.
  TestHttpsServer elsewhere;
  elsewhere.Write("a.yml", "a: 1\n");
  HttpGetOptions both = Trusting(server);
  both.ca_file = server.dir() + "/both.crt";
  {
    std::ofstream out(both.ca_file);
    out << std::ifstream(server.ca_file()).rdbuf() << std::ifstream(elsewhere.ca_file()).rdbuf();
  }
  got = HttpGet("https://user:secret@127.0.0.1:" + std::to_string(server.port()) +
                    "/redirect?to=" + elsewhere.Url("/a.yml"),
                both);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "a: 1\n");
  EXPECT_EQ(elsewhere.Requests(), "/a.yml -\n");
}

TEST(HttpGetTest, ParsesUrls) {
  HttpUrl url;
  ASSERT_TRUE(ParseHttpUrl("HTTPS://u:p@Example.com/a/b.yml?x=1#frag", &url));
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.userinfo, "u:p");
  EXPECT_EQ(url.host, "Example.com");
  EXPECT_EQ(url.port, "443");
  EXPECT_EQ(url.target, "/a/b.yml?x=1");
  ASSERT_TRUE(ParseHttpUrl("http://[::1]:8080", &url));
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.target, "/");
  for (const char* bad : {"ftp://h/x", "https:///x", "https://h:0/x", "https://h:99999/x",
                          "https://h:x/y", "h/x", "https://[::1/x"}) {
    EXPECT_FALSE(ParseHttpUrl(bad, &url)) << bad;
  }
}

TEST(HttpFetchTest, AnAuthorizationHeaderGoesToTheFirstOriginOnly) {
  // A registry redirects blobs to a storage service: the token stays home.
  TestHttpsServer registry(false), storage(false);
  storage.Write("blob", "content");
  HttpFetchRequest request;
  request.url = registry.Url("/redirect?to=" + storage.Url("/blob"));
  request.headers = {{"Authorization", "Bearer registry-token"}, {"Accept", "x/y"}};
  HttpGetOptions options;
  options.allow_http = true;
  StatusOr<HttpFetchResponse> got = HttpFetch(request, options);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "content");
  EXPECT_EQ(registry.Requests(),
            "/redirect?to=" + storage.Url("/blob") + " Bearer registry-token\n");
  EXPECT_EQ(storage.Requests(), "/blob -\n");
}

TEST(HttpFetchTest, StreamsA2xxBodyToTheSinkAndKeepsOthers) {
  TestHttpsServer server(false);
  std::string big(300 << 10, 'x');
  server.Write("big", big);
  HttpGetOptions options;
  options.allow_http = true;
  options.max_bytes = 1 << 20;
  std::string streamed;
  size_t pieces = 0;
  HttpFetchRequest request;
  request.url = server.Url("/big");
  request.sink = [&](std::string_view piece) {
    streamed += piece;
    ++pieces;
    return Status::Ok();
  };
  StatusOr<HttpFetchResponse> got = HttpFetch(request, options);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->body, "");
  EXPECT_EQ(streamed, big);
  EXPECT_GT(pieces, 1u);
  EXPECT_EQ(got->headers["content-length"], std::to_string(big.size()));
  // A 404's body is kept for the caller to quote, not streamed.
  streamed.clear();
  request.url = server.Url("/missing");
  got = HttpFetch(request, options);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->status, 404);
  EXPECT_EQ(got->body, "not found");
  EXPECT_EQ(streamed, "");
  // The sink's error ends the exchange, as it is.
  request.url = server.Url("/big");
  request.sink = [](std::string_view) { return Status::Error("disk full"); };
  got = HttpFetch(request, options);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "disk full");
  // The bound holds for streamed bodies too.
  options.max_bytes = 1000;
  request.sink = [](std::string_view) { return Status::Ok(); };
  HttpFailure failure;
  got = HttpFetch(request, options, &failure);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kTooLarge);
}

// A server that never answers (a registry stuck mid-pull): the fetch ends
// once the caller's flag says so, not when its timeout (a blob's: half an
// hour) passes.
TEST(HttpFetchTest, ACanceledFetchEndsWithoutAnAnswer) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 4), 0);  // The kernel accepts; nobody answers.
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  HttpGetOptions options;
  options.allow_http = true;
  options.timeout = std::chrono::minutes(30);
  int polls = 0;
  options.canceled = [&] { return ++polls > 3; };
  HttpFetchRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/v2/x/blobs/y";
  HttpFailure failure;
  StatusOr<HttpFetchResponse> got = HttpFetch(request, options, &failure);
  close(listener);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(failure, HttpFailure::kCanceled);
  EXPECT_EQ(got.status().message(), request.url + ": canceled");
}

}  // namespace
}  // namespace slipway
