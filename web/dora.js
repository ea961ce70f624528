// The DORA page of the dashboard (#/projects/ID/dora, docs/dashboard.md):
// each metric of GET /projects/:id/dora/metrics (docs/dora.md) over the
// chosen range, tiers and interval, its bands of DORA's 2022 and 2024
// reports, and a bar chart over time drawn here as inline SVG.
'use strict';

// DORA's five metrics (2024), then GitLab's time to restore service.
const DORA_METRICS = [
  ['deployment_frequency', 'Deployment frequency', 'count'],
  ['lead_time_for_changes', 'Lead time for changes', 'seconds'],
  ['change_failure_rate', 'Change failure rate', 'ratio'],
  ['failed_deployment_recovery_time', 'Failed deployment recovery time', 'seconds'],
  ['deployment_rework_rate', 'Deployment rework rate', 'ratio'],
  ['time_to_restore_service', 'Time to restore service (GitLab’s)', 'seconds'],
];
const DORA_TIERS = ['production', 'staging', 'testing', 'development', 'other'];
const SVG_NS = 'http://www.w3.org/2000/svg';

// 90 s, 12 min, 5 h 3 min, 2 d 4 h.
function humanSeconds(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

function formatMetric(kind, value) {
  if (value === null || value === undefined) return '—';
  if (kind === 'ratio') return `${(value * 100).toFixed(1)}%`;
  if (kind === 'seconds') return humanSeconds(value);
  return String(value);
}

// What the value was computed from (the API's fields beside `value`).
function metricBasis(metric, p) {
  switch (metric) {
    case 'deployment_frequency': return `${(p.per_day ?? 0).toFixed(2)} a day`;
    case 'lead_time_for_changes': return `${p.commits ?? 0} commit(s), mean ${humanSeconds(p.mean)}`;
    case 'change_failure_rate': return `${p.failed ?? 0} of ${p.deployments ?? 0} deployment(s) failed`;
    case 'failed_deployment_recovery_time': return `${p.recovered ?? 0} recovered, ${p.unrecovered ?? 0} not yet`;
    case 'deployment_rework_rate': return `${p.rework ?? 0} of ${p.deployments ?? 0} deployment(s) rework`;
    case 'time_to_restore_service': return `${p.incidents ?? 0} incident(s), mean ${humanSeconds(p.mean)}`;
    default: return '';
  }
}

// The band table (web/dora_bands.json, served beside the page), for the
// text of each band; loaded once.
let doraBandTable = null;
async function doraBands() {
  if (!doraBandTable) {
    const response = await fetch('dora_bands.json', { cache: 'no-cache' });
    doraBandTable = response.ok ? await response.json() : { reports: {} };
  }
  return doraBandTable;
}

function bandBadges(metric, bands, table) {
  const years = Object.keys(bands || {}).sort();
  if (!years.length) return h('span', { class: 'muted' }, 'no DORA band');
  return years.map((year) => {
    const rows = ((table.reports[year] || {}).metrics || {})[metric] || [];
    const row = rows.find((r) => r.band === bands[year]);
    return h('span', { class: `band band-${bands[year]}`, dataset: { year, band: bands[year] },
      title: row ? `${year} report, ${bands[year]}: ${row.text}` : `${year} report` }, `${year}: ${bands[year]}`);
  });
}

// Bars over time: one per day or month; a null value (nothing to measure)
// draws no bar. Values scale to the largest; the tooltip has each value.
function doraChart(metric, kind, points) {
  const width = 560, height = 120, left = 4, bottom = 16;
  const svg = document.createElementNS(SVG_NS, 'svg');
  const el = (tag, attrs, text) => {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  svg.setAttribute('class', 'dora-chart');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.dataset.metric = metric;
  const max = Math.max(0, ...points.map((p) => p.value ?? 0));
  const label = max > 0 ? `highest ${formatMetric(kind, max)}` : 'no values';
  svg.setAttribute('aria-label', `${metric} over time: ${label}`);
  const slot = (width - left) / Math.max(1, points.length);
  const plot = height - bottom;
  svg.appendChild(el('line', { x1: left, y1: plot, x2: width, y2: plot, class: 'axis' }));
  points.forEach((p, i) => {
    if (p.value === null || p.value === undefined) return;
    const barHeight = max > 0 ? Math.max(1, (p.value / max) * (plot - 4)) : 1;
    const bar = el('rect', { x: left + i * slot + slot * 0.1, y: plot - barHeight, width: Math.max(1, slot * 0.8), height: barHeight, class: 'bar' });
    bar.dataset.date = p.date;
    bar.dataset.value = p.value;
    bar.appendChild(el('title', {}, `${p.date}: ${formatMetric(kind, p.value)}`));
    svg.appendChild(bar);
  });
  if (points.length) {
    svg.appendChild(el('text', { x: left, y: height - 3, class: 'tick' }, points[0].date));
    svg.appendChild(el('text', { x: width, y: height - 3, class: 'tick', 'text-anchor': 'end' }, points[points.length - 1].date));
  }
  svg.appendChild(el('text', { x: left + 2, y: 10, class: 'tick' }, label));
  return svg;
}

function isoDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

async function viewDora(projectId) {
  const project = await getProject(projectId);
  const base = `/projects/${project.id}`;
  projectCrumbs(project, ['DORA metrics', `#${base}/dora`]);
  const select = (id, options, value) => h('select', { id }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  const range = select('dora-range', [['30', 'last 30 days'], ['90', 'last 90 days'], ['365', 'last 365 days']], '90');
  const interval = select('dora-interval', [['daily', 'by day'], ['monthly', 'by month']], 'daily');
  const tier = select('dora-tier', DORA_TIERS.map((t) => [t, t]), 'production');
  const cards = h('div', { class: 'dora-cards' });
  const controls = h('form', { class: 'dora-controls', onsubmit: (e) => e.preventDefault() },
    h('label', { for: 'dora-range' }, 'Range'), range,
    h('label', { for: 'dora-interval' }, 'Chart'), interval,
    h('label', { for: 'dora-tier' }, 'Environment tier'), tier);
  show(h('div', { class: 'title-row' }, h('h1', {}, project.name, ' · DORA metrics')), projectTabs(project, 'dora'), controls, cards,
    h('p', { class: 'hint' }, 'Bands: DORA’s Accelerate State of DevOps reports 2022 and 2024 (docs/dora.md says how values are banded).'));
  let generation = 0;
  const load = async () => {
    const mine = ++generation;
    const end = Date.now();
    const query = (metric, iv) => `${base}/dora/metrics?metric=${metric}&interval=${iv}` +
      `&start_date=${isoDay(end - (Number(range.value) - 1) * 86400000)}&end_date=${isoDay(end)}` +
      `&environment_tiers[]=${encodeURIComponent(tier.value)}`;
    cards.setAttribute('aria-busy', 'true');
    const [table, results] = await Promise.all([doraBands(), Promise.all(DORA_METRICS.map(([metric]) =>
      Promise.all([api(query(metric, 'all')), api(query(metric, interval.value))])))]);
    if (mine !== generation) return;  // A newer choice is loading.
    cards.replaceChildren(...DORA_METRICS.map(([metric, title, kind], i) => {
      const [[total], series] = results[i];
      return h('section', { class: 'dora-card', dataset: { metric } },
        h('h2', {}, title),
        h('p', { class: 'dora-value' }, formatMetric(kind, total.value)),
        h('p', { class: 'muted dora-basis' }, metricBasis(metric, total)),
        h('p', { class: 'dora-bands' }, bandBadges(metric, total.bands, table)),
        doraChart(metric, kind, series));
    }));
    cards.removeAttribute('aria-busy');
  };
  const reload = () => load().catch((error) => notice(error.message));
  for (const control of [range, interval, tier]) control.addEventListener('change', reload);
  await load();
  return {};
}
