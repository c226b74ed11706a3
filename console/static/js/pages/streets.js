// Streets: line counts per hour by class and incidents by type; the cameras' places and states are on the map
// page (the site's uploaded plan, or the city map), which this page links to.

import { api, settle } from '../api.js';
import { chart, destroyAll, PALETTE } from '../charts.js';
import { h } from '../dom.js';
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
  const planBox = h('p', {}, h('a', { class: 'button', id: 'streets-map', href: `/console/map?mode=plan&site=${site.id}` },
    t('map.open_site_map')), ' ', h('span', { class: 'muted' }, t('map.streets_hint')));
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
