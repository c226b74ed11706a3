// Shift handover (giao ca): the handovers waiting for you to take the shift over, your shift's summary so far
// (alarms raised, handled, still open with their state and last note, cameras offline) with your remarks and the
// next operator, and every handover you may see, searchable, each exportable as XLSX.

import { api, errorText } from '../api.js';
import { fill, h, select, toast } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';
import { assignees } from './event_detail.js';
import { priorityBadge } from './alarms.js';

const COUNTS = ['raised', 'handled', 'open', 'escalated', 'cameras_offline'];

function counts(summary) {
  return h('div', { class: 'handover-counts' }, COUNTS.map((key) => h('div', { class: 'stat',
    dataset: { count: key } }, h('div', { class: 'value' }, String(summary.counts[key] ?? 0)),
  h('div', { class: 'muted' }, t(`handover.count_${key}`)))));
}

function alarmTable(rows, columns, tz, id) {
  if (!rows.length) return h('p', { class: 'muted' }, t('handover.nothing'));
  const cell = {
    alarm: (a) => h('a', { href: `/console/alarms/${a.id}` }, `#${a.id}`),
    priority: (a) => priorityBadge(a.priority),
    type: (a) => label('event', a.type),
    where: (a) => [a.site, a.camera].filter(Boolean).join(' · '),
    status: (a) => h('span', { class: `badge status-${a.status}` }, label('status', a.status)),
    assignee: (a) => a.assignee || '—',
    last_note: (a) => a.last_note || '—',
    resolved_by: (a) => (a.auto_closed ? t('handover.auto_closed') : a.resolved_by || '—'),
    resolution: (a) => a.resolution || '—',
    when: (a) => fmtDateTime(a.resolved_at || a.raised_at, tz),
  };
  return h('table', { class: 'grid', id }, h('thead', {}, h('tr', {}, columns.map((c) => h('th', {},
    t(`handover.col_${c}`))))), h('tbody', {}, rows.map((a) => h('tr', { dataset: { alarm: a.id } },
    columns.map((c) => h('td', {}, cell[c](a)))))));
}

export function summaryView(summary, tz) {
  return h('div', { class: 'handover-summary' }, counts(summary),
    h('h3', {}, t('handover.open')), alarmTable(summary.open, ['alarm', 'priority', 'type', 'where', 'status',
      'assignee', 'last_note'], tz, 'handover-open'),
    h('h3', {}, t('handover.handled')), alarmTable(summary.handled, ['alarm', 'priority', 'type', 'where',
      'resolved_by', 'resolution', 'when'], tz, 'handover-handled'),
    h('h3', {}, t('handover.raised')), alarmTable(summary.raised, ['alarm', 'priority', 'type', 'where', 'status',
      'when'], tz, 'handover-raised'),
    h('h3', {}, t('handover.cameras_offline')), summary.cameras_offline.length
      ? h('ul', { id: 'handover-offline' }, summary.cameras_offline.map((c) => h('li', {}, `${c.name} · ${c.site} — `,
        label('state', c.state), ` (${fmtDateTime(c.state_since, tz)})`)))
      : h('p', { class: 'muted' }, t('handover.nothing')));
}

function card(item, tz, ctx, { onAcknowledged } = {}) {
  const mine = item.to_user_id === ctx.user.id && !item.acknowledged_at;
  const note = h('input', { id: `ack-note-${item.id}`, placeholder: t('handover.ack_note'), maxlength: 4000 });
  const details = h('div', { hidden: !mine }, summaryView(item.summary, tz));
  return h('section', { class: 'panel handover', dataset: { handover: item.id, acknowledged: item.acknowledged_at
    ? '1' : '0' } },
  h('div', { class: 'detail-head' }, h('h2', {}, t('handover.title', { from: item.from_username, to: item.to_username })),
    h('span', { class: `badge ${item.acknowledged_at ? 'status-resolved' : 'status-new'}` },
      item.acknowledged_at ? t('handover.acknowledged') : t('handover.waiting'))),
  h('p', { class: 'muted' }, t('handover.shift', { start: fmtDateTime(item.shift_start, tz),
    end: fmtDateTime(item.shift_end, tz) })),
  item.remarks ? h('blockquote', { class: 'remarks' }, item.remarks) : null,
  item.ack_note ? h('p', {}, t('handover.ack_note_was', { note: item.ack_note })) : null,
  h('div', { class: 'actions' },
    h('button', { class: 'small', onclick: () => { details.hidden = !details.hidden; } }, t('handover.toggle')),
    h('a', { class: 'button small', href: `/api/handovers/${item.id}/export?format=xlsx`, download: '',
      id: `export-${item.id}` }, t('handover.export')),
    mine && ctx.can('handovers.write') ? [note, h('button', { class: 'primary', id: `ack-${item.id}`, onclick: async () => {
      try {
        await api(`/handovers/${item.id}/acknowledge`, { method: 'POST',
          body: note.value.trim() ? { note: note.value.trim() } : {} });
        toast(t('handover.done_ack'), 'ok');
        onAcknowledged();
      } catch (error) { toast(errorText(error), 'error'); }
    } }, t('handover.acknowledge'))] : null),
  details);
}

async function closer(ctx, tz, again) {
  const draft = await api('/handovers/draft');
  const people = (await assignees(ctx)).filter(([id]) => id !== ctx.user.id);
  const to = select(people, people[0]?.[0], { id: 'handover-to' });
  const remarks = h('textarea', { id: 'handover-remarks', rows: 3, maxlength: 8000,
    placeholder: t('handover.remarks_placeholder') });
  const submit = h('button', { class: 'primary', id: 'handover-submit', disabled: !people.length, onclick: async () => {
    try {
      await api('/handovers', { method: 'POST', body: { to_user_id: Number(to.value), since: draft.shift_start,
        ...(remarks.value.trim() ? { remarks: remarks.value.trim() } : {}) } });
      toast(t('handover.done_create'), 'ok');
      again();
    } catch (error) { toast(errorText(error, { 'body.to_user_id': t('handover.to') }), 'error'); }
  } }, t('handover.submit'));
  return h('section', { class: 'panel', id: 'handover-new' }, h('h2', {}, t('handover.close_shift')),
    h('p', { class: 'muted' }, t('handover.shift', { start: fmtDateTime(draft.shift_start, tz),
      end: fmtDateTime(draft.shift_end, tz) })),
    summaryView(draft.summary, tz),
    h('div', { class: 'form-grid' }, h('label', { class: 'field' }, h('span', {}, t('handover.to')), to),
      h('label', { class: 'field wide' }, h('span', {}, t('handover.remarks')), remarks)),
    h('div', { class: 'actions' }, submit));
}

export async function render(root, ctx) {
  const tz = ctx.sites[0]?.timezone;
  const again = () => ctx.navigate('handover', { replace: true });
  const pending = (await api('/handovers', { query: { pending: true } })).items;
  const list = h('div', { id: 'handover-list' });
  const search = h('input', { type: 'search', id: 'handover-search', placeholder: t('handover.search'), maxlength: 200 });
  async function find() {
    try {
      const page = await api('/handovers', { query: { q: search.value.trim(), limit: 30 } });
      fill(list, ...(page.items.length ? page.items.map((item) => card(item, tz, ctx, { onAcknowledged: again }))
        : [h('p', { class: 'muted' }, t('handover.none'))]));
    } catch (error) { fill(list, h('p', { class: 'muted' }, errorText(error))); }
  }
  search.addEventListener('change', find);
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.handover'))),
    pending.length ? h('div', { id: 'handover-pending' }, h('h2', {}, t('handover.pending')),
      pending.map((item) => card(item, tz, ctx, { onAcknowledged: again }))) : null,
    ctx.can('handovers.write') ? await closer(ctx, tz, again) : null,
    h('section', { class: 'panel' }, h('div', { class: 'toolbar' }, h('h2', {}, t('handover.history')), search), list));
  await find();
  return null;
}
