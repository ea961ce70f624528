#!/usr/bin/env python3
"""The example's HTTP service, on loopback.

It serves the release that <root>/current points to, reading it on every
request, so that a deploy is an atomic switch of that link (the way
capistrano-style deploys work) and needs no restart:

  GET /healthz  200 "ok", or 503 "unhealthy" when the release was built to
                fail (its file `fail` exists: made to fail on demand)
  GET /version  {"version": "<the release's version file>"}
  GET /metrics  Prometheus text: requests served, by path and status code

usage: service.py ROOT [PORT]   (PORT 0 or none: a free one)
Prints the port it listens on as its first line; stops when stdin closes
(or on SIGTERM), so that whoever started it can always stop it.
"""
import http.server
import json
import os
import sys
import threading

ROOT = os.path.abspath(sys.argv[1])
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
COUNTS = {}
LOCK = threading.Lock()


def release_file(name):
    with open(os.path.join(ROOT, "current", name)) as f:
        return f.read().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with LOCK:
            key = (self.path, code)
            COUNTS[key] = COUNTS.get(key, 0) + 1

    def do_GET(self):
        try:
            if self.path == "/metrics":
                with LOCK:
                    lines = ['deliver_requests_total{path="%s",code="%d"} %d' % (p, c, n)
                             for (p, c), n in sorted(COUNTS.items())]
                return self.reply(200, "# TYPE deliver_requests_total counter\n" +
                                  "".join(line + "\n" for line in lines))
            if self.path == "/healthz":
                if os.path.exists(os.path.join(ROOT, "current", "fail")):
                    return self.reply(503, "unhealthy\n")
                return self.reply(200, "ok\n")
            if self.path == "/version":
                return self.reply(200, json.dumps({"version": release_file("version")}) + "\n",
                                  "application/json")
            return self.reply(404, "not found\n")
        except OSError as e:  # No release deployed yet.
            return self.reply(503, "no release: %s\n" % e.strerror)


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.read()
