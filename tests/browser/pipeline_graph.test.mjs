// The dashboard's pictures of a pipeline (docs/dashboard.md): the pipeline
// list's stage graph (one icon per stage, on a phone too), the needs edges
// of the pipeline page (none may cross a job it does not connect), and the
// line saying what the forge was told. A real `slipway serve`, real git,
// Debian's Chromium; the forge is a local HTTP server standing in for
// GitHub's statuses API (no forge can run here), which checks the request
// GitHub documents.
//
// usage: node pipeline_graph.test.mjs PATH/TO/slipway
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium or node_modules missing).
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { Server, check, finishedJob, loadChromium, launchBrowser, newPage, runTest, signIn, slipwayArgument } from './harness.mjs';

// The demo's shape (examples/demo), where `package` used to seem to need
// `unit-tests`, with an edge that skips two columns (`notify`), one that
// skips one column from lower down (`publish`) and a need within a stage
// (`integration`).
const PIPELINE = `stages: [build, test, package, deploy]
.compiler:
  parallel:
    matrix:
      - CC: [gcc, clang]
build:
  stage: build
  extends: .compiler
  script: [echo "build with $CC"]
unit-tests:
  stage: test
  needs: [build]
  script: [echo unit]
lint:
  stage: test
  needs: []
  script: [echo lint fails, exit 1]
  allow_failure: true
integration:
  stage: test
  needs: [unit-tests]
  script: [echo integration]
package:
  stage: package
  needs: ["build: [gcc]"]
  script: [echo package]
docs:
  stage: package
  needs: []
  script: [echo docs]
publish:
  stage: deploy
  needs: [docs, integration]
  script: [echo publish]
notify:
  stage: deploy
  needs: ["build: [clang]"]
  script: [echo notify]
`;
const FORGE_TOKEN = 'forge-token-of-the-browser-test';

// What GitHub's "Create a commit status" takes: POST
// /repos/{owner}/{repo}/statuses/{sha}, a bearer token, JSON {state,
// target_url, description, context}. Answers 201 as GitHub does.
function startForge() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end('{"id": 1}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, requests, port: server.address().port })));
}

// Every needs edge against every job card, in the page: the cards an edge
// passes through other than its two ends, and whether it starts and ends on
// its own jobs' cards.
function edgeProblems() {
  const cards = [...document.querySelectorAll('.job-card')].map((c) => ({ name: c.dataset.name, r: c.getBoundingClientRect() }));
  const svg = document.querySelector('svg.needs').getBoundingClientRect();
  const near = (p, r) => p.x >= r.left - 2 && p.x <= r.right + 2 && p.y >= r.top - 2 && p.y <= r.bottom + 2;
  const problems = new Set();
  for (const path of document.querySelectorAll('path.need-edge')) {
    const { from, to } = path.dataset;
    const length = path.getTotalLength();
    const at = (l) => { const p = path.getPointAtLength(l); return { x: svg.left + p.x, y: svg.top + p.y }; };
    const ends = cards.filter((c) => c.name === from || c.name === to).map((c) => c.r);
    if (!ends.some((r) => near(at(0), r)) || !ends.some((r) => near(at(length), r))) problems.add(`${from} → ${to} does not join its jobs`);
    for (let l = 0; l <= length; l += 1) {
      const p = at(l);
      for (const { name, r } of cards) {
        if (name === from || name === to) continue;
        if (p.x > r.left + 1 && p.x < r.right - 1 && p.y > r.top + 1 && p.y < r.bottom - 1) problems.add(`${from} → ${to} crosses ${name}`);
      }
    }
  }
  return [...problems].sort();
}

const slipway = slipwayArgument('pipeline_graph');
const chromium = await loadChromium();

await runTest('pipeline_graph', async () => {
  const forge = await startForge();
  const server = await Server.start(slipway);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const project = await server.addProject('graph-demo', PIPELINE, token);
    // The forge, set as a user would on a project that has none yet.
    execFileSync(slipway, ['project', 'set', '--data', server.data, String(project.id), '--forge', 'github',
      '--forge-url', `http://127.0.0.1:${forge.port}`, '--forge-project', 'team/graph-demo', '--forge-token-env', 'GRAPH_FORGE_TOKEN'],
    { env: { ...process.env, GRAPH_FORGE_TOKEN: FORGE_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    const sha = await server.push(project, { 'README.md': 'hello\n' }, 'add readme');
    for (const name of ['notify', 'publish']) {
      const { job, trace } = await finishedJob(server, project, token, name);
      check(job && job.status === 'success', `${name} passed: ${job && job.status}\n${trace}\n${server.output}`);
    }

    browser = await launchBrowser(chromium);
    const page = await newPage(browser);
    await page.goto(`${server.base}/#/projects/${project.id}`);
    await signIn(page, token);
    await page.waitForSelector('tr[data-pipeline] .badge[data-status="success"]');

    // The list's stage graph: the stages in order, each with its status
    // (test passed with lint's allowed failure: a warning), a tooltip, and
    // a link to the pipeline.
    const icons = await page.locator('tr[data-pipeline] .mini-graph a.stage-icon').evaluateAll((els) => els.map((a) => ({
      stage: a.dataset.stage, status: a.dataset.status, title: a.title, cls: a.className, href: a.getAttribute('href'),
    })));
    const pipelineId = await page.locator('tr[data-pipeline]').first().getAttribute('data-pipeline');
    check(JSON.stringify(icons.map((i) => i.stage)) === '["build","test","package","deploy"]', `stages in order: ${JSON.stringify(icons)}`);
    check(icons.every((i) => i.status === 'success'), `every stage passed: ${JSON.stringify(icons)}`);
    check(icons[0].title === 'build: passed' && icons[0].cls.includes('st-success'), `build's icon: ${JSON.stringify(icons[0])}`);
    check(icons[1].title === 'test: passed with warnings' && icons[1].cls.includes('st-warning'), `test's icon: ${JSON.stringify(icons[1])}`);
    check(icons.every((i) => i.href === `#/projects/${project.id}/pipelines/${pipelineId}`), `icons lead to the pipeline: ${JSON.stringify(icons)}`);

    // On a phone the graph is there, and the page does not scroll sideways.
    const phone = await newPage(browser, { width: 375, height: 740 });
    await phone.goto(`${server.base}/#/login`);
    await signIn(phone, token);
    await phone.waitForSelector('a.project-link');
    await phone.goto(`${server.base}/#/projects/${project.id}`);
    await phone.waitForSelector('tr[data-pipeline] .mini-graph a.stage-icon');
    const narrow = await phone.evaluate(() => ({
      width: document.documentElement.scrollWidth,
      icons: [...document.querySelectorAll('.mini-graph a.stage-icon')].map((a) => { const r = a.getBoundingClientRect(); return [r.left, r.right, r.width]; }),
    }));
    check(narrow.width <= 375, `the list fits 375 px (scrollWidth ${narrow.width})`);
    check(narrow.icons.length === 4 && narrow.icons.every(([l, r, w]) => l >= 0 && r <= 375 && w >= 16), `four icons in view: ${JSON.stringify(narrow.icons)}`);
    check(phone.errors.length === 0, `no page errors on the phone: ${phone.errors}`);

    // A stage icon leads to the pipeline, whose needs edges cross no job
    // they do not connect.
    await page.click('tr[data-pipeline] .mini-graph a.stage-icon[data-stage="package"]');
    await page.waitForSelector('.pipeline-header .badge[data-status="success"]');
    const expected = 7;  // build ×2 → unit-tests, gcc → package, clang → notify, unit-tests → integration, docs, integration → publish.
    await page.waitForFunction((n) => document.querySelectorAll('path.need-edge').length === n, expected);
    let problems = await page.evaluate(edgeProblems);
    check(problems.length === 0, `needs edges at 1280 px:\n  ${problems.join('\n  ')}`);
    await page.setViewportSize({ width: 700, height: 900 });  // Columns scroll; the graph is redrawn.
    await page.waitForFunction(() => {
      const stages = document.querySelector('.stages');
      return stages.clientWidth < stages.scrollWidth && Number(document.querySelector('svg.needs').getAttribute('width')) === stages.scrollWidth;
    });
    problems = await page.evaluate(edgeProblems);
    check(problems.length === 0, `needs edges at 700 px:\n  ${problems.join('\n  ')}`);
    await page.evaluate(() => { document.querySelector('.stages').scrollLeft = 300; });
    problems = await page.evaluate(edgeProblems);
    check(problems.length === 0, `needs edges at 700 px, scrolled:\n  ${problems.join('\n  ')}`);

    // What the forge was told, and the line that says so.
    await page.waitForFunction(() => (document.querySelector('.forge-status') || {}).textContent === 'Status sent to GitHub: ok (success)');
    check(forge.requests.length > 0, 'the forge got requests');
    for (const request of forge.requests) {
      check(request.method === 'POST' && request.url === `/repos/team/graph-demo/statuses/${sha}`, `the forge got ${request.method} ${request.url}`);
      check(request.headers.authorization === `Bearer ${FORGE_TOKEN}`, `the token in its header: ${request.headers.authorization}`);
    }
    const sent = forge.requests.map((r) => JSON.parse(r.body)).find((b) => b.state === 'success');
    check(sent && sent.target_url.endsWith(`/pipelines/${pipelineId}`), `the success status sent: ${JSON.stringify(forge.requests.map((r) => r.body))}`);
    check(page.errors.length === 0, `no page errors: ${page.errors}`);
    console.log('ok: stage graph, needs edges, forge status line');
  } finally {
    if (browser) await browser.close();
    await server.stop();
    forge.server.close();
  }
});
