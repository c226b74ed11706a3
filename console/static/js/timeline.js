// A counter's day as a strip: closed (outside working hours), staffed, absent; citizens served as ticks.

import { h, s } from './dom.js';
import { fmtTime, t, zonedMidnight } from './i18n.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Working sessions of a local day from the site's calendar: [[startMinute, endMinute], ...]. */
export function openSessions(site, day) {
  const hours = site.working_hours || {};
  if ((hours.holidays || []).includes(day)) return [];
  const extra = (hours.extra_days || {})[day];
  const weekday = DAYS[new Date(`${day}T12:00:00Z`).getUTCDay()];
  const weekly = hours.weekly ? hours.weekly[weekday] || [] : [['00:00', '24:00']];
  const toMin = (text) => { const [hh, mm] = text.split(':').map(Number); return hh * 60 + mm; };
  return (extra || weekly).map(([a, b]) => [toMin(a), toMin(b)]);
}

/** `onSession(start)`, when given, makes each citizen's session open that moment (the playback page). */
export function dayTimeline(timeline, site, day, onSession = null) {
  const tz = site.timezone;
  const midnight = zonedMidnight(day, tz).getTime();
  const minuteOf = (value) => (new Date(value).getTime() - midnight) / 60000;
  const open = openSessions(site, day);
  const from = Math.max(0, Math.min(6 * 60, ...open.map(([a]) => a)) - 30);
  const to = Math.min(24 * 60, Math.max(18 * 60, ...open.map(([, b]) => b)) + 30);
  const x = (minute) => ((Math.min(Math.max(minute, from), to) - from) / (to - from)) * 1000;
  const svg = s('svg', { class: 'timeline', viewBox: '0 0 1000 60', preserveAspectRatio: 'none',
    'data-counter': timeline.counter_id });
  svg.append(s('rect', { x: 0, y: 14, width: 1000, height: 28, class: 'closed' }, s('title', {}, t('audit.closed'))));
  for (const [a, b] of open) {
    svg.append(s('rect', { x: x(a), y: 14, width: x(b) - x(a), height: 28, class: 'open' }));
  }
  for (const span of timeline.presence) {
    // Only working hours count: outside them the counter is closed whatever the camera saw.
    for (const [openFrom, openTo] of open) {
      const a = Math.max(minuteOf(span.start), openFrom);
      const b = Math.min(minuteOf(span.end), openTo);
      if (b <= a || b <= from || a >= to) continue;
      svg.append(s('rect', { x: x(a), y: 14, width: Math.max(1, x(b) - x(a)), height: 28,
        class: span.present ? 'staffed' : 'absent' },
      s('title', {}, `${span.present ? t('audit.staffed') : t('audit.absent')} ${fmtTime(span.start, tz)}–${fmtTime(span.end, tz)}`)));
    }
  }
  for (const session of timeline.sessions) {
    const a = x(minuteOf(session.start));
    svg.append(s('rect', { x: a, y: 4, width: Math.max(1.5, x(minuteOf(session.end)) - a), height: 7,
      class: onSession ? 'session pickable' : 'session', onclick: onSession ? () => onSession(session.start) : null },
    s('title', {}, `${fmtTime(session.start, tz)}–${fmtTime(session.end, tz)}`)));
  }
  for (const event of timeline.events) {
    svg.append(s('circle', { cx: x(minuteOf(event.time)), cy: 50, r: 4, class: `mark sev-${event.severity}` }));
  }
  const ticks = [];
  for (let m = Math.ceil(from / 60) * 60; m <= to; m += 60) {
    ticks.push(h('span', { style: { left: `${x(m) / 10}%` } }, `${String(m / 60).padStart(2, '0')}`));
  }
  return h('div', { class: 'timeline-box' }, svg, h('div', { class: 'timeline-hours' }, ticks));
}

export function timelineLegend() {
  return h('div', { class: 'legend' }, ['staffed', 'absent', 'open', 'closed', 'session'].map((kind) =>
    h('span', {}, h('i', { class: `swatch ${kind}` }), t(`audit.legend_${kind}`))));
}
