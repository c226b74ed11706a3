// One alarm: what, where, when (site time), its priority and deadline, the newest event's picture with its zone,
// its clip when the recordings have one, the procedure checklist (tick each step, with a note), the workflow
// (acknowledge, assign, note, resolve, reopen; resolving with a required step left asks for the reason), the
// related cameras' pictures from the alarm's time, its events and the history of every step.

import { api, errorText } from '../api.js';
import { fill, h, select, toast } from '../dom.js';
import { fmtDateTime, fmtTimeSec, label, t } from '../i18n.js';
import { eventClip } from '../clip.js';
import { assignees, attributes, evidence } from './event_detail.js';

const OPEN = ['new', 'acknowledged', 'assigned'];

function noteText(note) {
  if (note.action === 'auto_close') return t('alarmcenter.closed_by_rule', { rule: note.text || '' });
  if (note.action === 'escalate') return note.text ? t('alarmcenter.escalated_to', { names: note.text })
    : t('alarmcenter.escalated_nobody');
  return note.text;
}

function history(alarm, tz) {
  return h('ol', { class: 'history', id: 'alarm-history' }, alarm.notes.map((note) => h('li', {
    dataset: { action: note.action } },
  h('span', { class: 'time' }, fmtDateTime(note.time, tz)), ' ',
  h('strong', {}, label('alarmcenter.action', note.action)), ' · ', note.username || t('alarmcenter.system'),
  noteText(note) ? h('div', { class: 'note-text' }, noteText(note)) : null)),
  alarm.notes.length ? null : h('li', { class: 'muted' }, t('event.no_history')));
}

function checklist(alarm, tz, { canWork, tick }) {
  if (!alarm.steps.length) return h('p', { class: 'muted', id: 'alarm-steps-none' }, t('alarmcenter.no_procedure'));
  const open = OPEN.includes(alarm.status);
  return h('ol', { class: 'checklist', id: 'alarm-steps' }, alarm.steps.map((step) => {
    const note = h('input', { class: 'step-note', id: `step-note-${step.position}`, maxlength: 4000,
      placeholder: t('alarmcenter.step_note'), hidden: Boolean(step.done_at) || !canWork || !open });
    const box = h('input', { type: 'checkbox', id: `step-${step.position}`, checked: Boolean(step.done_at),
      disabled: !canWork || !open, onchange: (e) => tick(step.position, e.target.checked, note.value.trim()) });
    return h('li', { class: step.done_at ? 'done' : '', dataset: { position: step.position } },
      h('label', { class: 'toggle' }, box, h('span', { class: 'step-text' }, step.text),
        step.required ? h('span', { class: 'required', title: t('alarmcenter.required_hint') },
          ` (${t('alarmcenter.required')})`) : null),
      step.done_at ? h('div', { class: 'muted small' }, t('alarmcenter.step_done', {
        who: step.done_by_name || '—', time: fmtDateTime(step.done_at, tz) }),
      step.note ? h('span', { class: 'step-done-note' }, ` — ${step.note}`) : null) : null,
      note);
  }));
}

function related(cameras, tz) {
  if (!cameras.length) return h('p', { class: 'muted' }, t('alarmcenter.no_related'));
  return h('div', { class: 'related', id: 'alarm-related' }, cameras.map((cam) => {
    const pic = cam.picture;
    const caption = pic.kind === 'evidence' ? t('alarmcenter.related_evidence', { time: fmtTimeSec(pic.time, tz) })
      : pic.kind === 'live' ? t('alarmcenter.related_live') : t('alarmcenter.related_none');
    return h('figure', { class: 'related-camera', dataset: { camera: cam.id, kind: pic.kind } },
      pic.url ? h('img', { src: pic.url, alt: cam.name, loading: 'lazy' }) : h('div', { class: 'no-preview' },
        label('state', cam.state)),
      h('figcaption', {}, h('strong', {}, cam.name), h('br'), h('span', { class: 'muted' }, caption)));
  }));
}

export async function renderAlarmDetail(panel, id, { ctx, cameras, onChange }) {
  let alarm;
  try {
    alarm = await api(`/alarms/${id}`);
  } catch (error) {
    fill(panel, h('p', { class: 'muted' }, error.status === 404 ? t('common.not_found') : errorText(error)));
    return;
  }
  const event = alarm.latest_event;
  let zone = null;
  if (alarm.zone_id && ctx.can('cameras.read')) {
    try { zone = await api(`/zones/${alarm.zone_id}`); } catch { zone = null; }
  }
  let relatedCameras = [];
  try { relatedCameras = await api(`/alarms/${id}/related`); } catch { relatedCameras = []; }
  const site = ctx.siteById(alarm.site_id);
  const tz = site?.timezone;
  const canWork = ctx.can('events.workflow');
  const again = () => renderAlarmDetail(panel, id, { ctx, cameras, onChange });
  const note = h('textarea', { id: 'alarm-note', rows: 2, placeholder: t('event.note_placeholder'), maxlength: 4000 });
  const reason = h('textarea', { id: 'resolve-reason', rows: 2, maxlength: 4000, hidden: true,
    placeholder: t('alarmcenter.reason_placeholder') });
  const step = async (path, body, done) => {
    try {
      const fresh = await api(`/alarms/${id}/${path}`, { method: 'POST', body });
      onChange(fresh);
      if (done) toast(done, 'ok');
      await again();
    } catch (error) {
      const unticked = error.status === 422 && error.problems.some((p) => p.code === 'alarm_steps_unticked');
      if (unticked) {
        reason.hidden = false;
        reason.focus();
      }
      toast(error.status === 409 ? t('event.conflict') : error.status === 403 ? t('common.not_allowed')
        : errorText(error), 'error');
    }
  };
  const noteBody = () => (note.value.trim() ? { note: note.value.trim() } : {});
  const actions = [];
  if (canWork) {
    if (alarm.status === 'new') actions.push(h('button', { id: 'btn-acknowledge', class: 'primary',
      onclick: () => step('acknowledge', noteBody(), t('event.done_acknowledge')) }, t('event.acknowledge')));
    if (OPEN.includes(alarm.status)) {
      const who = select(await assignees(ctx), alarm.assignee_id ?? ctx.user.id, { id: 'assignee' });
      actions.push(h('span', { class: 'assign' }, who, h('button', { id: 'btn-assign',
        onclick: () => step('assign', { assignee_id: Number(who.value), ...noteBody() }, t('event.done_assign')) },
      t('event.assign'))));
      actions.push(h('button', { id: 'btn-resolve', onclick: () => {
        const why = reason.value.trim();
        if (alarm.unticked_required && !why) {
          reason.hidden = false;
          reason.focus();
          toast(t('alarmcenter.reason_needed', { count: alarm.unticked_required }), 'error');
          return;
        }
        step('resolve', { ...noteBody(), ...(why ? { reason: why } : {}) }, t('event.done_resolve'));
      } }, alarm.unticked_required ? t('alarmcenter.resolve_with_reason') : t('event.resolve')));
    }
    if (alarm.status === 'resolved') actions.push(h('button', { id: 'btn-reopen',
      onclick: () => step('reopen', noteBody(), t('event.done_reopen')) }, t('event.reopen')));
    actions.push(h('button', { id: 'btn-note', onclick: () => {
      if (!note.value.trim()) return note.focus();
      return step('notes', { text: note.value.trim() }, t('event.done_notes'));
    } }, t('event.add_note')));
  }
  const tick = (position, done, text) => step(`steps/${position}`, { done, ...(done && text ? { note: text } : {}) },
    done ? t('alarmcenter.done_step') : null);
  panel.dataset.status = alarm.status;
  panel.dataset.updated = alarm.updated_at;
  const camera = cameras.get(alarm.camera_id);
  fill(panel,
    h('div', { class: 'detail-head' },
      h('h2', {}, label('event', alarm.type)),
      h('span', { class: `badge prio prio-${alarm.priority}` }, `P${alarm.priority} · ${label('alarmcenter.priority',
        alarm.priority)}`),
      h('span', { class: `badge status-${alarm.status}`, id: 'alarm-status' }, label('status', alarm.status)),
      alarm.urgent ? h('span', { class: 'badge escalated', id: 'alarm-escalated' }, t('alarmcenter.escalated')) : null),
    h('dl', { class: 'facts' },
      h('dt', {}, t('alarmcenter.raised')), h('dd', {}, fmtDateTime(alarm.raised_at, tz)),
      h('dt', {}, alarm.escalated_at ? t('alarmcenter.escalated_at') : t('alarmcenter.ack_due')),
      h('dd', {}, fmtDateTime(alarm.escalated_at || alarm.ack_due, tz)),
      h('dt', {}, t('alarmcenter.events')), h('dd', { id: 'alarm-count' }, t('alarmcenter.event_count', {
        n: alarm.event_count, first: fmtTimeSec(alarm.first_time, tz), last: fmtTimeSec(alarm.last_time, tz) })),
      h('dt', {}, t('common.site')), h('dd', {}, site?.name || '—'),
      h('dt', {}, t('common.camera')), h('dd', {}, camera?.name || (alarm.camera_id ? `#${alarm.camera_id}` : '—')),
      h('dt', {}, t('event.zone')), h('dd', {}, zone ? `${zone.name} (${label('kind', zone.kind)})` : '—')),
    event ? attributes(event.attributes, tz) : null,
    event ? evidence(event, zone) : null,
    eventClip({ id: alarm.last_event_id, camera_id: alarm.camera_id }, ctx),
    h('h3', {}, t('alarmcenter.procedure')), checklist(alarm, tz, { canWork, tick }),
    canWork ? h('div', { class: 'workflow' }, note, reason, h('div', { class: 'actions' }, actions)) : null,
    h('h3', {}, t('alarmcenter.related')), related(relatedCameras, tz),
    alarm.events.length > 1 ? [h('h3', {}, t('alarmcenter.group_events')), h('ul', { class: 'group-events' },
      alarm.events.map((e) => h('li', {}, h('a', { href: `/console/events/${e.id}` }, fmtDateTime(e.time, tz)),
        ' ', h('span', { class: `badge status-${e.status}` }, label('status', e.status)))))] : null,
    h('h3', {}, t('event.history')),
    history(alarm, tz));
}
