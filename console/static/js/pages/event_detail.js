// One event: what, where, when (site time), the evidence image with its zone drawn, the workflow buttons
// (acknowledge, assign, note, resolve, reopen) and the history of every step.

import { api, errorText } from '../api.js';
import { zoneOverlay } from '../camera_view.js';
import { eventClip } from '../clip.js';
import { fill, h, select, toast } from '../dom.js';
import { fmtDateTime, fmtNumber, label, t } from '../i18n.js';

const OPEN = ['new', 'acknowledged', 'assigned'];

export async function assignees(ctx) {
  const people = await api('/events/assignees');
  const others = people.filter((u) => u.id !== ctx.user.id).map((u) => [u.id, u.display_name || u.username]);
  return [[ctx.user.id, t('event.assign_me')], ...others];
}

export function evidence(event, zone) {
  if (!event.evidence_url) return h('div', { class: 'evidence none' }, t('event.no_evidence'));
  return h('div', { class: 'evidence' }, h('div', { class: 'camera-view' },
    h('img', { src: event.evidence_url, alt: t('event.evidence'), id: 'evidence-image', onload: (e) => {
      // the zone is drawn in the picture's own proportions
      e.target.parentElement.style.aspectRatio = `${e.target.naturalWidth} / ${e.target.naturalHeight}`;
    } }),
    zone ? zoneOverlay([zone]) : null));
}

// Attributes the console shows elsewhere or that only the software reads: the track ids of an intrusion, the
// flags a rule keeps for itself (a leading underscore).
const HIDDEN_ATTRS = new Set(['intruders']);
const BYTES_ATTRS = new Set(['footage_bytes', 'budget_bytes', 'protected_bytes', 'over_budget_bytes']);

function attributeValue(key, value, tz) {
  if (key === 'evidence' && value && typeof value === 'object') {
    return Object.entries(value).flatMap(([which, url], i) => [i ? ' · ' : null,
      h('a', { href: url, target: '_blank', rel: 'noopener' }, label('evidence', which))]);
  }
  if (BYTES_ATTRS.has(key) && typeof value === 'number') return `${fmtNumber(value / 1e9, 2)} GB`;
  if (typeof value === 'number') return fmtNumber(value, 1);
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  if (key === 'class_name' || key === 'classes') return [].concat(value).map((v) => label('class', v)).join(', ');
  if (key === 'reason' || key === 'kind') return label('reason', value);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return fmtDateTime(value, tz);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).map(([k, v]) => `${label('attr', k)}: ${typeof v === 'number' ? fmtNumber(v, 3) : v}`)
      .join(' · ');
  }
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** An event's attributes as a definition list in the user's language (times in the site's time zone). */
export function attributes(attrs, tz) {
  const entries = Object.entries(attrs || {}).filter(([k]) => !k.startsWith('_') && !HIDDEN_ATTRS.has(k));
  if (!entries.length) return null;
  return h('dl', { class: 'attrs' }, entries.flatMap(([k, v]) => [h('dt', {}, label('attr', k)),
    h('dd', {}, attributeValue(k, v, tz))]));
}

function history(event, tz) {
  return h('ol', { class: 'history', id: 'event-history' }, event.notes.map((note) => h('li', { dataset: { action: note.action } },
    h('span', { class: 'time' }, fmtDateTime(note.time, tz)), ' ',
    h('strong', {}, label('action', note.action)), ' · ', note.username || '—',
    note.text ? h('div', { class: 'note-text' }, note.text) : null)),
  event.notes.length ? null : h('li', { class: 'muted' }, t('event.no_history')));
}

export async function renderDetail(panel, id, { ctx, cameras, onChange }) {
  let event;
  try {
    event = await api(`/events/${id}`);
  } catch (error) {
    fill(panel, h('p', { class: 'muted' }, error.status === 404 ? t('common.not_found') : errorText(error)));
    return;
  }
  let zone = null;
  if (event.zone_id && ctx.can('cameras.read')) {
    try { zone = await api(`/zones/${event.zone_id}`); } catch { zone = null; }
  }
  const site = ctx.siteById(event.site_id);
  const tz = site?.timezone;
  const note = h('textarea', { id: 'event-note', rows: 2, placeholder: t('event.note_placeholder'), maxlength: 4000 });
  const step = (action, body) => async () => {
    try {
      const fresh = await api(`/events/${id}/${action}`, { method: 'POST', body });
      onChange(fresh);
      toast(t(`event.done_${action}`), 'ok');
      await renderDetail(panel, id, { ctx, cameras, onChange });
    } catch (error) {
      toast(error.status === 409 ? t('event.conflict') : error.status === 403 ? t('common.not_allowed')
        : errorText(error), 'error');
    }
  };
  const noteBody = () => (note.value.trim() ? { note: note.value.trim() } : {});
  const actions = [];
  if (ctx.can('events.workflow')) {
    if (event.status === 'new') actions.push(h('button', { id: 'btn-acknowledge', class: 'primary',
      onclick: () => step('acknowledge', noteBody())() }, t('event.acknowledge')));
    if (OPEN.includes(event.status)) {
      const who = select(await assignees(ctx), event.assignee_id ?? ctx.user.id, { id: 'assignee' });
      actions.push(h('span', { class: 'assign' }, who, h('button', { id: 'btn-assign',
        onclick: () => step('assign', { assignee_id: Number(who.value), ...noteBody() })() }, t('event.assign'))));
      actions.push(h('button', { id: 'btn-resolve', onclick: () => step('resolve', noteBody())() }, t('event.resolve')));
    }
    if (event.status === 'resolved') actions.push(h('button', { id: 'btn-reopen',
      onclick: () => step('reopen', noteBody())() }, t('event.reopen')));
    actions.push(h('button', { id: 'btn-note', onclick: () => {
      if (!note.value.trim()) return note.focus();
      step('notes', { text: note.value.trim() })();
    } }, t('event.add_note')));
  }
  panel.dataset.status = event.status;
  fill(panel,
    h('div', { class: 'detail-head' },
      h('h2', {}, label('event', event.type)),
      h('span', { class: `badge sev-${event.severity}` }, label('severity', event.severity)),
      h('span', { class: `badge status-${event.status}`, id: 'event-status' }, label('status', event.status))),
    h('dl', { class: 'facts' },
      h('dt', {}, t('event.started')), h('dd', {}, fmtDateTime(event.time, tz)),
      h('dt', {}, t('event.ended')), h('dd', {}, event.end_time ? fmtDateTime(event.end_time, tz) : t('alarms.ongoing')),
      h('dt', {}, t('common.site')), h('dd', {}, site?.name || '—'),
      h('dt', {}, t('common.camera')), h('dd', {}, cameras.get(event.camera_id)?.name || (event.camera_id ? `#${event.camera_id}` : '—')),
      h('dt', {}, t('event.zone')), h('dd', {}, zone ? `${zone.name} (${label('kind', zone.kind)})` : '—'),
      event.counter_id ? [h('dt', {}, t('event.counter')), h('dd', {}, `#${event.counter_id}`)] : null),
    attributes(event.attributes, tz),
    evidence(event, zone),
    eventClip(event, ctx),
    ctx.can('events.workflow') ? h('div', { class: 'workflow' }, note, h('div', { class: 'actions' }, actions)) : null,
    h('h3', {}, t('event.history')),
    history(event, tz));
}
