// The public hall screen (/hall/<site id>#key=<display key>): no sign-in. The key stays in the URL's fragment (no
// server log or Referer sees it) and travels in the X-Display-Key header. Shows each counter open or closed, the
// ticket it serves, and the forecast wait per department; asks for news every few seconds. No personal data.

import { clear, h } from './dom.js';
import { fmtNumber, loadLang, t } from './i18n.js';

const siteId = Number(location.pathname.split('/').filter(Boolean)[1]);
const key = new URLSearchParams(location.hash.replace(/^#/, '')).get('key') || '';
const TZ = 'Asia/Ho_Chi_Minh';

function waitText(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const minutes = Math.round(seconds / 60);
  if (minutes < 1) return t('hall.no_wait');
  return t('hall.about_minutes', { n: fmtNumber(minutes) });
}

function clock() {
  document.getElementById('hall-clock').textContent = new Intl.DateTimeFormat('vi-VN', { timeZone: TZ, hour: '2-digit',
    minute: '2-digit', hourCycle: 'h23' }).format(new Date());
}

function counterTile(counter) {
  return h('div', { class: `hall-counter ${counter.open ? 'open' : 'closed'}`, dataset: { counter: counter.number } },
    h('div', { class: 'number' }, t('hall.counter_n', { n: counter.number })),
    h('div', { class: 'department' }, counter.department),
    counter.open && counter.serving ? h('div', { class: 'serving' }, counter.serving) : null,
    h('div', { class: 'state' }, counter.open ? (counter.serving ? t('hall.serving') : t('hall.open')) : t('hall.closed')));
}

function departmentCard(department) {
  return h('div', { class: 'hall-department', dataset: { department: department.department } },
    h('div', { class: 'name' }, department.department),
    h('div', { class: 'detail' }, t('hall.expected_wait')),
    h('div', { class: 'wait' }, waitText(department.forecast_wait_s)),
    h('div', { class: 'detail' }, department.waiting === null ? t('hall.counters_open', { n: fmtNumber(department.counters_open) })
      : t('hall.waiting_and_open', { waiting: fmtNumber(department.waiting), n: fmtNumber(department.counters_open) })));
}

function show(board) {
  document.getElementById('hall-site').textContent = board.site;
  document.title = `${board.site} — ${t('hall.title')}`;
  const main = clear(document.getElementById('hall-main'));
  main.append(
    h('section', {}, h('h2', {}, t('hall.counters')), h('div', { class: 'hall-counters', id: 'hall-counters' },
      board.counters.map(counterTile))),
    h('section', {}, h('h2', {}, t('hall.departments')), h('div', { class: 'hall-departments', id: 'hall-departments' },
      board.departments.map(departmentCard))));
  document.getElementById('hall-status').textContent = board.open_now ? t('hall.footer') : t('hall.closed_now');
  document.body.dataset.state = 'live';
}

function refuse(text, state) {
  const main = clear(document.getElementById('hall-main'));
  main.append(h('p', { class: 'hall-refused', id: 'hall-refused' }, text));
  document.body.dataset.state = state;
}

async function poll() {
  let wait = 5;
  try {
    const response = await fetch(`/api/hall/${siteId}/board`, { headers: { 'X-Display-Key': key, Accept: 'application/json' },
      cache: 'no-store', referrerPolicy: 'no-referrer' });
    if (response.status === 401) {
      refuse(t('hall.key_refused'), 'refused');
      return;  // a wrong key is not tried again: an admin gives the screen its new address
    }
    if (response.status === 429) {
      refuse(t('hall.locked'), 'locked');
      wait = Number(response.headers.get('Retry-After')) || 300;
    } else if (response.ok) {
      const board = await response.json();
      show(board);
      wait = board.refresh_s;
    } else {
      document.getElementById('hall-status').textContent = t('hall.reconnecting');
    }
  } catch {
    document.getElementById('hall-status').textContent = t('hall.reconnecting');
  }
  setTimeout(poll, wait * 1000);
}

async function start() {
  await loadLang('vi');
  document.documentElement.lang = 'vi';
  clock();
  setInterval(clock, 1000);
  if (!key || !siteId) {
    refuse(t('hall.key_missing'), 'refused');
    return;
  }
  await poll();
}

start();
