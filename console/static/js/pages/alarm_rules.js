// Alarm rules and procedures (managers and admins): for a site (or the defaults of every site), which event types
// raise an alarm, at what priority, when (always, or between two times every day), how floods group and when an
// alarm closes by itself; and each type's checklist, in order, each step required or not.

import { api, errorText } from '../api.js';
import { fill, h, select, toast } from '../dom.js';
import { label, t } from '../i18n.js';
import { EVENT_TYPES } from './alarms.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "from-to every day" as a schedule (across midnight: two sessions a day); null for always. */
export function dailySchedule(from, to) {
  if (!from || !to || from === to) return null;
  const sessions = from < to ? [[from, to]] : [['00:00', to], [from, '24:00']];
  return { weekly: Object.fromEntries(DAYS.map((d) => [d, sessions])) };
}

/** The schedule back as [from, to] when it is one every day, else null (shown as "own schedule"). */
export function dailyRange(schedule) {
  if (!schedule) return null;
  const week = schedule.weekly || {};
  const first = JSON.stringify(week.mon);
  if (schedule.holidays || schedule.extra_days || !DAYS.every((d) => JSON.stringify(week[d]) === first)) return null;
  const sessions = week.mon || [];
  if (sessions.length === 1) return sessions[0];
  if (sessions.length === 2 && sessions[0][0] === '00:00' && sessions[1][1] === '24:00') return [sessions[1][0], sessions[0][1]];
  return null;
}

function scheduleText(schedule) {
  if (!schedule) return t('rules.always');
  const range = dailyRange(schedule);
  return range ? t('rules.daily', { from: range[0], to: range[1] }) : t('rules.own_schedule');
}

function ruleRow(rule, ctx, cameras, canChange, reload) {
  const where = rule.zone_id ? t('rules.zone_of', { id: rule.zone_id, camera: cameras.get(rule.camera_id)?.name || rule.camera_id })
    : rule.camera_id ? (cameras.get(rule.camera_id)?.name || `#${rule.camera_id}`)
      : rule.site_id ? t('rules.whole_site') : t('rules.defaults');
  const raises = h('input', { type: 'checkbox', checked: rule.raises, disabled: !canChange });
  const priority = select([1, 2, 3, 4, 5].map((p) => [p, `P${p}`]), rule.priority, { disabled: !canChange });
  const change = async (body) => {
    try {
      await api(`/alarm-rules/${rule.id}`, { method: 'PATCH', body });
      toast(t('common.saved'), 'ok');
    } catch (error) { toast(errorText(error), 'error'); }
    reload();
  };
  raises.addEventListener('change', () => change({ raises: raises.checked }));
  priority.addEventListener('change', () => change({ priority: Number(priority.value) }));
  return h('tr', { dataset: { rule: rule.id } }, h('td', {}, label('event', rule.event_type)), h('td', {}, where),
    h('td', {}, raises), h('td', {}, priority), h('td', {}, scheduleText(rule.schedule)),
    h('td', { class: 'num' }, rule.group_s ? t('rules.minutes', { n: Math.round(rule.group_s / 60) }) : '—'),
    h('td', { class: 'num' }, rule.auto_close_s ? t('rules.minutes', { n: Math.round(rule.auto_close_s / 60) }) : '—'),
    h('td', {}, canChange ? h('button', { class: 'small danger', onclick: async () => {
      try { await api(`/alarm-rules/${rule.id}`, { method: 'DELETE' }); } catch (error) { toast(errorText(error), 'error'); }
      reload();
    } }, t('rules.delete')) : null));
}

function ruleForm(siteId, cameras, reload) {
  const type = select(EVENT_TYPES.map((x) => [x, label('event', x)]), 'intrusion', { id: 'rule-type' });
  const camera = select([['', t('rules.whole_site')], ...[...cameras.values()].filter((c) => c.site_id === siteId)
    .map((c) => [c.id, c.name])], '', { id: 'rule-camera' });
  const priority = select([1, 2, 3, 4, 5].map((p) => [p, `P${p} · ${label('alarmcenter.priority', p)}`]), 2,
    { id: 'rule-priority' });
  const raises = h('input', { type: 'checkbox', checked: true, id: 'rule-raises' });
  const from = h('input', { type: 'time', id: 'rule-from' });
  const to = h('input', { type: 'time', id: 'rule-to' });
  const close = h('input', { type: 'number', min: 1, max: 43200, id: 'rule-auto-close', placeholder: '—' });
  const add = async () => {
    try {
      await api('/alarm-rules', { method: 'POST', body: { site_id: siteId, event_type: type.value,
        ...(camera.value ? { camera_id: Number(camera.value) } : {}), priority: Number(priority.value),
        raises: raises.checked, schedule: dailySchedule(from.value, to.value),
        ...(close.value ? { auto_close_s: Number(close.value) * 60 } : {}) } });
      toast(t('common.saved'), 'ok');
      reload();
    } catch (error) { toast(errorText(error, { 'body.schedule': t('rules.schedule') }), 'error'); }
  };
  return h('div', { class: 'form-grid', id: 'rule-form' },
    h('label', { class: 'field' }, h('span', {}, t('alarms.type')), type),
    h('label', { class: 'field' }, h('span', {}, t('common.camera')), camera),
    h('label', { class: 'field' }, h('span', {}, t('alarmcenter.priority_short')), priority),
    h('label', { class: 'toggle' }, raises, t('rules.raises')),
    h('label', { class: 'field' }, h('span', {}, t('rules.from_to')), h('span', {}, from, ' – ', to)),
    h('label', { class: 'field' }, h('span', {}, t('rules.auto_close_minutes')), close),
    h('div', { class: 'actions' }, h('button', { class: 'primary', id: 'rule-add', onclick: add }, t('rules.add'))));
}

function procedureEditor(siteId, procedures, canChange) {
  const type = select(EVENT_TYPES.map((x) => [x, label('event', x)]), 'intrusion', { id: 'procedure-type' });
  const list = h('ol', { id: 'procedure-steps', class: 'checklist edit' });
  const line = (step = { text: '', required: true }) => h('li', {},
    h('input', { class: 'step-text', value: step.text, maxlength: 500, disabled: !canChange }),
    h('label', { class: 'toggle' }, h('input', { type: 'checkbox', class: 'step-required', checked: step.required,
      disabled: !canChange }), t('alarmcenter.required')),
    canChange ? h('button', { class: 'small', onclick: (e) => e.target.closest('li').remove() }, t('rules.remove_step'))
      : null);
  const show = () => {
    const own = procedures.find((p) => p.event_type === type.value && p.site_id === siteId)
      || procedures.find((p) => p.event_type === type.value && p.site_id === null);
    fill(list, ...(own?.steps || []).map(line));
  };
  type.addEventListener('change', show);
  show();
  const save = async () => {
    const steps = [...list.children].map((li) => ({ text: li.querySelector('.step-text').value.trim(),
      required: li.querySelector('.step-required').checked })).filter((s) => s.text);
    try {
      const saved = await api('/procedures', { method: 'PUT', body: { site_id: siteId, event_type: type.value, steps } });
      procedures.push(saved);
      toast(t('rules.procedure_saved'), 'ok');
    } catch (error) { toast(errorText(error), 'error'); }
  };
  return h('section', { class: 'panel', id: 'procedure-editor' }, h('h2', {}, t('rules.procedures')),
    h('p', { class: 'muted' }, t('rules.procedures_hint')), type, list,
    canChange ? h('div', { class: 'actions' }, h('button', { id: 'step-add', onclick: () => list.append(line()) },
      t('rules.add_step')), h('button', { class: 'primary', id: 'procedure-save', onclick: save }, t('common.save')))
      : null);
}

export async function render(root, ctx) {
  const everySite = ctx.user.site_ids === null;
  const choices = [...(everySite ? [['', t('rules.defaults')]] : []), ...ctx.sites.map((s) => [s.id, s.name])];
  const siteId = ctx.query.site ? Number(ctx.query.site) : (everySite ? null : ctx.sites[0]?.id ?? null);
  const cameras = new Map();
  try { (await api('/map/cameras')).forEach((c) => cameras.set(c.id, c)); } catch { /* names fall back to ids */ }
  const [rules, procedures] = await Promise.all([api('/alarm-rules', { query: { site_id: siteId ?? '' } }),
    api('/procedures', { query: { site_id: siteId ?? '' } })]);
  const reload = () => ctx.navigate(`alarm-rules${siteId ? `?site=${siteId}` : ''}`, { replace: true });
  const canChange = (rule) => ctx.can('alarms.configure') && (rule.site_id !== null || everySite);
  const shown = siteId === null ? rules.filter((r) => r.site_id === null) : rules;
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.alarm_rules')),
    select(choices, siteId ?? '', { id: 'rules-site', onchange: (e) => ctx.navigate(
      `alarm-rules${e.target.value ? `?site=${e.target.value}` : ''}`) })),
  h('section', { class: 'panel' }, h('h2', {}, t('rules.title')), h('p', { class: 'muted' }, t('rules.hint')),
    h('table', { class: 'grid', id: 'rules-table' }, h('thead', {}, h('tr', {}, ['alarms.type', 'rules.where',
      'rules.raises', 'alarmcenter.priority_short', 'rules.schedule', 'rules.group', 'rules.auto_close', 'rules.actions']
      .map((k) => h('th', {}, t(k))))), h('tbody', {}, shown.map((r) => ruleRow(r, ctx, cameras, canChange(r), reload)))),
    siteId !== null || everySite ? h('div', {}, h('h3', {}, t('rules.add')), ruleForm(siteId, cameras, reload)) : null),
  procedureEditor(siteId, procedures, ctx.can('alarms.configure') && (siteId !== null || everySite)));
  return null;
}
