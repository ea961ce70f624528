// End-to-end test of the web dashboard (docs/dashboard.md): a real
// `slipway serve`, a real git repository pushed through GitLab's push
// webhook, Debian's Chromium driven headless by playwright-core.
//
// usage: node dashboard.test.mjs PATH/TO/slipway
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium or node_modules missing).
import { Server, check, loadChromium, launchBrowser, newPage, runTest, signIn, slipwayArgument } from './harness.mjs';

const PIPELINE = `workflow:
  name: 'Web demo on $CI_COMMIT_REF_NAME'
stages: [build, test]
build:
  stage: build
  script:
    - printf 'plain \\033[32mgreen text\\033[0m and \\033[1;31mbold red\\033[0m\\n'
    - for i in $(seq 1 200); do echo "output line $i"; done
unit:
  stage: test
  needs: [build]
  script:
    - echo "greeting=$GREETING"
lint:
  stage: test
  script:
    - echo lint ok
`;

const slipway = slipwayArgument('dashboard');
const chromium = await loadChromium();

await runTest('dashboard', async () => {
  const server = await Server.start(slipway);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const project = await server.addProject('web-demo', PIPELINE, token);
    browser = await launchBrowser(chromium);
    const page = await newPage(browser);
    const pageErrors = page.errors;

    // Without a token the dashboard asks for one; a wrong one is refused.
    await page.goto(`${server.base}/`);
    await page.waitForSelector('form.login');
    await page.fill('#token', 'not-a-token');
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('form.login [role=alert]:not([hidden])');
    await signIn(page, token);
    await page.click('a.project-link:text-is("web-demo")');
    await page.waitForSelector('table.pipelines');
    check(await page.locator('tr[data-pipeline]').count() === 0, 'a new project has no pipeline');

    // A push: the pipeline appears on the open page and turns green.
    const sha = await server.push(project, { 'README.md': 'hello\n' }, 'add readme');
    const row = page.locator('tr[data-pipeline]').first();
    await row.waitFor();
    await page.waitForSelector('tr[data-pipeline] [data-status="success"]');
    const rowText = await row.textContent();
    check(rowText.includes(sha.slice(0, 8)), `the row shows the commit: ${rowText}`);
    check(rowText.includes('main') && rowText.includes('push'), `the row shows ref and trigger: ${rowText}`);
    check((await row.locator('.pipeline-name').textContent()) === 'Web demo on main', `the row shows the workflow:name: ${rowText}`);

    // The pipeline: stage columns in order, the needs edge, every job green.
    await row.locator('a').first().click();
    await page.waitForSelector('.pipeline-header [data-status="success"]');
    check((await page.textContent('.pipeline-header .pipeline-name')) === 'Web demo on main', 'the pipeline shows its name');
    await page.waitForSelector('path.need-edge[data-from="build"][data-to="unit"]', { state: 'attached' });
    const stages = await page.locator('.stage').evaluateAll((els) => els.map((e) => e.dataset.stage));
    check(JSON.stringify(stages) === '["build","test"]', `stages in order: ${stages}`);
    check(await page.locator('path.need-edge').count() === 1, 'one needs edge (lint follows stage order)');
    const statuses = await page.locator('.job-card').evaluateAll((els) => els.map((e) => `${e.dataset.name}:${e.dataset.status}`));
    check(JSON.stringify(statuses.sort()) === '["build:success","lint:success","unit:success"]', `job statuses: ${statuses}`);

    // A job: its log with line numbers, colours, search and line links.
    await page.click('.job-card[data-name="build"] a.job-link');
    await page.waitForSelector('.log[data-complete]');
    const lines = await page.locator('.log .line').count();
    check(lines >= 201, `the log has every line (${lines})`);
    check(await page.locator('.log span.fg-green').first().textContent() === 'green text', 'a green span');
    const boldRed = page.locator('.log span.fg-red.b');
    check(await boldRed.count() === 1 && (await boldRed.textContent()) === 'bold red', 'a bold red span');
    check(!(await page.locator('.log').textContent()).includes('\x1b'), 'no raw escape sequences in the log');
    await page.fill('#log-search', 'output line 150');
    await page.press('#log-search', 'Enter');
    const match = page.locator('.line.match-current');
    await match.waitFor();
    check((await match.locator('.txt').textContent()) === 'output line 150', 'search finds the line');
    check((await page.textContent('.search-count')) === '1 / 1', 'one match');
    await page.click('#L5 a.ln');
    await page.waitForSelector('#L5.hl');
    check(page.url().endsWith('#L5'), `the address names the line: ${page.url()}`);
    check(await page.locator('.line.hl').count() === 1, 'only line 5 is marked');
    // A link to a line works when opened directly.
    await page.goto(page.url().replace(/#L5$/, '#L42'));
    await page.reload();
    await page.waitForSelector('#L42.hl');
    check((await page.locator('#L42 .txt').textContent()).startsWith('output line'), 'line 42 is a log line');

    // "Run pipeline" with a variable: the new pipeline opens and its job sees the variable.
    await page.goto(`${server.base}/#/projects/${project.id}`);
    await page.click('details.run-pipeline summary');
    await page.fill('#run-ref', 'main');
    await page.fill('#var-key-1', 'GREETING');
    await page.fill('#var-value-1', 'hello from the form');
    await page.click('.run-form button[type=submit]');
    await page.waitForURL(/#\/projects\/\d+\/pipelines\/\d+$/);
    await page.waitForSelector('.pipeline-header [data-status="success"]');
    await page.click('.job-card[data-name="unit"] a.job-link');
    await page.waitForSelector('.log[data-complete]');
    check((await page.locator('.log').textContent()).includes('greeting=hello from the form'), 'the job saw the variable');

    // An invalid pipeline file: a failed pipeline whose page shows the errors.
    await page.goto(`${server.base}/#/projects/${project.id}`);
    await page.waitForSelector('tr[data-pipeline]');
    await server.push(project, { '.gitlab-ci.yml': 'build:\n  script: [echo hi\n' }, 'break the pipeline');
    await page.waitForSelector('tr[data-pipeline]:nth-child(3)');
    await page.locator('tr[data-pipeline]').first().locator('a').first().click();
    await page.waitForSelector('.pipeline-header [data-status="failed"]');
    await page.waitForSelector('.yaml-errors:not([hidden]) pre');
    check((await page.textContent('.yaml-errors pre')).trim().length > 0, 'the lint errors are shown');

    // Signed in with a read-only token: the same pages without action buttons.
    const reader = server.createToken('read');
    await page.click('#sign-out');
    await page.waitForSelector('form.login');
    await signIn(page, reader);
    await page.waitForSelector('body.read-only');
    await page.goto(`${server.base}/#/projects/${project.id}`);
    await page.waitForSelector('tr[data-pipeline]');
    check(!(await page.isVisible('details.run-pipeline')), 'no run form for a read token');
    await page.locator('tr[data-pipeline]').last().locator('a').first().click();
    await page.waitForSelector('.pipeline-header [data-status="success"]');
    check(!(await page.isVisible('.job-actions button')), 'no job buttons for a read token');

    check(pageErrors.length === 0, `no errors in the page: ${pageErrors.join('; ')}`);
    console.log(`PASS: dashboard (project ${project.id}, ${lines} log lines)`);
  } catch (error) {
    if (server.output) console.error(`--- slipway serve output (last 4000 bytes):\n${server.output.slice(-4000)}`);
    throw error;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
});
