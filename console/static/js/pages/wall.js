// Operations wall: a grid of live camera tiles with zones drawn and the camera's state; click to enlarge.

import { api } from '../api.js';
import { cameraView, hasPicture, pictureFeed } from '../camera_view.js';
import { fill, h, select } from '../dom.js';
import { fmtDateTime, fmtNumber, label, t } from '../i18n.js';
import { liveEvents } from '../live.js';
import { codecNotice, footageCameras, hlsPlayer } from '../player.js';

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
  let feed = null;  // the grid's pictures, all on one connection (camera_view.js pictureFeed)
  const grid = h('div', { class: 'wall-grid', id: 'wall-grid' });
  const counts = h('div', { class: 'wall-counts' });
  const siteChoice = select([['', t('common.all_sites')], ...ctx.sites.map((s) => [s.id, s.name])], siteId ?? '', {
    id: 'wall-site', onchange: (e) => ctx.navigate(`wall${e.target.value ? `?site=${e.target.value}` : ''}`) });
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.wall')), siteChoice, counts), grid);

  // The enlarged tile plays the recorder's newest segments when the user may watch this camera's recordings
  // and the browser can play its codec; until then (or else) the analysis picture stays.
  async function liveVideo(camera, slot, note, view, session) {
    if (!ctx.can('recordings.view')) return;
    const recording = (await footageCameras()).find((c) => c.id === camera.id);  // none: not this user's footage, the picture only
    if (!recording || !recording.live || session.closed) return;
    if (recording.browser_playable === false) { slot.append(codecNotice()); return; }
    const player = hlsPlayer(`/api/recordings/${camera.id}/live.m3u8`, { live: true, id: 'live-video' });
    session.player = player;
    try {
      await player.ready;
    } catch (error) {
      fill(note, error.status === 404 ? t('playback.live_unavailable') : t('playback.play_error'));
      return;
    }
    if (session.closed) return;
    view.stop();
    fill(slot, player.element);
    session.timer = setInterval(() => {
      const shown = player.playingDate();
      fill(note, shown ? `${t('playback.live')} · ${t('playback.latency', { s: fmtNumber((Date.now() - shown) / 1000, 1) })}` : '');
    }, 1000);
  }

  let closeModal = null;
  function enlarge(camera) {
    const view = cameraView(camera, zonesOf.get(camera.id), { fps: 5 });
    const slot = h('div', { class: 'live-slot' }, view.element);
    const note = h('span', { class: 'muted live-latency', id: 'live-latency' });
    const session = { closed: false, player: null, timer: null };
    const close = () => {
      session.closed = true;
      clearInterval(session.timer);
      if (session.player) session.player.stop();
      view.stop(); overlay.remove(); document.removeEventListener('keydown', onKey);
    };
    const onKey = (e) => { if (e.key === 'Escape') close(); };
    const overlay = h('div', { class: 'modal', id: 'tile-modal', onclick: (e) => { if (e.target === overlay) close(); } },
      h('div', { class: 'modal-body wide' },
        h('div', { class: 'modal-head' }, h('h2', {}, camera.name), stateBadge(camera),
          h('span', { class: 'muted' }, t('wall.state_since', { time: fmtDateTime(camera.state_since,
            ctx.siteById(camera.site_id)?.timezone) })),
          note, h('button', { class: 'close', onclick: close, title: t('common.close') }, '×')),
        slot));
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
    closeModal = close;
    liveVideo(camera, slot, note, view, session);
  }

  function draw(list) {
    views.splice(0).forEach((v) => v.stop());
    if (feed) feed.stop();
    feed = pictureFeed(list.filter(hasPicture).map((camera) => camera.id), { fps: 2 });
    const tally = {};
    fill(grid, ...list.map((camera) => {
      tally[camera.state] = (tally[camera.state] || 0) + 1;
      const view = cameraView(camera, zonesOf.get(camera.id), { fps: 2, feed });
      views.push(view);
      return h('figure', { class: `tile state-${camera.state}`, dataset: { camera: camera.id }, tabindex: 0,
        onclick: () => enlarge(camera), onkeydown: (e) => { if (e.key === 'Enter') enlarge(camera); } },
      view.element,
      h('figcaption', {}, h('span', { class: 'name' }, camera.name), stateBadge(camera)));
    }));
    feed.start();
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
  return () => {
    stopLive(); clearInterval(timer); views.forEach((v) => v.stop()); if (feed) feed.stop();
    if (closeModal && document.getElementById('tile-modal')) closeModal();
  };
}
