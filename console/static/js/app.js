// The console shell: session, header (user, role, language, sign-out), role-aware menu and the router.
// Pages are ES modules exporting render(root, ctx) -> optional cleanup; the URL is /console/<page>/<args>.

import { api, errorText } from './api.js';
import { clear, h } from './dom.js';
import { stopEscalations, watchEscalations } from './escalations.js';
import { currentLang, loadLang, savedLang, t } from './i18n.js';
import { can, homePage, PAGES } from './roles.js';

const state = { user: null, sites: [], cleanup: null, renderId: 0 };

function siteById(id) {
  return state.sites.find((site) => site.id === id) || null;
}

function context(args, query) {
  return {
    user: state.user, sites: state.sites, siteById, args, query,
    can: (permission) => can(state.user, permission),
    navigate,
  };
}

export function navigate(path, { replace = false } = {}) {
  const url = `/console/${path.replace(/^\/+/, '')}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  route();
}

function header() {
  const top = clear(document.getElementById('top'));
  top.hidden = !state.user;
  if (!state.user) return;
  const here = location.pathname.replace(/^\/console\/?/, '').split('/')[0];
  const menu = PAGES.filter((page) => can(state.user, page.permission)).map((page) => h('a', {
    href: `/console/${page.path}`, class: page.path === here ? 'active' : '', dataset: { page: page.path },
  }, t(page.label)));
  const langButton = h('button', { class: 'lang', id: 'lang-switch', title: t('header.language'), lang: currentLang() === 'vi' ? 'en' : 'vi',
    onclick: async () => {
      const next = currentLang() === 'vi' ? 'en' : 'vi';
      await loadLang(next);
      // Remember it for the user too (any browser); the page works on even if that fails.
      api('/auth/me', { method: 'PATCH', body: { language: next } }).catch(() => {});
      route();
    } },
  currentLang() === 'vi' ? 'EN' : 'VI');
  const signOut = h('button', { id: 'sign-out', onclick: signOutNow }, t('header.sign_out'));
  top.append(
    h('a', { class: 'brand', href: `/console/${homePage(state.user)}` }, 'Vigil'),
    h('nav', {}, menu),
    h('div', { class: 'who' },
      h('span', { id: 'user-name' }, state.user.display_name || state.user.username),
      h('span', { class: 'role', id: 'user-role' }, t(`role.${state.user.role}`)),
      langButton, signOut),
  );
}

async function signOutNow() {
  try {
    await api('/auth/logout', { method: 'POST' });
  } catch {
    // already signed out: the sign-in page follows either way
  }
  state.user = null;
  stopEscalations();
  navigate('sign-in');
}

async function loadSession() {
  try {
    state.user = await api('/auth/me');
  } catch {
    state.user = null;
    return;
  }
  try {
    state.sites = await api('/sites');
  } catch {
    state.sites = [];
  }
}

export async function signedIn(user) {
  state.user = user;
  if (!savedLang() && user.language) await loadLang(user.language);
  await loadSession();
  navigate(homePage(state.user), { replace: true });
  watchEscalations(state.user);
}

async function route() {
  const renderId = ++state.renderId;
  if (state.cleanup) {
    try { state.cleanup(); } catch (error) { console.warn(error); }
    state.cleanup = null;
  }
  const parts = location.pathname.replace(/^\/console\/?/, '').split('/').filter(Boolean);
  const query = Object.fromEntries(new URLSearchParams(location.search));
  const root = clear(document.getElementById('page'));
  document.body.className = '';
  if (!state.user || parts[0] === 'sign-in' || state.user.must_change_password) {
    if (state.user && !state.user.must_change_password) return navigate(homePage(state.user), { replace: true });
    const page = await import('./pages/sign_in.js');
    header();
    document.body.className = 'signed-out';
    document.title = `Vigil — ${t('signin.title')}`;
    page.render(root, { user: state.user, signedIn, navigate });
    return;
  }
  if (parts.length === 0) return navigate(homePage(state.user), { replace: true });
  const entry = PAGES.find((page) => page.path === parts[0]);
  header();
  if (!entry) {
    root.append(h('div', { class: 'panel empty' }, t('common.not_found')));
    return;
  }
  document.title = `Vigil — ${t(entry.label)}`;
  document.body.className = `page-${entry.path}`;
  const page = await import(entry.module);
  if (renderId !== state.renderId) return;
  try {
    state.cleanup = (await page.render(root, context(parts.slice(1), query))) || null;
  } catch (error) {
    showError(root, error);
  }
}

export function showError(root, error) {
  if (error && error.status === 403) {
    clear(root).append(h('div', { class: 'panel not-allowed', id: 'not-allowed' },
      h('h2', {}, t('common.not_allowed')), h('p', {}, t('common.not_allowed_hint'))));
    return;
  }
  console.warn(error);
  root.append(h('div', { class: 'panel error' }, errorText(error)));
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href^="/console/"]');
  if (!link || link.target || link.hasAttribute('download') || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href').slice('/console/'.length));
});
window.addEventListener('popstate', route);
window.addEventListener('vigil:signed-out', () => {
  if (state.user) {
    state.user = null;
    stopEscalations();
    navigate('sign-in', { replace: true });
  }
});

async function start() {
  await loadLang(savedLang() || 'vi');
  await loadSession();
  if (state.user && !savedLang()) await loadLang(state.user.language || 'vi');
  await route();
  if (state.user && !state.user.must_change_password) watchEscalations(state.user);
}

start();
