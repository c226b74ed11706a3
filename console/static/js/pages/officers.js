// Officers (managers and admins of the center): the people at the counters, the weekly roster, a day's
// exceptions, who is assigned today, and each officer's monthly report (/console/officers/<id>?month=YYYY-MM).

import { api, errorText, queryString } from '../api.js';
import { field, h, select, toast } from '../dom.js';
import { fmtDate, fmtDuration, fmtMonth, fmtNumber, fmtTime, localDay, t, zonedMidnight } from '../i18n.js';
import { sitePicker } from '../site_picker.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

function pct(value) {
  return value === null || value === undefined ? '—' : `${fmtNumber(100 * value, 0)} %`;
}

function weekdaysText(days) {
  return days.map((d) => t(`officers.weekday_${d}`)).join(', ');
}

// The form's labels for the fields the API names in its errors.
function labels() {
  return { 'body.full_name': t('officers.full_name'), 'body.staff_code': t('officers.staff_code'),
    'body.department': t('officers.department'), 'body.counter_id': t('officers.counter'),
    'body.officer_id': t('officers.officer'), 'body.weekdays': t('officers.weekdays'), 'body.start': t('officers.start'),
    'body.end': t('officers.end'), 'body.valid_from': t('officers.valid_from'), 'body.valid_until': t('officers.valid_until'),
    'body.day': t('officers.day') };
}

async function submit(message, call, done) {
  try {
    await call();
    toast(t('common.saved'), 'ok');
    done();
  } catch (error) { message.textContent = errorText(error, labels()); }
}

function officerForm(site, done) {
  const name = h('input', { id: 'officer-name', required: true });
  const code = h('input', { id: 'officer-code', required: true, pattern: '[A-Za-z0-9._:\\-]{1,64}' });
  const department = h('input', { id: 'officer-department' });
  const message = h('p', { class: 'form-error', role: 'alert' });
  return h('form', { class: 'inline-form', id: 'officer-form', onsubmit: (e) => {
    e.preventDefault();
    submit(message, () => api('/officers', { method: 'POST', body: { site_id: site.id, full_name: name.value,
      staff_code: code.value, department: department.value || null } }), done);
  } }, field(t('officers.full_name'), name), field(t('officers.staff_code'), code),
  field(t('officers.department'), department), h('button', { class: 'primary', type: 'submit' }, t('officers.add')), message);
}

function rosterForm(site, counters, people, today, done) {
  const counter = select(counters.map((c) => [c.id, t('centers.counter_n', { n: c.number })]), null, { id: 'roster-counter' });
  const officer = select(people.map((o) => [o.id, o.full_name]), null, { id: 'roster-officer' });
  const days = WEEKDAYS.map((d) => h('input', { type: 'checkbox', value: d, checked: d <= 5, dataset: { weekday: d } }));
  const start = h('input', { type: 'time', id: 'roster-start', value: '07:30' });
  const end = h('input', { type: 'time', id: 'roster-end', value: '17:00' });
  const from = h('input', { type: 'date', id: 'roster-from', value: today });
  const message = h('p', { class: 'form-error', role: 'alert' });
  return h('form', { class: 'inline-form', id: 'roster-form', onsubmit: (e) => {
    e.preventDefault();
    submit(message, () => api(`/sites/${site.id}/roster`, { method: 'POST', body: { counter_id: Number(counter.value),
      officer_id: Number(officer.value), weekdays: days.filter((d) => d.checked).map((d) => Number(d.value)),
      start: start.value, end: end.value, valid_from: from.value } }), done);
  } }, field(t('officers.counter'), counter), field(t('officers.officer'), officer),
  h('fieldset', { class: 'weekdays' }, h('legend', {}, t('officers.weekdays')),
    days.map((box, i) => h('label', {}, box, t(`officers.weekday_${WEEKDAYS[i]}`)))),
  field(t('officers.start'), start), field(t('officers.end'), end), field(t('officers.valid_from'), from),
  h('button', { class: 'primary', type: 'submit' }, t('officers.add_roster')), message);
}

function exceptionForm(site, counters, people, today, done) {
  const counter = select(counters.map((c) => [c.id, t('centers.counter_n', { n: c.number })]), null, { id: 'exception-counter' });
  const officer = select([['', t('officers.nobody')], ...people.map((o) => [o.id, o.full_name])], '', { id: 'exception-officer' });
  const day = h('input', { type: 'date', id: 'exception-day', value: today });
  const start = h('input', { type: 'time', id: 'exception-start', value: '07:30' });
  const end = h('input', { type: 'time', id: 'exception-end', value: '17:00' });
  const note = h('input', { id: 'exception-note', maxlength: 500 });
  const message = h('p', { class: 'form-error', role: 'alert' });
  return h('form', { class: 'inline-form', id: 'exception-form', onsubmit: (e) => {
    e.preventDefault();
    submit(message, () => api(`/sites/${site.id}/roster-exceptions`, { method: 'POST', body: {
      counter_id: Number(counter.value), officer_id: officer.value ? Number(officer.value) : null, day: day.value,
      start: start.value, end: end.value, note: note.value || null } }), done);
  } }, field(t('officers.counter'), counter), field(t('officers.officer'), officer), field(t('officers.day'), day),
  field(t('officers.start'), start), field(t('officers.end'), end), field(t('officers.note'), note),
  h('button', { class: 'primary', type: 'submit' }, t('officers.add_exception')), message);
}

async function siteView(root, ctx, site) {
  const tz = site.timezone;
  const today = localDay(new Date(), tz);
  const [people, counters, roster, assigned] = await Promise.all([api('/officers', { query: { site_id: site.id } }),
    api('/counters', { query: { site_id: site.id } }), api(`/sites/${site.id}/roster`), api(`/sites/${site.id}/assignments`)]);
  const reload = () => ctx.navigate(`officers?site=${site.id}`, { replace: true });
  const writer = ctx.can('officers.write');
  const number = (id) => counters.find((c) => c.id === id)?.number ?? '?';
  const month = today.slice(0, 7);
  root.append(
    h('section', { class: 'panel' }, h('h2', {}, t('officers.people')),
      h('table', { class: 'grid', id: 'officer-table' }, h('thead', {}, h('tr', {}, ['officers.full_name',
        'officers.staff_code', 'officers.department', 'officers.state'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, people.map((o) => h('tr', { dataset: { officer: o.id } },
        h('td', {}, h('a', { href: `/console/officers/${o.id}?month=${month}` }, o.full_name)), h('td', {}, o.staff_code),
        h('td', {}, o.department || '—'), h('td', {}, o.active ? t('officers.active') : t('officers.inactive')))))),
      people.length ? null : h('p', { class: 'muted' }, t('officers.none')),
      writer ? officerForm(site, reload) : null),
    h('section', { class: 'panel' }, h('h2', {}, t('officers.today')),
      h('table', { class: 'grid', id: 'assignment-table' }, h('thead', {}, h('tr', {}, ['officers.counter', 'officers.officer',
        'officers.from_to', 'officers.source'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, assigned.map((a) => h('tr', {}, h('td', {}, t('centers.counter_n', { n: number(a.counter_id) })),
        h('td', {}, a.officer_name), h('td', {}, `${fmtTime(a.start, tz)}–${fmtTime(a.end, tz)}`),
        h('td', {}, t(`officers.source_${a.source}`))))))),
    h('section', { class: 'panel' }, h('h2', {}, t('officers.roster')),
      h('table', { class: 'grid', id: 'roster-table' }, h('thead', {}, h('tr', {}, ['officers.counter', 'officers.officer',
        'officers.weekdays', 'officers.from_to', 'officers.valid_from', 'officers.valid_until', 'officers.actions']
        .map((k) => h('th', {}, t(k))))),
      h('tbody', {}, roster.entries.map((r) => h('tr', { dataset: { roster: r.id } },
        h('td', {}, t('centers.counter_n', { n: r.counter_number })), h('td', {}, r.officer_name),
        h('td', {}, weekdaysText(r.weekdays)), h('td', {}, `${r.start}–${r.end}`),
        h('td', {}, fmtDate(zonedMidnight(r.valid_from, tz), tz)),
        h('td', {}, r.valid_until ? fmtDate(zonedMidnight(r.valid_until, tz), tz) : t('officers.open_ended')),
        h('td', {}, writer && !r.valid_until ? h('button', { onclick: () => api(`/roster/${r.id}`, { method: 'PATCH',
          body: { valid_until: today } }).then(reload, (error) => toast(errorText(error), 'error')) }, t('officers.end_today'))
          : null))))),
      writer && counters.length && people.length ? rosterForm(site, counters, people.filter((o) => o.active), today, reload)
        : null),
    h('section', { class: 'panel' }, h('h2', {}, t('officers.exceptions')),
      h('table', { class: 'grid', id: 'exception-table' }, h('thead', {}, h('tr', {}, ['officers.day', 'officers.counter',
        'officers.officer', 'officers.from_to', 'officers.note', 'officers.actions'].map((k) => h('th', {}, t(k))))),
      h('tbody', {}, roster.exceptions.map((x) => h('tr', {},
        h('td', {}, fmtDate(zonedMidnight(x.day, tz), tz)), h('td', {}, t('centers.counter_n', { n: x.counter_number })),
        h('td', {}, x.officer_name || t('officers.nobody')), h('td', {}, `${x.start}–${x.end}`), h('td', {}, x.note || ''),
        h('td', {}, writer ? h('button', { onclick: () => api(`/roster-exceptions/${x.id}`, { method: 'DELETE' })
          .then(reload, (error) => toast(errorText(error), 'error')) }, t('officers.remove')) : null))))),
      writer && counters.length && people.length ? exceptionForm(site, counters, people.filter((o) => o.active), today, reload)
        : null));
}

function figuresList(f) {
  const rows = [
    ['officers.hours_scheduled', fmtDuration(f.hours_scheduled * 3600)],
    ['officers.hours_present', `${fmtDuration(f.hours_present * 3600)} (${pct(f.presence_rate)})`],
    ['officers.hours_unobserved', fmtDuration(f.hours_unobserved * 3600)],
    ['officers.absences', fmtNumber(f.absences)], ['officers.citizens_served', fmtNumber(f.citizens_served)],
    ['audit.service_mean', fmtDuration(f.service_mean_s)], ['audit.service_p90', fmtDuration(f.service_p90_s)],
    ['audit.wait_mean', fmtDuration(f.wait_mean_s)], ['audit.wait_p90', fmtDuration(f.wait_p90_s)],
    ['audit.tickets_served', fmtNumber(f.tickets_served)],
    ['officers.ratings', f.ratings ? t('officers.ratings_value', { n: fmtNumber(f.ratings), mean: fmtNumber(f.rating_mean, 1),
      satisfied: pct(f.satisfaction_rate) }) : '—'],
  ];
  return h('dl', { class: 'stats', id: 'officer-totals' }, rows.flatMap(([key, value]) => [h('dt', {}, t(key)), h('dd', {}, value)]));
}

async function reportView(root, ctx, officerId) {
  const officer = await api(`/officers/${officerId}`);
  const site = ctx.siteById(officer.site_id);
  const tz = site?.timezone;
  const month = ctx.query.month || localDay(new Date(), tz).slice(0, 7);
  const report = await api(`/officers/${officerId}/report`, { query: { month } });
  const picker = h('input', { type: 'month', id: 'report-month', value: month,
    onchange: (e) => ctx.navigate(`officers/${officerId}${queryString({ month: e.target.value })}`) });
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, officer.full_name), h('span', { class: 'muted' },
    `${officer.staff_code} · ${site?.name || ''}`), picker,
  h('span', { class: 'muted' }, fmtMonth(zonedMidnight(`${month}-01`, tz), tz)),
  h('a', { class: 'button', href: `/console/officers?site=${officer.site_id}` }, t('officers.back'))));
  const worked = report.days.filter((d) => d.hours_scheduled > 0);
  root.append(
    h('section', { class: 'panel' }, h('h2', {}, t('officers.month_totals')), figuresList(report.total)),
    h('section', { class: 'panel' }, h('h2', {}, t('officers.per_day')),
      h('table', { class: 'grid', id: 'officer-days' }, h('thead', {}, h('tr', {}, ['officers.day', 'officers.hours_scheduled',
        'officers.hours_present', 'officers.absences', 'officers.citizens_served', 'audit.service_mean', 'officers.ratings']
        .map((k) => h('th', {}, t(k))))),
      h('tbody', {}, worked.map((d) => h('tr', { dataset: { day: d.day } },
        h('td', {}, fmtDate(zonedMidnight(d.day, tz), tz)), h('td', {}, fmtDuration(d.hours_scheduled * 3600)),
        h('td', {}, `${fmtDuration(d.hours_present * 3600)} (${pct(d.presence_rate)})`), h('td', {}, fmtNumber(d.absences)),
        h('td', {}, fmtNumber(d.citizens_served)), h('td', {}, fmtDuration(d.service_mean_s)),
        h('td', {}, d.ratings ? fmtNumber(d.rating_mean, 1) : '—')))))),
    h('section', { class: 'panel' }, h('h2', {}, t('officers.absences')), report.absences.length
      ? h('ul', { class: 'absences', id: 'officer-absences' }, report.absences.map((a) => h('li', {},
        a.evidence && a.evidence.path ? h('a', { href: a.evidence.path, target: '_blank', class: 'evidence-thumb' },
          h('img', { src: a.evidence.path, alt: t('event.evidence') })) : h('span', { class: 'evidence-thumb none' },
          t('event.no_evidence')),
        h('span', {}, `${fmtDate(a.start, tz)} ${fmtTime(a.start, tz)}–${fmtTime(a.end, tz)}`, ' · ',
          t('audit.absent_minutes', { n: fmtNumber(a.minutes, 0) })),
        a.event_id ? h('a', { href: `/console/alarms/${a.event_id}` }, t('audit.open_event')) : null)))
      : h('p', { class: 'muted' }, t('audit.no_absences'))));
}

export async function render(root, ctx) {
  if (ctx.args[0]) {
    await reportView(root, ctx, Number(ctx.args[0]));
    return null;
  }
  const { site, element } = sitePicker(ctx, 'service_center', 'officers');
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('officers.nav')), element));
  if (!site) return null;
  const body = h('div', { id: 'officers-body' });
  root.append(body);
  await siteView(body, ctx, site);
  return null;
}
