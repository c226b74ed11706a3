// The map's side panel for one camera: its state, its live picture (for those who may see cameras), its recent
// alarms, and for editors its field of view on the plan and the cameras configured as its neighbours.

import { api, errorText } from '../api.js';
import { cameraView } from '../camera_view.js';
import { h, toast } from '../dom.js';
import { fmtDateTime, label, t } from '../i18n.js';
import { priorityBadge } from './alarms.js';

function recentAlarms(cam, ctx) {
  const list = h('ul', { class: 'recent-alarms', id: 'camera-alarms' }, h('li', { class: 'muted' }, t('map.loading')));
  if (!ctx.can('events.read')) {
    list.replaceChildren(h('li', { class: 'muted' }, t('common.not_allowed')));
    return list;
  }
  api('/alarms', { query: { camera_id: cam.id, state: 'all', limit: 5 } }).then((page) => {
    const tz = ctx.siteById(cam.site_id)?.timezone;
    list.replaceChildren(...(page.items.length ? page.items.map((alarm) => h('li', { dataset: { alarm: alarm.id } },
      priorityBadge(alarm.priority), ' ', h('a', { href: `/console/alarms/${alarm.id}` }, label('event', alarm.type)),
      ' ', h('span', { class: 'muted' }, fmtDateTime(alarm.last_time, tz)), ' ',
      h('span', { class: `badge status-${alarm.status}` }, label('status', alarm.status))))
      : [h('li', { class: 'muted' }, t('map.no_alarms'))]));
  }).catch((error) => list.replaceChildren(h('li', { class: 'muted' }, errorText(error))));
  return list;
}

function neighbourEditor(cam, cameras, onNeighbours) {
  const others = cameras.filter((c) => c.id !== cam.id && c.site_id === cam.site_id);
  if (!others.length) return null;
  const boxes = others.map((c) => h('input', { type: 'checkbox', value: c.id, checked: cam.neighbours.includes(c.id),
    id: `neighbour-${c.id}` }));
  const saveButton = h('button', { class: 'small', id: 'save-neighbours', onclick: async () => {
    try {
      const fresh = await api(`/cameras/${cam.id}/neighbours`, { method: 'PUT',
        body: { camera_ids: boxes.filter((b) => b.checked).map((b) => Number(b.value)) } });
      onNeighbours(fresh);
      for (const other of cameras) {  // both ways
        other.neighbours = other.id === cam.id ? fresh.neighbours : other.neighbours.filter((n) => n !== cam.id)
          .concat(fresh.neighbours.includes(other.id) ? [cam.id] : []);
      }
      toast(t('map.neighbours_saved'), 'ok');
    } catch (error) { toast(errorText(error), 'error'); }
  } }, t('common.save'));
  return h('div', { class: 'neighbours' }, h('h3', {}, t('map.neighbours')),
    h('p', { class: 'muted small' }, t('map.neighbours_hint')),
    h('ul', { class: 'plain' }, others.map((c, i) => h('li', {}, h('label', { class: 'toggle' }, boxes[i], c.name)))),
    saveButton);
}

function viewEditor(cam, save) {
  if (!cam.position) return null;
  const fov = h('input', { type: 'range', min: 10, max: 180, step: 5, value: cam.position.fov || 60, id: 'cam-fov' });
  const shown = h('span', { id: 'cam-fov-value' }, `${fov.value}°`);
  fov.addEventListener('input', () => { shown.textContent = `${fov.value}°`; });
  fov.addEventListener('change', () => save(cam, { position: { ...cam.position, direction: cam.position.direction ?? 0,
    fov: Number(fov.value) } }));
  return h('div', { class: 'view-edit' },
    h('p', {}, t('map.direction'), ': ', h('strong', { id: 'cam-direction' }, cam.position.direction === undefined
      ? '—' : `${cam.position.direction}°`), h('br'), h('span', { class: 'muted small' }, t('map.direction_hint'))),
    h('label', { class: 'field' }, h('span', {}, t('map.fov')), h('span', {}, fov, ' ', shown)));
}

export function cameraPanel(cam, cameras, { ctx, canEdit, onPlan, save, onNeighbours }) {
  let live = null;
  let picture = h('p', { class: 'muted' }, t('map.live_not_allowed'));
  if (ctx.can('cameras.read')) {
    live = cameraView({ id: cam.id, name: cam.name, state: cam.state, enabled: cam.enabled }, [], { fps: 2 });
    picture = live.element;
  }
  const element = h('div', { id: 'camera-panel', dataset: { camera: cam.id } },
    h('div', { class: 'detail-head' }, h('h2', {}, cam.name),
      h('span', { class: `badge cam-badge cam-${cam.state}` }, label('state', cam.state))),
    picture,
    h('h3', {}, t('map.recent_alarms')), recentAlarms(cam, ctx),
    canEdit && onPlan ? viewEditor(cam, save) : null,
    canEdit ? neighbourEditor(cam, cameras, onNeighbours) : null);
  return { element, stop: () => { if (live) live.stop(); } };
}
