// The audit log (admin): every human step, newest first, with who, what, when and the change.

import { api } from '../api.js';
import { fill, h } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';

function change(entry) {
  const before = entry.before || {};
  const after = entry.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]) && !['updated_at', 'created_at'].includes(k));
  const text = (v) => (v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return keys.slice(0, 6).map((k) => h('div', { class: 'diff' }, h('code', {}, k), ': ', text(before[k]), ' → ', text(after[k])));
}

export async function render(root, ctx) {
  const filter = { action: ctx.query.action || '', object_type: ctx.query.object_type || '' };
  const tbody = h('tbody', { id: 'audit-rows' });
  const more = h('button', { id: 'audit-more', hidden: true }, t('audit_log.older'));
  let cursor = null;

  async function load(reset) {
    if (reset) { cursor = null; fill(tbody); }
    const page = await api('/audit', { query: { limit: 100, cursor, action: filter.action || null,
      object_type: filter.object_type || null } });
    cursor = page.next_cursor;
    more.hidden = !cursor;
    tbody.append(...page.items.map((e) => h('tr', { dataset: { action: e.action } },
      h('td', { class: 'time' }, fmtDateTime(e.time)), h('td', {}, e.username || '—'),
      h('td', {}, label('action', e.action)), h('td', {}, e.object_type ? `${label('object', e.object_type)} ${e.object_id || ''}` : '—'),
      h('td', { class: 'changes' }, change(e)), h('td', {}, e.remote_addr || '—'))));
    if (!tbody.children.length) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('audit_log.none'))));
  }
  more.addEventListener('click', () => load(false));
  const input = (key, placeholder) => h('input', { id: `audit-${key}`, value: filter[key], placeholder,
    onchange: (e) => { filter[key] = e.target.value.trim(); load(true); } });
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('nav.audit_log')), input('action', t('audit_log.action_filter')),
      input('object_type', t('audit_log.object_filter'))),
    h('section', { class: 'panel' }, h('table', { class: 'grid', id: 'audit-table' },
      h('thead', {}, h('tr', {}, ['audit_log.time', 'audit_log.user', 'audit_log.action', 'audit_log.object',
        'audit_log.change', 'audit_log.address'].map((k) => h('th', {}, t(k))))), tbody), more));
  await load(true);
  return null;
}
