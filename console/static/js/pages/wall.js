// Operations wall: a grid of live camera tiles with zones drawn and the camera's state; click to enlarge.

import { api } from '../api.js';
import { cameraView } from '../camera_view.js';
import { fill, h, select } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';
import { liveEvents } from '../live.js';

const REFRESH_MS = 10000;

function stateBadge(camera) {
  return h('span', { class: `badge state-${camera.state}`, dataset: { state: camera.state } }, label('state', camera.state));
}

export async function render(root, ctx) {
  const siteId = ctx.query.site ? Number(ctx.query.site) : null;
  const cameras = await api('/cameras', { query: { site_id: siteId } });
  const zonesOf = new Map();
  await Promise.all(cameras.map(async (camera) => {
    try { zonesOf.set(camera.id, await api(`/cameras/${camera.id}/zones`)); } catch { zonesOf.set(camera.id, []); }
  }));
  const views = [];
  const grid = h('div', { class: 'wall-grid', id: 'wall-grid' });
  const counts = h('div', { class: 'wall-counts' });
  const siteChoice = select([['', t('common.all_sites')], ...ctx.sites.map((s) => [s.id, s.name])], siteId ?? '', {
    id: 'wall-site', onchange: (e) => ctx.navigate(`wall${e.target.value ? `?site=${e.target.value}` : ''}`) });
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.wall')), siteChoice, counts), grid);

  function enlarge(camera) {
    const view = cameraView(camera, zonesOf.get(camera.id), { fps: 5 });
    const close = () => { view.stop(); overlay.remove(); document.removeEventListener('keydown', onKey); };
    const onKey = (e) => { if (e.key === 'Escape') close(); };
    const overlay = h('div', { class: 'modal', id: 'tile-modal', onclick: (e) => { if (e.target === overlay) close(); } },
      h('div', { class: 'modal-body wide' },
        h('div', { class: 'modal-head' }, h('h2', {}, camera.name), stateBadge(camera),
          h('span', { class: 'muted' }, t('wall.state_since', { time: fmtDateTime(camera.state_since,
            ctx.siteById(camera.site_id)?.timezone) })),
          h('button', { class: 'close', onclick: close, title: t('common.close') }, '×')),
        view.element));
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
  }

  function draw(list) {
    views.splice(0).forEach((v) => v.stop());
    const tally = {};
    fill(grid, ...list.map((camera) => {
      tally[camera.state] = (tally[camera.state] || 0) + 1;
      const view = cameraView(camera, zonesOf.get(camera.id), { fps: 2 });
      views.push(view);
      return h('figure', { class: `tile state-${camera.state}`, dataset: { camera: camera.id }, tabindex: 0,
        onclick: () => enlarge(camera), onkeydown: (e) => { if (e.key === 'Enter') enlarge(camera); } },
      view.element,
      h('figcaption', {}, h('span', { class: 'name' }, camera.name), stateBadge(camera)));
    }));
    if (!list.length) grid.append(h('div', { class: 'panel empty' }, t('wall.no_cameras')));
    fill(counts, ...Object.entries(tally).map(([state, n]) => h('span', { class: `badge state-${state}` },
      `${label('state', state)}: ${n}`)));
  }

  draw(cameras);
  async function refresh() {
    try {
      const fresh = await api('/cameras', { query: { site_id: siteId } });
      const changed = fresh.some((c, i) => !cameras[i] || cameras[i].id !== c.id || cameras[i].state !== c.state);
      if (changed) { cameras.splice(0, cameras.length, ...fresh); draw(cameras); }
    } catch { /* the next refresh tries again */ }
  }
  const timer = setInterval(refresh, REFRESH_MS);
  // Camera events (offline, back online, tampered) refresh the wall at once instead of at the next poll.
  const stopLive = ctx.can('events.read') ? liveEvents({ after: null, onState: () => {}, onEvent: (op, event) => {
    if (op === 'insert' && event.type.startsWith('camera_')) refresh();
  } }) : () => {};
  return () => { stopLive(); clearInterval(timer); views.forEach((v) => v.stop()); document.getElementById('tile-modal')?.remove(); };
}
