// The slipway dashboard: a single page over the GitLab-compatible v4 API of
// `slipway serve`. Hash routes:
//   #/                                  projects
//   #/projects/ID                       pipelines of a project
//   #/projects/ID/pipelines/PID         one pipeline: stages, needs graph, actions
//   #/projects/ID/jobs/JID[#L42]        one job: live log, line 42 marked
//   #/projects/ID/environments, …/incidents, …/dora  delivery pages (deliver.js, dora.js)
//   #/login                             the API token form
// The token lives in localStorage and goes out as PRIVATE-TOKEN (EventSource,
// which cannot set headers, passes it as ?private_token=).
'use strict';

const POLL_MS = 2000;
const TOKEN_KEY = 'slipway.token';
const FINISHED = new Set(['success', 'failed', 'canceled', 'skipped', 'manual']);
const STATUS_LABEL = {
  success: 'passed', failed: 'failed', running: 'running', pending: 'pending', created: 'created',
  canceled: 'canceled', skipped: 'skipped', manual: 'manual', scheduled: 'scheduled',
  waiting_for_resource: 'waiting', preparing: 'preparing',
};
const STATUS_ICON = {
  success: '✓', failed: '✕', running: '◔', pending: '◷', created: '○', canceled: '⊘',
  skipped: '»', manual: '⚙', scheduled: '◷', waiting_for_resource: '◷', preparing: '◷', warning: '!',
};

// ---- DOM helpers -----------------------------------------------------------

// h('a', {href: '#/', class: 'x'}, 'text', child, ...): builds an element.
// Strings become text nodes; attributes starting with "on" are listeners.
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return element;
}

const main = () => document.getElementById('main');

function show(...children) {
  main().replaceChildren(...children);
}

function statusBadge(status, allowFailure) {
  const shown = status === 'failed' && allowFailure ? 'warning' : status;
  const label = shown === 'warning' ? 'failed (allowed)' : STATUS_LABEL[status] || status;
  return h('span', { class: `badge st-${shown}`, dataset: { status } },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, STATUS_ICON[shown] || '•'), label);
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  // Sub-second durations are shown as such, not rounded to "0.0 s".
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  seconds = Math.round(seconds);
  const hours = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return hours ? `${hours}h ${m}m ${s}s` : m ? `${m}m ${String(s).padStart(2, '0')}s` : `${s} s`;
}

// GitLab's `duration`, or what can be derived from started/finished times.
function durationOf(item) {
  if (typeof item.duration === 'number') return item.duration;
  if (!item.started_at) return null;
  const end = item.finished_at ? Date.parse(item.finished_at) : Date.now();
  return (end - Date.parse(item.started_at)) / 1000;
}

function timeAgo(iso) {
  if (!iso) return '—';
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  const text = seconds < 60 ? 'just now' : seconds < 3600 ? `${Math.floor(seconds / 60)} min ago`
    : seconds < 86400 ? `${Math.floor(seconds / 3600)} h ago` : `${Math.floor(seconds / 86400)} d ago`;
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, text);
}

function errorBox(error) {
  return h('p', { class: 'error', role: 'alert' }, String(error.message || error));
}

// ---- API -------------------------------------------------------------------

const token = {
  get: () => localStorage.getItem(TOKEN_KEY) || '',
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Calls /api/v4 + path. Returns {data, headers}. 401 sends the user to the
// login page (remembering where they were) and throws.
async function apiCall(path, options = {}) {
  const headers = { 'PRIVATE-TOKEN': token.get() };
  let body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  // no-cache: always revalidate (the server answers 304 to a matching ETag).
  const response = await fetch('/api/v4' + path, { method: options.method || 'GET', headers, body, cache: 'no-cache' });
  if (response.status === 401) {
    if (!location.hash.startsWith('#/login')) {
      token.clear();
      document.getElementById('user-name').textContent = '';
      sessionStorage.setItem('slipway.after-login', location.hash);
      location.hash = '#/login';
    }
    throw new ApiError(401, 'Not signed in (401)');
  }
  const text = options.raw ? null : await response.text();
  if (!response.ok) {
    // GitLab's errors are {"message": "403 Forbidden"} (or "error"); else the status line.
    let message = `${response.status} ${response.statusText}`;
    try {
      const parsed = JSON.parse(text);
      const detail = parsed.message || parsed.error;
      if (detail) message = typeof detail === 'string' ? detail : JSON.stringify(detail);
    } catch (_) { /* Not JSON: keep the status line. */ }
    throw new ApiError(response.status, message);
  }
  if (options.raw) return response;
  return { data: text ? JSON.parse(text) : null, headers: response.headers };
}

const api = async (path, options) => (await apiCall(path, options)).data;

// Every page of a paginated list (GitLab's X-Next-Page).
async function apiAll(path) {
  const items = [];
  for (let page = 1; page;) {
    const sep = path.includes('?') ? '&' : '?';
    const { data, headers } = await apiCall(`${path}${sep}per_page=100&page=${page}`);
    items.push(...data);
    page = Number(headers.get('X-Next-Page')) || 0;
  }
  return items;
}

// Runs fn now and then every POLL_MS after it finishes, while the page is
// visible. A failure (server gone, 500) is shown in the notice area until a
// later call succeeds. Returns a function that stops it.
function poll(fn) {
  let timer = 0;
  let stopped = false;
  let failing = false;
  const tick = async () => {
    timer = 0;
    if (stopped) return;
    if (document.hidden) return;  // Resumed by visibilitychange.
    try {
      await fn();
      if (failing && !stopped) notice('');
      failing = false;
    } catch (error) {
      if (!stopped && error.status !== 401) {
        failing = true;
        notice(`Could not refresh: ${error.message}`);
      }
    }
    if (!stopped && !timer) timer = setTimeout(tick, POLL_MS);
  };
  const onVisible = () => { if (!document.hidden && !timer) tick(); };
  document.addEventListener('visibilitychange', onVisible);
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}

// A button that runs an API action, disabled while it runs; errors go to
// the page's alert area.
function actionButton(label, action, attrs = {}) {
  const button = h('button', Object.assign({ type: 'button' }, attrs), label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
      notice('');
    } catch (error) {
      notice(error.message);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function notice(message) {
  const area = document.getElementById('notice');
  area.textContent = message;
  area.hidden = !message;
}

// ---- Navigation ------------------------------------------------------------

function crumbs(...items) {
  const nav = document.getElementById('crumbs');
  nav.replaceChildren(h('ol', {}, items.map((item, i) =>
    h('li', {}, i === items.length - 1 ? h('span', { 'aria-current': 'page' }, item[0]) : h('a', { href: item[1] }, item[0])))));
  document.title = [...items].reverse().map((item) => item[0]).concat('slipway').join(' · ');
}

const projectCache = new Map();
async function getProject(id) {
  if (!projectCache.has(id)) projectCache.set(id, await api(`/projects/${encodeURIComponent(id)}`));
  return projectCache.get(id);
}

// ---- Views: each returns an object {stop(), anchor(name)?} -------------------

function viewLogin() {
  crumbs(['Sign in', '#/login']);
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const message = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'login', onsubmit: async (event) => {
    event.preventDefault();
    token.set(input.value.trim());
    try {
      await api('/user');
    } catch (error) {
      token.clear();
      message.textContent = error.status === 401 ? 'This token is not valid.' : error.message;
      message.hidden = false;
      return;
    }
    const next = sessionStorage.getItem('slipway.after-login') || '#/';
    sessionStorage.removeItem('slipway.after-login');
    location.hash = next === '#/login' ? '#/' : next;
  } },
  h('h1', {}, 'Sign in'),
  h('label', { for: 'token' }, 'API token'),
  input,
  h('p', { class: 'hint' }, 'Create one on the server with ', h('code', {}, 'slipway token create --data DIR --name NAME --role run'), '.'),
  message,
  h('button', { type: 'submit' }, 'Sign in'));
  show(form);
  input.focus();
  return {};
}

async function viewProjects() {
  crumbs(['Projects', '#/']);
  const projects = await apiAll('/projects?order_by=id&sort=asc');
  show(h('h1', {}, 'Projects'),
    projects.length === 0
      ? h('p', {}, 'No projects yet. Add one with ', h('code', {}, 'slipway project add --data DIR NAME REPO'), '.')
      : h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Project'), h('th', {}, 'Path'), h('th', {}, 'Default branch'))),
        h('tbody', {}, projects.map((p) => h('tr', {},
          h('td', {}, h('a', { href: `#/projects/${p.id}`, class: 'project-link' }, p.name)),
          h('td', {}, p.path_with_namespace),
          h('td', {}, p.default_branch || '—'))))));
  return {};
}

function runPipelineForm(project) {
  const ref = h('input', { id: 'run-ref', name: 'ref', required: true, value: project.default_branch || 'main' });
  const rows = h('div', { class: 'variables' });
  const addRow = () => {
    const n = rows.childElementCount + 1;
    rows.appendChild(h('div', { class: 'variable' },
      h('label', { for: `var-key-${n}` }, 'Key'), h('input', { id: `var-key-${n}`, class: 'var-key', spellcheck: 'false' }),
      h('label', { for: `var-value-${n}` }, 'Value'), h('input', { id: `var-value-${n}`, class: 'var-value', spellcheck: 'false' })));
  };
  addRow();
  const form = h('form', { class: 'run-form', onsubmit: async (event) => {
    event.preventDefault();
    const variables = [...rows.children]
      .map((row) => ({ key: row.querySelector('.var-key').value.trim(), value: row.querySelector('.var-value').value, variable_type: 'env_var' }))
      .filter((v) => v.key);
    try {
      const pipeline = await api(`/projects/${project.id}/pipeline`, { method: 'POST', json: { ref: ref.value.trim(), variables, source: 'web' } });
      location.hash = `#/projects/${project.id}/pipelines/${pipeline.id}`;
    } catch (error) {
      notice(error.message);
    }
  } },
  h('label', { for: 'run-ref' }, 'Branch or tag'), ref,
  h('fieldset', {}, h('legend', {}, 'Variables'), rows,
    h('button', { type: 'button', onclick: addRow }, 'Add variable')),
  h('button', { type: 'submit', class: 'primary' }, 'Run pipeline'));
  return h('details', { class: 'run-pipeline' }, h('summary', {}, 'Run pipeline'), form);
}

// GitLab's mini pipeline graph: one status icon per stage, in stage order,
// coloured by the stage's status (the list's `stages`, docs/api.md), its
// tooltip naming the stage and its status; each leads to the pipeline.
function stageGraph(project, pipeline) {
  const stages = pipeline.stages || [];
  if (stages.length === 0) return h('span', { class: 'muted' }, '—');
  const href = `#/projects/${project.id}/pipelines/${pipeline.id}`;
  return h('ol', { class: 'mini-graph', 'aria-label': `Stages of pipeline ${pipeline.id}` }, stages.map((stage) => {
    const shown = stage.warnings ? 'warning' : stage.status;
    const label = `${stage.name}: ${stage.warnings ? 'passed with warnings' : STATUS_LABEL[stage.status] || stage.status}`;
    return h('li', {}, h('a', { href, class: `stage-icon st-${shown}`, title: label, 'aria-label': label, dataset: { stage: stage.name, status: stage.status } },
      h('span', { 'aria-hidden': 'true' }, STATUS_ICON[shown] || '•')));
  }));
}

async function viewPipelines(projectId) {
  const project = await getProject(projectId);
  crumbs(['Projects', '#/'], [project.name, `#/projects/${project.id}`]);
  let page = 1;
  const body = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const empty = h('p', { hidden: true }, 'No pipelines yet: push to the repository or run one.');
  // Filters: GitLab's list parameters status, ref and source.
  const option = (value, label) => h('option', { value }, label || value);
  const statusFilter = h('select', { id: 'filter-status', name: 'status' }, option('', 'any status'),
    ['running', 'pending', 'success', 'failed', 'canceled', 'skipped', 'manual', 'created'].map((st) => option(st, STATUS_LABEL[st] || st)));
  const refFilter = h('input', { id: 'filter-ref', name: 'ref', type: 'search', placeholder: 'branch or tag', spellcheck: 'false' });
  const sourceFilter = h('select', { id: 'filter-source', name: 'source' }, option('', 'any trigger'),
    ['push', 'web', 'api', 'schedule', 'trigger', 'merge_request_event', 'parent_pipeline', 'pipeline'].map((src) => option(src)));
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter pipelines', onsubmit: (e) => { e.preventDefault(); page = 1; refresh(); } },
    h('label', { for: 'filter-status' }, 'Status'), statusFilter,
    h('label', { for: 'filter-ref' }, 'Ref'), refFilter,
    h('label', { for: 'filter-source' }, 'Trigger'), sourceFilter,
    h('button', { type: 'submit' }, 'Filter'));
  for (const control of [statusFilter, sourceFilter]) control.addEventListener('change', () => { page = 1; refresh(); });
  show(h('div', { class: 'title-row' }, h('h1', {}, project.name, ' · pipelines'), h('span', { class: 'muted' }, project.path_with_namespace)),
    projectTabs(project, 'pipelines'),
    runPipelineForm(project),
    filters,
    h('table', { class: 'list pipelines' },
      h('thead', {}, h('tr', {}, ['Status', 'Pipeline', 'Stages', 'Ref', 'Commit', 'Trigger', 'Created', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))),
      body),
    empty, pager);
  let last = '';
  const refresh = async () => {
    const query = new URLSearchParams({ per_page: '20', page: String(page) });
    if (statusFilter.value) query.set('status', statusFilter.value);
    if (refFilter.value.trim()) query.set('ref', refFilter.value.trim());
    if (sourceFilter.value) query.set('source', sourceFilter.value);
    const filtered = query.has('status') || query.has('ref') || query.has('source');
    const { data, headers } = await apiCall(`/projects/${project.id}/pipelines?${query}`);
    const key = JSON.stringify(data) + query;
    empty.textContent = filtered ? 'No pipeline matches these filters.' : 'No pipelines yet: push to the repository or run one.';
    empty.hidden = data.length > 0 || page > 1;
    const running = data.some((p) => !FINISHED.has(p.status));
    if (key === last && !running) return;
    last = key;
    body.replaceChildren(...data.map((p) => h('tr', { dataset: { pipeline: p.id } },
      h('td', {}, h('a', { href: `#/projects/${project.id}/pipelines/${p.id}`, 'aria-label': `Pipeline ${p.id}: ${STATUS_LABEL[p.status] || p.status}` }, statusBadge(p.status))),
      h('td', {}, h('a', { href: `#/projects/${project.id}/pipelines/${p.id}` }, `#${p.id}`), h('span', { class: 'muted' }, ` (#${p.iid})`),
        p.name ? h('div', { class: 'pipeline-name' }, p.name) : ''),
      h('td', { class: 'stages-cell' }, stageGraph(project, p)),
      h('td', {}, h('span', { class: 'ref' }, p.ref)),
      h('td', {}, h('code', { title: p.sha }, (p.sha || '').slice(0, 8))),
      h('td', {}, p.source || '—'),
      h('td', {}, timeAgo(p.created_at)),
      h('td', {}, formatDuration(durationOf(p))))));
    const prev = Number(headers.get('X-Prev-Page')), next = Number(headers.get('X-Next-Page'));
    pager.replaceChildren(
      prev ? h('button', { type: 'button', onclick: () => { page = prev; refresh(); } }, '← Newer') : '',
      next ? h('button', { type: 'button', onclick: () => { page = next; refresh(); } }, 'Older →') : '');
  };
  return { stop: poll(refresh) };
}

// Draws the needs graph in an SVG laid over the stage columns: a path from
// each needed job's card to the card of the job that needs it, drawn so that
// it never crosses a card it does not connect (which would make a job seem
// to need another): paths are orthogonal and turn only in the gaps between
// columns. An edge to the next column turns in the gap between them, at an
// x of its target's (edges into one job merge, edges into different jobs
// keep apart); one that skips columns goes down in the gap after its
// source, along a lane of its own below the cards of the columns it passes,
// and up in the gap before its target; one within a column runs in the gap
// beside it.
function drawNeeds(container, svg, jobs) {
  const box = container.getBoundingClientRect();
  const place = (el) => {
    const r = el.getBoundingClientRect();
    const left = r.left - box.left + container.scrollLeft, top = r.top - box.top + container.scrollTop;
    return { left, top, right: left + r.width, bottom: top + r.height, mid: top + r.height / 2 };
  };
  const columns = [...container.querySelectorAll(':scope > .stage')].map((stage) => {
    const cards = [...stage.querySelectorAll('.job-card')];
    const at = place(stage);
    return { left: at.left, right: at.right, bottom: Math.max(at.top, ...cards.map((c) => place(c).bottom)), cards };
  });
  const cards = new Map();
  columns.forEach((column, index) => column.cards.forEach((card) => cards.set(card.dataset.name, { card, index, at: place(card) })));
  // The gap after column i: from its right side to the next one's left.
  const gap = (i) => (i + 1 < columns.length
    ? { left: columns[i].right, right: columns[i + 1].left }
    : { left: columns[i].right, right: columns[i].right + 24 });

  // Collect the edges, then give each gap's users their x (slot).
  const edges = [];
  for (const job of jobs) {
    for (const need of job.needs || []) {
      let from = cards.get(need), to = cards.get(job.name);
      if (!from || !to) continue;
      const names = { from: need, to: job.name };
      if (from.index > to.index) [from, to] = [to, from];  // Drawn left to right; edges have no arrows.
      edges.push({ names, from, to });
    }
  }
  const slots = new Map();  // gap index -> Map(key -> slot)
  const claim = (g, key) => {
    if (!slots.has(g)) slots.set(g, new Map());
    const used = slots.get(g);
    if (!used.has(key)) used.set(key, used.size);
    return [g, key];
  };
  const slotX = ([g, key]) => {
    const used = slots.get(g), range = gap(g);
    return range.left + ((range.right - range.left) * (used.get(key) + 1)) / (used.size + 1);
  };
  let lanes = 0;
  for (const edge of edges) {
    const { from, to } = edge;
    if (from.index === to.index) {
      // Same column: in the gap before it, or after the first one.
      edge.turn = from.index > 0 ? claim(from.index - 1, `to:${edge.names.to}`) : claim(from.index, `to:${edge.names.to}`);
      edge.side = from.index > 0 ? 'left' : 'right';
    } else if (to.index === from.index + 1) {
      edge.turn = claim(from.index, `to:${edge.names.to}`);
    } else {
      edge.down = claim(from.index, `from:${edge.names.from}`);
      edge.up = claim(to.index - 1, `to:${edge.names.to}`);
      edge.lane = lanes++;
    }
  }
  const bottom = Math.max(0, ...columns.map((c) => c.bottom));
  const paths = [];
  let lowest = 0;
  for (const edge of edges) {
    const a = edge.from.at, b = edge.to.at;
    let points;
    if (edge.side) {
      const x = slotX(edge.turn), side = edge.side === 'left' ? 'left' : 'right';
      points = [[a[side], a.mid], [x, a.mid], [x, b.mid], [b[side], b.mid]];
    } else if (edge.turn) {
      const x = slotX(edge.turn);
      points = [[a.right, a.mid], [x, a.mid], [x, b.mid], [b.left, b.mid]];
    } else {
      // Below the cards of the columns it passes (those between its ends).
      const passed = columns.slice(edge.from.index + 1, edge.to.index);
      const y = Math.max(...passed.map((c) => c.bottom)) + 12 + 8 * edge.lane;
      const x1 = slotX(edge.down), x2 = slotX(edge.up);
      points = [[a.right, a.mid], [x1, a.mid], [x1, y], [x2, y], [x2, b.mid], [b.left, b.mid]];
      lowest = Math.max(lowest, y);
    }
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', points.map(([x, y], i) => `${i ? 'L' : 'M'}${Math.round(x * 2) / 2},${Math.round(y * 2) / 2}`).join(' '));
    path.setAttribute('class', 'need-edge');
    path.dataset.from = edge.names.from;
    path.dataset.to = edge.names.to;
    paths.push(path);
  }
  // Room below the columns for the lanes (padding does not resize the
  // content box that the ResizeObserver watches).
  const room = `${Math.max(16, lowest - bottom + 12)}px`;
  if (container.style.paddingBottom !== room) container.style.paddingBottom = room;
  svg.setAttribute('width', container.scrollWidth);
  svg.setAttribute('height', container.scrollHeight);
  svg.replaceChildren(...paths);
}

// Play / retry / cancel buttons for a job, as icons (compact) or words.
// after(result) runs when the action succeeded.
function jobActions(projectId, job, after, compact) {
  const base = `/projects/${projectId}/jobs/${job.id}`;
  const button = (verb, icon, action, cls) => actionButton(compact ? icon : verb,
    async () => after(await api(`${base}/${action}`, { method: 'POST' })),
    { class: `${cls}${compact ? ' icon-button' : ''}`, 'aria-label': `${verb} ${job.name}`, title: verb });
  const buttons = [];
  if (job.status === 'manual') buttons.push(button('Run', '▶', 'play', 'play-job'));
  if (['success', 'failed', 'canceled'].includes(job.status)) buttons.push(button('Retry', '↻', 'retry', 'retry-job'));
  if (['created', 'pending', 'running', 'waiting_for_resource', 'preparing', 'scheduled'].includes(job.status)) buttons.push(button('Cancel', '⊘', 'cancel', 'cancel-job'));
  return buttons;
}

// Under a trigger job: the pipeline it started, with its status.
function downstreamLink(pipeline, child) {
  if (!child) return '';
  const kind = child.project_id === pipeline.project_id ? 'Child pipeline' : 'Downstream pipeline';
  return h('a', { class: 'downstream-link', href: `#/projects/${child.project_id}/pipelines/${child.id}` },
    statusBadge(child.status), ` ${kind} #${child.id}`);
}

// What posting this pipeline's commit status to the project's forge gave
// (the API's forge_status, docs/api.md): "Status sent to GitHub: ok
// (success)" or "... failed: HTTP 401".
function forgeStatusLine(pipeline) {
  const f = pipeline.forge_status;
  if (!f) return '';
  return h('p', { class: f.ok ? 'forge-status' : 'forge-status failed' },
    `Status sent to ${f.forge}: `, f.ok ? `ok (${f.state})` : `failed: ${f.error}`);
}

// On a downstream pipeline: the pipeline whose trigger job started it.
function upstreamLink(project, pipeline) {
  if (!pipeline.upstream_pipeline_id) return '';
  const id = pipeline.upstream_pipeline_id;
  if (pipeline.source !== 'parent_pipeline') {
    return h('p', { class: 'upstream-link' }, `Triggered by pipeline #${id} of another project`);
  }
  return h('p', { class: 'upstream-link' }, 'Child pipeline of ',
    h('a', { href: `#/projects/${project.id}/pipelines/${id}` }, `parent pipeline #${id}`));
}

async function viewPipeline(projectId, pipelineId) {
  const project = await getProject(projectId);
  const base = `/projects/${project.id}/pipelines/${pipelineId}`;
  crumbs(['Projects', '#/'], [project.name, `#/projects/${project.id}`], [`Pipeline #${pipelineId}`, `#/projects/${project.id}/pipelines/${pipelineId}`]);
  const header = h('div', { class: 'pipeline-header' });
  const errors = h('div', { class: 'yaml-errors', hidden: true });
  const graph = h('div', { class: 'stages', 'aria-label': 'Jobs by stage' });
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'needs');
  svg.setAttribute('aria-hidden', 'true');
  // Tabs: the jobs graph, and the test report (artifacts:reports:junit).
  const tests = h('div', { class: 'tests', id: 'tests-panel', role: 'tabpanel', hidden: true });
  const jobsTab = h('button', { type: 'button', role: 'tab', id: 'tab-jobs', 'aria-selected': 'true', 'aria-controls': 'jobs-panel' }, 'Jobs');
  const testsTab = h('button', { type: 'button', role: 'tab', id: 'tab-tests', 'aria-selected': 'false', 'aria-controls': 'tests-panel' }, 'Tests');
  graph.id = 'jobs-panel';
  graph.setAttribute('role', 'tabpanel');
  let testsKey = '';
  const loadTests = async () => {
    const report = await api(`${base}/test_report`);
    const key = JSON.stringify(report);
    if (key === testsKey) return;
    testsKey = key;
    renderTests(tests, report);
  };
  const select = (showTests) => {
    jobsTab.setAttribute('aria-selected', String(!showTests));
    testsTab.setAttribute('aria-selected', String(showTests));
    graph.hidden = showTests;
    tests.hidden = !showTests;
    if (showTests) loadTests().catch((error) => tests.replaceChildren(errorBox(error)));
  };
  jobsTab.addEventListener('click', () => select(false));
  testsTab.addEventListener('click', () => select(true));
  show(header, errors, h('div', { class: 'tabs', role: 'tablist' }, jobsTab, testsTab), graph, tests);
  let jobs = [];
  let last = '';
  const resize = new ResizeObserver(() => drawNeeds(graph, svg, jobs));
  resize.observe(graph);

  const refresh = async () => {
    const [pipeline, builds, bridges] = await Promise.all([api(base), apiAll(`${base}/jobs`), apiAll(`${base}/bridges`)]);
    const key = JSON.stringify([pipeline, builds, bridges]);
    // The jobs API lists no trigger jobs (GitLab's bridges): both, in creation order.
    const list = [...builds, ...bridges].sort((a, b) => a.id - b.id);
    // A trigger job's downstream pipeline, by the job's id (GitLab's bridges).
    const downstream = new Map(bridges.filter((b) => b.downstream_pipeline).map((b) => [b.id, b.downstream_pipeline]));
    const live = !FINISHED.has(pipeline.status) || list.some((j) => !FINISHED.has(j.status));
    if (!tests.hidden && (live || key !== last)) await loadTests();
    if (key === last && !live) return;
    last = key;
    jobs = list;
    header.replaceChildren(
      h('h1', {}, statusBadge(pipeline.status), ` Pipeline #${pipeline.id}`, h('span', { class: 'muted' }, ` (#${pipeline.iid})`)),
      pipeline.name ? h('p', { class: 'pipeline-name' }, pipeline.name) : '',
      h('p', { class: 'facts' },
        'Ref ', h('span', { class: 'ref' }, pipeline.ref), ' · commit ', h('code', { title: pipeline.sha }, (pipeline.sha || '').slice(0, 8)),
        ' · trigger ', pipeline.source || '—', ' · created ', timeAgo(pipeline.created_at),
        ' · duration ', formatDuration(durationOf(pipeline)), pipeline.coverage ? h('span', { class: 'pipeline-coverage' }, ` · coverage ${pipeline.coverage}%`) : ''),
      upstreamLink(project, pipeline),
      forgeStatusLine(pipeline),
      h('div', { class: 'actions' },
        ['failed', 'canceled'].includes(pipeline.status) || list.some((j) => ['failed', 'canceled'].includes(j.status))
          ? actionButton('Retry', async () => { await api(`${base}/retry`, { method: 'POST' }); await refresh(); }, { class: 'retry-pipeline' }) : '',
        !FINISHED.has(pipeline.status)
          ? actionButton('Cancel', async () => { await api(`${base}/cancel`, { method: 'POST' }); await refresh(); }, { class: 'cancel-pipeline' }) : ''));
    errors.hidden = !pipeline.yaml_errors;
    errors.replaceChildren(h('h2', {}, 'This pipeline file is invalid'), h('pre', { role: 'alert' }, pipeline.yaml_errors || ''));

    // Stage columns in stage_idx order; jobs in API order within a stage.
    const stages = new Map();
    for (const job of [...list].sort((a, b) => (a.stage_idx ?? 0) - (b.stage_idx ?? 0))) {
      if (!stages.has(job.stage)) stages.set(job.stage, []);
      stages.get(job.stage).push(job);
    }
    graph.replaceChildren(svg, ...[...stages].map(([stage, stageJobs]) => h('section', { class: 'stage', dataset: { stage } },
      h('h2', {}, stage),
      h('ul', {}, stageJobs.map((job) => h('li', { class: 'job-card', dataset: { name: job.name, status: job.status } },
        h('a', { href: `#/projects/${project.id}/jobs/${job.id}`, class: 'job-link' }, statusBadge(job.status, job.allow_failure), ' ', h('span', { class: 'job-name' }, job.name)),
        h('span', { class: 'job-duration muted' }, job.started_at ? formatDuration(durationOf(job)) : ''),
        h('span', { class: 'job-actions' }, jobActions(project.id, job, refresh, true)),
        downstreamLink(pipeline, downstream.get(job.id))))))));
    if (list.length === 0 && !pipeline.yaml_errors) graph.appendChild(h('p', {}, 'This pipeline has no jobs.'));
    drawNeeds(graph, svg, jobs);
  };
  const stop = poll(refresh);
  return { stop: () => { stop(); resize.disconnect(); } };
}

async function viewJob(projectId, jobId, anchor) {
  const project = await getProject(projectId);
  const base = `/projects/${project.id}/jobs/${jobId}`;
  let job = await api(base);
  const pipelineId = job.pipeline && job.pipeline.id;
  crumbs(['Projects', '#/'], [project.name, `#/projects/${project.id}`],
    [`Pipeline #${pipelineId}`, `#/projects/${project.id}/pipelines/${pipelineId}`], [job.name, `#/projects/${project.id}/jobs/${jobId}`]);

  const header = h('div', { class: 'job-header' });
  const logBox = h('div', { class: 'log', tabindex: '0', 'aria-label': `Log of ${job.name}` });
  const view = new SlipwayLog.LogView(logBox, {
    lineHref: (n) => `#/projects/${project.id}/jobs/${jobId}#L${n}`,
    onLines: (from, to) => search.added(from, to),
  });
  const search = new SlipwayLog.LogSearch(view);
  const searchInput = h('input', { id: 'log-search', type: 'search', placeholder: 'Search the log', spellcheck: 'false' });
  const searchCount = h('span', { class: 'search-count', 'aria-live': 'polite' });
  const showPosition = () => {
    searchCount.textContent = search.query ? `${search.current + 1 || 0} / ${search.matches.length}${search.matches.length >= search.limit ? '+' : ''}` : '';
  };
  const runSearch = () => { search.run(searchInput.value); if (search.matches.length) search.move(1); showPosition(); };
  let searchTimer = 0;
  searchInput.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 200); });
  searchInput.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    clearTimeout(searchTimer);
    if (search.query !== searchInput.value.toLowerCase()) runSearch();
    else { search.move(e.shiftKey ? -1 : 1); showPosition(); }
  });
  const followButton = h('button', { type: 'button', class: 'follow', onclick: () => view.scrollToEnd() }, 'Follow log');
  view.onFollowChange = (follow) => { followButton.setAttribute('aria-pressed', String(follow)); };
  view.onFollowChange(true);
  const download = actionButton('Download', () => downloadFile(`${base}/trace`, `job-${jobId}.log`), { class: 'download' });
  const toolbar = h('div', { class: 'log-toolbar' },
    h('label', { for: 'log-search', class: 'visually-hidden' }, 'Search the log'), searchInput,
    h('button', { type: 'button', 'aria-label': 'Previous match', onclick: () => { search.move(-1); showPosition(); } }, '↑'),
    h('button', { type: 'button', 'aria-label': 'Next match', onclick: () => { search.move(1); showPosition(); } }, '↓'),
    searchCount, h('span', { class: 'spacer' }), followButton, download);
  const logState = h('p', { class: 'log-state muted', 'aria-live': 'polite' });
  const facts = h('aside', { class: 'job-facts', 'aria-label': 'Job details' });
  show(header, h('div', { class: 'job-layout' }, h('div', { class: 'job-log' }, toolbar, logBox, logState), facts));
  const artifactsBox = h('section', { class: 'job-artifacts', 'aria-label': 'Artifacts' });
  let artifactsShown = '';
  const renderFacts = () => {
    facts.replaceChildren(jobFacts(project, job), artifactsBox);
    // The file list is read again only when the job's artifacts change.
    const key = JSON.stringify([job.artifacts_file, job.artifacts_expire_at]);
    if (key === artifactsShown) return;
    artifactsShown = key;
    renderArtifacts(artifactsBox, base, job).catch((error) => artifactsBox.replaceChildren(errorBox(error)));
  };

  const renderHeader = () => {
    header.replaceChildren(
      h('h1', {}, statusBadge(job.status, job.allow_failure), ' ', job.name),
      h('p', { class: 'facts' }, 'Stage ', job.stage, ' · duration ', formatDuration(durationOf(job)),
        job.failure_reason ? [' · ', h('span', { class: 'failure-reason' }, job.failure_reason.replace(/_/g, ' '))] : '',
        job.runner && job.runner.description ? ` · runner ${job.runner.description}` : '',
        job.image ? [' · image ', h('span', { class: 'job-image', title: `${job.image.name}@${job.image.digest}` },
          job.image.name, ' ', h('code', {}, job.image.digest.slice(0, 19)))] : ''),
      // GitLab's stuck job: pending and no runner online can take it.
      job.stuck ? h('p', { class: 'job-stuck', role: 'status' }, job.stuck_reason) : '',
      h('div', { class: 'actions' }, jobActions(project.id, job, (result) => {
        // A retry creates a new job: open it; play and cancel change this one.
        if (result && result.id && String(result.id) !== String(jobId)) location.hash = `#/projects/${project.id}/jobs/${result.id}`;
        else if (result && result.id) { job = result; renderHeader(); }
      })));
    renderFacts();
  };
  renderHeader();

  // The live log. EventSource reconnects by itself and resumes with
  // Last-Event-ID (the byte offset of the last chunk received).
  let ended = false;
  let received = false;
  const source = new EventSource(`/api/v4${base}/trace/stream?private_token=${encodeURIComponent(token.get())}`);
  logState.textContent = ['created', 'pending', 'scheduled', 'manual', 'waiting_for_resource'].includes(job.status)
    ? 'The log starts when the job runs.' : 'Loading log…';
  source.addEventListener('append', (event) => {
    received = true;
    logState.textContent = '';
    view.append(JSON.parse(event.data));
  });
  source.addEventListener('end', (event) => {
    ended = true;
    source.close();
    view.finish(() => {
      logState.textContent = view.lines.length ? '' : 'This job has no log.';
      logBox.dataset.complete = 'true';
    });
    try { const data = JSON.parse(event.data); if (data.status && data.status !== job.status) { job.status = data.status; renderHeader(); } } catch (_) { /* Keep the header. */ }
  });
  source.addEventListener('error', async () => {
    if (ended || source.readyState !== EventSource.CLOSED) return;
    // The stream was refused: show the stored log once.
    if (!received) {
      try {
        const response = await apiCall(`${base}/trace`, { raw: true });
        view.append(await response.text());
        view.finish(() => { logBox.dataset.complete = 'true'; });
        logState.textContent = 'Live log unavailable; showing the stored log.';
      } catch (error) { logState.textContent = error.message; }
    } else {
      logState.textContent = 'The live log was disconnected. Reload to continue.';
    }
  });

  const stopPoll = poll(async () => {
    if (FINISHED.has(job.status) && ended) return;
    const fresh = await api(base);
    // A running job's duration grows without its JSON changing.
    if (JSON.stringify(fresh) !== JSON.stringify(job) || !FINISHED.has(fresh.status)) { job = fresh; renderHeader(); }
  });
  const lineOf = (name) => { const m = /^L(\d+)$/.exec(name || ''); return m ? Number(m[1]) : 0; };
  view.highlightLine(lineOf(anchor));
  return {
    stop: () => { stopPoll(); source.close(); view.destroy(); clearTimeout(searchTimer); },
    anchor: (name) => view.highlightLine(lineOf(name)),
  };
}

// ---- Router ----------------------------------------------------------------

const ROUTES = [
  [/^\/?$/, () => viewProjects()],
  [/^\/login$/, () => viewLogin()],
  [/^\/projects\/([^/]+)$/, (m) => viewPipelines(decodeURIComponent(m[1]))],
  [/^\/projects\/([^/]+)\/pipelines\/(\d+)$/, (m) => viewPipeline(decodeURIComponent(m[1]), m[2])],
  [/^\/projects\/([^/]+)\/jobs\/(\d+)$/, (m, anchor) => viewJob(decodeURIComponent(m[1]), m[2], anchor)],
  ...DELIVER_ROUTES,
];

let current = { path: null, view: {} };

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const cut = hash.indexOf('#');
  const path = cut >= 0 ? hash.slice(0, cut) : hash;
  const anchor = cut >= 0 ? hash.slice(cut + 1) : '';
  if (path === current.path) {  // Only the line anchor changed.
    if (current.view.anchor) current.view.anchor(anchor);
    return;
  }
  if (current.view.stop) current.view.stop();
  const mine = current = { path, view: {} };
  notice('');
  if (!token.get() && path !== '/login') {
    sessionStorage.setItem('slipway.after-login', location.hash);
    location.hash = '#/login';
    return;
  }
  document.getElementById('signed-in').hidden = !token.get();
  const match = ROUTES.map(([re, view]) => [re.exec(path), view]).find(([m]) => m);
  if (!match) {
    crumbs(['Not found', location.hash]);
    show(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the projects')));
    return;
  }
  show(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const view = await match[1](match[0], anchor);
    if (mine === current) current.view = view || {};
    else if (view && view.stop) view.stop();  // The user moved on meanwhile.
  } catch (error) {
    if (mine === current && error.status !== 401) show(errorBox(error));
  }
}

async function showUser() {
  if (!token.get() || document.getElementById('user-name').textContent) return;
  try {
    const user = await api('/user');
    document.getElementById('user-name').textContent = user.username || user.name || '';
    // A read-only token sees no action buttons (the server would answer 403).
    document.body.classList.toggle('read-only', user.role === 'read');
  } catch (_) { /* The view shows the error. */ }
}

document.getElementById('sign-out').addEventListener('click', () => {
  token.clear();
  projectCache.clear();
  document.body.classList.remove('read-only');
  document.getElementById('user-name').textContent = '';
  location.hash = '#/login';
});
window.addEventListener('hashchange', () => { route(); showUser(); });
route();
showUser();
