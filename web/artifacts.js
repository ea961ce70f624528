// The job page's facts and artifacts, the pipeline page's Tests tab, and
// file downloads (docs/dashboard.md). Uses app.js's helpers (h, api …).
'use strict';

// Saves what GET path answers as a file named filename (the token goes in a
// header, so a plain link cannot do it).
async function downloadFile(path, filename) {
  const response = await apiCall(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: filename });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The job's facts, as a definition list: times, duration, commit, trigger,
// executor, image.
function jobFacts(project, job) {
  const time = (iso) => (iso ? h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString()) : '—');
  const fact = (label, ...value) => [h('dt', {}, label), h('dd', {}, ...value)];
  const pipeline = job.pipeline || {};
  const sha = (job.commit && job.commit.id) || '';
  return h('dl', {},
    fact('Created', time(job.created_at)),
    fact('Started', time(job.started_at)),
    fact('Finished', time(job.finished_at)),
    fact('Duration', h('span', { class: 'job-duration-fact' }, formatDuration(durationOf(job)))),
    fact('Queued', formatDuration(job.queued_duration)),
    fact('Commit', h('code', { title: sha }, sha.slice(0, 8))),
    fact('Ref', h('span', { class: 'ref' }, job.ref || '—')),
    fact('Pipeline', h('a', { href: `#/projects/${project.id}/pipelines/${pipeline.id}` }, `#${pipeline.id}`), ' ', pipeline.source || ''),
    fact('Executor', (job.runner && job.runner.description) || '—'),
    job.image ? fact('Image', job.image.name, h('br'), h('code', { class: 'digest', title: job.image.digest }, job.image.digest)) : '',
    job.coverage !== null && job.coverage !== undefined ? fact('Coverage', `${job.coverage}%`) : '');
}

// The job's artifacts into box: the archive with its expiry, the zip
// download, and a file list whose files download one by one.
async function renderArtifacts(box, base, job) {
  const file = job.artifacts_file;
  if (!file) {
    box.replaceChildren(h('h2', {}, 'Artifacts'), h('p', { class: 'muted' }, 'This job kept no artifacts.'));
    return;
  }
  const expiry = job.artifacts_expire_at
    ? [' · expire ', h('time', { datetime: job.artifacts_expire_at, title: job.artifacts_expire_at }, new Date(job.artifacts_expire_at).toLocaleString())]
    : ' · never expire';
  const list = h('ul', { class: 'artifact-files' });
  box.replaceChildren(h('h2', {}, 'Artifacts'),
    h('p', { class: 'muted' }, `${file.filename} · ${file.size} bytes`, expiry),
    h('div', { class: 'actions' }, actionButton('Download zip', () => downloadFile(`${base}/artifacts`, file.filename), { class: 'download-artifacts' })),
    h('details', { class: 'browse-artifacts' }, h('summary', {}, 'Browse'), list));
  const entries = await api(`${base}/artifacts_files`);
  const fileUrl = (path) => `${base}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`;
  list.replaceChildren(...entries.map((e) => h('li', { dataset: { type: e.type } },
    e.type === 'file'
      ? h('button', { type: 'button', class: 'link artifact-file', onclick: () => downloadFile(fileUrl(e.path), e.path.split('/').pop()) }, e.path)
      : h('span', { class: 'muted' }, e.path, e.type === 'directory' ? '/' : e.type === 'symlink' ? ' (link)' : ''),
    e.type === 'file' ? h('span', { class: 'muted' }, ` ${e.size} B`) : '')));
}

// The test report: totals, then every case with failures and errors first
// (each suite is a job group), a case's output behind a disclosure.
function renderTests(container, report) {
  const cases = [];
  for (const suite of report.test_suites) {
    if (suite.suite_error) cases.push({ status: 'error', name: suite.suite_error, classname: '', suite: suite.name, execution_time: 0, system_output: null, suiteError: true });
    for (const c of suite.test_cases) cases.push({ ...c, suite: suite.name });
  }
  const order = { failed: 0, error: 1, skipped: 2, success: 3 };
  cases.sort((a, b) => (order[a.status] ?? 4) - (order[b.status] ?? 4));
  const badge = (status) => statusBadge(status === 'error' ? 'failed' : status === 'skipped' ? 'skipped' : status === 'success' ? 'success' : 'failed');
  if (!report.test_suites.length) {
    container.replaceChildren(h('p', { class: 'muted' }, 'No test reports: jobs list them with artifacts:reports:junit.'));
    return;
  }
  container.replaceChildren(
    h('p', { class: 'test-summary' },
      `${report.total_count} tests · `, h('span', { class: 'st-failed' }, `${report.failed_count} failed`),
      ` · ${report.error_count} errors · ${report.skipped_count} skipped · `,
      h('span', { class: 'st-success' }, `${report.success_count} passed`), ` · ${formatDuration(report.total_time)}`),
    h('table', { class: 'list test-cases' },
      h('thead', {}, h('tr', {}, ['Status', 'Suite', 'Name', 'Class', 'Time'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, cases.map((c) => h('tr', { class: 'test-case', dataset: { status: c.status } },
        h('td', {}, badge(c.status), c.status === 'error' ? h('span', { class: 'muted' }, ' error') : ''),
        h('td', {}, c.suite),
        h('td', {}, c.suiteError ? h('span', { class: 'error' }, c.name) : c.name,
          c.system_output ? h('details', { class: 'test-output' }, h('summary', {}, 'Output'), h('pre', {}, c.system_output)) : ''),
        h('td', {}, c.classname || ''),
        h('td', {}, formatDuration(c.execution_time)))))));
}
