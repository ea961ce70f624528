#!/usr/bin/env bash
# Include-fetching benchmark (issue: every pipeline GitLab accepts): a pipeline
# of 20 included files — 10 `remote` over HTTPS from a local server with a test
# CA, 10 `project` files from a local git server (--include-server) — linted
# with an empty include cache (the first run: bounded by the fetches), then
# from the cache, beside the same 20 files as `local` includes.
# Everything is on loopback and stops with the script.
# Usage: bench/lint_includes.sh [build-dir]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
git_commit() { git -c user.email=b@e -c user.name=bench commit -qm "$1"; }

# A test CA and a certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout ca.key \
  -out ca.pem -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile san.ext -out srv.pem 2>/dev/null

job() {  # name
  printf '%s:\n  stage: test\n  script:\n    - echo %s\n  rules:\n    - if: $CI_COMMIT_BRANCH == "main"\n' "$1" "$1"
}
mkdir -p www local srv/group/ci
for i in $(seq 1 10); do
  job "remote-$i" > "www/r$i.yml"
  job "project-$i" > "srv/group/ci/p$i.yml"
  cp "www/r$i.yml" "local/r$i.yml"
  cp "srv/group/ci/p$i.yml" "local/p$i.yml"
done
(cd srv/group/ci && git init -q -b main && git add -A && git_commit templates)

# The HTTPS server: port 0, its port on stdout; gone when this script ends.
python3 - "$work/www" "$work/srv.pem" "$work/srv.key" > port.txt <<'PY' &
import functools, http.server, ssl, sys

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
handler = functools.partial(Quiet, directory=sys.argv[1])
# A listen backlog of 5 (http.server's default) drops the SYNs of parallel
# fetches beyond it, which then wait a second for TCP to send them again.
http.server.ThreadingHTTPServer.request_queue_size = 64
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
PY
server_pid=$!
for _ in $(seq 1 100); do [ -s port.txt ] && break; sleep 0.05; done
port=$(cat port.txt)

mkdir fetched && cd fetched
{
  echo "stages: [test]"
  echo "include:"
  for i in $(seq 1 10); do echo "  - remote: https://127.0.0.1:$port/r$i.yml"; done
  echo "  - project: group/ci"
  echo "    file:"
  for i in $(seq 1 10); do echo "      - p$i.yml"; done
} > .gitlab-ci.yml
git init -q -b main && git add -A && git_commit fetched
cd "$work" && mkdir plain && cd plain
cp ../local/*.yml .
{
  echo "stages: [test]"
  echo "include:"
  for i in $(seq 1 10); do echo "  - local: r$i.yml"; done
  for i in $(seq 1 10); do echo "  - local: p$i.yml"; done
} > .gitlab-ci.yml
git init -q -b main && git add -A && git_commit plain

export SSL_CERT_FILE=$work/ca.pem XDG_CACHE_HOME=$work/cache
cd "$work/fetched"
start=$(date +%s.%N)
"$slipway" lint --include-server "$work/srv"
end=$(date +%s.%N)
echo "first run, empty cache (10 HTTPS + 10 project files fetched): $(echo "$end - $start" | bc) s"
"$slipway" lint --offline --include-server "$work/srv" >/dev/null
echo "second run from the cache (lint) vs the same files as local includes (lint):"
hyperfine --runs 20 --warmup 2 "cd $work/plain && $slipway lint" \
  "cd $work/fetched && $slipway lint --include-server $work/srv"
