// Users (admin): who may sign in, their role and sites; add a user, change role/sites/state, reset a password.

import { api, errorText } from '../api.js';
import { field, fill, h, select, toast } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';

const ROLES = ['operator', 'manager', 'engineer', 'admin'];

// The form's labels for the fields the API names in its errors.
function fieldLabels(password) {
  return { 'body.username': t('signin.username'), 'body.display_name': t('users.display_name'),
    'body.role': t('users.role'), 'body.site_ids': t('users.sites'), 'body.all_sites': t('users.sites'),
    'body.active': t('users.active'), 'body.language': t('users.language'), 'body.password': password,
    'body.new_password': password, 'body.supervisor': t('alarmcenter.supervisor') };
}

function sitesText(ctx, ids, provinces = null, provinceNames = new Map()) {
  if (ids === null) return t('users.all_sites');
  const named = (provinces || []).map((id) => t('officers.whole_province', { name: provinceNames.get(id) || `#${id}` }));
  return [...named, ...ids.map((id) => ctx.siteById(id)?.name || `#${id}`)].join(', ');
}

// Whole provinces a user sees (every center of each, new ones included); only shown when provinces exist.
function provinceChooser(provinces, chosen, id) {
  return h('select', { multiple: true, id, size: Math.min(4, Math.max(2, provinces.length)) },
    provinces.map((p) => h('option', { value: p.id, selected: (chosen || []).includes(p.id) }, p.name)));
}

function siteChooser(ctx, chosen, id) {
  return h('select', { multiple: true, id, size: Math.min(5, Math.max(2, ctx.sites.length)) },
    ctx.sites.map((s) => h('option', { value: s.id, selected: (chosen || []).includes(s.id) }, s.name)));
}

const chosenSites = (sel) => [...sel.selectedOptions].map((o) => Number(o.value));

function editor(ctx, user, done, provinces) {
  const role = select(ROLES.map((r) => [r, label('role', r)]), user.role, { id: 'edit-role' });
  const sites = siteChooser(ctx, user.site_ids, 'edit-sites');
  const whole = provinceChooser(provinces, user.province_ids, 'edit-provinces');
  const active = h('input', { type: 'checkbox', checked: user.active, id: 'edit-active' });
  const supervisor = h('input', { type: 'checkbox', checked: user.supervisor, id: 'edit-supervisor' });
  const password = h('input', { type: 'password', autocomplete: 'new-password', id: 'edit-password' });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const save = async () => {
    try {
      const picked = chosenSites(sites);
      const wholes = chosenSites(whole);
      await api(`/users/${user.id}`, { method: 'PATCH', body: { role: role.value, active: active.checked,
        supervisor: supervisor.checked,
        ...(picked.length || wholes.length ? { site_ids: picked, province_ids: wholes } : { all_sites: true }) } });
      if (password.value) await api(`/users/${user.id}/password`, { method: 'POST', body: { password: password.value } });
      toast(t('common.saved'), 'ok');
      done();
    } catch (error) { message.textContent = errorText(error, fieldLabels(t('users.new_password'))); }
  };
  return h('div', { class: 'panel user-edit' }, h('h3', {}, user.username),
    h('div', { class: 'form-grid' }, field(t('users.role'), role), field(t('users.sites'), sites, t('users.sites_hint')),
      provinces.length ? field(t('officers.provinces'), whole, t('officers.provinces_hint')) : null,
      h('label', { class: 'toggle' }, active, t('users.active')),
      h('label', { class: 'toggle', title: t('alarmcenter.supervisor_hint') }, supervisor, t('alarmcenter.supervisor')),
      field(t('users.new_password'), password)),
    message, h('div', { class: 'actions' }, h('button', { class: 'primary', onclick: save }, t('common.save')),
      h('button', { onclick: done }, t('common.cancel'))));
}

function creator(ctx, done, provinces) {
  const username = h('input', { id: 'new-username', pattern: '[A-Za-z0-9._@\\-]{1,64}', required: true });
  const name = h('input', { id: 'new-display-name' });
  const role = select(ROLES.map((r) => [r, label('role', r)]), 'operator', { id: 'new-role' });
  const sites = siteChooser(ctx, [], 'new-sites');
  const whole = provinceChooser(provinces, [], 'new-provinces');
  const password = h('input', { type: 'password', autocomplete: 'new-password', id: 'new-password', required: true });
  const lang = select([['vi', 'Tiếng Việt'], ['en', 'English']], 'vi', { id: 'new-language' });
  const message = h('p', { class: 'form-error', role: 'alert' });
  return h('form', { class: 'panel user-edit', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const picked = chosenSites(sites);
      const wholes = chosenSites(whole);
      await api('/users', { method: 'POST', body: { username: username.value, display_name: name.value || null,
        role: role.value, password: password.value, language: lang.value,
        site_ids: picked.length || wholes.length ? picked : null, province_ids: wholes.length ? wholes : null } });
      toast(t('common.saved'), 'ok');
      done();
    } catch (error) { message.textContent = errorText(error, fieldLabels(t('users.first_password'))); }
  } }, h('h3', {}, t('users.add')),
  h('div', { class: 'form-grid' }, field(t('signin.username'), username), field(t('users.display_name'), name),
    field(t('users.role'), role), field(t('users.sites'), sites, t('users.sites_hint')),
    provinces.length ? field(t('officers.provinces'), whole, t('officers.provinces_hint')) : null,
    field(t('users.first_password'), password), field(t('users.language'), lang)),
  message, h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, t('common.save')),
    h('button', { type: 'button', onclick: done }, t('common.cancel'))));
}

export async function render(root, ctx) {
  const [users, provinces] = await Promise.all([api('/users'), api('/provinces')]);
  const provinceNames = new Map(provinces.map((p) => [p.id, p.name]));
  const side = h('div', { id: 'user-form' });
  const reload = () => ctx.navigate('users', { replace: true });
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('nav.users')),
      h('button', { class: 'primary', id: 'add-user', onclick: () => fill(side, creator(ctx, reload, provinces)) }, t('users.add'))),
    h('div', { class: 'split' },
      h('section', { class: 'panel' }, h('table', { class: 'grid', id: 'user-table' },
        h('thead', {}, h('tr', {}, ['signin.username', 'users.display_name', 'users.role', 'users.sites', 'users.state',
          'users.created'].map((k) => h('th', {}, t(k))))),
        h('tbody', {}, users.map((u) => h('tr', { dataset: { user: u.username }, class: 'clickable',
          onclick: () => fill(side, editor(ctx, u, reload, provinces)) },
        h('td', {}, u.username), h('td', {}, u.display_name || '—'), h('td', {}, label('role', u.role),
          u.supervisor ? h('span', { class: 'badge supervisor' }, ` ${t('alarmcenter.supervisor')}`) : null),
        h('td', {}, sitesText(ctx, u.site_ids, u.province_ids, provinceNames)),
        h('td', {}, u.active ? (u.locked_until && new Date(u.locked_until) > new Date() ? t('users.locked') : t('users.active'))
          : t('users.inactive')),
        h('td', {}, fmtDateTime(u.created_at))))))),
      side));
  return null;
}
