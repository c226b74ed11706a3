// A camera picture that refreshes a few times a second, with its zones and lines drawn over it.
// The picture is the API's latest (annotated) frame of the camera; without one it says so plainly.

import { h, s } from './dom.js';
import { t } from './i18n.js';

export const ZONE_COLORS = {
  counter_staff: '#2f9e44', counter_customer: '#1c7ed6', queue: '#f08c00', restricted: '#e03131',
  no_stopping: '#c2255c', crowd: '#7048e8', lane: '#0c8599', line: '#fab005',
};

export function snapshotUrl(cameraId) {
  return `/api/cameras/${cameraId}/snapshot`;
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

/**
 * The live picture of one camera: refreshes every 1/fps seconds while the page shows it.
 * Returns {element, stop}.
 */
export function cameraView(camera, zones, { fps = 2, highlight = null, preview = true } = {}) {
  const img = h('img', { alt: camera.name, draggable: false });
  const missing = h('div', { class: 'no-preview' }, t('wall.no_preview'));
  const box = h('div', { class: 'camera-view loading' }, img, missing, zoneOverlay(zones, { highlight }));
  let timer = null;
  let stopped = false;
  let failures = 0;
  const next = (delay) => {
    if (!stopped) timer = setTimeout(load, delay);
  };
  function load() {
    if (document.hidden) return next(1000);
    img.src = `${snapshotUrl(camera.id)}?t=${Date.now()}`;
  }
  img.addEventListener('load', () => {
    failures = 0;
    box.classList.remove('loading', 'missing');
    next(1000 / fps);
  });
  img.addEventListener('error', () => {
    failures += 1;
    box.classList.remove('loading');
    box.classList.add('missing');
    next(Math.min(30000, 5000 * failures));
  });
  if (preview) load();
  else box.classList.replace('loading', 'missing');
  return { element: box, stop: () => { stopped = true; clearTimeout(timer); img.removeAttribute('src'); } };
}
