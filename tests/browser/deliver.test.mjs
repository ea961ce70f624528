// End-to-end test of the dashboard's delivery pages (docs/dashboard.md):
// a real `slipway serve`, pushes of a pipeline that deploys to `production`
// with a `command` check and automatic rollback, Debian's Chromium driven
// headless by playwright-core. v1 deploys; v2 fails its check and is rolled
// back by the server (an incident opens); the history shows all three, and
// its "Roll back to this" button redeploys v1 after a confirmation. The
// incidents page links the incident to v2's deployment; the DORA page shows
// the figures of those four deployments. An environment URL that is not
// http(s) is shown as text, never as a link; a read token sees no buttons.
// The server also sends its CDEvents (--cdevent-sink) to a local HTTP
// server of the test's, which checks they came (docs/deployments.md).
//
// usage: node deliver.test.mjs PATH/TO/slipway
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium or node_modules missing).
import http from 'node:http';
import { Server, check, loadChromium, launchBrowser, newPage, runTest, signIn, slipwayArgument } from './harness.mjs';

const PIPELINE = `stages: [build, deploy]
build:
  stage: build
  script:
    - mkdir -p dist && cp VERSION dist/version
  artifacts:
    paths: [dist/]
deploy:
  stage: deploy
  script:
    - echo "deployed $(cat dist/version)"
  environment:
    name: production
    url: http://127.0.0.1:9/app
.slipway:
  environments:
    production:
      checks:
        - name: smoke
          command: "test ! -e FAIL"
      rollback:
        automatic: true
`;

const slipway = slipwayArgument('deliver');
const chromium = await loadChromium();

// Records each CloudEvent POSTed to it: {headers, body}.
async function startEventSink() {
  const events = [];
  const sink = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      events.push({ headers: request.headers, body: JSON.parse(body) });
      response.writeHead(202);
      response.end();
    });
  });
  await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
  return { events, sink, url: `http://127.0.0.1:${sink.address().port}/events` };
}

// Polls cond every 100 ms until it holds; fails after two minutes.
async function eventually(cond, what) {
  for (let i = 0; i < 1200; i++) {
    if (cond()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`check failed: ${what}`);
}

await runTest('deliver', async () => {
  const { events, sink, url } = await startEventSink();
  const server = await Server.start(slipway, ['--cdevent-sink', `*=${url}`]);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const readToken = server.createToken('read');
    const project = await server.addProject('deliver-ui', PIPELINE, token);
    const apiCall = async (method, path, body) => {
      const response = await fetch(`${server.base}/api/v4${path}`, {
        method, headers: { 'PRIVATE-TOKEN': token, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
      check(response.ok, `${method} ${path} answered ${response.status}: ${await response.clone().text()}`);
      return response.json();
    };
    browser = await launchBrowser(chromium);
    const page = await newPage(browser, { width: 1400, height: 900 });
    const pageErrors = page.errors;
    await page.goto(`${server.base}/`);
    await signIn(page, token);
    await page.waitForSelector('a.project-link');

    // v1 deploys and passes its check: the environments page says so.
    const v1 = await server.push(project, { VERSION: 'v1\n' }, 'v1');
    await page.goto(`${server.base}/#/projects/${project.id}`);
    await page.click('.project-tabs a[data-tab="environments"]');
    const production = page.locator('tr[data-environment="production"]');
    await production.locator('.health .check[data-check="smoke"][data-outcome="pass"]').waitFor();
    let text = await production.textContent();
    check(text.includes(v1.slice(0, 8)) && text.includes('deployment #1') && text.includes('tier production'),
      `production runs v1: ${text}`);
    check(await production.locator('a.env-url').getAttribute('href') === 'http://127.0.0.1:9/app', 'the URL is a link');
    check(await production.locator('a.deploy-job').textContent() === 'deploy', 'the deploy job is named');

    // v2 fails its check; the server rolls production back to v1.
    const v2 = await server.push(project, { VERSION: 'v2\n', FAIL: 'fail the smoke check\n' }, 'v2');
    await page.click('a.env-link');
    const row = (iid) => page.locator(`tr[data-iid="${iid}"]`);
    await page.waitForSelector('tr[data-iid="3"][data-status="success"]');
    check((await row(3).locator('.rollback-of').textContent()).includes('rollback of #2'), 'deployment #3 is the rollback of #2');
    check((await row(3).textContent()).includes(v1.slice(0, 8)), 'the rollback deployed v1');
    check(await row(2).getAttribute('data-status') === 'failed', 'v2 failed');
    check((await row(2).textContent()).includes(v2.slice(0, 8)), 'deployment #2 is v2');
    check(await row(2).locator('.check[data-check="smoke"][data-outcome="fail"]').count() === 1, 'v2 failed its smoke check');
    check(await row(3).locator('.current-deployment').count() === 1, '#3 is what runs');
    const order = await page.locator('tr[data-iid]').evaluateAll((rows) => rows.map((r) => r.dataset.iid));
    check(JSON.stringify(order) === '["3","2","1"]', `newest first: ${order}`);
    // Only an earlier successful deployment can be rolled back to.
    check(await page.locator('button.rollback').count() === 1 && await row(1).locator('button.rollback').count() === 1,
      'one "Roll back to this" button, on #1');

    // The button asks first: dismissed, nothing happens; accepted, v1 redeploys.
    page.once('dialog', (dialog) => dialog.dismiss());
    await row(1).locator('button.rollback').click();
    await page.waitForSelector('tr[data-iid="1"] button.rollback:not([disabled])');
    let question = '';
    page.once('dialog', (dialog) => { question = dialog.message(); dialog.accept(); });
    await row(1).locator('button.rollback').click();
    await page.waitForSelector('tr[data-iid="4"][data-status="success"]');
    check(question.includes('deployment #1'), `the confirmation names the deployment: ${question}`);
    check((await row(4).locator('.rollback-of').textContent()).includes('rollback of #3'), '#4 is a rollback of #3');
    const all = await apiCall('GET', `/projects/${project.id}/deployments`);
    check(all.length === 4, `the dismissed confirmation made no deployment: ${all.length} deployments`);

    // The incident of the automatic rollback, linked to v2's deployment.
    await page.click('.project-tabs a[data-tab="incidents"]');
    const incident = page.locator('tr[data-incident][data-state="opened"]');
    await incident.waitFor();
    text = await incident.textContent();
    check(text.includes('open') && text.includes('rollback'), `an open incident from the rollback: ${text}`);
    check((await incident.locator('a.incident-deployment').textContent()).includes('deployment #2 to production'),
      `linked to v2's deployment: ${text}`);
    // A resolved one comes after the open one.
    const resolved = await apiCall('POST', `/projects/${project.id}/issues`, { title: 'resolved since', issue_type: 'incident' });
    await apiCall('PUT', `/projects/${project.id}/issues/${resolved.iid}`, { state_event: 'close' });
    await page.waitForSelector('tr[data-incident][data-state="closed"]');
    const states = await page.locator('tr[data-incident]').evaluateAll((rows) => rows.map((r) => r.dataset.state));
    check(JSON.stringify(states) === '["opened","closed"]', `open first: ${states}`);

    // DORA: 3 successful deployments of 4; v2 failed: 25 %.
    await page.click('.project-tabs a[data-tab="dora"]');
    const card = (metric) => page.locator(`.dora-card[data-metric="${metric}"]`);
    await card('deployment_frequency').waitFor();
    check(await card('deployment_frequency').locator('.dora-value').textContent() === '3', 'three successful deployments');
    check(await card('change_failure_rate').locator('.dora-value').textContent() === '25.0%', 'change failure rate 25%');
    check((await card('change_failure_rate').locator('.dora-basis').textContent()).includes('1 of 4'), 'one of four failed');
    const bands = await card('change_failure_rate').locator('.band').evaluateAll((els) => els.map((e) => `${e.dataset.year}:${e.dataset.band}`));
    check(JSON.stringify(bands) === '["2022:medium","2024:low"]', `25% is 2022 medium, 2024 low: ${bands}`);
    const bars = await card('deployment_frequency').locator('svg.dora-chart rect.bar')
      .evaluateAll((els) => els.map((e) => Number(e.dataset.value)));
    check(bars.length >= 90 && bars.reduce((a, b) => a + b, 0) === 3, `a bar a day, 3 in all: ${bars.length} bars`);
    await page.selectOption('#dora-interval', 'monthly');
    await page.waitForFunction(() => {
      const rects = document.querySelectorAll('.dora-card[data-metric="deployment_frequency"] rect.bar');
      // Months: the first starts with the range, the others on the 1st.
      return rects.length > 0 && rects.length <= 4 && [...rects].slice(1).every((r) => r.dataset.date.endsWith('-01'));
    });
    await page.selectOption('#dora-tier', 'staging');
    await page.waitForFunction(() => document.querySelector('.dora-card[data-metric="deployment_frequency"] .dora-value').textContent === '0');

    // An environment URL that is not http(s) is text, not a link; stopping asks first.
    await apiCall('POST', `/projects/${project.id}/environments`, { name: 'evil', external_url: 'javascript:document.title="owned"' });
    await page.click('.project-tabs a[data-tab="environments"]');
    const evil = page.locator('tr[data-environment="evil"]');
    await evil.waitFor();
    check(await page.locator('a[href^="javascript:"]').count() === 0, 'no javascript: link');
    check((await evil.locator('.env-url').textContent()).startsWith('javascript:'), 'the URL is shown as text');
    check((await evil.textContent()).includes('nothing deployed successfully'), 'nothing runs in a new environment');
    page.once('dialog', (dialog) => dialog.accept());
    await evil.locator('button.stop-environment').click();
    await page.waitForSelector('tr[data-environment="evil"] [data-state="stopped"]');
    text = await production.textContent();
    check(text.includes(v1.slice(0, 8)) && text.includes('deployment #4'), `production runs v1 from #4: ${text}`);

    // The CDEvents of all this: v1 deployed, two rollbacks, two incidents
    // opened and one resolved, in binary mode (context in ce- headers).
    const count = (type) => events.filter((e) => e.headers['ce-type'] === `dev.cdevents.${type}.0.2.0`).length;
    await eventually(() => count('service.deployed') === 1 && count('service.rolledback') === 2 &&
      count('incident.detected') === 2 && count('incident.resolved') === 1,
    `the CDEvents: ${events.map((e) => e.headers['ce-type']).join(', ')}`);
    for (const { headers, body } of events) {
      check(headers['ce-specversion'] === '1.0' && headers['ce-id'] === body.context.id &&
        headers['ce-type'] === body.context.type && body.context.version === '0.4.1', `a CDEvent: ${JSON.stringify(body)}`);
    }
    const deployed = events.find((e) => e.headers['ce-type'] === 'dev.cdevents.service.deployed.0.2.0').body;
    check(deployed.subject.content.environment.id === 'production' && deployed.subject.content.artifactId.endsWith(`@${v1}`),
      `v1's deployed event: ${JSON.stringify(deployed)}`);

    // A read token: the same pages without Stop or Roll back buttons.
    await page.click('#sign-out');
    await signIn(page, readToken);
    await page.waitForSelector('body.read-only');
    await page.goto(`${server.base}/#/projects/${project.id}/environments`);
    await production.locator('.check').first().waitFor();
    check(!(await page.isVisible('button.stop-environment')), 'no Stop button for a read token');
    await production.locator('a.env-link').click();
    await page.waitForSelector('tr[data-iid="1"]');
    check(await page.locator('button.rollback').count() > 0, 'the button is there (hidden)');
    check(!(await page.isVisible('button.rollback')), 'no Roll back button for a read token');

    check(pageErrors.length === 0, `no errors in the page: ${pageErrors.join('; ')}`);
    console.log(`PASS: deliver (project ${project.id})`);
  } catch (error) {
    if (server.output) console.error(`--- slipway serve output (last 4000 bytes):\n${server.output.slice(-4000)}`);
    throw error;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    sink.close();
  }
});
