// Events: every event the rules stored, alarm or not (new ones appear without reload, optional chime), filters,
// and the selected event's detail with its workflow (event_detail.js). Operators work from the alarms page.

import { api } from '../api.js';
import { fill, h, select } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';
import { chime, liveEvents } from '../live.js';
import { renderDetail } from './event_detail.js';
import { EVENT_TYPES } from './alarms.js';

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const STATUSES = ['new', 'acknowledged', 'assigned', 'resolved'];
const MAX_ROWS = 2000;

function matches(filter, event) {
  return (!filter.site_id || event.site_id === Number(filter.site_id))
    && (!filter.type || event.type === filter.type)
    && (!filter.severity || event.severity === filter.severity)
    && (!filter.status || event.status === filter.status)
    && (!filter.open || event.end_time === null);
}

export async function render(root, ctx) {
  const filter = { site_id: ctx.query.site || '', type: ctx.query.type || '', severity: '', status: '', open: false };
  const cameras = new Map();
  if (ctx.can('cameras.read')) {
    try { (await api('/cameras')).forEach((c) => cameras.set(c.id, c)); } catch { /* names fall back to ids */ }
  }
  const page = await api('/events', { query: { limit: 100, site_id: filter.site_id, type: filter.type } });
  const events = page.items;
  let cursor = page.next_cursor;
  const older = h('button', { id: 'events-older', class: 'small', hidden: !cursor, onclick: async () => {
    const more = await api('/events', { query: { ...currentQuery(), cursor } });
    cursor = more.next_cursor;
    older.hidden = !cursor;
    for (const event of more.items) if (!events.some((e) => e.id === event.id)) events.push(event);
    drawRows();
  } }, t('alarms.older'));
  let selected = ctx.args[0] || null;
  let sound = localStorage.getItem('vigil.sound') === 'on';

  const tbody = h('tbody', { id: 'event-rows' });
  const detail = h('aside', { class: 'panel detail', id: 'event-detail' });
  const liveState = h('span', { class: 'live-state', id: 'live-state' }, t('alarms.connecting'));
  const soundToggle = h('label', { class: 'toggle' }, h('input', { type: 'checkbox', id: 'sound-toggle', checked: sound,
    onchange: (e) => { sound = e.target.checked; localStorage.setItem('vigil.sound', sound ? 'on' : 'off'); } }),
  t('alarms.sound'));

  const siteName = (id) => ctx.siteById(id)?.name || (id ? `#${id}` : '—');
  const tzOf = (event) => ctx.siteById(event.site_id)?.timezone;
  const cameraName = (id) => cameras.get(id)?.name || (id ? `#${id}` : '—');

  function row(event) {
    return h('tr', { class: `row-sev-${event.severity} row-${event.status}${event.id === selected ? ' selected' : ''}`,
      dataset: { event: event.id, status: event.status }, onclick: () => choose(event.id) },
    h('td', { class: 'time' }, fmtDateTime(event.time, tzOf(event))),
    h('td', {}, h('span', { class: `badge sev-${event.severity}` }, label('severity', event.severity))),
    h('td', { class: 'type' }, label('event', event.type), event.end_time ? null
      : h('span', { class: 'ongoing', title: t('alarms.ongoing') }, ' ●')),
    h('td', {}, siteName(event.site_id)),
    h('td', {}, cameraName(event.camera_id)),
    h('td', {}, h('span', { class: `badge status-${event.status}` }, label('status', event.status))));
  }

  function drawRows() {
    const shown = events.filter((e) => matches(filter, e));
    fill(tbody, ...shown.map(row));
    if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('alarms.none'))));
  }

  async function choose(id) {
    selected = id;
    history.replaceState(null, '', `/console/events/${id}`);
    drawRows();
    await renderDetail(detail, id, { ctx, cameras, onChange: upsert });
  }

  function upsert(event, { fresh = false } = {}) {
    const at = events.findIndex((e) => e.id === event.id);
    if (at >= 0) events[at] = { ...events[at], ...event };
    else {
      events.unshift(event);
      events.sort((a, b) => (b.time === a.time ? b.seq - a.seq : (b.time > a.time ? 1 : -1)));
      if (events.length > MAX_ROWS) events.length = MAX_ROWS;  // a wall screen runs for days
      if (fresh && sound && matches(filter, event)) chime();
    }
    drawRows();
    if (fresh && at < 0) tbody.querySelector(`tr[data-event="${event.id}"]`)?.classList.add('fresh');
  }

  function currentQuery() {
    return { limit: 100, site_id: filter.site_id, type: filter.type, severity: filter.severity, status: filter.status,
      open: filter.open || undefined };
  }

  async function reload() {
    const fresh = await api('/events', { query: currentQuery() });
    events.splice(0, events.length, ...fresh.items);
    cursor = fresh.next_cursor;
    older.hidden = !cursor;
    drawRows();
  }

  const onFilter = (key) => (e) => { filter[key] = e.target.type === 'checkbox' ? e.target.checked : e.target.value; reload(); };
  const filters = h('div', { class: 'filters', id: 'alarm-filters' },
    select([['', t('common.all_sites')], ...ctx.sites.map((s) => [s.id, s.name])], filter.site_id,
      { id: 'filter-site', onchange: onFilter('site_id') }),
    select([['', t('alarms.all_types')], ...EVENT_TYPES.map((x) => [x, label('event', x)])], filter.type,
      { id: 'filter-type', onchange: onFilter('type') }),
    select([['', t('alarms.all_severities')], ...SEVERITIES.map((x) => [x, label('severity', x)])], '',
      { id: 'filter-severity', onchange: onFilter('severity') }),
    select([['', t('alarms.all_statuses')], ...STATUSES.map((x) => [x, label('status', x)])], '',
      { id: 'filter-status', onchange: onFilter('status') }),
    h('label', { class: 'toggle' }, h('input', { type: 'checkbox', id: 'filter-open', onchange: onFilter('open') }),
      t('alarms.open_only')));

  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('nav.events')), liveState, soundToggle),
    filters,
    h('div', { class: 'split' },
      h('div', { class: 'panel feed' }, h('table', { class: 'grid events' },
        h('thead', {}, h('tr', {}, [t('alarms.time'), t('alarms.severity'), t('alarms.type'), t('common.site'),
          t('common.camera'), t('alarms.status')].map((x) => h('th', {}, x)))), tbody), older),
      detail));
  drawRows();
  if (selected) choose(selected);
  else detail.append(h('p', { class: 'muted' }, t('alarms.pick_one')));

  const after = events.reduce((max, e) => Math.max(max, e.seq), 0);
  const stop = liveEvents({
    after,
    onEvent: (op, event) => {
      upsert(event, { fresh: op === 'insert' });
      if (event.id === selected && op === 'update' && detail.dataset.status !== event.status) renderDetail(detail, selected, { ctx, cameras, onChange: upsert });
    },
    onState: (state) => { liveState.textContent = t(`alarms.${state}`); liveState.dataset.state = state; },
  });
  return stop;
}
