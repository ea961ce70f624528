// What the browser test and the dashboard benchmark share: a real
// `slipway serve` on a free loopback port with a fresh data directory, a
// token, a git repository registered as a project, pushes through GitLab's
// push webhook, and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SKIP = 77;  // CTest's SKIP_RETURN_CODE for this test.
export const CHROMIUM = process.env.SLIPWAY_CHROMIUM || '/usr/bin/chromium';
const HERE = path.dirname(fileURLToPath(import.meta.url));

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

// playwright-core's chromium, or exits 77 with the reason when Chromium or
// tests/browser/node_modules is missing.
export async function loadChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} is missing (scripts/install-deps.sh installs Debian's chromium)`);
    process.exit(SKIP);
  }
  if (!fs.existsSync(path.join(HERE, 'node_modules', 'playwright-core'))) {
    console.log('SKIP: tests/browser/node_modules is missing (run: npm ci --prefix tests/browser)');
    process.exit(SKIP);
  }
  const { chromium } = await import('playwright-core');
  return chromium;
}

export function launchBrowser(chromium) {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

function run(command, args) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A server with its own temporary directory. stop() kills it (SIGTERM, then
// SIGKILL after 5 s) and removes the directory; it is also killed if the
// node process exits first.
export class Server {
  // args: more arguments for `slipway serve`.
  static async start(slipway, args = []) {
    const server = new Server(slipway, fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-browser-')), args);
    await server.launch();
    return server;
  }

  constructor(slipway, tmp, args = []) {
    // Run as root, the server runs jobs as other users, which must pass
    // through this directory to the builds directory (it refuses to start
    // otherwise); mkdtemp makes it 0700.
    fs.chmodSync(tmp, 0o711);
    this.slipway = slipway;
    this.args = args;
    this.tmp = tmp;
    this.data = path.join(tmp, 'data');
    this.output = '';
    this.child = null;
  }

  async launch() {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.child = spawn(this.slipway, ['serve', '--data', this.data, '--listen', `127.0.0.1:${port}`, ...this.args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = this.child;
    process.on('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
    child.stdout.on('data', (d) => { this.output += d; });
    child.stderr.on('data', (d) => { this.output += d; });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(`slipway serve exited (${code ?? signal})`)));
    for (let attempt = 0; attempt < 300; attempt++) {
      const ready = fetch(`${this.base}/healthz`).then((r) => r.ok, () => false);
      const outcome = await Promise.race([ready, exited]);
      if (outcome === true) return;
      if (typeof outcome === 'string') throw new Error(outcome);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('slipway serve did not answer /healthz within 30 s');
  }

  async stop() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  // `slipway token create`; returns the raw token (the longest word printed).
  createToken(role = 'admin') {
    const output = run(this.slipway, ['token', 'create', '--data', this.data, '--name', `browser-${role}`, '--role', role]);
    const words = output.match(/[A-Za-z0-9_\-.]{16,}/g) || [];
    check(words.length > 0, `no token in: ${output}`);
    return words.sort((a, b) => b.length - a.length)[0];
  }

  // A git repository (branch main) whose .gitlab-ci.yml is `pipeline`,
  // registered with `slipway project add`; returns the project as the API
  // lists it, with .repo set.
  async addProject(name, pipeline, token) {
    const repo = path.join(this.tmp, name);
    fs.mkdirSync(repo);
    run('git', ['init', '-q', '-b', 'main', repo]);
    git(repo, 'config', 'user.email', 'dev@example.com');
    git(repo, 'config', 'user.name', 'Dev');
    fs.writeFileSync(path.join(repo, '.gitlab-ci.yml'), pipeline);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'pipeline');
    // Its pushes below are unsigned GitLab push events.
    run(this.slipway, ['project', 'add', '--data', this.data, '--allow-unsigned-webhooks', name, repo]);
    const projects = await (await fetch(`${this.base}/api/v4/projects`, { headers: { 'PRIVATE-TOKEN': token } })).json();
    const project = Array.isArray(projects) && projects.find((p) => p.name === name);
    check(project, `project ${name} not listed: ${JSON.stringify(projects)}`);
    return Object.assign(project, { repo });
  }

  // Commits `files` ({path: content}) and sends GitLab's push event for it;
  // returns the new commit's sha.
  async push(project, files, message) {
    const { repo } = project;
    const before = git(repo, 'rev-parse', 'HEAD');
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(repo, file), content);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', message);
    const after = git(repo, 'rev-parse', 'HEAD');
    const response = await fetch(`${this.base}/hooks/gitlab/${project.id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Gitlab-Event': 'Push Hook' },
      body: JSON.stringify(pushEvent(project, before, after, message, Object.keys(files))),
    });
    check(response.ok, `webhook answered ${response.status}: ${await response.text()}`);
    return after;
  }
}

function git(repo, ...args) {
  return run('git', ['-C', repo, ...args]).trim();
}

// GitLab's push event (GitLab docs, "Webhook events": push events).
function pushEvent(project, before, after, message, files) {
  return {
    object_kind: 'push',
    event_name: 'push',
    before,
    after,
    ref: 'refs/heads/main',
    ref_protected: true,
    checkout_sha: after,
    message: null,
    user_id: 1,
    user_name: 'Dev',
    user_username: 'dev',
    user_email: 'dev@example.com',
    user_avatar: '',
    project_id: project.id,
    project: {
      id: project.id,
      name: project.name,
      description: '',
      web_url: project.web_url || '',
      git_ssh_url: '',
      git_http_url: '',
      namespace: '',
      visibility_level: 0,
      path_with_namespace: project.path_with_namespace,
      default_branch: 'main',
    },
    commits: [{
      id: after,
      message: message + '\n',
      title: message,
      timestamp: new Date().toISOString(),
      url: '',
      author: { name: 'Dev', email: 'dev@example.com' },
      added: files,
      modified: [],
      removed: [],
    }],
    total_commits_count: 1,
    push_options: {},
    repository: { name: project.name, url: '', description: '', homepage: '', visibility_level: 0 },
  };
}

// Runs main() with a deadline; exit status 0 or 1.
export async function runTest(name, main, seconds = 280) {
  const deadline = setTimeout(() => {
    console.error(`FAIL: ${name} did not finish within ${seconds} s`);
    process.exit(1);
  }, seconds * 1000);
  try {
    await main();
    clearTimeout(deadline);
  } catch (error) {
    console.error(`FAIL: ${name}: ${error.stack || error}`);
    process.exit(1);
  }
}

// The slipway binary named by the first argument; exits 2 with the usage
// when it is missing.
export function slipwayArgument(test) {
  const slipway = process.argv[2];
  if (!slipway || !fs.existsSync(slipway)) {
    console.error(`usage: node ${test}.test.mjs PATH/TO/slipway`);
    process.exit(2);
  }
  return slipway;
}

// Waits (up to 2 minutes) until the project's newest job called name has
// finished, through the API; returns it with its log, so that a test can
// show why a job failed before it looks at any page.
export async function finishedJob(server, project, token, name) {
  const api = (p) => fetch(`${server.base}/api/v4/projects/${project.id}/${p}`, { headers: { 'PRIVATE-TOKEN': token } });
  let job = null;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const jobs = await (await api('jobs')).json();
    job = Array.isArray(jobs) ? jobs.find((j) => j.name === name) : null;
    if (job && ['success', 'failed', 'canceled'].includes(job.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const trace = job ? await (await api(`jobs/${job.id}/trace`)).text() : '';
  return { job, trace };
}

// A new page whose uncaught errors collect in page.errors. The timeout is
// generous: CI runs other tests beside these.
export async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  page.errors = [];
  page.on('pageerror', (error) => page.errors.push(error.message));
  page.setDefaultTimeout(120_000);
  return page;
}

// Submits the login form, shown on the current page, with token.
export async function signIn(page, token) {
  await page.fill('#token', token);
  await page.click('form.login button[type=submit]');
}
