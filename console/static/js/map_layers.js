// Leaflet for the map page: loading it (pinned, served from /console/vendor), a site's plan as an image in
// L.CRS.Simple coordinates, the city map from the configured tile server, and camera markers that show their
// state, their alarms (blinking) and, on a plan, where they look (direction and field of view).

import { s } from './dom.js';

let loading = null;

/** Leaflet's script and style sheet, loaded once. */
export function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  loading = loading || new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/console/vendor/leaflet.css';
    document.head.append(css);
    const script = document.createElement('script');
    script.src = '/console/vendor/leaflet.js';
    script.onload = () => resolve(window.L);
    script.onerror = () => { loading = null; reject(new Error('Leaflet did not load')); };
    document.head.append(script);
  });
  return loading;
}

const SIZE = 64;
const RADIUS = 30;

function point(angle) {
  const rad = (angle * Math.PI) / 180;
  return [SIZE / 2 + RADIUS * Math.sin(rad), SIZE / 2 - RADIUS * Math.cos(rad)];
}

/** The camera's picture on the map: a dot in its state's colour, a wedge for its field of view when it has a
 * direction, a ring that blinks while it has open alarms. */
export function cameraIcon(L, camera, { selected = false, withView = true } = {}) {
  const pos = camera.position || {};
  const svg = s('svg', { width: SIZE, height: SIZE, viewBox: `0 0 ${SIZE} ${SIZE}` });
  if (withView && pos.direction !== undefined && pos.direction !== null) {
    const fov = Math.min(359, pos.fov || 60);
    const [x1, y1] = point(pos.direction - fov / 2);
    const [x2, y2] = point(pos.direction + fov / 2);
    svg.append(s('path', { class: 'fov', d: `M${SIZE / 2},${SIZE / 2} L${x1},${y1} A${RADIUS},${RADIUS} 0 `
      + `${fov > 180 ? 1 : 0} 1 ${x2},${y2} Z` }));
  }
  if (camera.open_alarms) svg.append(s('circle', { class: 'alarm-ring', cx: SIZE / 2, cy: SIZE / 2, r: 14 }));
  svg.append(s('circle', { class: 'dot', cx: SIZE / 2, cy: SIZE / 2, r: 8 }));
  const classes = ['cam-marker', `cam-${camera.state}`];
  if (camera.open_alarms) classes.push('alarm-blink', `alarm-p${camera.alarm_priority}`);
  if (camera.alarm_urgent) classes.push('alarm-urgent');
  if (selected) classes.push('selected');
  const holder = document.createElement('div');
  holder.append(svg);
  holder.dataset.camera = camera.id;
  return L.divIcon({ className: classes.join(' '), html: holder, iconSize: [SIZE, SIZE],
    iconAnchor: [SIZE / 2, SIZE / 2] });
}

/** A plan of `width` x `height` pixels: positions (0..1 from the top left) to and from map coordinates. */
export function planFrame(width, height) {
  return {
    bounds: [[0, 0], [height, width]],
    toLatLng: (pos) => [(1 - pos.y) * height, pos.x * width],
    toPosition: (latlng) => ({
      x: Math.round(Math.min(1, Math.max(0, latlng.lng / width)) * 10000) / 10000,
      y: Math.round(Math.min(1, Math.max(0, 1 - latlng.lat / height)) * 10000) / 10000,
    }),
  };
}

/** A map showing the site's plan picture, fitted to its box. */
export function planMap(L, element, site) {
  const frame = planFrame(site.plan_width, site.plan_height);
  const map = L.map(element, { crs: L.CRS.Simple, minZoom: -5, maxZoom: 3, zoomSnap: 0.25, attributionControl: false });
  L.imageOverlay(site.plan_url, frame.bounds, { className: 'site-plan-image' }).addTo(map);
  map.fitBounds(frame.bounds);
  return { map, frame };
}

/** The city map from the configured tile server (nothing is fetched from anywhere else). */
export function cityMap(L, element, config) {
  const map = L.map(element, { maxZoom: config.tile_max_zoom }).setView(config.center, config.zoom);
  L.tileLayer(config.tile_url, { maxZoom: config.tile_max_zoom, attribution: config.tile_attribution || '' })
    .addTo(map);
  return { map };
}

/** Degrees clockwise from up, from one point on the screen to another. */
export function bearing(from, to) {
  const degrees = (Math.atan2(to.x - from.x, from.y - to.y) * 180) / Math.PI;
  return Math.round((degrees + 360) % 360);
}

/** Where a direction handle sits: `pixels` from the camera's point on the screen, in its direction. */
export function handleLatLng(map, latlng, direction, pixels = 56) {
  const at = map.latLngToContainerPoint(latlng);
  const rad = ((direction || 0) * Math.PI) / 180;
  return map.containerPointToLatLng([at.x + pixels * Math.sin(rad), at.y - pixels * Math.cos(rad)]);
}
