// The job page's facts and artifacts (browse, one file, the zip) and the
// pipeline page's Tests tab, failures first (docs/dashboard.md): a real
// `slipway serve` runs a job that keeps files and a JUnit report, and
// Debian's Chromium clicks through them.
//
// usage: node artifacts.test.mjs PATH/TO/slipway
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium or node_modules missing).
import fs from 'node:fs';
import { Server, check, finishedJob, loadChromium, launchBrowser, newPage, runTest, signIn, slipwayArgument } from './harness.mjs';

const slipway = slipwayArgument('artifacts');
const chromium = await loadChromium();

await runTest('artifacts and tests', async () => {
  const server = await Server.start(slipway);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const project = await server.addProject('arts-demo', `build:
  script:
    - mkdir -p out/sub reports
    - echo hello > out/sub/greeting.txt
    - echo 'Lines 75.5%'
    - echo '<testsuite><testcase classname="calc" name="adds" time="0.01"/><testcase classname="calc" name="divides" time="0.2"><failure message="by zero">ZeroDivisionError</failure></testcase></testsuite>' > reports/unit.xml
  coverage: '/Lines (\\d+\\.\\d+)%/'
  artifacts:
    paths: [out/]
    expire_in: 1 week
    reports:
      junit: reports/unit.xml
`, token);
    await server.push(project, { 'README.md': 'arts\n' }, 'artifacts');
    const { job, trace } = await finishedJob(server, project, token, 'build');
    check(job && job.status === 'success', `the job succeeds: ${job && job.status}\n${trace}`);

    browser = await launchBrowser(chromium);
    const page = await newPage(browser);
    await page.goto(`${server.base}/`);
    await signIn(page, token);
    await page.click('a.project-link:text-is("arts-demo")');
    await page.waitForSelector('tr[data-pipeline] [data-status="success"]');
    // The list's filters: a status nothing has empties it, "passed" brings it back.
    await page.selectOption('#filter-status', 'failed');
    await page.waitForSelector('text=No pipeline matches these filters.');
    await page.selectOption('#filter-status', 'success');
    await page.waitForSelector('tr[data-pipeline]');
    await page.locator('tr[data-pipeline]').first().locator('a').first().click();

    await page.waitForSelector('.pipeline-coverage');
    check((await page.textContent('.pipeline-coverage')).includes('75.50%'), 'the pipeline shows its coverage');

    // The Tests tab: the failure first, its output behind a disclosure.
    await page.click('#tab-tests');
    await page.waitForSelector('.test-case');
    const statuses = await page.$$eval('.test-case', (rows) => rows.map((r) => r.dataset.status));
    check(JSON.stringify(statuses) === '["failed","success"]', `failures first: ${statuses}`);
    check((await page.textContent('.test-summary')).includes('1 failed'), 'the summary counts the failure');
    await page.click('.test-output summary');
    check((await page.textContent('.test-output pre')).includes('ZeroDivisionError'), 'the failure output is shown');

    await page.click('#tab-jobs');
    await page.locator('.job-card[data-name="build"] a').first().click();
    await page.waitForSelector('.job-facts dl');
    const facts = await page.textContent('.job-facts');
    for (const label of ['Created', 'Started', 'Finished', 'Duration', 'Commit', 'Executor', 'Coverage']) {
      check(facts.includes(label), `the job page shows ${label}: ${facts}`);
    }
    check(!/\b0\.0 s\b/.test(await page.textContent('.job-duration-fact')), 'sub-second durations are not 0.0 s');
    await page.waitForSelector('.download-artifacts');
    await page.click('.browse-artifacts summary');
    await page.waitForSelector('.artifact-file');
    const files = await page.$$eval('.artifact-file', (b) => b.map((x) => x.textContent));
    check(files.includes('out/sub/greeting.txt'), `the file list: ${files}`);
    const [one] = await Promise.all([page.waitForEvent('download'), page.click('.artifact-file:text-is("out/sub/greeting.txt")')]);
    check(fs.readFileSync(await one.path(), 'utf8') === 'hello\n', 'one file downloads');
    const [zip] = await Promise.all([page.waitForEvent('download'), page.click('.download-artifacts')]);
    check(zip.suggestedFilename() === 'artifacts.zip', `the zip is named as the API lists it: ${zip.suggestedFilename()}`);
    check(fs.readFileSync(await zip.path()).subarray(0, 2).toString() === 'PK', 'the zip is a zip');
    check(page.errors.length === 0, `no errors in the page: ${page.errors.join('; ')}`);
    console.log('PASS: artifacts and tests');
  } catch (error) {
    if (server.output) console.error(`--- slipway serve output (last 4000 bytes):\n${server.output.slice(-4000)}`);
    throw error;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
});
