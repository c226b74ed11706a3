// The map: a site's uploaded plan (managers and engineers upload it and drag each camera to its place, its
// direction and field of view) or the city map from the operations center's own tile server (sites and cameras
// by latitude and longitude). Cameras show their state; those with open alarms blink; a click opens the camera's
// live picture, its recent alarms and (for editors) its neighbours. This replaced the streets page's schematic.

import { api, ApiError, errorText } from '../api.js';
import { h, select, toast } from '../dom.js';
import { t } from '../i18n.js';
import { liveAlarms } from '../live.js';
import { bearing, cameraIcon, cityMap, handleLatLng, loadLeaflet, planMap } from '../map_layers.js';
import { cameraPanel } from './map_panel.js';

async function uploadPlan(site, file) {
  const answer = await fetch(`/api/sites/${site.id}/plan`, { method: 'PUT', body: file, credentials: 'same-origin',
    headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-Requested-With': 'fetch' } });
  if (!answer.ok) {
    const body = await answer.json().catch(() => ({}));
    throw new ApiError(answer.status, body.detail, body);
  }
  return answer.json();
}

export async function render(root, ctx) {
  const config = await api('/map');
  const sites = config.sites;
  const wanted = Number(ctx.query.site);
  const site = sites.find((x) => x.id === wanted) || sites.find((x) => x.plan_url) || sites[0] || null;
  const mode = ctx.query.mode === 'city' || (!ctx.query.mode && !ctx.query.site && config.tile_url && !site?.plan_url)
    ? 'city' : 'plan';
  const canEdit = ctx.can('map.edit');
  const go = (params) => ctx.navigate(`map?${new URLSearchParams(params)}`);
  const picker = select(sites.map((x) => [x.id, x.name]), site?.id, { id: 'map-site', hidden: mode !== 'plan',
    onchange: (e) => go({ mode: 'plan', site: e.target.value }) });
  const file = h('input', { type: 'file', id: 'plan-file', accept: 'image/png,image/jpeg,image/webp', hidden: true,
    onchange: async (e) => {
      if (!e.target.files.length) return;
      try {
        await uploadPlan(site, e.target.files[0]);
        toast(t('map.plan_saved'), 'ok');
        go({ mode: 'plan', site: site.id });
      } catch (error) { toast(errorText(error), 'error'); }
    } });
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('nav.map')),
    h('div', { class: 'segmented', id: 'map-modes' },
      h('button', { id: 'mode-plan', class: mode === 'plan' ? 'active' : '', onclick: () => go({ mode: 'plan',
        ...(site ? { site: site.id } : {}) }) }, t('map.mode_plan')),
      h('button', { id: 'mode-city', class: mode === 'city' ? 'active' : '', disabled: !config.tile_url,
        title: config.tile_url ? '' : t('map.no_tiles'), onclick: () => go({ mode: 'city' }) }, t('map.mode_city'))),
    picker,
    canEdit && mode === 'plan' && site ? h('label', { class: 'button', id: 'plan-upload' }, file,
      site.plan_url ? t('map.replace_plan') : t('map.upload_plan')) : null));
  const mapBox = h('div', { id: 'map', class: 'map-canvas' });
  const side = h('aside', { class: 'panel map-side', id: 'map-side' }, h('p', { class: 'muted' }, t('map.pick_camera')));
  const loose = h('div', { id: 'map-unplaced' });
  root.append(h('div', { class: 'map-layout' }, h('div', { class: 'panel map-panel' }, mapBox, loose), side),
    h('div', { class: 'legend', id: 'map-legend' }, ['online', 'reconnecting', 'tamper', 'offline'].map((st) =>
      h('span', {}, h('i', { class: `swatch cam-${st}` }), t(`map.state_${st}`))),
    h('span', {}, h('i', { class: 'swatch alarm' }), t('map.legend_alarm'))));
  if (mode === 'plan' && !site) {
    mapBox.replaceWith(h('p', { class: 'muted', id: 'map-empty' }, t('common.no_sites')));
    return null;
  }
  if (mode === 'plan' && !site.plan_url) {
    mapBox.replaceWith(h('p', { class: 'muted', id: 'map-empty' }, canEdit ? t('map.no_plan_edit') : t('map.no_plan')));
    return null;
  }
  const L = await loadLeaflet();
  const view = mode === 'plan' ? planMap(L, mapBox, site) : cityMap(L, mapBox, config);
  const { map } = view;
  const onPlan = mode === 'plan';
  const cameras = await api('/map/cameras', { query: onPlan ? { site_id: site.id } : {} });
  const markers = new Map();
  let chosen = null;
  let handle = null;
  let panel = null;
  const where = (cam) => (onPlan ? (cam.position ? view.frame.toLatLng(cam.position) : null)
    : (cam.latitude !== null && cam.longitude !== null ? [cam.latitude, cam.longitude] : null));
  const icon = (cam) => cameraIcon(L, cam, { selected: cam.id === chosen, withView: onPlan });

  async function save(cam, body) {
    try {
      const fresh = await api(`/cameras/${cam.id}/placement`, { method: 'PUT', body });
      Object.assign(cam, fresh);
      toast(t('map.placed', { name: cam.name }), 'ok');
    } catch (error) { toast(errorText(error), 'error'); }
    draw();
  }

  function drag(cam, marker) {
    const latlng = marker.getLatLng();
    return onPlan ? save(cam, { position: { ...(cam.position || {}), ...view.frame.toPosition(latlng) } })
      : save(cam, { latitude: Math.round(latlng.lat * 1e6) / 1e6, longitude: Math.round(latlng.lng * 1e6) / 1e6 });
  }

  function directionHandle(cam) {
    if (handle) handle.remove();
    handle = null;
    if (!onPlan || !canEdit || !cam.position) return;
    const start = handleLatLng(map, where(cam), cam.position.direction ?? 0);
    handle = L.marker(start, { draggable: true, icon: L.divIcon({ className: 'dir-handle', iconSize: [14, 14] }),
      title: t('map.direction_hint') }).addTo(map);
    handle.on('drag', () => {
      cam.position = { ...cam.position, direction: bearing(map.latLngToContainerPoint(where(cam)),
        map.latLngToContainerPoint(handle.getLatLng())), fov: cam.position.fov || 60 };
      markers.get(cam.id)?.setIcon(icon(cam));
    });
    handle.on('dragend', async () => {
      await save(cam, { position: cam.position });
      choose(cam.id);
    });
  }

  function draw() {
    for (const cam of cameras) {
      const at = where(cam);
      let marker = markers.get(cam.id);
      if (!at) {
        if (marker) marker.remove();
        markers.delete(cam.id);
        continue;
      }
      if (!marker) {
        marker = L.marker(at, { icon: icon(cam), draggable: canEdit, title: cam.name, keyboard: false }).addTo(map);
        marker.bindTooltip(cam.name, { direction: 'bottom', offset: [0, 18] });
        marker.on('click', () => choose(cam.id));
        marker.on('dragend', () => drag(cam, marker));
        markers.set(cam.id, marker);
      } else {
        marker.setLatLng(at);
        marker.setIcon(icon(cam));
      }
    }
    const unplaced = cameras.filter((cam) => !where(cam));
    loose.replaceChildren(...(unplaced.length ? [h('h3', {}, onPlan ? t('map.unplaced') : t('map.no_coordinates')),
      h('ul', { class: 'unplaced' }, unplaced.map((cam) => h('li', {}, cam.name, ' ', canEdit ? h('button', {
        class: 'small', id: `place-${cam.id}`, onclick: () => (onPlan
          ? save(cam, { position: { x: 0.5, y: 0.5 } })
          : save(cam, { latitude: map.getCenter().lat, longitude: map.getCenter().lng })) },
      onPlan ? t('map.place_on_plan') : t('map.place_at_center')) : null)))] : []));
  }

  function choose(id) {
    chosen = id;
    const cam = cameras.find((c) => c.id === id);
    draw();
    directionHandle(cam);
    if (panel) panel.stop();
    panel = cameraPanel(cam, cameras, { ctx, canEdit, onPlan, save, onNeighbours: (fresh) => Object.assign(cam, fresh) });
    side.replaceChildren(panel.element);
  }

  if (!onPlan) {
    for (const place of sites.filter((x) => x.latitude !== null && x.longitude !== null)) {
      L.marker([place.latitude, place.longitude], { icon: L.divIcon({ className: 'site-marker', iconSize: [18, 18] }),
        title: place.name, keyboard: false }).addTo(map).bindTooltip(place.name, { permanent: true, direction: 'right' })
        .on('click', () => (place.plan_url ? go({ mode: 'plan', site: place.id }) : null));
    }
  }
  draw();
  if (ctx.query.camera) choose(Number(ctx.query.camera));
  let pending = null;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const fresh = await api('/map/cameras', { query: onPlan ? { site_id: site.id } : {} });
      for (const cam of fresh) Object.assign(cameras.find((c) => c.id === cam.id) || {}, {
        state: cam.state, open_alarms: cam.open_alarms, alarm_priority: cam.alarm_priority,
        alarm_urgent: cam.alarm_urgent });
      draw();
    }, 300);
  };
  // Alarms come live to those who read them; the others (engineers) see the map's state refreshed now and then.
  const poll = ctx.can('events.read') ? null : setInterval(refresh, 15000);
  const stopLive = poll ? () => clearInterval(poll) : liveAlarms({ onAlarm: (_, alarm) => {
    if (cameras.some((c) => c.id === alarm.camera_id)) refresh();
  } });
  map.on('zoomend', () => { if (chosen) directionHandle(cameras.find((c) => c.id === chosen)); });
  return () => { stopLive(); clearTimeout(pending); if (panel) panel.stop(); map.remove(); };
}
