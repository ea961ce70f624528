// Test helper (header-only, tests only): a real HTTPS (or HTTP) server on
// loopback, port 0, serving the files of a directory, with a CA and a server
// certificate the helper makes with the openssl CLI. It is python3's
// http.server behind the ssl module; it exits when its stdin closes, so it
// stops with the test (also when the test process dies).
//
// Paths: /<file> serves root()/<file> (404 when missing);
// /redirect?to=URL answers 302 to URL; /loop redirects to itself; /auth/<file> serves <file> only
// with `Authorization: Basic <base64 of required_auth>` (401 otherwise); /barrier/<n>/<file> serves
// <file> once n such requests wait at once (504 when fewer than n came within 10 s: the fetches
// were not concurrent). Every request is logged to requests() as "PATH AUTHORIZATION" lines.
#ifndef SLIPWAY_UTIL_TEST_HTTPS_SERVER_H_
#define SLIPWAY_UTIL_TEST_HTTPS_SERVER_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "util/spawn.h"
#include "util/test_python_server.h"
#include "util/unique_fd.h"

namespace slipway {

inline constexpr const char* kTestHttpServerScript = R"PY(
import base64, http.server, ssl, sys, threading, urllib.parse, os
root, log, mode, required = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
barriers, barriers_lock = {}, threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + " " + self.headers.get("Authorization", "-") + "\n")
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if path == "/redirect":
            to = urllib.parse.parse_qs(url.query)["to"][0]
            return self.reply(302, b"", [("Location", to)])
        if path == "/loop":
            return self.reply(302, b"", [("Location", "/loop")])
        if path.startswith("/barrier/"):
            _, _, n, rest = path.split("/", 3)
            with barriers_lock:
                barrier = barriers.setdefault(n, threading.Barrier(int(n)))
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                return self.reply(504, b"alone at the barrier")
            path = "/" + rest
        if path.startswith("/auth/"):
            want = "Basic " + base64.b64encode(required.encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, b"unauthorized")
            path = path[len("/auth"):]
        file = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not file.startswith(os.path.realpath(root) + "/") or not os.path.isfile(file):
            return self.reply(404, b"not found")
        with open(file, "rb") as f:
            self.reply(200, f.read(), [("Content-Type", "text/plain")])
http.server.ThreadingHTTPServer.request_queue_size = 64  # Parallel fetches.
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if mode != "http":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(mode + "/server.crt", mode + "/server.key")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.read()
)PY";

class TestHttpsServer {
 public:
  // tls: serve HTTPS with a certificate for the names in san (127.0.0.1 and
  // localhost by default) signed by ca_file(); else plain HTTP.
  // required_auth: "user:password" that /auth/ paths want.
  explicit TestHttpsServer(bool tls = true, std::string required_auth = "user:secret",
                           std::string san = "DNS:localhost,IP:127.0.0.1") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-https-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    std::filesystem::create_directories(root());
    std::ofstream(dir_ + "/server.py") << kTestHttpServerScript;
    if (tls) MakeCertificates(san);
    server_ = std::make_unique<TestPythonServer>(
        std::vector<std::string>{dir_ + "/server.py", root(), requests_file(),
                                 tls ? dir_ : std::string("http"), required_auth});
    port_ = server_->port();
  }
  ~TestHttpsServer() {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestHttpsServer(const TestHttpsServer&) = delete;
  TestHttpsServer& operator=(const TestHttpsServer&) = delete;

  int port() const { return port_; }
  std::string root() const { return dir_ + "/root"; }
  std::string ca_file() const { return dir_ + "/ca.crt"; }
  std::string dir() const { return dir_; }
  // "https://127.0.0.1:PORT" (or http://).
  std::string Url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  void Write(const std::string& path, const std::string& content) const {
    std::filesystem::path p = std::filesystem::path(root()) / path;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << content;
  }
  std::string Requests() const {
    std::ifstream in(requests_file());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Makes a CA (ca.crt) and another, unrelated one (other_ca.crt), and a
  // certificate for san signed by the first.
  void MakeCertificates(const std::string& san) {
    tls_ = true;
    std::ofstream(dir_ + "/san.ext") << "subjectAltName=" << san << "\n";
    for (const char* ca : {"ca", "other_ca"}) {
      Openssl(
          "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
          "-subj /CN=slipway-test-" +
          std::string(ca) + " -keyout " + dir_ + "/" + ca + ".key -out " + dir_ + "/" + ca +
          ".crt");
    }
    Openssl(
        "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost "
        "-keyout " +
        dir_ + "/server.key -out " + dir_ + "/server.csr");
    Openssl("x509 -req -in " + dir_ + "/server.csr -CA " + dir_ + "/ca.crt -CAkey " + dir_ +
            "/ca.key -CAcreateserial -days 2 -extfile " + dir_ + "/san.ext -out " + dir_ +
            "/server.crt");
  }

 private:
  std::string requests_file() const { return dir_ + "/requests.log"; }
  static void Openssl(const std::string& args) {
    // Fixed arguments and a mkdtemp path: nothing for a shell to misread.
    std::string command = "openssl " + args + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }

  std::string dir_;
  bool tls_ = false;
  std::unique_ptr<TestPythonServer> server_;
  int port_ = 0;
};

}  // namespace slipway

#endif  // SLIPWAY_UTIL_TEST_HTTPS_SERVER_H_
