// The delivery pages of the dashboard (docs/dashboard.md), over the API of
// docs/api.md ("Environments and deployments", "Incidents", "DORA metrics"):
//   #/projects/ID/environments          what runs where, health, stop
//   #/projects/ID/environments/EID      an environment's deployments, rollback
//   #/projects/ID/incidents             incidents, open first
//   #/projects/ID/dora                  DORA metrics, bands, a chart over time
// Loaded before app.js: its helpers (h, api, poll, actionButton …) are
// used only when a view runs, by then they exist. app.js adds
// DELIVER_ROUTES to its router.
'use strict';

const DELIVER_ROUTES = [
  [/^\/projects\/([^/]+)\/environments$/, (m) => viewEnvironments(decodeURIComponent(m[1]))],
  [/^\/projects\/([^/]+)\/environments\/(\d+)$/, (m) => viewEnvironment(decodeURIComponent(m[1]), m[2])],
  [/^\/projects\/([^/]+)\/incidents$/, (m) => viewIncidents(decodeURIComponent(m[1]))],
  [/^\/projects\/([^/]+)\/dora$/, (m) => viewDora(decodeURIComponent(m[1]))],
];

// The tabs under a project's title: its pipelines and the delivery pages.
function projectTabs(project, current) {
  const tabs = [['pipelines', 'Pipelines', ''], ['environments', 'Environments', '/environments'],
    ['incidents', 'Incidents', '/incidents'], ['dora', 'DORA metrics', '/dora']];
  return h('nav', { class: 'project-tabs', 'aria-label': 'Project pages' }, tabs.map(([key, label, suffix]) =>
    h('a', { href: `#/projects/${project.id}${suffix}`, class: key === current ? 'tab current' : 'tab',
      'aria-current': key === current ? 'page' : undefined, dataset: { tab: key } }, label)));
}

function projectCrumbs(project, ...more) {
  crumbs(['Projects', '#/'], [project.name, `#/projects/${project.id}`], ...more);
}

// An environment's URL comes from a pipeline file, which anyone who can push
// writes: it becomes a link only when it is http(s), never `javascript:`.
function safeUrl(text) {
  if (!text) return null;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch (_) {
    return null;
  }
}

function externalLink(text) {
  if (!text) return '—';
  const href = safeUrl(text);
  return href ? h('a', { href, rel: 'noopener noreferrer', target: '_blank', class: 'env-url' }, text)
    : h('span', { class: 'env-url unsafe', title: 'Not an http(s) address: not a link' }, text);
}

const shortSha = (sha) => h('code', { title: sha || '' }, (sha || '').slice(0, 8));

// The stored results of a deployment's checks (docs/deployments.md), one
// chip per check: ✓ pass, ✕ fail, ? inconclusive; the reason in the tooltip.
function checkChips(deployment) {
  if (!deployment) return h('span', { class: 'muted' }, '—');
  const checks = deployment.checks || [];
  if (!checks.length) {
    return h('span', { class: 'muted health-none' }, deployment.status === 'running' ? 'checks pending' : 'no checks');
  }
  return h('span', { class: 'checks' }, checks.map((c) => {
    const icon = c.outcome === 'pass' ? '✓' : c.outcome === 'fail' ? '✕' : '?';
    const tip = `${c.kind} check: ${c.outcome}; ${c.passed} passed, ${c.failed} failed, ${c.inconclusive} inconclusive` +
      (c.message ? ` — ${c.message}` : '');
    return h('span', { class: `check check-${c.outcome}`, title: tip, dataset: { check: c.name, outcome: c.outcome } },
      h('span', { 'aria-hidden': 'true' }, icon), ` ${c.name}`);
  }));
}

// The job and pipeline of a deployment made by a job (`deployable`).
function deployableLinks(projectId, d) {
  const job = d && d.deployable;
  if (!job) return h('span', { class: 'muted' }, 'outside slipway');
  return h('span', {},
    h('a', { href: `#/projects/${projectId}/jobs/${job.id}`, class: 'deploy-job' }, job.name),
    job.pipeline ? [' in ', h('a', { href: `#/projects/${projectId}/pipelines/${job.pipeline.id}` }, `pipeline #${job.pipeline.id}`)] : '');
}

function envStateBadge(state) {
  const cls = state === 'available' ? 'st-success' : state === 'stopping' ? 'st-running' : 'st-canceled';
  return h('span', { class: `badge ${cls}`, dataset: { state } }, state);
}

// Runs action after the user confirmed `question`; false when they did not.
async function confirmed(question, action) {
  if (!window.confirm(question)) return false;
  await action();
  return true;
}

async function viewEnvironments(projectId) {
  const project = await getProject(projectId);
  projectCrumbs(project, ['Environments', `#/projects/${project.id}/environments`]);
  const body = h('tbody');
  const empty = h('p', { hidden: true }, 'No environments yet: a job with ', h('code', {}, 'environment:'), ' makes one when it runs.');
  show(h('div', { class: 'title-row' }, h('h1', {}, project.name, ' · environments')), projectTabs(project, 'environments'),
    h('table', { class: 'list environments' },
      h('thead', {}, h('tr', {}, ['Environment', 'State', 'Running there', 'Since', 'Health', 'URL', ''].map((t) => h('th', { scope: 'col' }, t)))),
      body), empty);
  let last = '';
  const refresh = async () => {
    const list = await apiAll(`/projects/${project.id}/environments`);
    // Per environment: the newest successful deployment (what runs there)
    // and the newest of any status (whose checks are its health).
    const rows = await Promise.all(list.map(async (e) => {
      const [full, newest] = await Promise.all([api(`/projects/${project.id}/environments/${e.id}`),
        api(`/projects/${project.id}/deployments?environment=${encodeURIComponent(e.name)}&order_by=id&sort=desc&per_page=1`)]);
      return [full, newest[0] || null];
    }));
    const key = JSON.stringify(rows);
    empty.hidden = rows.length > 0;
    if (key === last) return;
    last = key;
    body.replaceChildren(...rows.map(([e, newest]) => {
      const d = e.last_deployment;
      return h('tr', { dataset: { environment: e.name } },
        h('td', {}, h('a', { href: `#/projects/${project.id}/environments/${e.id}`, class: 'env-link' }, e.name),
          h('div', { class: 'muted tier' }, `tier ${e.tier || '—'}`)),
        h('td', {}, envStateBadge(e.state)),
        h('td', { class: 'running-there' }, d ? [h('span', { class: 'ref' }, d.ref), ' ', shortSha(d.sha), ' · ',
          deployableLinks(project.id, d), ' · ', h('span', { class: 'muted' }, `deployment #${d.iid}`)] : h('span', { class: 'muted' }, 'nothing deployed successfully')),
        h('td', {}, d ? timeAgo(d.finished_at || d.created_at) : '—'),
        h('td', { class: 'health' }, newest && newest.status !== 'success' ? [statusBadge(newest.status), ' '] : '', checkChips(newest)),
        h('td', {}, externalLink(e.external_url)),
        h('td', {}, h('span', { class: 'actions' }, e.state === 'available' ? actionButton('Stop',
          () => confirmed(`Stop the environment ${e.name}? Its stop job runs, if it has one.`, async () => {
            await api(`/projects/${project.id}/environments/${e.id}/stop`, { method: 'POST' });
            await refresh();
          }), { class: 'stop-environment', 'aria-label': `Stop ${e.name}` }) : '')));
    }));
  };
  return { stop: poll(refresh) };
}

async function viewEnvironment(projectId, environmentId) {
  const project = await getProject(projectId);
  const base = `/projects/${project.id}`;
  let env = await api(`${base}/environments/${environmentId}`);
  projectCrumbs(project, ['Environments', `#${base}/environments`], [env.name, `#${base}/environments/${env.id}`]);
  const header = h('div', { class: 'environment-header' });
  const body = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  show(header, projectTabs(project, 'environments'),
    h('h2', {}, 'Deployments, newest first'),
    h('table', { class: 'list deployments' },
      h('thead', {}, h('tr', {}, ['Status', 'Deployment', 'Ref', 'Commit', 'Job', 'Created', 'Finished', 'Checks', ''].map((t) => h('th', { scope: 'col' }, t)))),
      body), pager);
  let page = 1;
  let last = '';
  const refresh = async () => {
    const [fresh, { data, headers }] = await Promise.all([api(`${base}/environments/${environmentId}`),
      apiCall(`${base}/deployments?environment=${encodeURIComponent(env.name)}&order_by=id&sort=desc&per_page=20&page=${page}`)]);
    env = fresh;
    const key = JSON.stringify([env, data, page]);
    const live = data.some((d) => d.status === 'running' || d.status === 'created');
    if (key === last && !live) return;
    last = key;
    const current = env.last_deployment;
    header.replaceChildren(h('h1', {}, env.name, ' ', envStateBadge(env.state)),
      h('p', { class: 'facts' }, `Tier ${env.tier || '—'} · URL `, externalLink(env.external_url),
        current ? [' · running ', h('span', { class: 'ref' }, current.ref), ' ', shortSha(current.sha), ` (deployment #${current.iid})`] : ''));
    const iidOf = new Map(data.map((d) => [d.id, d.iid]));
    body.replaceChildren(...data.map((d) => {
      // Rolling back to the running deployment would redeploy it: the
      // button is on earlier successful ones only.
      const canRollBack = d.status === 'success' && current && d.id !== current.id && d.id < current.id;
      return h('tr', { dataset: { deployment: d.id, iid: d.iid, status: d.status } },
        h('td', {}, statusBadge(d.status)),
        h('td', {}, `#${d.iid}`, current && d.id === current.id ? h('span', { class: 'tag current-deployment' }, 'running') : '',
          d.rollback_of ? h('div', { class: 'rollback-of' }, `↶ rollback of #${iidOf.get(d.rollback_of) ?? `id ${d.rollback_of}`}`) : ''),
        h('td', {}, h('span', { class: 'ref' }, d.ref)),
        h('td', {}, shortSha(d.sha)),
        h('td', {}, deployableLinks(project.id, d)),
        h('td', {}, timeAgo(d.created_at)),
        h('td', {}, d.finished_at ? timeAgo(d.finished_at) : '—'),
        h('td', {}, checkChips(d)),
        h('td', {}, h('span', { class: 'actions' }, canRollBack ? actionButton('Roll back to this',
          () => confirmed(`Roll ${env.name} back to deployment #${d.iid} (${d.ref} ${d.sha.slice(0, 8)})? Its job runs again; nothing is rebuilt.`, async () => {
            await api(`${base}/deployments/${d.id}/rollback`, { method: 'POST' });
            await refresh();
          }), { class: 'rollback', 'aria-label': `Roll back to deployment #${d.iid}` }) : '')));
    }));
    const prev = Number(headers.get('X-Prev-Page')), next = Number(headers.get('X-Next-Page'));
    pager.replaceChildren(
      prev ? h('button', { type: 'button', onclick: () => { page = prev; refresh(); } }, '← Newer') : '',
      next ? h('button', { type: 'button', onclick: () => { page = next; refresh(); } }, 'Older →') : '');
  };
  return { stop: poll(refresh) };
}

async function viewIncidents(projectId) {
  const project = await getProject(projectId);
  const base = `/projects/${project.id}`;
  projectCrumbs(project, ['Incidents', `#${base}/incidents`]);
  const body = h('tbody');
  const empty = h('p', { hidden: true }, 'No incidents.');
  show(h('div', { class: 'title-row' }, h('h1', {}, project.name, ' · incidents')), projectTabs(project, 'incidents'),
    h('table', { class: 'list incidents' },
      h('thead', {}, h('tr', {}, ['State', 'Incident', 'Source', 'Caused by', 'Opened', 'Resolved'].map((t) => h('th', { scope: 'col' }, t)))),
      body), empty);
  const deployments = new Map();  // id → deployment; a deployment's environment does not change.
  let last = '';
  const refresh = async () => {
    // Open ones first (newest first), then the 50 newest resolved ones.
    const [open, closed] = await Promise.all([apiAll(`${base}/issues?issue_type=incident&state=opened&order_by=created_at&sort=desc`),
      api(`${base}/issues?issue_type=incident&state=closed&order_by=created_at&sort=desc&per_page=50`)]);
    const incidents = [...open, ...closed];
    await Promise.all([...new Set(incidents.map((i) => i.deployment_id).filter((id) => id && !deployments.has(id)))]
      .map(async (id) => deployments.set(id, await api(`${base}/deployments/${id}`).catch(() => null))));
    const key = JSON.stringify(incidents);
    empty.hidden = incidents.length > 0;
    if (key === last) return;
    last = key;
    body.replaceChildren(...incidents.map((i) => {
      const d = i.deployment_id ? deployments.get(i.deployment_id) : null;
      const open = i.state === 'opened';
      return h('tr', { dataset: { incident: i.iid, state: i.state } },
        h('td', {}, h('span', { class: `badge ${open ? 'st-failed' : 'st-success'}` }, open ? 'open' : 'resolved')),
        h('td', {}, h('span', { class: 'muted' }, `#${i.iid} `), h('span', { class: 'incident-title' }, i.title)),
        h('td', {}, i.incident_source || '—'),
        h('td', { class: 'caused-by' }, d && d.environment
          ? h('a', { href: `#${base}/environments/${d.environment.id}`, class: 'incident-deployment' },
            `deployment #${d.iid} to ${d.environment.name}`, ' ', shortSha(d.sha))
          : i.deployment_id ? `deployment id ${i.deployment_id}` : h('span', { class: 'muted' }, 'not linked')),
        h('td', {}, timeAgo(i.created_at)),
        h('td', {}, i.closed_at ? timeAgo(i.closed_at) : '—'));
    }));
  };
  return { stop: poll(refresh) };
}
