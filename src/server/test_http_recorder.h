// Test helper (header-only, tests only): a local HTTP server (a python
// script on loopback, util/test_python_server.h) standing in for the
// services slipway posts to — an event broker, a forge's API, a hook
// receiver — none of which can run here. It records every request it gets,
// with the status it answered, for the test to check against the
// service's documented request shape.
#ifndef SLIPWAY_SERVER_TEST_HTTP_RECORDER_H_
#define SLIPWAY_SERVER_TEST_HTTP_RECORDER_H_

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/test_dir.h"
#include "util/test_python_server.h"

namespace slipway {

class TestHttpRecorder {
 public:
  // A request whose path starts with refuse_prefix (when not empty) is
  // answered 401 every time; the first request whose path starts with
  // fail_once_prefix is answered 502; every other one 201.
  explicit TestHttpRecorder(const std::string& refuse_prefix = "",
                            const std::string& fail_once_prefix = "") {
    std::ofstream(dir_.path() + "/server.py") << kScript;
    server_ = std::make_unique<TestPythonServer>(
        std::vector<std::string>{dir_.path() + "/server.py", dir_.path() + "/requests",
                                 refuse_prefix.empty() ? "\x01" : refuse_prefix,
                                 fail_once_prefix.empty() ? "\x01" : fail_once_prefix});
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  // Every request so far, in order: {method, path, headers (names in lower
  // case), body, status}.
  std::vector<nlohmann::json> Requests() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir_.path() + "/requests");
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

 private:
  static constexpr const char* kScript = R"PY(
import http.server, json, sys, threading
log, refuse, fail_once = sys.argv[1], sys.argv[2], sys.argv[3]
failed = {"once": False}
lock = threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with lock:
            status = 201
            if self.path.startswith(refuse):
                status = 401
            elif self.path.startswith(fail_once) and not failed["once"]:
                failed["once"] = True
                status = 502
            with open(log, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path, "status": status,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
)PY";

  TempDir dir_;
  std::unique_ptr<TestPythonServer> server_;
};

}  // namespace slipway

#endif  // SLIPWAY_SERVER_TEST_HTTP_RECORDER_H_
