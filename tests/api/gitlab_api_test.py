#!/usr/bin/env python3
"""End-to-end test of `slipway serve` with python-gitlab (Debian's python3-gitlab).

Starts the real server on a free loopback port with a temporary data directory,
creates tokens with `slipway token create`, registers a temporary git repository
with `slipway project add`, and drives the API as a GitLab client would:
pipelines with variables, filters, traces, artifacts, retry, cancel, play,
delete, the live log stream, webhooks, 401 and 403; resource groups and
outdated deployment jobs, protected environments, deployment approvals and
freeze periods (low-level calls where python-gitlab 3.12 has no manager);
incidents through
project.issues, Alertmanager's webhook, and DORA metrics (python-gitlab 3.12
has no DORA manager: its low-level gl.http_get reaches the endpoint); commit
statuses, project hooks (delivered to a receiver this test runs) and a
merge-request webhook.

usage: gitlab_api_test.py PATH/TO/slipway
"""
import hashlib
import hmac
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import zipfile

import gitlab

SLIPWAY = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "slipway"
# A guard against hangs only: every wait below ends as soon as its condition holds.
HANG_GUARD_S = 120

PIPELINE = """\
workflow:
  name: 'Build of $CI_COMMIT_REF_NAME'
stages: [build, test, deploy]
build:
  stage: build
  script:
    - echo "building $GREETING"
    - echo "pipeline name=[$CI_PIPELINE_NAME]"
    - mkdir -p out && echo hello > out/result.txt
  artifacts:
    paths: [out/]
test:
  stage: test
  script:
    - echo "testing"
    - echo '<testsuite tests="1"><testcase name="ok"/></testsuite>' > report.xml
  artifacts:
    reports:
      junit: report.xml
slow:
  stage: test
  script:
    - if [ "$SLOW" = "1" ]; then sleep 600; fi
    - echo "slow done"
deploy:
  stage: deploy
  when: manual
  script:
    - echo "deploying"
"""

SECRET = "s3cret"


def run(*args, cwd=None):
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


class Server:
    def __init__(self, root):
        self.data = os.path.join(root, "data")
        self.repo = os.path.join(root, "repo")
        os.makedirs(self.repo)
        run("git", "init", "-q", "-b", "main", cwd=self.repo)
        with open(os.path.join(self.repo, ".gitlab-ci.yml"), "w") as f:
            f.write(PIPELINE)
        run("git", "add", ".", cwd=self.repo)
        run("git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "ci",
            cwd=self.repo)
        self.sha = run("git", "rev-parse", "HEAD", cwd=self.repo).strip()
        self.admin = run(SLIPWAY, "token", "create", "--data", self.data, "--name", "admin",
                         "--role", "admin").strip()
        self.reader = run(SLIPWAY, "token", "create", "--data", self.data, "--name", "reader",
                          "--role", "read").strip()
        self.project_id = int(run(SLIPWAY, "project", "add", "--data", self.data, "--path",
                                  "team/app", "--webhook-secret", SECRET, "app", self.repo))
        self.proc = subprocess.Popen([SLIPWAY, "serve", "--data", self.data, "--listen",
                                      "127.0.0.1:0", "--jobs", "2"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on " not in line:
            raise RuntimeError("serve did not start: %r" % line)
        self.url = line.split("listening on ")[1].strip()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=HANG_GUARD_S)


def wait_for(what, fetch, done):
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError("still waiting for %s: %r" % (what, value))
        time.sleep(0.1)


ACTIVE = ("created", "waiting_for_resource", "preparing", "pending", "running")


class GitLabApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="slipway-api-")
        # Run as root, the server runs jobs as other users, which must pass
        # through this directory to the builds directory (it refuses to
        # start otherwise); mkdtemp makes it 0700.
        os.chmod(cls.root, 0o711)
        cls.server = Server(cls.root)
        cls.gl = gitlab.Gitlab(cls.server.url, private_token=cls.server.admin)
        cls.gl.auth()
        cls.project = cls.gl.projects.get("team/app")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.root, ignore_errors=True)
        assert code == 0, "serve exited with %d" % code

    def finished(self, pipeline):
        return wait_for("pipeline %d" % pipeline.id,
                        lambda: self.project.pipelines.get(pipeline.id),
                        lambda p: p.status not in ACTIVE)

    def job(self, pipeline, name, include_retried=False):
        jobs = [j for j in pipeline.jobs.list(all=True, include_retried=include_retried)
                if j.name == name]
        self.assertTrue(jobs, name)
        return self.project.jobs.get(jobs[-1].id)

    def test_user_and_project(self):
        self.assertEqual(self.gl.user.username, "admin")
        self.assertEqual(self.project.id, self.server.project_id)
        self.assertEqual(self.project.path_with_namespace, "team/app")
        self.assertEqual(self.gl.projects.get(self.server.project_id).name, "app")
        self.assertIn("team/app", [p.path_with_namespace for p in self.gl.projects.list()])

    def test_repository_branches_commits_and_files(self):
        branches = {b.name: b for b in self.project.branches.list(all=True)}
        self.assertIn("main", branches)
        main = self.project.branches.get("main")
        self.assertTrue(main.default)
        self.assertEqual(main.commit["id"], branches["main"].commit["id"])
        commits = self.project.commits.list(ref_name="main", all=True)
        self.assertEqual(commits[0].id, main.commit["id"])
        self.assertEqual(self.project.commits.get(commits[0].short_id).id, commits[0].id)
        f = self.project.files.get(file_path=".gitlab-ci.yml", ref="main")
        self.assertIn(b"stages", f.decode())
        raw = self.project.files.raw(file_path=".gitlab-ci.yml", ref="main")
        self.assertEqual(raw, f.decode())
        with self.assertRaises(gitlab.exceptions.GitlabGetError) as missing:
            self.project.files.get(file_path="no/such/file", ref="main")
        self.assertEqual(missing.exception.response_code, 404)

    def test_projects_created_and_deleted(self):
        doomed = self.gl.projects.create({"name": "doomed", "path": "team/doomed",
                                          "import_url": self.server.repo})
        pipeline = doomed.pipelines.create({"ref": "main"})
        self.gl.projects.delete(doomed.id)
        with self.assertRaises(gitlab.exceptions.GitlabGetError) as gone:
            self.gl.projects.get(doomed.id)
        self.assertEqual(gone.exception.response_code, 404)
        self.assertNotIn("team/doomed", [p.path_with_namespace for p in self.gl.projects.list()])

    def test_ci_lint_of_the_project_and_of_content(self):
        result = self.project.ci_lint.get()
        self.assertTrue(result.valid, result.errors)
        self.assertIn("stages", result.merged_yaml)
        lint = self.project.ci_lint.create({"content": "job:\n  script: [true]\n  bogus: 1\n",
                                            "include_jobs": True})
        self.assertFalse(lint.valid)
        self.assertTrue(any("bogus" in e for e in lint.errors), lint.errors)

    def test_artifacts_by_ref_test_report_keep_and_delete(self):
        pipeline = self.project.pipelines.create({"ref": "main"})
        done = self.finished(pipeline)
        self.assertEqual(done.status, "success")
        build = self.job(pipeline, "build")
        # By ref name: the job of the ref's latest successful pipeline.
        archive = zipfile.ZipFile(io.BytesIO(
            self.project.artifacts.download(ref_name="main", job="build")))
        self.assertEqual(archive.read("out/result.txt"), b"hello\n")
        self.assertEqual(self.project.artifacts.raw("main", "out/result.txt", "build"),
                         b"hello\n")
        with self.assertRaises(gitlab.exceptions.GitlabGetError):
            self.project.artifacts.raw("main", "../../../etc/passwd", "build")
        # The junit report of the test job as GitLab's test report.
        report = pipeline.test_report.get()
        self.assertEqual(report.total_count, 1)
        self.assertEqual(report.success_count, 1)
        self.assertEqual(report.test_suites[0]["name"], "test")
        self.assertEqual(report.test_suites[0]["test_cases"][0]["name"], "ok")
        self.assertEqual(report.test_suites[0]["test_cases"][0]["status"], "success")
        summary = pipeline.test_report_summary.get()
        self.assertEqual(summary.total["count"], 1)
        self.assertEqual(summary.test_suites[0]["build_ids"],
                         [self.job(pipeline, "test").id])
        # Keep, then delete: the archive goes, the log stays.
        build.keep_artifacts()
        self.assertIsNone(self.project.jobs.get(build.id).artifacts_expire_at)
        build.delete_artifacts()
        after = self.project.jobs.get(build.id)
        self.assertFalse(hasattr(after, "artifacts_file"))
        self.assertEqual([a["file_type"] for a in after.attributes["artifacts"]], ["trace"])
        with self.assertRaises(gitlab.exceptions.GitlabGetError):
            after.artifacts()

    def test_pipeline_with_variables_jobs_trace_artifacts(self):
        pipeline = self.project.pipelines.create(
            {"ref": "main", "variables": [{"key": "GREETING", "value": "world"}]})
        self.assertEqual(pipeline.ref, "main")
        self.assertEqual(pipeline.source, "api")
        self.assertEqual(pipeline.name, "Build of main")  # workflow:name, expanded.
        # Everything but the manual job runs; the manual job allows failure.
        build = wait_for("build", lambda: self.job(pipeline, "build"),
                         lambda j: j.status not in ACTIVE)
        self.assertEqual(build.status, "success")
        self.assertIn(b"building world", build.trace())
        self.assertIn(b"pipeline name=[Build of main]", build.trace())
        self.assertEqual(build.artifact("out/result.txt"), b"hello\n")
        archive = zipfile.ZipFile(io.BytesIO(build.artifacts()))
        self.assertEqual(archive.read("out/result.txt"), b"hello\n")
        # Listed as GitLab lists them: the archive (its files' bytes), the log.
        self.assertEqual(build.artifacts_file, {"filename": "artifacts.zip", "size": 6})
        self.assertIn({"file_type": "archive", "size": 6, "filename": "artifacts.zip",
                       "file_format": "zip"}, build.attributes["artifacts"])
        self.assertIn("trace", [a["file_type"] for a in build.attributes["artifacts"]])
        self.assertIsNone(build.artifacts_expire_at)
        test = wait_for("test", lambda: self.job(pipeline, "test"),
                        lambda j: j.status not in ACTIVE)
        self.assertEqual(test.status, "success")
        self.assertEqual(test.needs, [])
        junit = [a for a in test.attributes["artifacts"] if a["file_type"] == "junit"]
        self.assertEqual(junit, [{"file_type": "junit", "size": 55, "filename": "junit.xml.gz",
                                  "file_format": "gzip"}])
        self.assertFalse(hasattr(test, "artifacts_file"))  # Reports only: no archive.
        self.assertEqual(test.stage_idx, 1)

        # Filters.
        done = self.finished(pipeline)
        self.assertEqual(done.sha, self.server.sha)
        ids = [p.id for p in self.project.pipelines.list(ref="main", source="api", all=True)]
        self.assertIn(pipeline.id, ids)
        self.assertNotIn(pipeline.id, [p.id for p in self.project.pipelines.list(ref="nope")])
        names = sorted(j.name for j in pipeline.jobs.list(scope="success", all=True))
        self.assertEqual(names, ["build", "slow", "test"])
        self.assertEqual([j.name for j in pipeline.jobs.list(scope=["manual"])], ["deploy"])
        self.assertTrue(self.project.jobs.list(scope="success", per_page=1, get_all=False))

        # Retry a job: a new attempt, the old one marked retried.
        retried = test.retry()
        again = wait_for("retried test", lambda: self.job(pipeline, "test"),
                         lambda j: j.id != test.id and j.status not in ACTIVE)
        self.assertEqual(again.status, "success")
        self.assertEqual(again.retry_count, 1)
        all_tests = [j for j in pipeline.jobs.list(include_retried=True, all=True)
                     if j.name == "test"]
        self.assertEqual(len(all_tests), 2)
        self.assertTrue(retried)

        # Play the manual job.
        deploy = self.job(pipeline, "deploy")
        self.assertEqual(deploy.status, "manual")
        deploy.play()
        deploy = wait_for("deploy", lambda: self.project.jobs.get(deploy.id),
                          lambda j: j.status not in ACTIVE + ("manual",))
        self.assertEqual(deploy.status, "success")
        self.assertIn(b"deploying", deploy.trace())

        # The live log of a finished job: stored bytes, then the end event.
        request = urllib.request.Request(
            "%s/api/v4/projects/%d/jobs/%d/trace/stream" % (self.server.url, self.project.id, build.id),
            headers={"PRIVATE-TOKEN": self.server.reader})
        with urllib.request.urlopen(request, timeout=HANG_GUARD_S) as response:
            self.assertEqual(response.headers["Content-Type"], "text/event-stream")
            body = response.read().decode()
        self.assertIn("event: append\n", body)
        self.assertIn("building world", "".join(
            json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: \"")))
        self.assertTrue(body.endswith('event: end\ndata: {"status": "success"}\n\n'), body)

    def test_project_variables_reach_jobs_and_masked_ones_stay_hidden(self):
        secret = "project-greeting-5e2b77"
        variable = self.project.variables.create(
            {"key": "GREETING", "value": secret, "masked": True})
        try:
            self.assertTrue(variable.masked)
            self.assertEqual(self.project.variables.get("GREETING").value, secret)
            self.assertIn("GREETING", [v.key for v in self.project.variables.list()])
            pipeline = self.project.pipelines.create({"ref": "main"})
            build = wait_for("build", lambda: self.job(pipeline, "build"),
                             lambda j: j.status not in ACTIVE)
            self.assertIn(b"building [MASKED]", build.trace())
            self.assertNotIn(secret.encode(), build.trace())
            variable.value = "another-value-77"
            variable.save()
            self.assertEqual(self.project.variables.get("GREETING").value, "another-value-77")
            with self.assertRaises(gitlab.exceptions.GitlabCreateError) as error:
                self.project.variables.create({"key": "PIN", "value": "1234", "masked": True})
            self.assertEqual(error.exception.response_code, 400)
            reader = gitlab.Gitlab(self.server.url, private_token=self.server.reader)
            with self.assertRaises(gitlab.exceptions.GitlabListError) as error:
                reader.projects.get(self.project.id, lazy=True).variables.list()
            self.assertEqual(error.exception.response_code, 403)
        finally:
            self.project.variables.delete("GREETING")
        self.assertNotIn("GREETING", [v.key for v in self.project.variables.list()])

    def test_pipeline_schedules_and_pipeline_variables(self):
        schedule = self.project.pipelineschedules.create(
            {"description": "nightly", "ref": "main", "cron": "0 3 * * *"})
        schedule_id = schedule.id  # play() replaces the object's attributes with GitLab's answer.
        try:
            self.assertTrue(schedule.active)
            self.assertIsNotNone(schedule.next_run_at)
            schedule.variables.create({"key": "GREETING", "value": "from the schedule"})
            schedule = self.project.pipelineschedules.get(schedule_id)
            self.assertEqual(schedule.attributes["variables"],
                             [{"key": "GREETING", "value": "from the schedule",
                               "variable_type": "env_var"}])
            self.assertEqual(schedule.play(), {"message": "201 Created"})
            schedule = self.project.pipelineschedules.get(schedule_id)
            pipeline = self.project.pipelines.get(schedule.last_pipeline["id"])
            self.assertEqual(pipeline.source, "schedule")
            self.assertEqual([(v.key, v.value) for v in pipeline.variables.list()],
                             [("GREETING", "from the schedule")])
            build = wait_for("build", lambda: self.job(pipeline, "build"),
                             lambda j: j.status not in ACTIVE)
            self.assertIn(b"building from the schedule", build.trace())
            # python-gitlab 3.12 has no manager for it: the plain call.
            made = self.gl.http_get("/projects/%d/pipeline_schedules/%d/pipelines"
                                    % (self.project.id, schedule_id))
            self.assertIn(pipeline.id, [p["id"] for p in made])
            schedule.description = "nightly build"
            schedule.save()
            self.assertEqual(self.project.pipelineschedules.get(schedule_id).description,
                             "nightly build")
        finally:
            self.project.pipelineschedules.delete(schedule_id)
        self.assertNotIn(schedule_id, [s.id for s in self.project.pipelineschedules.list()])

    def test_trigger_tokens_start_pipelines(self):
        trigger = self.project.triggers.create({"description": "from the deploy tool"})
        try:
            self.assertTrue(trigger.token.startswith("glptt-"))
            # The trigger call needs no API token, only the trigger token.
            anonymous = gitlab.Gitlab(self.server.url)
            pipeline = anonymous.projects.get(self.project.id, lazy=True).trigger_pipeline(
                "main", trigger.token, variables={"GREETING": "triggered"})
            self.assertEqual(pipeline.source, "trigger")
            pipeline = self.project.pipelines.get(pipeline.id)
            build = wait_for("build", lambda: self.job(pipeline, "build"),
                             lambda j: j.status not in ACTIVE)
            self.assertIn(b"building triggered", build.trace())
            self.assertEqual(self.project.triggers.get(trigger.id).token, trigger.token[6:10])
            with self.assertRaises(gitlab.exceptions.GitlabCreateError) as error:
                anonymous.projects.get(self.project.id, lazy=True).trigger_pipeline(
                    "main", "glptt-" + "0" * 40)
            self.assertEqual(error.exception.response_code, 404)
        finally:
            self.project.triggers.delete(trigger.id)

    def test_cancel_a_running_job_and_delete_the_pipeline(self):
        pipeline = self.project.pipelines.create(
            {"ref": "main", "variables": [{"key": "SLOW", "value": "1"}]})
        slow = wait_for("slow running", lambda: self.job(pipeline, "slow"),
                        lambda j: j.status == "running")
        slow.cancel()
        slow = wait_for("slow canceled", lambda: self.project.jobs.get(slow.id),
                        lambda j: j.status not in ACTIVE)
        self.assertEqual(slow.status, "canceled")
        done = self.finished(pipeline)
        self.assertIn(done.status, ("canceled", "failed"))
        done.delete()
        with self.assertRaises(gitlab.exceptions.GitlabGetError) as error:
            self.project.pipelines.get(pipeline.id)
        self.assertEqual(error.exception.response_code, 404)

    def test_cancel_a_pipeline(self):
        pipeline = self.project.pipelines.create(
            {"ref": "main", "variables": [{"key": "SLOW", "value": "1"}]})
        wait_for("slow running", lambda: self.job(pipeline, "slow"),
                 lambda j: j.status == "running")
        pipeline.cancel()
        self.assertEqual(self.finished(pipeline).status, "canceled")

    def test_401_without_a_valid_token(self):
        for token in (None, "slw_" + "0" * 40):
            gl = gitlab.Gitlab(self.server.url, private_token=token)
            with self.assertRaises(gitlab.exceptions.GitlabAuthenticationError):
                gl.projects.get(self.project.id)

    def test_403_for_a_read_token_on_a_write(self):
        gl = gitlab.Gitlab(self.server.url, private_token=self.server.reader)
        project = gl.projects.get(self.project.id)
        self.assertTrue(project.pipelines.list() is not None)
        with self.assertRaises(gitlab.exceptions.GitlabCreateError) as error:
            project.pipelines.create({"ref": "main"})
        self.assertEqual(error.exception.response_code, 403)

    def test_environments_and_deployments_made_outside_a_pipeline(self):
        envs = self.project.environments
        env = envs.create({"name": "staging-ext", "external_url": "https://s1.example.com"})
        self.assertEqual(env.state, "available")
        self.assertEqual(env.tier, "staging")  # Guessed from the name, as GitLab does.
        with self.assertRaises(gitlab.exceptions.GitlabCreateError) as taken:
            envs.create({"name": "staging-ext"})
        self.assertEqual(taken.exception.response_code, 400)
        env.external_url = "https://s2.example.com"
        env.save()
        self.assertEqual(envs.get(env.id).external_url, "https://s2.example.com")

        deployment = self.project.deployments.create(
            {"environment": "staging-ext", "sha": self.server.sha, "ref": "main", "tag": False,
             "status": "running"})
        self.assertEqual(deployment.status, "running")
        self.assertIsNone(deployment.deployable)
        deployment.status = "success"
        deployment.save()
        self.assertEqual(self.project.deployments.get(deployment.id).status, "success")
        self.assertEqual(envs.get(env.id).last_deployment["id"], deployment.id)
        # A deployment to a new environment makes it.
        other = self.project.deployments.create(
            {"environment": "review/ext", "sha": self.server.sha, "ref": "main", "tag": False,
             "status": "success"})
        self.assertEqual(other.environment["name"], "review/ext")
        self.assertEqual(other.environment["tier"], "development")

        with self.assertRaises(gitlab.exceptions.GitlabDeleteError) as refused:
            envs.delete(env.id)
        self.assertEqual(refused.exception.response_code, 403)  # Only a stopped one.
        env.stop()
        self.assertEqual(envs.get(env.id).state, "stopped")
        envs.delete(env.id)
        with self.assertRaises(gitlab.exceptions.GitlabGetError):
            envs.get(env.id)
        reader = gitlab.Gitlab(self.server.url, private_token=self.server.reader)
        with self.assertRaises(gitlab.exceptions.GitlabCreateError) as forbidden:
            reader.projects.get(self.project.id, lazy=True).environments.create({"name": "x"})
        self.assertEqual(forbidden.exception.response_code, 403)

    def test_child_pipeline_and_its_bridge(self):
        # A branch whose pipeline starts a child (docs/child-pipelines.md).
        repo = self.server.repo
        run("git", "checkout", "-q", "-b", "downstream", cwd=repo)
        with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
            f.write("child:\n  trigger:\n    include: child.yml\n    strategy: depend\n")
        with open(os.path.join(repo, "child.yml"), "w") as f:
            f.write("in-child:\n  script: echo \"source=$CI_PIPELINE_SOURCE\"\n")
        run("git", "add", ".", cwd=repo)
        run("git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "child",
            cwd=repo)
        run("git", "checkout", "-q", "main", cwd=repo)

        pipeline = self.finished(self.project.pipelines.create({"ref": "downstream"}))
        self.assertEqual(pipeline.status, "success")
        bridges = pipeline.bridges.list()
        self.assertEqual([b.name for b in bridges], ["child"])
        self.assertEqual(bridges[0].status, "success")
        # GitLab lists trigger jobs under bridges only, never as jobs.
        self.assertEqual(pipeline.jobs.list(), [])
        downstream = bridges[0].downstream_pipeline
        self.assertEqual(downstream["status"], "success")
        self.assertEqual(downstream["project_id"], self.project.id)
        child = self.project.pipelines.get(downstream["id"])
        self.assertEqual(child.source, "parent_pipeline")
        self.assertEqual(child.ref, "downstream")
        self.assertEqual(child.upstream_pipeline_id, pipeline.id)
        self.assertIn("source=parent_pipeline", self.job(child, "in-child").trace().decode())
        # As in GitLab, child pipelines are listed only when asked for by source.
        listed = [p.id for p in self.project.pipelines.list(all=True)]
        self.assertIn(pipeline.id, listed)
        self.assertNotIn(child.id, listed)
        children = [p.id for p in self.project.pipelines.list(all=True, source="parent_pipeline")]
        self.assertEqual(children, [child.id])
        # A pipeline without trigger jobs has no bridges.
        self.assertEqual(self.project.pipelines.get(child.id).bridges.list(), [])

    def post_hook(self, forge, body, headers):
        request = urllib.request.Request(
            "%s/hooks/%s/%d" % (self.server.url, forge, self.project.id),
            data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HANG_GUARD_S) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_webhooks(self):
        push = json.dumps({"ref": "refs/heads/main", "before": "0" * 40,
                           "after": self.server.sha, "checkout_sha": self.server.sha,
                           "object_kind": "push"}).encode()
        status, _ = self.post_hook("gitlab", push, {"X-Gitlab-Event": "Push Hook",
                                                    "X-Gitlab-Token": "wrong"})
        self.assertEqual(status, 401)
        status, body = self.post_hook("gitlab", push, {"X-Gitlab-Event": "Push Hook",
                                                       "X-Gitlab-Token": SECRET,
                                                       "Content-Type": "application/json"})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["source"], "push")
        self.assertEqual(body["sha"], self.server.sha)
        signature = "sha256=" + hmac.new(SECRET.encode(), push, hashlib.sha256).hexdigest()
        status, body = self.post_hook("github", push, {"X-GitHub-Event": "ping",
                                                       "X-Hub-Signature-256": signature})
        self.assertEqual((status, body), (200, {"message": "ignored"}))
        self.finished(self.project.pipelines.get(self.project.pipelines.list(source="push")[0].id))
        # A merge request opened: a merge-request pipeline of its head commit
        # (src/server/merge_request_pipeline_test.cc runs them).
        opened = json.dumps({
            "object_kind": "merge_request",
            "object_attributes": {"iid": 3, "title": "Try it", "source_branch": "feature",
                                  "target_branch": "main", "source_project_id": 1,
                                  "target_project_id": 1, "state": "opened", "action": "open",
                                  "last_commit": {"id": self.server.sha}},
            "labels": [{"title": "ci"}]}).encode()
        status, body = self.post_hook("gitlab", opened, {"X-Gitlab-Event": "Merge Request Hook",
                                                         "X-Gitlab-Token": SECRET})
        # Its jobs have neither rules nor only: as on GitLab, they default to
        # only: [branches, tags], and a merge request pipeline is neither.
        self.assertEqual(status, 422, body)
        self.assertIn("no pipeline: Pipeline will not run for the selected trigger",
                      body["message"])

    def test_commit_statuses(self):
        commit = self.project.commits.get(self.server.sha, lazy=True)
        created = commit.statuses.create({"state": "running", "name": "deploy-check",
                                          "target_url": "https://ci.example/run/1",
                                          "description": "checking"})
        self.assertEqual(created.status, "running")
        self.assertEqual(created.name, "deploy-check")
        self.assertEqual(created.ref, "main")
        self.assertIsNotNone(created.started_at)
        self.assertIsNone(created.finished_at)
        # The same name again updates the status.
        done = commit.statuses.create({"state": "success", "name": "deploy-check"})
        self.assertEqual(done.id, created.id)
        self.assertIsNotNone(done.finished_at)
        commit.statuses.create({"state": "failed", "context": "lint", "ref": "main"})
        statuses = {s.name: s.status for s in commit.statuses.list(all=True)}
        self.assertEqual(statuses, {"deploy-check": "success", "lint": "failed"})
        self.assertEqual([s.name for s in commit.statuses.list(name="lint")], ["lint"])
        with self.assertRaises(gitlab.exceptions.GitlabCreateError) as bad:
            commit.statuses.create({"state": "done"})
        self.assertEqual(bad.exception.response_code, 400)
        with self.assertRaises(gitlab.exceptions.GitlabCreateError) as bad:
            commit.statuses.create({"state": "success", "target_url": "javascript:alert(1)"})
        self.assertEqual(bad.exception.response_code, 400)

    def test_project_hooks(self):
        received = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            hook = self.project.hooks.create({
                "url": "http://127.0.0.1:%d/in" % receiver.server_address[1],
                "token": "hook-token", "pipeline_events": True, "job_events": True})
            self.assertTrue(hook.pipeline_events)
            self.assertTrue(hook.job_events)
            self.assertFalse(hasattr(hook, "token"))
            self.assertEqual([h.id for h in self.project.hooks.list()], [hook.id])
            pipeline = self.finished(self.project.pipelines.create({"ref": "main"}))

            def pipeline_events():
                return [(h, b) for h, b in list(received)
                        if b.get("object_kind") == "pipeline"
                        and b["object_attributes"]["id"] == pipeline.id]
            events = wait_for("the pipeline's final hook", pipeline_events,
                              lambda e: any(b["object_attributes"]["status"] == pipeline.status
                                            for _, b in e))
            headers, body = events[-1]
            self.assertEqual(headers["X-Gitlab-Event"], "Pipeline Hook")
            self.assertEqual(headers["X-Gitlab-Token"], "hook-token")
            self.assertEqual(body["project"]["path_with_namespace"], "team/app")
            self.assertIn("build", [b["name"] for b in body["builds"]])
            jobs = wait_for("the build job's hook", lambda: [
                b for h, b in list(received) if b.get("object_kind") == "build"
                and b["pipeline_id"] == pipeline.id and b["build_name"] == "build"
                and b["build_status"] == "success"], lambda j: j)
            self.assertEqual(jobs[-1]["build_stage"], "build")
            hook.delete()
            self.assertEqual(self.project.hooks.list(), [])
        finally:
            receiver.shutdown()
            receiver.server_close()

    def test_resource_groups_and_outdated_deployments(self):
        # A project whose manual deploy job holds the production resource group.
        repo = os.path.join(self.root, "rg")
        os.makedirs(repo)
        run("git", "init", "-q", "-b", "main", cwd=repo)

        def commit(text):
            with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
                f.write("deploy:\n  resource_group: production\n  environment: production\n"
                        "  when: manual\n  script: [echo %s]\n" % text)
            run("git", "add", ".", cwd=repo)
            run("git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", text,
                cwd=repo)

        def pipeline():
            p = rg.pipelines.create({"ref": "main"})
            return wait_for("pipeline %d" % p.id, lambda: rg.pipelines.get(p.id),
                            lambda q: q.status not in ACTIVE)

        def play(p):
            job = rg.jobs.get([j for j in p.jobs.list(all=True) if j.name == "deploy"][0].id)
            job.play()
            return wait_for("job %d" % job.id, lambda: rg.jobs.get(job.id),
                            lambda j: j.status not in ACTIVE)

        commit("first")
        run(SLIPWAY, "project", "add", "--data", self.server.data, "--path", "team/rg", "rg",
            repo)
        rg = self.gl.projects.get("team/rg")
        self.assertTrue(rg.ci_forward_deployment_enabled)
        self.assertTrue(rg.ci_forward_deployment_rollback_allowed)
        older = pipeline()
        commit("second")
        newer = pipeline()
        self.assertEqual(play(newer).status, "success")

        # python-gitlab 3.12 has no resource group manager: the low-level calls.
        base = "/projects/%d/resource_groups" % rg.id
        groups = self.gl.http_get(base)
        self.assertEqual([(g["key"], g["process_mode"]) for g in groups],
                         [("production", "unordered")])
        changed = self.gl.http_put(base + "/production", post_data={"process_mode": "oldest_first"})
        self.assertEqual(changed["process_mode"], "oldest_first")
        self.assertEqual(self.gl.http_get(base + "/production")["process_mode"], "oldest_first")
        self.assertEqual(self.gl.http_get(base + "/production/upcoming_jobs"), [])  # Manual.
        with self.assertRaises(gitlab.exceptions.GitlabHttpError) as bad:
            self.gl.http_put(base + "/production", post_data={"process_mode": "fastest"})
        self.assertEqual(bad.exception.response_code, 400)
        with self.assertRaises(gitlab.exceptions.GitlabHttpError) as missing:
            self.gl.http_get(base + "/staging")
        self.assertEqual(missing.exception.response_code, 404)
        reader = gitlab.Gitlab(self.server.url, private_token=self.server.reader)
        with self.assertRaises(gitlab.exceptions.GitlabHttpError) as forbidden:
            reader.http_put(base + "/production", post_data={"process_mode": "unordered"})
        self.assertEqual(forbidden.exception.response_code, 403)

        # The older pipeline's deploy job, played after the newer one deployed.
        outdated = play(older)
        self.assertEqual(outdated.status, "failed")
        self.assertEqual(outdated.failure_reason, "forward_deployment_failure")
        self.assertIn(b"The deployment job is older than the latest deployment", outdated.trace())

        rg.ci_forward_deployment_rollback_allowed = False
        rg.save()
        rg = self.gl.projects.get("team/rg")
        self.assertTrue(rg.ci_forward_deployment_enabled)
        self.assertFalse(rg.ci_forward_deployment_rollback_allowed)

    def test_protected_environments_approvals_and_freeze_periods(self):
        repo = os.path.join(self.root, "gated")
        os.makedirs(repo)
        run("git", "init", "-q", "-b", "main", cwd=repo)
        with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
            f.write("deploy:\n  environment: production\n  script: [echo deployed]\n")
        run("git", "add", ".", cwd=repo)
        run("git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "gated",
            cwd=repo)
        run(SLIPWAY, "project", "add", "--data", self.server.data, "--path", "team/gated", "gated",
            repo)
        dev_token = run(SLIPWAY, "token", "create", "--data", self.server.data, "--name", "dev",
                        "--role", "run").strip()
        gated = self.gl.projects.get("team/gated")
        protected = gated.protected_environments.create(
            {"name": "production", "deploy_access_levels": [{"access_level": 30}],
             "required_approval_count": 1})
        self.assertEqual(protected.required_approval_count, 1)
        self.assertEqual(protected.deploy_access_levels[0]["access_level"], 30)
        self.assertEqual([p.name for p in gated.protected_environments.list()], ["production"])

        # The admin's pipeline waits for someone else's approval.
        pipeline = gated.pipelines.create({"ref": "main"})
        blocked = wait_for("a blocked deployment", lambda: gated.deployments.list(status="blocked"),
                           lambda d: len(d) == 1)[0]
        with self.assertRaises(gitlab.exceptions.GitlabDeploymentApprovalError) as own:
            blocked.approval(status="approved")
        self.assertEqual(own.exception.response_code, 400)
        dev = gitlab.Gitlab(self.server.url, private_token=dev_token)
        answer = dev.projects.get(gated.id).deployments.get(blocked.id).approval(
            status="approved", comment="looks good")
        self.assertEqual(answer["status"], "approved")
        done = wait_for("pipeline %d" % pipeline.id, lambda: gated.pipelines.get(pipeline.id),
                        lambda p: p.status not in ACTIVE)
        self.assertEqual(done.status, "success")
        deployment = gated.deployments.get(blocked.id)
        self.assertEqual(deployment.status, "success")
        self.assertEqual([a["comment"] for a in deployment.approvals], ["looks good"])
        gated.protected_environments.delete("production")
        self.assertEqual(gated.protected_environments.list(), [])

        # Freeze periods (python-gitlab 3.12 has no manager for them).
        base = "/projects/%d/freeze_periods" % gated.id
        period = self.gl.http_post(base, post_data={"freeze_start": "0 23 * * 5",
                                                    "freeze_end": "0 7 * * 1",
                                                    "cron_timezone": "Europe/Berlin"})
        self.assertEqual(period["cron_timezone"], "Europe/Berlin")
        changed = self.gl.http_put("%s/%d" % (base, period["id"]),
                                   post_data={"freeze_end": "0 8 * * 1"})
        self.assertEqual(changed["freeze_end"], "0 8 * * 1")
        self.assertEqual([p["id"] for p in self.gl.http_get(base)], [period["id"]])
        with self.assertRaises(gitlab.exceptions.GitlabHttpError) as bad:
            self.gl.http_post(base, post_data={"freeze_start": "0 25 * * *",
                                               "freeze_end": "0 7 * * 1"})
        self.assertEqual(bad.exception.response_code, 400)
        self.gl.http_delete("%s/%d" % (base, period["id"]))
        self.assertEqual(self.gl.http_get(base), [])

    def test_deployment_incidents_alerts_and_dora(self):
        # A second project whose pipeline deploys to production.
        repo = os.path.join(self.root, "svc")
        os.makedirs(repo)
        run("git", "init", "-q", "-b", "main", cwd=repo)
        with open(os.path.join(repo, ".gitlab-ci.yml"), "w") as f:
            f.write("deploy:\n  script: [echo deployed]\n"
                    "  environment: {name: production}\n")
        run("git", "add", ".", cwd=repo)
        env = dict(os.environ, GIT_COMMITTER_DATE="2026-01-02T03:04:05Z")
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q",
                        "-m", "svc"], cwd=repo, check=True, env=env)
        sha = run("git", "rev-parse", "HEAD", cwd=repo).strip()
        run(SLIPWAY, "project", "add", "--data", self.server.data, "--path", "team/svc", "svc",
            repo)
        svc = self.gl.projects.get("team/svc")
        pipeline = svc.pipelines.create({"ref": "main"})
        wait_for("pipeline %d" % pipeline.id, lambda: svc.pipelines.get(pipeline.id),
                 lambda p: p.status not in ACTIVE)
        deployment = svc.deployments.list()[0]
        self.assertEqual(deployment.status, "success")

        # An incident naming the deployed commit links that deployment.
        incident = svc.issues.create({"title": "errors after deploy", "issue_type": "incident",
                                      "description": "root cause: %s" % sha[:12]})
        self.assertEqual(incident.issue_type, "incident")
        self.assertEqual(incident.state, "opened")
        self.assertEqual(incident.deployment_id, deployment.id)
        self.assertEqual([i.iid for i in svc.issues.list(issue_type="incident", state="opened")],
                         [incident.iid])
        incident.state_event = "close"
        incident.save()
        self.assertEqual(svc.issues.get(incident.iid).state, "closed")

        # Alertmanager: 401 without the token, an incident with it.
        alert = {"version": "4", "status": "firing", "alerts": [{
            "status": "firing", "labels": {"alertname": "Down"}, "annotations": {},
            "startsAt": "2026-01-02T04:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "abc123"}]}
        url = "%s/team/svc/prometheus/alerts/notify.json" % self.server.url
        status, _ = post_json(url, alert, {})
        self.assertEqual(status, 401)
        token = self.gl.http_post("/projects/%d/alert_token" % svc.id)["token"]
        status, body = post_json(url, alert, {"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(svc.issues.list(state="opened")), 1)

        # DORA: one successful production deployment today that shipped the
        # one commit (the environment's first deployment records its head).
        today = time.strftime("%Y-%m-%d", time.gmtime())
        frequency = self.gl.http_get("/projects/%d/dora/metrics" % svc.id, query_data={
            "metric": "deployment_frequency", "start_date": today, "end_date": today,
            "interval": "all", "environment_tiers[]": "production"})
        self.assertEqual(frequency[0]["value"], 1)
        lead = self.gl.http_get("/projects/%d/dora/metrics" % svc.id, query_data={
            "metric": "lead_time_for_changes", "start_date": today, "end_date": today,
            "interval": "all"})
        self.assertEqual(lead[0]["commits"], 1)
        # From the commit's date to the deployment's end (now).
        self.assertGreater(lead[0]["value"], time.time() - 1767323045 - 600)


def post_json(url, payload, headers):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers=dict(headers, **{"Content-Type": "application/json"}),
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HANG_GUARD_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
