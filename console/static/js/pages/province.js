// The province overview (managers and admins): every service center of the province in your scope side by
// side for a month, sortable by any column, the province's totals, each center's daily trend, and the XLSX
// report a provincial office files.

import { api, queryString } from '../api.js';
import { chart, destroyAll, PALETTE } from '../charts.js';
import { fill, h, select } from '../dom.js';
import { currentLang, fmtDuration, fmtMonth, fmtNumber, localDay, t, zonedMidnight } from '../i18n.js';

const COLUMNS = [
  ['name', 'province.center'], ['counters', 'province.counters'], ['presence_rate', 'province.presence_rate'],
  ['citizens_served', 'province.citizens_served'], ['wait_mean_s', 'province.wait_mean'],
  ['wait_p90_s', 'province.wait_p90'], ['satisfaction_rate', 'province.satisfaction_rate'],
  ['open_alarms', 'province.open_alarms'],
];
const TRENDS = [['citizens_served', 'province.citizens_served'], ['presence_rate', 'province.presence_rate'],
  ['wait_mean_s', 'province.wait_mean']];

function pct(value) {
  return value === null || value === undefined ? '—' : `${fmtNumber(100 * value, 1)} %`;
}

function cell(row, key) {
  if (key === 'name') return row.name || t('province.total');
  if (key === 'presence_rate' || key === 'satisfaction_rate') return pct(row[key]);
  if (key === 'wait_mean_s' || key === 'wait_p90_s') return fmtDuration(row[key]);
  return fmtNumber(row[key]);
}

function sorted(rows, key, descending) {
  const value = (r) => (r[key] === null || r[key] === undefined ? -Infinity : r[key]);
  return [...rows].sort((a, b) => {
    const order = key === 'name' ? String(a.name).localeCompare(String(b.name), 'vi') : value(a) - value(b);
    return descending ? -order : order;
  });
}

function trendChart(data, metric, tz) {
  const days = data.trend[0]?.days.map((d) => d.day) || [];
  const names = new Map(data.centers.map((c) => [c.site_id, c.name]));
  const scale = (v) => (v === null ? null : metric === 'presence_rate' ? 100 * v : metric === 'wait_mean_s' ? v / 60 : v);
  return chart({
    type: 'line',
    data: {
      labels: days.map((d) => d.slice(8)),
      datasets: data.trend.map((c, i) => ({ label: names.get(c.site_id), data: c.days.map((d) => scale(d[metric])),
        borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], spanGaps: true })),
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: t(`province.axis_${metric}`) } } },
      plugins: { title: { display: true, text: fmtMonth(zonedMidnight(`${data.month}-01`, tz), tz) } } },
  }, { height: 300, id: 'province-trend' });
}

export async function render(root, ctx) {
  const provinces = await api('/provinces');
  const wanted = Number(ctx.query.province);
  const province = provinces.find((p) => p.id === wanted) || provinces[0] || null;
  const month = ctx.query.month || localDay(new Date()).slice(0, 7);
  const go = (params) => ctx.navigate(`province${queryString({ province: province?.id, month, ...params })}`);
  const picker = provinces.length ? select(provinces.map((p) => [p.id, p.name]), province?.id,
    { id: 'province-picker', onchange: (e) => go({ province: e.target.value }) })
    : h('span', { class: 'muted' }, t('province.none'));
  const monthInput = h('input', { type: 'month', id: 'province-month', value: month, max: localDay(new Date()).slice(0, 7),
    onchange: (e) => go({ month: e.target.value }) });
  const xlsx = province && ctx.can('exports') ? h('a', { class: 'button', id: 'province-xlsx', download: '',
    href: `/api/exports/province-overview${queryString({ province_id: province.id, month, lang: currentLang() })}` },
  t('province.export_xlsx')) : null;
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('province.nav')), picker, monthInput, xlsx));
  if (!province) return null;
  const data = await api(`/provinces/${province.id}/overview`, { query: { month } });
  const tz = ctx.sites.find((s) => s.id === data.centers[0]?.site_id)?.timezone;
  const state = { key: ctx.query.sort || 'citizens_served', descending: ctx.query.order !== 'asc' };
  const table = h('table', { class: 'grid sortable', id: 'province-table' });
  const draw = () => {
    const head = h('tr', {}, COLUMNS.map(([key, label]) => h('th', { dataset: { sort: key },
      class: key === state.key ? `sorted ${state.descending ? 'desc' : 'asc'}` : '', onclick: () => {
        state.descending = key === state.key ? !state.descending : key !== 'name';
        state.key = key;
        draw();
      } }, t(label))));
    const body = sorted(data.centers, state.key, state.descending).map((row) => h('tr', { dataset: { site: row.site_id } },
      COLUMNS.map(([key]) => h('td', {}, key === 'name' ? h('a', { href: `/console/centers?site=${row.site_id}` }, cell(row, key))
        : cell(row, key)))));
    const total = h('tr', { class: 'total', id: 'province-total' }, COLUMNS.map(([key]) => h('td', {}, cell(data.total, key))));
    fill(table, h('thead', {}, head), h('tbody', {}, body), h('tfoot', {}, total));
  };
  draw();
  const charts = [];
  const chartBox = h('div', {});
  const metric = select(TRENDS.map(([key, label]) => [key, t(label)]), 'citizens_served', { id: 'province-metric',
    onchange: (e) => { destroyAll(charts); const made = trendChart(data, e.target.value, tz); charts.push(made); fill(chartBox, made.element); } });
  const first = trendChart(data, 'citizens_served', tz);
  charts.push(first);
  chartBox.append(first.element);
  root.append(h('section', { class: 'panel' }, h('h2', {}, t('province.centers_month', { n: fmtNumber(data.centers.length) })),
    data.centers.length ? table : h('p', { class: 'muted' }, t('province.no_centers'))),
  h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, h('h2', {}, t('province.trend')), metric), chartBox));
  return () => destroyAll(charts);
}
