// The zone editor: draw zones and lines on a camera's snapshot with the mouse (click to add points, drag to
// move, right-click to delete a point), set name, kind, direction, classes and thresholds, and save.
// Coordinates are normalized 0..1 to the picture; the API validates and its errors are shown by zone.

import { api, errorText, problemText } from './api.js';
import { ZONE_COLORS } from './camera_view.js';
import { fill, h, s, select } from './dom.js';
import { fmtNumber, label, t } from './i18n.js';

export const KINDS = ['counter_staff', 'counter_customer', 'queue', 'restricted', 'no_stopping', 'crowd', 'lane', 'line'];
const NEEDS_DIRECTION = new Set(['lane', 'line']);
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

function draftOf(zone) {
  return { id: zone.id, name: zone.name, kind: zone.kind, points: zone.points.map((p) => [...p]),
    direction: zone.direction ? [...zone.direction] : null, classes: zone.classes, thresholds: { ...zone.thresholds },
    schedule: zone.schedule, dirty: false, deleted: false };
}

function defaultDirection(draft) {
  const [a, b] = draft.points;
  if (!a || !b) return [0, 1];
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const len = Math.hypot(dx, dy) || 1;
  // A line counts crossings: its direction is across it; a lane's is along its first edge.
  return draft.kind === 'line' ? [round(-dy / len), round(dx / len)] : [round(dx / len), round(dy / len)];
}

function parseThresholds(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.split('=').map((x) => x && x.trim());
    if (!key || value === undefined || value === '') continue;
    // a number where it reads as one; words (severity=high) as they are and `rules` as a list, for the API to check
    const number = Number(value.replace(',', '.'));
    if (key === 'rules') out[key] = value.split(',').map((x) => x.trim()).filter(Boolean);
    else out[key] = Number.isNaN(number) ? value : number;
  }
  return out;
}

/** An editor over `imageUrl` (or a grid when null) with the camera's `zones`; returns {element, save}. */
export function zoneEditor({ zones, imageUrl }) {
  const drafts = zones.map(draftOf);
  let selected = drafts.length ? 0 : -1;
  let drawing = false;
  let drag = null;
  const img = imageUrl ? h('img', { src: imageUrl, alt: '', draggable: false }) : null;
  const svg = s('svg', { class: 'editor-overlay', id: 'zone-canvas' });
  const stage = h('div', { class: `editor-stage${img ? '' : ' no-image'}` }, img, svg,
    img ? null : h('span', { class: 'stage-note' }, t('zones.no_snapshot')));
  const list = h('ul', { class: 'zone-list', id: 'zone-list' });
  const props = h('div', { class: 'zone-props', id: 'zone-props' });
  const errors = h('ul', { class: 'form-errors', id: 'zone-errors', role: 'alert' });
  const hint = h('p', { class: 'hint', id: 'editor-hint' });
  if (img) img.addEventListener('load', () => { stage.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`; draw(); });
  if (img) img.addEventListener('error', () => { stage.classList.add('no-image'); img.remove(); });

  const current = () => drafts[selected];
  const size = () => [stage.clientWidth || 1, stage.clientHeight || 1];
  function toNorm(event) {
    const box = svg.getBoundingClientRect();
    return [round((event.clientX - box.left) / box.width), round((event.clientY - box.top) / box.height)];
  }
  const touch = (draft) => { draft.dirty = true; draft.badPoint = null; };

  function draw() {
    const [w, hgt] = size();
    svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
    fill(svg);
    drafts.forEach((draft, index) => {
      if (draft.deleted) return;
      const color = ZONE_COLORS[draft.kind] || '#fff';
      const px = draft.points.map(([x, y]) => [x * w, y * hgt]);
      const isSel = index === selected;
      const pts = px.map((p) => p.join(',')).join(' ');
      const shape = draft.kind === 'line' || (drawing && isSel && px.length < 3)
        ? s('polyline', { points: pts, fill: 'none' })
        : s('polygon', { points: pts, fill: color, 'fill-opacity': isSel ? 0.25 : 0.12 });
      shape.setAttribute('stroke', color);
      shape.setAttribute('stroke-width', isSel ? 3 : 2);
      shape.setAttribute('class', 'zone-shape');
      shape.setAttribute('data-zone', draft.name);
      shape.addEventListener('pointerdown', (e) => { if (!drawing) { e.stopPropagation(); choose(index); } });
      svg.append(shape);
      if (px.length) svg.append(s('text', { x: px[0][0] + 6, y: px[0][1] - 6, class: 'zone-label', fill: color }, draft.name));
      if (NEEDS_DIRECTION.has(draft.kind) && draft.direction && px.length >= 2) svg.append(arrow(draft, px, color));
      if (!isSel) return;
      px.forEach(([x, y], pointIndex) => {
        const handle = s('circle', { cx: x, cy: y, r: 7, 'data-point': pointIndex,
          class: pointIndex === draft.badPoint ? 'handle bad' : 'handle' });
        handle.addEventListener('pointerdown', (e) => {
          e.stopPropagation();
          if (e.button === 2 || e.altKey) return removePoint(pointIndex);
          drag = { pointIndex };
          svg.setPointerCapture(e.pointerId);
        });
        handle.addEventListener('contextmenu', (e) => { e.preventDefault(); });
        svg.append(handle);
      });
    });
    drawList();
    hint.textContent = drawing ? t(current()?.kind === 'line' ? 'zones.hint_line' : 'zones.hint_drawing')
      : t('zones.hint_edit');
  }

  function arrow(draft, px, color) {
    const cx = px.reduce((a, p) => a + p[0], 0) / px.length;
    const cy = px.reduce((a, p) => a + p[1], 0) / px.length;
    const [dx, dy] = draft.direction;
    const len = Math.hypot(dx, dy) || 1;
    const [ex, ey] = [cx + (dx / len) * 40, cy + (dy / len) * 40];
    const [nx, ny] = [-(dy / len) * 8, (dx / len) * 8];
    const [bx, by] = [ex - (dx / len) * 12, ey - (dy / len) * 12];
    return s('g', { class: 'direction', stroke: color, fill: color },
      s('line', { x1: cx, y1: cy, x2: ex, y2: ey, 'stroke-width': 3 }),
      s('polygon', { points: `${ex},${ey} ${bx + nx},${by + ny} ${bx - nx},${by - ny}` }));
  }

  function removePoint(pointIndex) {
    const draft = current();
    draft.points.splice(pointIndex, 1);
    touch(draft);
    draw();
    drawProps();
  }

  svg.addEventListener('contextmenu', (e) => e.preventDefault());
  svg.addEventListener('pointerdown', (e) => {
    if (!drawing || e.button !== 0) return;
    const draft = current();
    draft.points.push(toNorm(e));
    touch(draft);
    if (draft.kind === 'line' && draft.points.length === 2) finish();
    draw();
  });
  svg.addEventListener('pointermove', (e) => {
    if (!drag) return;
    current().points[drag.pointIndex] = toNorm(e);
    touch(current());
    draw();
  });
  svg.addEventListener('pointerup', () => { if (drag) { drag = null; drawProps(); } });
  svg.addEventListener('dblclick', () => { if (drawing) finish(); });
  new ResizeObserver(() => draw()).observe(stage);

  function finish() {
    const draft = current();
    if (!draft) return;
    // A double-click also lands two clicks on the same spot: drop the repeated last point.
    while (draft.points.length > 2 && draft.points.at(-1).join() === draft.points.at(-2).join()) draft.points.pop();
    drawing = false;
    if (NEEDS_DIRECTION.has(draft.kind) && !draft.direction) draft.direction = defaultDirection(draft);
    draw();
    drawProps();
  }

  function choose(index) {
    if (drawing) finish();
    selected = index;
    draw();
    drawProps();
  }

  function addZone() {
    if (drawing) finish();
    let n = drafts.length + 1;
    while (drafts.some((d) => d.name === `zone-${n}`)) n += 1;
    drafts.push({ id: null, name: `zone-${n}`, kind: 'queue', points: [], direction: null, classes: null,
      thresholds: {}, schedule: null, dirty: true, deleted: false });
    selected = drafts.length - 1;
    drawing = true;
    draw();
    drawProps();
  }

  function drawList() {
    fill(list, ...drafts.map((d, i) => (d.deleted ? null : h('li', { class: i === selected ? 'selected' : '',
      dataset: { zone: d.name }, onclick: () => choose(i) }, h('i', { class: 'swatch', style: { background: ZONE_COLORS[d.kind] } }),
    d.name, h('small', {}, ` ${label('kind', d.kind)}${d.dirty ? ' *' : ''}`)))).filter(Boolean));
  }

  function drawProps() {
    const draft = current();
    if (!draft || draft.deleted) { fill(props, h('p', { class: 'muted' }, t('zones.pick_or_add'))); return; }
    const change = (fn) => (e) => { fn(e.target.value); touch(draft); draw(); };
    const dir = draft.direction || ['', ''];
    fill(props,
      h('label', { class: 'field' }, h('span', {}, t('zones.name')), h('input', { id: 'zone-name', value: draft.name,
        maxlength: 200, oninput: change((v) => { draft.name = v; }) })),
      h('label', { class: 'field' }, h('span', {}, t('zones.kind')), select(KINDS.map((k) => [k, label('kind', k)]), draft.kind, {
        id: 'zone-kind', onchange: change((v) => {
          draft.kind = v;
          if (NEEDS_DIRECTION.has(v) && !draft.direction && draft.points.length >= 2) draft.direction = defaultDirection(draft);
          if (!NEEDS_DIRECTION.has(v)) draft.direction = null;
          drawProps();
        }) })),
      NEEDS_DIRECTION.has(draft.kind) ? h('div', { class: 'field direction-field' }, h('span', {}, t('zones.direction')),
        h('input', { id: 'zone-dx', type: 'number', step: 0.1, value: dir[0], oninput: change((v) => {
          draft.direction = [Number(v), draft.direction ? draft.direction[1] : 0]; }) }),
        h('input', { id: 'zone-dy', type: 'number', step: 0.1, value: dir[1], oninput: change((v) => {
          draft.direction = [draft.direction ? draft.direction[0] : 0, Number(v)]; }) }),
        h('button', { type: 'button', id: 'zone-flip', onclick: () => {
          draft.direction = (draft.direction || defaultDirection(draft)).map((x) => -x || 0);
          touch(draft); draw(); drawProps();
        } }, t('zones.flip'))) : null,
      h('label', { class: 'field' }, h('span', {}, t('zones.classes')), h('input', { id: 'zone-classes',
        value: (draft.classes || []).join(', '), placeholder: t('zones.classes_default'),
        oninput: change((v) => { const list2 = v.split(',').map((x) => x.trim()).filter(Boolean); draft.classes = list2.length ? list2 : null; }) })),
      h('label', { class: 'field' }, h('span', {}, t('zones.thresholds')), h('textarea', { id: 'zone-thresholds', rows: 3,
        placeholder: t('zones.thresholds_hint'),
        value: Object.entries(draft.thresholds).map(([k, v]) => `${k}=${v}`).join('\n'),
        oninput: change((v) => { draft.thresholds = parseThresholds(v); }) })),
      h('p', { class: 'muted points' }, t('zones.points', { n: fmtNumber(draft.points.length) })),
      h('div', { class: 'actions' },
        drawing ? h('button', { type: 'button', id: 'zone-finish', class: 'primary', onclick: finish }, t('zones.finish')) : null,
        h('button', { type: 'button', id: 'zone-delete', class: 'danger', onclick: () => {
          draft.deleted = true; drawing = false; selected = drafts.findIndex((d) => !d.deleted); draw(); drawProps();
        } }, t('zones.delete'))));
  }

  function showErrors(found) {
    fill(errors, ...found.map((e) => h('li', { dataset: { zone: e.zone } }, h('strong', {}, e.zone), ': ', e.message)));
  }

  /** Save every changed zone of `cameraId`; returns true when all were accepted. */
  async function save(cameraId) {
    if (drawing) finish();
    const found = [];
    const labels = { 'body.name': t('zones.name'), 'body.kind': t('zones.kind'), 'body.direction': t('zones.direction'),
      'body.classes': t('zones.classes'), 'body.thresholds': t('zones.thresholds') };
    for (const draft of drafts) {
      if (!draft.dirty && !(draft.deleted && draft.id)) continue;
      const body = { name: draft.name, kind: draft.kind, points: draft.points, direction: draft.direction,
        classes: draft.classes, thresholds: draft.thresholds, schedule: draft.schedule };
      try {
        if (draft.deleted) {
          if (draft.id) await api(`/zones/${draft.id}`, { method: 'DELETE' });
          draft.dirty = false;
          continue;
        }
        const saved = draft.id ? await api(`/zones/${draft.id}`, { method: 'PUT', body })
          : await api(`/cameras/${cameraId}/zones`, { method: 'POST', body });
        Object.assign(draft, draftOf(saved), { badPoint: null });
      } catch (error) {
        // "body.points.3": the point at fault is marked on the picture
        const fields = error.fields || [];
        const point = fields.map((f) => /^body\.points\.(\d+)/.exec(f.field)).find(Boolean);
        draft.badPoint = point ? Number(point[1]) : null;
        if (!found.length) selected = drafts.indexOf(draft);
        const messages = fields.length ? fields.map((f) => {
          const at = /^body\.points\.(\d+)/.exec(f.field);
          const where = at ? t('zones.bad_point', { n: Number(at[1]) + 1 }) : t('zones.rejected');
          const key = /^body\.thresholds\.(\w+)/.exec(f.field); // the threshold at fault, by its name
          const named = key ? { ...labels, [f.field]: `${t('zones.thresholds')} ${key[1]}` } : labels;
          return `${where} (${problemText(f, named).replace(/\.$/, '')})`;
        })
          : [error.status === 403 ? t('common.not_allowed') : errorText(error)];
        messages.forEach((message) => found.push({ zone: draft.name, message }));
      }
    }
    for (let i = drafts.length - 1; i >= 0; i -= 1) if (drafts[i].deleted && !drafts[i].dirty) drafts.splice(i, 1);
    selected = Math.min(selected, drafts.length - 1);
    showErrors(found);
    draw();
    drawProps();
    return found.length === 0;
  }

  const element = h('div', { class: 'zone-editor' },
    h('div', { class: 'editor-main' }, stage, hint),
    h('div', { class: 'editor-side panel' },
      h('div', { class: 'side-head' }, h('h3', {}, t('zones.title')),
        h('button', { type: 'button', id: 'zone-add', onclick: addZone }, t('zones.add'))),
      list, props, errors));
  requestAnimationFrame(() => { draw(); drawProps(); });
  return { element, save, dirty: () => drafts.some((d) => d.dirty) };
}
