// Streets: line counts per hour by class, incidents by type, and a schematic site plan of the cameras with
// their state (no online map tiles: positions are the cameras' 0..1 places on the plan).

import { api, errorText, settle } from '../api.js';
import { chart, destroyAll, PALETTE } from '../charts.js';
import { h, s, toast } from '../dom.js';
import { fmtHour, fmtNumber, label, t } from '../i18n.js';
import { sitePicker } from '../site_picker.js';

const HOURS = 24;

async function hourlyCounts(site) {
  const end = new Date();
  end.setUTCMinutes(0, 0, 0);
  end.setUTCHours(end.getUTCHours() + 1);
  const hours = [];
  for (let i = HOURS; i > 0; i -= 1) hours.push(new Date(end.getTime() - i * 3600000));
  const results = [];
  for (let i = 0; i < hours.length; i += 6) {  // a few at a time: the API's pool is shared
    results.push(...await settle(hours.slice(i, i + 6).map((start) => api(`/sites/${site.id}/street`, {
      query: { since: start.toISOString(), until: new Date(start.getTime() + 3600000).toISOString() } }))));
  }
  const classes = new Map();
  results.forEach((result, i) => {
    for (const row of result instanceof Error ? [] : result.line_counts) {
      const series = classes.get(row.class_name) || new Array(HOURS).fill(0);
      series[i] += Number(row.count);
      classes.set(row.class_name, series);
    }
  });
  return { hours, classes };
}

/** Let a user who may change cameras drag them to their place on the plan (saved as 0..1 positions). */
function draggable(svg, mark, camera) {
  mark.classList.add('movable');
  mark.addEventListener('pointerdown', (down) => {
    down.preventDefault();
    const box = svg.getBoundingClientRect();
    const at = (e) => [Math.min(1, Math.max(0, (e.clientX - box.left) / box.width)),
      Math.min(1, Math.max(0, (e.clientY - box.top) / box.height))];
    const move = (e) => { const [x, y] = at(e); mark.setAttribute('transform', `translate(${x * 1000},${y * 600})`); };
    const up = async (e) => {
      svg.removeEventListener('pointermove', move);
      svg.removeEventListener('pointerup', up);
      const [x, y] = at(e);
      try {
        await api(`/cameras/${camera.id}`, { method: 'PATCH', body: { position: { x: Math.round(x * 1000) / 1000,
          y: Math.round(y * 1000) / 1000 } } });
        toast(t('streets.placed', { name: camera.name }), 'ok');
      } catch (error) { toast(errorText(error), 'error'); }
    };
    svg.setPointerCapture(down.pointerId);
    svg.addEventListener('pointermove', move);
    svg.addEventListener('pointerup', up);
  });
}

function plan(cameras, canMove) {
  const placed = cameras.filter((c) => c.position);
  const unplaced = cameras.filter((c) => !c.position);
  const svg = s('svg', { class: 'site-plan', id: 'site-plan', viewBox: '0 0 1000 600' },
    s('rect', { x: 0, y: 0, width: 1000, height: 600, class: 'plan-ground' }),
    s('path', { d: 'M0 300 H1000 M500 0 V600', class: 'plan-road' }));
  const mark = (camera, x, y) => s('g', { class: `plan-camera state-${camera.state}`, 'data-camera': camera.id,
    transform: `translate(${x},${y})` },
  s('circle', { r: 12 }), s('text', { y: 30, 'text-anchor': 'middle' }, camera.name),
  s('title', {}, `${camera.name}: ${label('state', camera.state)}`));
  const add = (camera, x, y) => {
    const g = mark(camera, x, y);
    if (canMove) draggable(svg, g, camera);
    svg.append(g);
  };
  placed.forEach((c) => add(c, c.position.x * 1000, c.position.y * 600));
  unplaced.forEach((c, i) => add(c, 60 + i * 140, 560));
  return h('div', {}, svg, unplaced.length ? h('p', { class: 'muted' }, t('streets.unplaced')) : null,
    canMove ? h('p', { class: 'muted' }, t('streets.drag_hint')) : null,
    h('div', { class: 'legend' }, ['online', 'offline', 'tamper', 'reconnecting'].map((st) =>
      h('span', {}, h('i', { class: `swatch state-${st}` }), label('state', st)))));
}

export async function render(root, ctx) {
  const { site, element } = sitePicker(ctx, 'street', 'streets');
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.streets')), element));
  if (!site) return null;
  const charts = [];
  const day = await api(`/sites/${site.id}/street`);
  const { hours, classes } = await hourlyCounts(site);
  const counts = chart({
    type: 'bar',
    data: { labels: hours.map((hr) => fmtHour(hr, site.timezone)),
      datasets: [...classes.entries()].map(([name, data], i) => ({ label: label('class', name), data,
        backgroundColor: PALETTE[i % PALETTE.length] })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
      title: { display: true, text: t('streets.axis_count') } } } },
  }, { height: 280, id: 'line-chart' });
  charts.push(counts);
  const incidents = day.incidents;
  const incidentChart = chart({
    type: 'bar',
    data: { labels: incidents.map((row) => label('event', row.type)),
      datasets: [{ label: t('streets.incidents_total'), data: incidents.map((row) => row.total), backgroundColor: PALETTE[3] },
        { label: t('streets.incidents_unresolved'), data: incidents.map((row) => row.unresolved), backgroundColor: PALETTE[1] }] },
    options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: {} } },
  }, { height: 220, id: 'incident-chart' });
  charts.push(incidentChart);
  let planBox = h('p', { class: 'muted' }, t('streets.plan_not_allowed'));
  if (ctx.can('cameras.read')) planBox = plan(await api('/cameras', { query: { site_id: site.id } }), ctx.can('cameras.write'));
  const lineTable = h('table', { class: 'grid' }, h('thead', {}, h('tr', {},
    [t('streets.line'), t('streets.class'), t('streets.direction'), t('streets.count_24h')].map((x) => h('th', {}, x)))),
  h('tbody', {}, day.line_counts.map((row) => h('tr', {}, h('td', {}, row.line), h('td', {}, label('class', row.class_name)),
    h('td', {}, label('direction', row.direction)), h('td', { class: 'num' }, fmtNumber(row.count))))));
  root.append(h('div', { class: 'two-col' },
    h('section', { class: 'panel' }, h('h2', {}, t('streets.counts_per_hour')), counts.element, lineTable),
    h('div', {},
      h('section', { class: 'panel' }, h('h2', {}, t('streets.incidents')), incidents.length ? incidentChart.element
        : h('p', { class: 'muted' }, t('streets.no_incidents'))),
      h('section', { class: 'panel' }, h('h2', {}, t('streets.plan')), planBox))));
  return () => destroyAll(charts);
}
