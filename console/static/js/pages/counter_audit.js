// Counter audit (managers): a site, a day or a month; per counter the timeline (staffed / absent / closed),
// sessions, service and wait statistics, absences with their evidence, tickets and ratings; CSV/XLSX export.

import { api, queryString, settle } from '../api.js';
import { h, select } from '../dom.js';
import { currentLang, fmtDate, fmtDuration, fmtMonth, fmtNumber, fmtTime, localDay, t, zonedMidnight } from '../i18n.js';
import { sitePicker } from '../site_picker.js';
import { dayTimeline, timelineLegend } from '../timeline.js';

function pct(part, whole) {
  return whole ? `${fmtNumber((100 * part) / whole, 0)} %` : '—';
}

function statsTable(audit) {
  const rows = [
    ['audit.minutes_open', fmtDuration(audit.minutes_open * 60)],
    ['audit.minutes_staffed', `${fmtDuration(audit.minutes_staffed * 60)} (${pct(audit.minutes_staffed, audit.minutes_open)})`],
    ['audit.absences', fmtNumber(audit.absences.length ?? audit.absences)],
    ['audit.sessions', fmtNumber(audit.sessions)],
    ['audit.service_mean', fmtDuration(audit.service_mean_s)], ['audit.service_p90', fmtDuration(audit.service_p90_s)],
    ['audit.wait_mean', fmtDuration(audit.wait_mean_s)], ['audit.wait_p90', fmtDuration(audit.wait_p90_s)],
    ['audit.peak_queue', fmtNumber(audit.peak_queue)],
    ['audit.tickets', audit.tickets_issued === null ? '—' : t('audit.tickets_value', { issued: fmtNumber(audit.tickets_issued),
      called: fmtNumber(audit.tickets_called), served: fmtNumber(audit.tickets_served) })],
    ['audit.ratings', audit.ratings === null ? '—' : t('audit.ratings_value', { n: fmtNumber(audit.ratings),
      mean: fmtNumber(audit.rating_mean, 1), absent: fmtNumber(audit.ratings_while_absent) })],
  ];
  return h('dl', { class: 'stats' }, rows.flatMap(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)]));
}

function absencesList(audit, tz, replay) {
  if (!audit.absences.length) return h('p', { class: 'muted' }, t('audit.no_absences'));
  return h('ul', { class: 'absences' }, audit.absences.map((a) => h('li', {},
    a.evidence && a.evidence.path ? h('a', { href: `/api/events/${a.event_id}/evidence`, target: '_blank',
      class: 'evidence-thumb' }, h('img', { src: `/api/events/${a.event_id}/evidence`, alt: t('event.evidence') }))
      : h('span', { class: 'evidence-thumb none' }, t('event.no_evidence')),
    h('span', {}, `${fmtTime(a.start, tz)}–${a.end ? fmtTime(a.end, tz) : '…'}`, ' · ',
      t('audit.absent_minutes', { n: fmtNumber(a.minutes, 0) })),
    h('a', { href: `/console/alarms/${a.event_id}` }, t('audit.open_event')),
    replay ? h('a', { href: replay(audit.counter_id, a.start), class: 'playback-link' }, t('playback.open')) : null)));
}

// The counter's camera at that moment in the playback page (null: the user does not see recordings).
async function replayLinks(ctx, site) {
  if (!ctx.can('recordings.view')) return null;
  const counters = await api('/counters', { query: { site_id: site.id } }).catch(() => []);
  const cameraOf = new Map(counters.map((c) => [c.id, c.camera_id]));
  return (counterId, when) => (cameraOf.get(counterId)
    ? `/console/playback${queryString({ camera: cameraOf.get(counterId), at: new Date(when).toISOString() })}` : null);
}

async function dayView(ctx, site, day) {
  const [audits, replay] = await Promise.all([api(`/sites/${site.id}/counter-audit`, { query: { day } }),
    replayLinks(ctx, site)]);
  const timelines = await settle(audits.map((a) => api(`/counters/${a.counter_id}/timeline`, { query: { day } })));
  const onSession = replay ? (counterId) => (start) => {
    const href = replay(counterId, start);
    if (href) ctx.navigate(href.slice('/console/'.length));
  } : () => null;
  return audits.map((audit, i) => h('article', { class: 'panel counter-audit', dataset: { counter: audit.counter_id } },
    h('h2', {}, t('centers.counter_n', { n: audit.number }), ' · ', audit.department,
      audit.officer ? h('small', {}, ` — ${audit.officer}`) : null),
    timelines[i] && !(timelines[i] instanceof Error) ? dayTimeline(timelines[i], site, day,
      onSession(audit.counter_id)) : null,
    h('div', { class: 'audit-row' }, statsTable(audit), h('div', {}, h('h3', {}, t('audit.absences')),
      absencesList(audit, site.timezone, replay)))));
}

function monthDays(month, tz) {
  const [year, mon] = month.split('-').map(Number);
  const today = localDay(new Date(), tz);
  const days = [];
  for (let d = 1; d <= 31; d += 1) {
    const day = `${year}-${String(mon).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    if (new Date(`${day}T00:00:00Z`).getUTCMonth() !== mon - 1 || day > today) break;
    days.push(day);
  }
  return days;
}

async function monthView(site, month) {
  const days = monthDays(month, site.timezone);
  const perDay = [];
  for (let i = 0; i < days.length; i += 6) {  // a few requests at a time: the API's pool is shared
    perDay.push(...await settle(days.slice(i, i + 6).map((day) => api(`/sites/${site.id}/counter-audit`, { query: { day } }))));
  }
  const totals = new Map();
  for (const list of perDay) {
    for (const a of list instanceof Error ? [] : list) {
      const sum = totals.get(a.counter_id) || { ...a, minutes_open: 0, minutes_staffed: 0, absences: 0, sessions: 0,
        service_w: 0, wait_w: 0, peak_queue: null, tickets_issued: null, tickets_called: null, tickets_served: null,
        ratings: null, rating_w: 0, ratings_while_absent: null, days: 0 };
      sum.days += 1;
      sum.minutes_open += a.minutes_open;
      sum.minutes_staffed += a.minutes_staffed;
      sum.absences += a.absences.length;
      sum.sessions += a.sessions;
      sum.service_w += (a.service_mean_s || 0) * a.sessions;
      sum.wait_w += (a.wait_mean_s || 0) * a.sessions;
      if (a.peak_queue !== null) sum.peak_queue = Math.max(sum.peak_queue ?? 0, a.peak_queue);
      for (const key of ['tickets_issued', 'tickets_called', 'tickets_served', 'ratings', 'ratings_while_absent']) {
        if (a[key] !== null) sum[key] = (sum[key] || 0) + a[key];
      }
      sum.rating_w += (a.rating_mean || 0) * (a.ratings || 0);
      totals.set(a.counter_id, sum);
    }
  }
  const head = ['audit.counter', 'audit.days', 'audit.minutes_staffed', 'audit.absences', 'audit.sessions',
    'audit.service_mean', 'audit.wait_mean', 'audit.peak_queue', 'audit.tickets_served', 'audit.rating_mean'];
  return [h('article', { class: 'panel' }, h('h2', {}, t('audit.month_totals')), h('table', { class: 'grid', id: 'month-table' },
    h('thead', {}, h('tr', {}, head.map((k) => h('th', {}, t(k))))),
    h('tbody', {}, [...totals.values()].map((a) => h('tr', { dataset: { counter: a.counter_id } },
      h('td', {}, t('centers.counter_n', { n: a.number }), ' · ', a.department),
      h('td', {}, fmtNumber(a.days)),
      h('td', {}, `${fmtDuration(a.minutes_staffed * 60)} (${pct(a.minutes_staffed, a.minutes_open)})`),
      h('td', {}, fmtNumber(a.absences)), h('td', {}, fmtNumber(a.sessions)),
      h('td', {}, a.sessions ? fmtDuration(a.service_w / a.sessions) : '—'),
      h('td', {}, a.sessions ? fmtDuration(a.wait_w / a.sessions) : '—'),
      h('td', {}, fmtNumber(a.peak_queue)), h('td', {}, fmtNumber(a.tickets_served)),
      h('td', {}, a.ratings ? fmtNumber(a.rating_w / a.ratings, 1) : '—'))))))];
}

export async function render(root, ctx) {
  const mode = ctx.query.mode === 'month' ? 'month' : 'day';
  const { site, element } = sitePicker(ctx, 'service_center', 'counter-audit', `&mode=${mode}`);
  const tz = site?.timezone;
  const today = localDay(new Date(), tz);
  const day = ctx.query.day || today;
  const month = ctx.query.month || today.slice(0, 7);
  const go = (params) => ctx.navigate(`counter-audit${queryString({ site: site?.id, mode, day, month, ...params })}`);
  const modeChoice = select([['day', t('audit.mode_day')], ['month', t('audit.mode_month')]], mode,
    { id: 'audit-mode', onchange: (e) => go({ mode: e.target.value }) });
  const when = mode === 'day'
    ? h('input', { type: 'date', id: 'audit-day', value: day, max: today, onchange: (e) => go({ day: e.target.value }) })
    : h('input', { type: 'month', id: 'audit-month', value: month, max: today.slice(0, 7),
      onchange: (e) => go({ month: e.target.value }) });
  const range = mode === 'day' ? { date_from: day, date_to: day }
    : { date_from: `${month}-01`, date_to: monthDays(month, tz).slice(-1)[0] || `${month}-01` };
  const exportLink = (format) => h('a', { class: 'button', id: `export-${format}`, download: '',
    href: `/api/exports/counter-audit${queryString({ site_id: site?.id, ...range, format, lang: currentLang() })}` },
  t(`audit.export_${format}`));
  const whenText = h('span', { class: 'muted', id: 'audit-when' }, mode === 'day'
    ? fmtDate(zonedMidnight(day, tz), tz, true) : fmtMonth(zonedMidnight(`${month}-01`, tz), tz));
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.counter_audit')), element, modeChoice, when, whenText,
    site && ctx.can('exports') ? h('span', { class: 'exports' }, exportLink('csv'), exportLink('xlsx')) : null));
  if (!site) return null;
  if (mode === 'day') root.append(timelineLegend());
  const body = mode === 'day' ? await dayView(ctx, site, day) : await monthView(site, month);
  root.append(...body);
  if (!body.length) root.append(h('p', { class: 'panel muted' }, t('centers.no_counters')));
  return null;
}
