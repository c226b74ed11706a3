// An event's clip in its detail: the event's camera from a little before to a little after it (the API's
// /api/events/<id>/clip, pre- and post-roll from the server's settings), with a link to the playback page.

import { api, errorText, queryString } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { codecNotice, footageCameras, hlsPlayer, privacyNote } from './player.js';

// A detail panel is refilled in place (another event, a workflow step): a player whose element has left the
// page stops, so no hidden video keeps fetching segments.
function stopWhenDetached(element, stop) {
  const timer = setInterval(() => {
    if (!element.isConnected) { clearInterval(timer); stop(); }
  }, 1000);
}

/** The clip section of an event (null when the event has no camera or the role never sees recordings). */
export function eventClip(event, ctx) {
  if (!event.camera_id || !ctx.can('recordings.view')) return null;
  const box = h('section', { class: 'event-clip', id: 'event-clip', hidden: true }, h('h3', {}, t('playback.clip')));
  (async () => {
    if (!(await footageCameras()).some((c) => c.id === event.camera_id)) return;  // not this user's footage
    box.hidden = false;
    let info;
    try {
      info = await api(`/events/${event.id}/clip`);
    } catch (error) {
      box.append(h('p', { class: 'muted', id: 'clip-missing' }, error.status === 403 ? t('playback.not_permitted')
        : errorText(error)));
      return;
    }
    if (!info.spans.length) {
      box.append(h('p', { class: 'muted', id: 'clip-missing' }, t('playback.no_clip')));
      return;
    }
    const open = h('a', { href: `/console/playback${queryString({ camera: event.camera_id, at: info.start })}`,
      id: 'clip-open-playback' }, t('playback.open'));
    if (!info.browser_playable) {
      box.append(codecNotice(), open);
      return;
    }
    const player = hlsPlayer(info.playlist_url, { id: 'clip-video' });
    box.append(player.element, h('div', { class: 'actions' }, open), privacyNote());
    stopWhenDetached(box, () => player.stop());
  })();
  return box;
}
