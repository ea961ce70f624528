#!/usr/bin/env python3
"""The delivery example end to end (examples/deliver/README.md), also a CTest test.

A temporary git repository holding this directory's .gitlab-ci.yml and
VERSION, the example service (service.py) on a free loopback port, and
`slipway serve` with a temporary data directory, driven through its API:

  1. v1 is built and deployed; its checks pass; /version answers v1.
  2. v2 is built to fail (a file FAIL); its deploy removes v1's release,
     its checks fail, the deploy job and the pipeline fail.
  3. slipway rolls production back by itself: v1's deploy job runs again
     with v1's stored artifacts; /version answers v1, and v1 was not built
     again (builds.log).
  4. The history reads: v1 success, v2 failed, rollback of v2 to v1 success.

usage: scenario.py PATH/TO/slipway
Everything runs on 127.0.0.1; every process it starts is stopped at the end.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SLIPWAY = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "slipway"
# A guard against hangs only: each wait ends as soon as its condition holds.
HANG_GUARD_S = 120


def run(*args, cwd=None):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def step(text):
    print("==> " + text, flush=True)


def wait_for(what, fetch, done):
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError("still waiting for %s: %r" % (what, value))
        time.sleep(0.1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Started:
    """A process that prints its URL or port on its first line."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.first_line = self.proc.stdout.readline().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Api:
    def __init__(self, url, token):
        self.url = url + "/api/v4"
        self.token = token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("PRIVATE-TOKEN", self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req) as response:
            return json.loads(response.read())


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class VersionWatch:
    """Polls a /version URL every 20 ms in a thread: when v2 first answers,
    and when v1 answers after that."""

    def __init__(self, url):
        self.url = url
        self.v2_at = None
        self.v1_again_at = None
        self.done = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while not self.done.is_set():
            code, body = get(self.url)
            now = time.monotonic()
            if code == 200 and '"v2"' in body and self.v2_at is None:
                self.v2_at = now
            if code == 200 and '"v1"' in body and self.v2_at is not None:
                self.v1_again_at = now
                self.done.set()
            time.sleep(0.02)

    def wait_recovered(self):
        check(self.done.wait(HANG_GUARD_S), "v1 never came back")
        return self.v1_again_at - self.v2_at


def main():
    root = tempfile.mkdtemp(prefix="slipway-deliver-")
    # A server running as root runs jobs as another user, which must reach
    # the builds directory below this one, and write the releases.
    os.chmod(root, 0o711)
    deliver_root = os.path.join(root, "host")
    os.makedirs(os.path.join(deliver_root, "releases"))
    for d in (deliver_root, os.path.join(deliver_root, "releases")):
        os.chmod(d, 0o777)
    repo = os.path.join(root, "repo")
    os.makedirs(repo)
    started = []
    stops = []
    try:
        step("the project: a git repository with the example's pipeline and VERSION v1")
        for name in (".gitlab-ci.yml", "VERSION"):
            shutil.copy(os.path.join(HERE, name), repo)
        git = ["git", "-c", "user.name=example", "-c", "user.email=example@localhost"]
        run("git", "init", "-q", "-b", "main", cwd=repo)
        run("git", "add", ".", cwd=repo)
        run(*git, "commit", "-q", "-m", "v1", cwd=repo)
        v1_sha = run("git", "rev-parse", "HEAD", cwd=repo).strip()

        step("the service on loopback, serving " + deliver_root + "/current")
        service = Started([sys.executable, os.path.join(HERE, "service.py"), deliver_root])
        started.append(service)
        port = int(service.first_line)
        service_url = "http://127.0.0.1:%d" % port

        step("Prometheus on loopback, scraping the service (scripts/prometheus.sh)")
        prometheus_dir = os.path.join(root, "prometheus")
        prometheus_script = os.path.join(HERE, "..", "..", "scripts", "prometheus.sh")
        prometheus_url = run("bash", prometheus_script, "start", prometheus_dir,
                             "127.0.0.1:%d" % port).strip()
        stops.append(lambda: run("bash", prometheus_script, "stop", prometheus_dir))

        step("slipway serve with the project registered")
        data = os.path.join(root, "data")
        token = run(SLIPWAY, "token", "create", "--data", data, "--name", "deployer", "--role",
                    "admin").strip()
        project = int(run(SLIPWAY, "project", "add", "--data", data, "--path", "example/deliver",
                          "deliver", repo))
        server = Started([SLIPWAY, "serve", "--data", data, "--listen", "127.0.0.1:0", "--jobs",
                          "2"])
        started.append(server)
        check("listening on " in server.first_line, "serve did not start: " + server.first_line)
        api = Api(server.first_line.split("listening on ")[1], token)
        variables = [{"key": "DELIVER_ROOT", "value": deliver_root},
                     {"key": "DELIVER_URL", "value": service_url},
                     {"key": "DELIVER_ADDRESS", "value": "127.0.0.1:%d" % port},
                     {"key": "DELIVER_PROMETHEUS", "value": prometheus_url}]

        def pipeline(name):
            created = api.call("POST", "/projects/%d/pipeline" % project,
                               {"ref": "main", "variables": variables})
            done = wait_for("pipeline " + name,
                            lambda: api.call("GET", "/projects/%d/pipelines/%d" %
                                             (project, created["id"])),
                            lambda p: p["status"] in ("success", "failed", "canceled"))
            print("    pipeline %d (%s): %s" % (done["id"], name, done["status"]), flush=True)
            return done

        def deployments():
            return api.call("GET", "/projects/%d/deployments?environment=production"
                            "&order_by=id&sort=asc" % project)

        step("v1: build, deploy, checks")
        check(pipeline("v1")["status"] == "success", "v1 should deploy")
        check(get(service_url + "/version") == (200, '{"version": "v1"}\n'), "v1 served")

        step("v2, built to fail: its checks fail and production is rolled back")
        with open(os.path.join(repo, "VERSION"), "w") as f:
            f.write("v2\n")
        with open(os.path.join(repo, "FAIL"), "w") as f:
            f.write("made to fail on demand\n")
        run("git", "add", ".", cwd=repo)
        run(*git, "commit", "-q", "-m", "v2", cwd=repo)
        # Watches /version from the side, as a user would: from the moment v2
        # is served (its deploy script ended) to v1 being served again.
        watch = VersionWatch(service_url + "/version")
        check(pipeline("v2")["status"] == "failed", "v2 should fail its checks")
        history = wait_for("the rollback", deployments,
                           lambda d: len(d) == 3 and d[2]["status"] not in ("created", "running"))

        step("production answers v1 again, and v1 was not built again")
        recovered = watch.wait_recovered()
        print("    recovered in %.2f s: from v2 first served to v1 served again" % recovered,
              flush=True)
        check(get(service_url + "/version") == (200, '{"version": "v1"}\n'), "v1 served again")
        check(get(service_url + "/healthz")[0] == 200, "healthy again")
        with open(os.path.join(deliver_root, "builds.log")) as f:
            builds = f.read()
        check(builds == "built v1\nbuilt v2\n", "builds: " + builds)

        step("the deployment history")
        for d in history:
            print("    #%d %s %s%s checks: %s" % (
                d["iid"], d["sha"][:8], d["status"],
                " (rollback of %d)" % d["rollback_of"] if d["rollback_of"] else "",
                ", ".join("%s %s" % (c["name"], c["outcome"]) for c in d["checks"])),
                flush=True)
        check([d["status"] for d in history] == ["success", "failed", "success"],
              "history: %r" % [d["status"] for d in history])
        check(history[0]["sha"] == v1_sha and history[2]["sha"] == v1_sha, "v1's commit")
        check(history[2]["rollback_of"] == history[1]["id"], "marked as a rollback of v2")
        check(history[1]["checks"][0]["outcome"] == "fail", "v2's healthz check failed")
        check(history[2]["deployable"]["name"] == "deploy", "v1's deploy job, run again")
        check([c["outcome"] for c in history[0]["checks"]] == ["pass", "pass", "pass"],
              "v1's checks: %r" % history[0]["checks"])

        step("the incident the rollback opened")
        incidents = api.call("GET", "/projects/%d/issues?issue_type=incident" % project)
        check(len(incidents) == 1, "one incident: %r" % incidents)
        incident = incidents[0]
        print("    #%d %s: %s (deployment %s, from %s)" % (
            incident["iid"], incident["state"], incident["title"], incident["deployment_id"],
            incident["incident_source"]))
        check(incident["state"] == "opened", "the incident is open")
        check(incident["deployment_id"] == history[1]["id"], "linked to v2's deployment")
        check(incident["incident_source"] == "rollback", "opened by the rollback")
        step("done")
        return 0
    finally:
        for p in reversed(started):
            p.stop()
        for stop in stops:
            stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
