// End-to-end test of child pipelines in the web dashboard
// (docs/child-pipelines.md): a real `slipway serve`, a push whose pipeline
// has a trigger job, Debian's Chromium driven headless by playwright-core.
// The trigger job shows its child pipeline (status, link); the child's page
// links back to its parent.
//
// usage: node downstream.test.mjs PATH/TO/slipway
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium or node_modules missing).
import { Server, check, loadChromium, launchBrowser, newPage, runTest, signIn, slipwayArgument } from './harness.mjs';

const PIPELINE = `build:
  stage: build
  script: echo built
deploy:
  stage: deploy
  trigger:
    include: child.yml
    strategy: depend
`;
const CHILD = `child-test:
  script: echo "in the child, source $CI_PIPELINE_SOURCE"
`;

const slipway = slipwayArgument('downstream');
const chromium = await loadChromium();

await runTest('downstream', async () => {
  const server = await Server.start(slipway);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const project = await server.addProject('parent-child', PIPELINE, token);
    browser = await launchBrowser(chromium);
    const page = await newPage(browser);
    const pageErrors = page.errors;
    await page.goto(`${server.base}/`);
    await signIn(page, token);
    await page.waitForSelector('a.project-link');

    await server.push(project, { 'child.yml': CHILD }, 'add the child pipeline');
    await page.goto(`${server.base}/#/projects/${project.id}`);
    // The project's list shows the parent only, as GitLab's does.
    await page.waitForSelector('tr[data-pipeline] [data-status="success"]');
    check(await page.locator('tr[data-pipeline]').count() === 1, 'one pipeline listed (the child is under its trigger job)');
    await page.locator('tr[data-pipeline]').first().locator('a').first().click();
    await page.waitForSelector('.pipeline-header [data-status="success"]');
    const parentUrl = page.url();

    // The trigger job shows its child pipeline, green, with a link.
    const link = page.locator('.job-card[data-name="deploy"] a.downstream-link');
    await link.locator('[data-status="success"]').waitFor();
    const text = await link.textContent();
    check(/Child pipeline #\d+/.test(text), `the trigger job names its child: ${text}`);
    const childId = text.match(/#(\d+)/)[1];
    await link.click();
    // The parent's header is green too: wait for the child's own header, not
    // for any green header, or the check reads the page mid-render.
    const childHeader = page.locator('.pipeline-header', { hasText: `Pipeline #${childId}` });
    await childHeader.locator('[data-status="success"]').waitFor();
    const header = await childHeader.textContent();
    check(header.includes(`Pipeline #${childId}`), `the child's page: ${header}`);
    check(header.includes('parent_pipeline'), `the child's trigger is parent_pipeline: ${header}`);
    await page.waitForSelector('.job-card[data-name="child-test"][data-status="success"]');

    // The child's page links back to its parent.
    const up = page.locator('.upstream-link a');
    check((await up.textContent()).includes('parent pipeline #'), 'the child links to its parent');
    await up.click();
    await page.waitForSelector('.job-card[data-name="deploy"] a.downstream-link');
    check(page.url() === parentUrl, `back on the parent: ${page.url()} vs ${parentUrl}`);

    check(pageErrors.length === 0, `no errors in the page: ${pageErrors.join('; ')}`);
    console.log(`PASS: downstream (project ${project.id}, child pipeline ${childId})`);
  } catch (error) {
    if (server.output) console.error(`--- slipway serve output (last 4000 bytes):\n${server.output.slice(-4000)}`);
    throw error;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
});
