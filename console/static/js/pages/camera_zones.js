// Edit a camera's zones and lines on its snapshot (the same editor the onboarding wizard uses).

import { api } from '../api.js';
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { hasPicture, snapshotUrl } from '../camera_view.js';
import { zoneEditor } from '../zone_editor.js';

export async function render(root, ctx, cameraId) {
  const camera = await api(`/cameras/${cameraId}`);
  const zones = await api(`/cameras/${cameraId}/zones`);
  const picture = hasPicture(camera) ? snapshotUrl(cameraId) : null;
  const editor = zoneEditor({ zones, imageUrl: picture });
  const saveButton = h('button', { class: 'primary', id: 'zones-save', onclick: async () => {
    saveButton.disabled = true;
    try {
      if (await editor.save(cameraId)) toast(t('zones.saved'), 'ok');
    } finally { saveButton.disabled = false; }
  } }, t('common.save'));
  root.append(
    h('div', { class: 'toolbar' }, h('a', { href: '/console/cameras', class: 'back' }, `← ${t('nav.cameras')}`),
      h('h1', {}, t('zones.page_title', { name: camera.name })), saveButton),
    editor.element);
  const warn = (e) => { if (editor.dirty()) { e.preventDefault(); e.returnValue = ''; } };
  window.addEventListener('beforeunload', warn);
  return () => window.removeEventListener('beforeunload', warn);
}
