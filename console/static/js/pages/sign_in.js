// Sign-in, and the password change a new account must make before anything else.

import { api, errorText } from '../api.js';
import { fill, h } from '../dom.js';
import { currentLang, loadLang, t } from '../i18n.js';

function languageLink(rerender) {
  return h('button', { class: 'link', id: 'signin-lang', type: 'button', onclick: async () => {
    await loadLang(currentLang() === 'vi' ? 'en' : 'vi');
    rerender();
  } }, currentLang() === 'vi' ? 'English' : 'Tiếng Việt');
}

function signInForm(root, ctx) {
  const message = h('p', { class: 'form-error', id: 'signin-error', role: 'alert' });
  const labels = { 'body.username': t('signin.username'), 'body.password': t('signin.password') };
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'panel signin', onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = '';
    try {
      const user = await api('/auth/login', { method: 'POST', body: { username: username.value,
        password: password.value } });
      await ctx.signedIn(user);
    } catch (error) {
      if (error.status === 429 || error.status === 423) message.textContent = t('signin.locked');
      else if (error.status === 401 || error.status === 403) message.textContent = t('signin.wrong');
      else message.textContent = errorText(error, labels);
    }
  } },
  h('h1', {}, 'Vigil'),
  h('p', { class: 'muted' }, t('signin.subtitle')),
  h('label', { class: 'field' }, h('span', {}, t('signin.username')), username),
  h('label', { class: 'field' }, h('span', {}, t('signin.password')), password),
  message,
  h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, t('signin.submit')),
  h('div', { class: 'signin-foot' }, languageLink(() => render(root, ctx))));
  return form;
}

function passwordForm(root, ctx) {
  const message = h('p', { class: 'form-error', role: 'alert' });
  const current = h('input', { type: 'password', id: 'current-password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', id: 'new-password', autocomplete: 'new-password', required: true });
  return h('form', { class: 'panel signin', onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api('/auth/password', { method: 'POST', body: { current_password: current.value,
        new_password: next.value } });
      await ctx.signedIn(await api('/auth/me'));
    } catch (error) {
      message.textContent = errorText(error, { 'body.current_password': t('signin.current_password'),
        'body.new_password': t('signin.new_password') });
    }
  } },
  h('h1', {}, t('signin.change_password')),
  h('p', { class: 'muted' }, t('signin.change_password_hint')),
  h('label', { class: 'field' }, h('span', {}, t('signin.current_password')), current),
  h('label', { class: 'field' }, h('span', {}, t('signin.new_password')), next),
  message,
  h('button', { type: 'submit', class: 'primary' }, t('common.save')));
}

export function render(root, ctx) {
  fill(root, ctx.user && ctx.user.must_change_password ? passwordForm(root, ctx) : signInForm(root, ctx));
}
