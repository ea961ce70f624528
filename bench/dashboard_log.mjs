// Dashboard log benchmark: how long the job page takes to show a large log
// in headless Chromium, and how long the page's longest task is (a task over
// 50 ms is a stutter the user feels). A real `slipway serve` runs one job
// printing LINES lines (every tenth one coloured); the page is opened twice:
// while the job runs (live over SSE) and after it finished (the whole log at
// once).
// usage: node bench/dashboard_log.mjs build/slipway [LINES]   (npm ci --prefix tests/browser first)
import { Server, check, loadChromium, launchBrowser, runTest } from '../tests/browser/harness.mjs';

const slipway = process.argv[2];
const lines = Number(process.argv[3] || 50000);
check(slipway, 'usage: node bench/dashboard_log.mjs PATH/TO/slipway [LINES]');
const chromium = await loadChromium();

const PIPELINE = `big-log:
  script:
    - for i in $(seq 1 ${lines}); do if [ $((i % 10)) -eq 0 ]; then printf '\\033[32mline %d ok\\033[0m\\n' $i; else echo "line $i of a long build log"; fi; done
`;

// Opens the job page and waits for the complete log; returns the figures
// (times from the start of the navigation).
async function measure(page, url) {
  await page.goto('about:blank');
  await page.goto(url);
  const figures = await page.evaluate(async () => {
    const long = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
    // Polled each frame: a MutationObserver would itself cost per added line.
    await new Promise((resolve) => {
      const poll = () => (document.querySelector('.log[data-complete]') ? resolve() : requestAnimationFrame(poll));
      poll();
    });
    return { ms: performance.now(),  // Since the navigation started.
      longest: Math.max(0, ...long), long: long.length,
      lines: document.querySelectorAll('.log .line').length, heap: performance.memory ? performance.memory.usedJSHeapSize : 0 };
  });
  return figures;
}

await runTest('dashboard log benchmark', async () => {
  const server = await Server.start(slipway);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const project = await server.addProject('big-log', PIPELINE, token);
    browser = await launchBrowser(chromium);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(300_000);
    await page.goto(`${server.base}/#/login`);
    await page.fill('#token', token);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('a.project-link');
    await server.push(project, { 'README.md': 'big\n' }, 'big log');
    const api = (p) => fetch(`${server.base}/api/v4${p}`, { headers: { 'PRIVATE-TOKEN': token } }).then((r) => r.json());
    let job = null;
    for (let i = 0; i < 600 && !job; i++) {
      const pipelines = await api(`/projects/${project.id}/pipelines`);
      if (pipelines.length) job = (await api(`/projects/${project.id}/pipelines/${pipelines[0].id}/jobs`))[0];
      if (!job) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    check(job, 'no job');
    const url = `${server.base}/#/projects/${project.id}/jobs/${job.id}`;
    const live = await measure(page, url);
    const stored = await measure(page, url);
    const row = (name, f) => `| ${name} | ${f.lines} | ${(f.ms / 1000).toFixed(2)} s | ${Math.round(f.longest)} ms | ${f.long} | ${(f.heap / 1048576).toFixed(0)} MiB |`;
    console.log('| log | lines shown | until complete | longest task | tasks > 50 ms | JS heap |');
    console.log('|---|---|---|---|---|---|');
    console.log(row('live (job running)', live));
    console.log(row('finished job', stored));
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
}, 600);
