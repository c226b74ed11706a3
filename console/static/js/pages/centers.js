// Service centers: the counters of a site as a floor strip (officer present or absent, queue at the counter,
// served today, mean wait) and the hall: queue length and wait over the day.

import { api, errorText, settle } from '../api.js';
import { chart, destroyAll, PALETTE } from '../charts.js';
import { fill, h } from '../dom.js';
import { fmtDuration, fmtNumber, fmtTime, localDay, localHour, t } from '../i18n.js';
import { sitePicker } from '../site_picker.js';
import { openSessions } from '../timeline.js';

const REFRESH_MS = 15000;

const STALE_MS = 5 * 60 * 1000;

/** Whether the site is within its working hours now (local time of the site). */
function openNow(site) {
  const now = new Date();
  const minute = localHour(now, site.timezone) * 60 + Number(new Intl.DateTimeFormat('en-GB', {
    timeZone: site.timezone, minute: '2-digit' }).format(now));
  return openSessions(site, localDay(now, site.timezone)).some(([a, b]) => a <= minute && minute < b);
}

function presence(counter, site) {
  if (!openNow(site)) return ['closed', t('centers.closed')];
  const stale = !counter.presence_time || Date.now() - new Date(counter.presence_time).getTime() > STALE_MS;
  if (counter.officer_present === null || stale) return ['unknown', t('centers.officer_unknown')];
  return counter.officer_present ? ['present', t('centers.officer_present')] : ['absent', t('centers.officer_absent')];
}

function counterCard(counter, site) {
  const tz = site.timezone;
  const [state, text] = presence(counter, site);
  return h('div', { class: `counter-card officer-${state}`, dataset: { counter: counter.counter_id } },
    h('div', { class: 'counter-number' }, t('centers.counter_n', { n: counter.number })),
    h('div', { class: 'counter-dept' }, counter.department),
    h('div', { class: 'desk' }, h('span', { class: `officer ${state}` }, text),
      counter.officer ? h('small', {}, counter.officer) : null),
    state === 'closed' || counter.citizen_served === null || counter.citizen_served === undefined ? null
      : h('div', { class: `citizen ${counter.citizen_served ? 'serving' : 'free'}` },
        t(counter.citizen_served ? 'centers.citizen_serving' : 'centers.citizen_none')),
    h('dl', {},
      h('dt', {}, t('centers.queue')), h('dd', { class: 'queue' }, fmtNumber(counter.queue_length, 0)),
      h('dt', {}, t('centers.served_today')), h('dd', {}, fmtNumber(counter.served_today)),
      h('dt', {}, t('centers.wait_mean')), h('dd', {}, fmtDuration(counter.wait_mean_s)),
      h('dt', {}, t('centers.service_mean')), h('dd', {}, fmtDuration(counter.service_mean_s))),
    counter.open_events ? h('a', { class: 'badge sev-high', href: `/console/alarms?site=${counter.site_id}` },
      t('centers.open_events', { n: fmtNumber(counter.open_events) })) : null,
    counter.presence_time ? h('small', { class: 'muted' }, t('centers.seen_at', { time: fmtTime(counter.presence_time, tz) }))
      : null);
}

/** Mean wait per local hour from the counters' sessions of the day (the hall endpoint gives the day's mean). */
async function hourlyWaits(counters, tz) {
  const timelines = await settle(counters.map((c) => api(`/counters/${c.counter_id}/timeline`)));
  const byHour = new Map();
  for (const timeline of timelines) {
    for (const session of timeline?.sessions || []) {
      if (session.wait_s === null) continue;
      const hour = localHour(session.start, tz);
      const slot = byHour.get(hour) || { sum: 0, n: 0 };
      slot.sum += session.wait_s;
      slot.n += 1;
      byHour.set(hour, slot);
    }
  }
  return byHour;
}

async function hallChart(site, counters) {
  const tz = site.timezone;
  const hall = await api(`/sites/${site.id}/hall`);
  const waits = await hourlyWaits(counters, tz);
  const queue = new Map(hall.hourly_queue.map((row) => [localHour(row.hour, tz), row.queue_mean]));
  const hours = [...new Set([...queue.keys(), ...waits.keys()])].sort((a, b) => a - b);
  const first = hours.length ? Math.min(hours[0], 7) : 7;
  const last = hours.length ? Math.max(hours[hours.length - 1], 17) : 17;
  const labels = [];
  for (let hr = first; hr <= last; hr += 1) labels.push(hr);
  const made = chart({
    type: 'line',
    data: {
      labels: labels.map((hr) => `${String(hr).padStart(2, '0')}:00`),
      datasets: [
        { label: t('centers.chart_queue'), data: labels.map((hr) => queue.get(hr) ?? null), borderColor: PALETTE[1],
          backgroundColor: PALETTE[1], yAxisID: 'queue', spanGaps: true },
        { label: t('centers.chart_wait'), data: labels.map((hr) => (waits.has(hr) ? waits.get(hr).sum / waits.get(hr).n / 60
          : null)), borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: 'wait', spanGaps: true },
      ],
    },
    options: { scales: {
      queue: { position: 'left', beginAtZero: true, title: { display: true, text: t('centers.axis_people') } },
      wait: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false },
        title: { display: true, text: t('centers.axis_minutes') } },
    } },
  }, { height: 280, id: 'hall-chart' });
  const w = hall.waits || {};
  const summary = h('dl', { class: 'hall-summary' },
    h('dt', {}, t('centers.people_in_hall')), h('dd', {}, fmtNumber(hall.people_in_hall)),
    h('dt', {}, t('centers.citizens_today')), h('dd', {}, fmtNumber(w.citizens)),
    h('dt', {}, t('centers.wait_mean')), h('dd', {}, fmtDuration(w.wait_mean_s)),
    h('dt', {}, t('centers.wait_p90')), h('dd', {}, fmtDuration(w.wait_p90_s)),
    h('dt', {}, t('centers.wait_max')), h('dd', {}, fmtDuration(w.wait_max_s)),
    ...hall.queue_now.flatMap((q) => [h('dt', {}, t('centers.queue_zone', { name: q.zone })),
      h('dd', {}, fmtNumber(q.queue_length))]));
  return { made, summary };
}

/** Admins: a new display key for the hall's TV; its address is shown once (the previous one stops working). */
function hallScreenButton(site, box) {
  return h('button', { id: 'hall-key', onclick: async () => {
    if (!window.confirm(t('hall.rotate_confirm'))) return;
    try {
      const made = await api(`/sites/${site.id}/display-key`, { method: 'POST', body: {} });
      const address = `${location.origin}${made.url}`;
      fill(box, h('div', { class: 'panel hall-link' }, h('h2', {}, t('hall.link_title')),
        h('p', {}, t('hall.link_hint')), h('input', { id: 'hall-url', readonly: true, value: address, size: 90,
          onfocus: (e) => e.target.select() }), h('a', { class: 'button', href: made.url, target: '_blank', rel: 'noreferrer' },
          t('hall.open_screen'))));
    } catch (error) { fill(box, h('p', { class: 'form-error' }, errorText(error))); }
  } }, t('hall.rotate'));
}

export async function render(root, ctx) {
  const { site, element } = sitePicker(ctx, 'service_center', 'centers');
  const linkBox = h('div', { id: 'hall-link-box' });
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.centers')), element,
    site && ctx.can('displays.admin') ? hallScreenButton(site, linkBox) : null), linkBox);
  if (!site) return null;
  const charts = [];
  const strip = h('div', { class: 'floor-strip', id: 'floor-strip' });
  const hallBox = h('div', { class: 'panel hall' });
  root.append(h('section', { class: 'panel' }, h('h2', {}, t('centers.floor')), strip), hallBox);

  async function refresh() {
    const counters = await api('/counters/live', { query: { site_id: site.id } });
    fill(strip, ...counters.map((c) => counterCard(c, site)));
    if (!counters.length) strip.append(h('p', { class: 'muted' }, t('centers.no_counters')));
    const { made, summary } = await hallChart(site, counters);
    destroyAll(charts);
    charts.push(made);
    fill(hallBox, h('h2', {}, t('centers.hall')), h('div', { class: 'hall-row' }, made.element, summary));
  }
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), REFRESH_MS);
  return () => { clearInterval(timer); destroyAll(charts); };
}
