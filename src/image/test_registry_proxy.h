// A registry in front of the test registry (scripts/registry.sh) for the
// cases Debian's docker-registry cannot show without TLS and a token
// service of its own: it asks for authentication as Docker Hub and GitLab's
// registry do (a 401 with a Bearer challenge naming its own token service,
// or Basic), or corrupts every blob it serves. Everything else it forwards
// to the real registry as it is. Test-only; not part of the engine.
#ifndef SLIPWAY_IMAGE_TEST_REGISTRY_PROXY_H_
#define SLIPWAY_IMAGE_TEST_REGISTRY_PROXY_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "util/test_dir.h"
#include "util/test_python_server.h"

namespace slipway {

inline constexpr const char* kTestRegistryProxyScript = R"PY(
import base64, http.server, sys, threading, urllib.request, urllib.error
upstream, mode, creds, log = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
TOKEN = "token-for-slipway-test"
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        auth = self.headers.get("Authorization", "-")
        with open(log, "a") as f: f.write(self.path + " " + auth + "\n")
        basic = "Basic " + base64.b64encode(creds.encode()).decode()
        if self.path.startswith("/token?"):
            if creds != "-" and auth != basic:
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad user or password"}]}')
            return self.reply(200, ('{"token": "%s"}' % TOKEN).encode())
        host = self.headers.get("Host")
        if mode == "token" and auth != "Bearer " + TOKEN:
            repo = self.path.split("/")[2] + "/" + self.path.split("/")[3]
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', [
                ("WWW-Authenticate", 'Bearer realm="http://%s/token",service="test-registry",scope="repository:%s:pull"' % (host, repo))])
        if mode == "basic" and auth != basic:
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', [
                ("WWW-Authenticate", 'Basic realm="test-registry"')])
        request = urllib.request.Request("http://" + upstream + self.path)
        if self.headers.get("Accept"): request.add_header("Accept", self.headers.get("Accept"))
        try:
            with urllib.request.urlopen(request) as r:
                code, body, headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            code, body, headers = e.code, e.read(), e.headers
        big = len(body) > 4096
        if (mode == "corrupt" or (mode == "corrupt-large" and big)) and "/blobs/" in self.path \
                and code == 200 and body:
            body = body[:-1] + bytes([body[-1] ^ 1])
        if mode == "stall" and "/blobs/" in self.path and code == 200 and len(body) > 4096:
            # Half of a large blob, then nothing: a pull stuck mid-blob.
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            threading.Event().wait()
        keep = [(k, headers[k]) for k in ("Content-Type", "Docker-Content-Digest") if headers.get(k)]
        self.reply(code, body, keep)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
import threading
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.read()
)PY";

class TestRegistryProxy {
 public:
  // mode: "token" (Bearer from its /token, which wants credentials as
  // Basic unless they are "-"), "basic", "corrupt", "corrupt-large" (only
  // blobs over 4 KiB), "stall" (half of each
  // blob over 4 KiB, then silence) or "plain".
  TestRegistryProxy(const std::string& upstream, const std::string& mode,
                    const std::string& credentials = "-") {
    std::ofstream(dir_.Sub("proxy.py")) << kTestRegistryProxyScript;
    server_ = std::make_unique<TestPythonServer>(
        std::vector<std::string>{dir_.Sub("proxy.py"), upstream, mode, credentials, log_file()});
  }
  ~TestRegistryProxy() { Stop(); }
  TestRegistryProxy(const TestRegistryProxy&) = delete;
  TestRegistryProxy& operator=(const TestRegistryProxy&) = delete;

  // Ends the proxy (the server exits when its stdin closes); its port then
  // refuses connections.
  void Stop() { server_->Stop(); }
  // "127.0.0.1:PORT", a registry host for image names.
  std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  // Every request so far, one line each: "PATH AUTHORIZATION".
  std::string Requests() const {
    std::ifstream in(log_file());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string log_file() const { return dir_.path() + "/requests.log"; }
  TempDir dir_;
  std::unique_ptr<TestPythonServer> server_;
};

}  // namespace slipway

#endif  // SLIPWAY_IMAGE_TEST_REGISTRY_PROXY_H_
