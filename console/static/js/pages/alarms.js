// Alarms: the list operators work from. Escalated alarms nobody acknowledged come first, then priority 1 to 5, then
// the newest; a flood of one type on one camera is one row with its count. Live (new alarms appear without a
// reload, optional chime), and the selected alarm's detail with its checklist and workflow (alarm_detail.js).

import { api } from '../api.js';
import { fill, h, select } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';
import { chime, liveAlarms } from '../live.js';
import { renderAlarmDetail } from './alarm_detail.js';

export const EVENT_TYPES = ['intrusion', 'wrong_way', 'crowd', 'stopped_vehicle', 'congestion', 'loitering',
  'officer_absent', 'counter_unattended_with_queue', 'long_wait', 'hall_overcrowded', 'camera_offline',
  'camera_online', 'camera_tamper', 'recording_offline', 'recording_stalled', 'recording_storage_full'];
const STATES = ['open', 'resolved', 'all'];
const MAX_ROWS = 2000;

/** The server's order: escalated-and-unacknowledged first, then priority, then the newest, then the id. */
export function alarmOrder(a, b) {
  return (Number(b.urgent) - Number(a.urgent)) || (a.priority - b.priority)
    || (a.last_time === b.last_time ? b.id - a.id : (b.last_time > a.last_time ? 1 : -1));
}

export function priorityBadge(priority) {
  return h('span', { class: `badge prio prio-${priority}`, title: label('alarmcenter.priority', priority) },
    `P${priority}`);
}

function matches(filter, alarm) {
  const open = alarm.status !== 'resolved';
  return (filter.state === 'all' || (filter.state === 'open') === open)
    && (!filter.site_id || alarm.site_id === Number(filter.site_id))
    && (!filter.type || alarm.type === filter.type)
    && (!filter.priority || alarm.priority === Number(filter.priority));
}

export async function render(root, ctx) {
  const filter = { state: 'open', site_id: ctx.query.site || '', type: ctx.query.type || '', priority: '' };
  const cameras = new Map();
  if (ctx.can('cameras.read')) {
    try { (await api('/cameras')).forEach((c) => cameras.set(c.id, c)); } catch { /* names fall back to ids */ }
  }
  const query = () => ({ limit: 100, state: filter.state, site_id: filter.site_id, type: filter.type,
    priority: filter.priority });
  const first = await api('/alarms', { query: query() });
  const alarms = first.items;
  let cursor = first.next_cursor;
  let selected = ctx.args[0] ? Number(ctx.args[0]) : null;
  let sound = localStorage.getItem('vigil.sound') === 'on';
  const tbody = h('tbody', { id: 'alarm-rows' });
  const detail = h('aside', { class: 'panel detail', id: 'alarm-detail' });
  const liveState = h('span', { class: 'live-state', id: 'live-state' }, t('alarms.connecting'));
  const older = h('button', { id: 'alarms-older', class: 'small', hidden: !cursor, onclick: async () => {
    const more = await api('/alarms', { query: { ...query(), cursor } });
    cursor = more.next_cursor;
    older.hidden = !cursor;
    for (const alarm of more.items) if (!alarms.some((a) => a.id === alarm.id)) alarms.push(alarm);
    draw();
  } }, t('alarmcenter.older'));
  const siteName = (id) => ctx.siteById(id)?.name || (id ? `#${id}` : '—');
  const tzOf = (alarm) => ctx.siteById(alarm.site_id)?.timezone;
  const cameraName = (id) => cameras.get(id)?.name || (id ? `#${id}` : '—');

  function row(alarm) {
    return h('tr', { class: `alarm-row prio-row-${alarm.priority} row-${alarm.status}${alarm.urgent ? ' urgent' : ''}`
      + `${alarm.id === selected ? ' selected' : ''}`,
    dataset: { alarm: alarm.id, status: alarm.status, urgent: alarm.urgent ? '1' : '0' }, onclick: () => choose(alarm.id) },
    h('td', {}, priorityBadge(alarm.priority), alarm.urgent
      ? h('span', { class: 'badge escalated', title: t('alarmcenter.escalated_hint') }, t('alarmcenter.escalated')) : null),
    h('td', { class: 'time' }, fmtDateTime(alarm.last_time, tzOf(alarm))),
    h('td', { class: 'type' }, label('event', alarm.type), alarm.event_count > 1
      ? h('span', { class: 'count', title: t('alarmcenter.count_hint') }, ` ×${alarm.event_count}`) : null),
    h('td', {}, siteName(alarm.site_id)),
    h('td', {}, cameraName(alarm.camera_id)),
    h('td', {}, h('span', { class: `badge status-${alarm.status}` }, label('status', alarm.status))));
  }

  function draw() {
    alarms.sort(alarmOrder);
    const shown = alarms.filter((a) => matches(filter, a));
    fill(tbody, ...shown.map(row));
    if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('alarmcenter.none'))));
  }

  async function choose(id) {
    selected = id;
    history.replaceState(null, '', `/console/alarms/${id}`);
    draw();
    await renderAlarmDetail(detail, id, { ctx, cameras, onChange: upsert });
  }

  function upsert(alarm, { fresh = false } = {}) {
    const at = alarms.findIndex((a) => a.id === alarm.id);
    if (at >= 0) alarms[at] = { ...alarms[at], ...alarm };
    else {
      alarms.push(alarm);
      if (alarms.length > MAX_ROWS) alarms.splice(MAX_ROWS);  // a wall screen runs for days
      if (fresh && sound && matches(filter, alarm)) chime();
    }
    draw();
    if (fresh && at < 0) tbody.querySelector(`tr[data-alarm="${alarm.id}"]`)?.classList.add('fresh');
  }

  async function reload() {
    const fresh = await api('/alarms', { query: query() });
    alarms.splice(0, alarms.length, ...fresh.items);
    cursor = fresh.next_cursor;
    older.hidden = !cursor;
    draw();
  }

  const onFilter = (key) => (e) => { filter[key] = e.target.value; reload(); };
  const soundToggle = h('label', { class: 'toggle' }, h('input', { type: 'checkbox', id: 'sound-toggle', checked: sound,
    onchange: (e) => { sound = e.target.checked; localStorage.setItem('vigil.sound', sound ? 'on' : 'off'); } }),
  t('alarms.sound'));
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('nav.alarms')), liveState, soundToggle),
    h('div', { class: 'filters', id: 'alarm-filters' },
      select(STATES.map((s) => [s, t(`alarmcenter.state_${s}`)]), filter.state, { id: 'filter-state',
        onchange: onFilter('state') }),
      select([['', t('common.all_sites')], ...ctx.sites.map((s) => [s.id, s.name])], filter.site_id,
        { id: 'filter-site', onchange: onFilter('site_id') }),
      select([['', t('alarms.all_types')], ...EVENT_TYPES.map((x) => [x, label('event', x)])], filter.type,
        { id: 'filter-type', onchange: onFilter('type') }),
      select([['', t('alarmcenter.all_priorities')], ...[1, 2, 3, 4, 5].map((p) => [p, `P${p} · ${label(
        'alarmcenter.priority', p)}`])], '', { id: 'filter-priority', onchange: onFilter('priority') })),
    h('div', { class: 'split' },
      h('div', { class: 'panel feed' }, h('table', { class: 'grid alarms' },
        h('thead', {}, h('tr', {}, [t('alarmcenter.priority_short'), t('alarmcenter.last_event'), t('alarms.type'),
          t('common.site'), t('common.camera'), t('alarms.status')].map((x) => h('th', {}, x)))), tbody), older),
      detail));
  draw();
  if (selected) choose(selected);
  else detail.append(h('p', { class: 'muted' }, t('alarmcenter.pick_one')));

  return liveAlarms({
    onAlarm: (op, alarm) => {
      upsert(alarm, { fresh: op === 'insert' });
      if (alarm.id === selected && op !== 'insert' && detail.dataset.updated !== alarm.updated_at) {
        renderAlarmDetail(detail, selected, { ctx, cameras, onChange: upsert });
      }
    },
    onState: (state) => { liveState.textContent = t(`alarms.${state}`); liveState.dataset.state = state; },
    onReopen: reload,
  });
}
