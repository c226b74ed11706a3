// A camera picture that refreshes a few times a second, with its zones and lines drawn over it.
// The picture is the API's latest (annotated) frame of the camera; without one it says so plainly.

import { h, s } from './dom.js';
import { label, t } from './i18n.js';

export const ZONE_COLORS = {
  counter_staff: '#2f9e44', counter_customer: '#1c7ed6', queue: '#f08c00', restricted: '#e03131',
  no_stopping: '#c2255c', crowd: '#7048e8', lane: '#0c8599', line: '#fab005',
};

/** A still picture of the camera without zones drawn (the zone editor draws its own). */
export function snapshotUrl(cameraId) {
  return `/api/cameras/${cameraId}/snapshot?zones=false`;
}

/** SVG (viewBox 0..100) of zones: polygons filled, lines and lanes with their direction arrow. */
export function zoneOverlay(zones, { highlight = null } = {}) {
  const svg = s('svg', { class: 'zones', viewBox: '0 0 100 100', preserveAspectRatio: 'none' });
  for (const zone of zones || []) {
    const color = ZONE_COLORS[zone.kind] || '#fff';
    const pts = zone.points.map(([x, y]) => `${x * 100},${y * 100}`).join(' ');
    const strong = highlight === null || highlight === zone.id;
    const shape = zone.points.length === 2 || zone.kind === 'line'
      ? s('polyline', { points: pts, stroke: color, fill: 'none' })
      : s('polygon', { points: pts, stroke: color, fill: color, 'fill-opacity': strong ? 0.18 : 0.06 });
    shape.setAttribute('stroke-width', strong ? 3 : 1.5);
    shape.setAttribute('vector-effect', 'non-scaling-stroke');
    shape.setAttribute('data-zone', zone.name);
    svg.append(shape);
  }
  return svg;
}

const PREVIEW_S = 300;

/** Whether asking the camera for a picture makes sense (an offline or disabled camera gives none). */
export function hasPicture(camera) {
  return camera.enabled !== false && !['offline', 'disabled'].includes(camera.state);
}

/**
 * The pictures of many cameras on one connection (`/api/pictures/stream`), for a page that shows many at once:
 * a browser opens at most six connections to the server, and an MJPEG preview per tile took them all.
 * Frames are `<camera id> <status> <length>\n` + JPEG; `watch(id, fn)` gets fn(blob, status) for each new
 * picture of that camera (blob null with the status when it has none). Reconnects when the stream ends.
 */
export function pictureFeed(cameraIds, { fps = 2, seconds = PREVIEW_S } = {}) {
  const handlers = new Map();
  let stopped = false;
  let controller = null;
  let timer = null;
  let failures = 0;

  function deliver(buffer) {
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(10, start);
      if (newline < 0) break;
      const [id, status, length] = new TextDecoder().decode(buffer.subarray(start, newline)).split(' ').map(Number);
      if (buffer.length < newline + 1 + length) break;
      const handler = handlers.get(id);
      if (handler) handler(length ? new Blob([buffer.slice(newline + 1, newline + 1 + length)], { type: 'image/jpeg' }) : null, status);
      start = newline + 1 + length;
    }
    return buffer.subarray(start);
  }

  async function run() {
    if (stopped || !cameraIds.length) return;
    controller = new AbortController();
    const query = new URLSearchParams({ fps, seconds });
    cameraIds.forEach((id) => query.append('cameras', id));
    try {
      const response = await fetch(`/api/pictures/stream?${query}`, { signal: controller.signal, cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      failures = 0;
      const reader = response.body.getReader();
      let buffer = new Uint8Array(0);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const joined = new Uint8Array(buffer.length + value.length);
        joined.set(buffer);
        joined.set(value, buffer.length);
        buffer = deliver(joined);
      }
    } catch {
      if (stopped) return;
      failures += 1;
      handlers.forEach((handler) => handler(null, 0));
    }
    if (!stopped) timer = setTimeout(run, failures ? Math.min(60000, 5000 * failures) : 0);
  }

  return {
    watch(id, handler) { handlers.set(id, handler); },
    start() { run(); },
    stop() { stopped = true; clearTimeout(timer); if (controller) controller.abort(); },
  };
}

/**
 * The live picture of one camera: the API's MJPEG preview at `fps` (the vision worker's annotated frame,
 * boxes and zones drawn, or a frame taken from the stream with the zones drawn), or, given a `feed`
 * (`pictureFeed`), that feed's pictures of the camera. Without a picture the zones are drawn over a placeholder
 * that says why. Returns {element, stop}.
 */
export function cameraView(camera, zones, { fps = 2, highlight = null, feed = null } = {}) {
  const img = h('img', { alt: camera.name, draggable: false });
  const why = hasPicture(camera) ? t('wall.no_preview') : label('state', camera.enabled === false ? 'disabled' : camera.state);
  const missing = h('div', { class: 'no-preview' }, why);
  const box = h('div', { class: 'camera-view live loading' }, img, missing, zoneOverlay(zones, { highlight }));
  let timer = null;
  let stopped = false;
  let failures = 0;
  let shown = null;  // the blob: URL of the feed's picture on screen
  const later = (delay) => { if (!stopped) timer = setTimeout(load, delay); };
  function load() {
    clearTimeout(timer);
    img.src = `/api/cameras/${camera.id}/preview?fps=${fps}&seconds=${PREVIEW_S}&t=${Date.now()}`;
    later(PREVIEW_S * 1000 - 2000);  // a fresh stream before this one ends
  }
  function fromFeed(blob) {
    if (stopped) return;
    if (!blob) {
      box.classList.remove('loading');
      box.classList.add('missing');
      return;
    }
    const previous = shown;
    shown = URL.createObjectURL(blob);
    img.src = shown;
    if (previous) setTimeout(() => URL.revokeObjectURL(previous), 1000);
  }
  img.addEventListener('load', () => { failures = 0; box.classList.remove('loading', 'missing'); });
  img.addEventListener('error', () => {
    if (stopped || feed) return;
    failures += 1;
    box.classList.remove('loading');
    box.classList.add('missing');
    clearTimeout(timer);
    later(Math.min(60000, 5000 * failures));
  });
  if (!hasPicture(camera)) box.classList.replace('loading', 'missing');
  else if (feed) feed.watch(camera.id, fromFeed);
  else load();
  return { element: box, stop: () => {
    stopped = true; clearTimeout(timer); img.removeAttribute('src');
    if (shown) URL.revokeObjectURL(shown);
  } };
}
