// The job page names the image a job ran in and its digest (docs/dashboard.md):
// a busybox image pushed to the test registry (scripts/registry.sh) with
// skopeo, a real `slipway serve` that pulls it and runs the job in it under
// the sandbox, and Debian's Chromium.
//
// usage: node job_image.test.mjs PATH/TO/slipway
// Exit status: 0 passed, 1 failed, 77 skipped (Chromium, node_modules, the
// test registry, or root for the sandbox missing).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SKIP, Server, check, finishedJob, loadChromium, launchBrowser, newPage, runTest, signIn, slipwayArgument } from './harness.mjs';

const slipway = slipwayArgument('job_image');
const registry = process.env.SLIPWAY_TEST_REGISTRY;
if (!registry) {
  console.log('SKIP: SLIPWAY_TEST_REGISTRY is not set (export SLIPWAY_TEST_REGISTRY=$(bash scripts/registry.sh start))');
  process.exit(SKIP);
}
if (process.getuid() !== 0) {
  console.log('SKIP: the sandbox that runs image jobs needs root here');
  process.exit(SKIP);
}
const chromium = await loadChromium();

// Writes an OCI image layout of one uncompressed layer (busybox as /bin/sh)
// to dir and pushes it as name; returns the digest the registry serves it by.
function pushBusybox(dir, name) {
  const sha = (data) => crypto.createHash('sha256').update(data).digest('hex');
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (data, mediaType) => {
    const hex = sha(data);
    fs.writeFileSync(path.join(blobs, hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.symlinkSync('busybox', path.join(root, 'bin', 'sh'));
  // The image's / as real images have it (mkdtemp made it 0700): the job
  // runs as the server's job user, who must traverse it.
  fs.chmodSync(root, 0o755);
  const layer = execFileSync('tar', ['-C', root, '-c', '--owner=0', '--group=0', '.'], { maxBuffer: 64 << 20 });
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: blob(config, 'application/vnd.oci.image.config.v1+json'),
    layers: [blob(layer, 'application/vnd.oci.image.layer.v1.tar')],
  }));
  const descriptor = blob(manifest, 'application/vnd.oci.image.manifest.v1+json');
  descriptor.annotations = { 'org.opencontainers.image.ref.name': 'v1' };
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [descriptor] }));
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:v1`, `docker://${name}`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  // skopeo writes the manifest anew: the registry's digest is the one a pull gets.
  const inspected = execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`], { encoding: 'utf8' });
  return JSON.parse(inspected).Digest;
}

await runTest('job image', async () => {
  const layout = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-browser-image-'));
  const image = `${registry}/browser-${process.pid}:v1`;
  const digest = pushBusybox(layout, image);
  const server = await Server.start(slipway);
  let browser = null;
  try {
    const token = server.createToken('admin');
    const project = await server.addProject('image-demo', `in-image:
  image: ${image}
  variables:
    SLIPWAY_SANDBOX_NETWORK: none
  script:
    - busybox echo "in the image"
`, token);
    await server.push(project, { 'README.md': 'image\n' }, 'run in an image');
    // The job's own end first, through the API, so that a failure shows its log.
    const { job, trace } = await finishedJob(server, project, token, 'in-image');
    check(job && job.status === 'success', `the image job succeeds: ${job && job.status}\n${trace}`);
    check(job.image && job.image.name === image && job.image.digest === digest,
      `the API names the image and its digest: ${JSON.stringify(job.image)} (pushed ${digest})`);
    browser = await launchBrowser(chromium);
    const page = await newPage(browser);
    const pageErrors = page.errors;
    await page.goto(`${server.base}/`);
    await signIn(page, token);
    await page.click('a.project-link:text-is("image-demo")');
    await page.waitForSelector('tr[data-pipeline] [data-status="success"]');
    await page.locator('tr[data-pipeline]').first().locator('a').first().click();
    await page.locator('.job-card[data-name="in-image"] a').first().click();
    await page.waitForSelector('.job-image');
    const shown = await page.textContent('.job-image');
    const title = await page.getAttribute('.job-image', 'title');
    check(shown.includes(image) && shown.includes(digest.slice(0, 19)), `the job page shows image and digest: ${shown}`);
    check(title === `${image}@${digest}`, `the whole digest is in the tooltip: ${title} (pushed ${digest})`);
    check(pageErrors.length === 0, `no errors in the page: ${pageErrors.join('; ')}`);
    console.log(`PASS: job image (${image}@${digest})`);
  } catch (error) {
    if (server.output) console.error(`--- slipway serve output (last 4000 bytes):\n${server.output.slice(-4000)}`);
    throw error;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    fs.rmSync(layout, { recursive: true, force: true });
  }
});
