// Cameras (engineers): the health table, and the routes to the onboarding wizard (cameras/new) and the
// zone editor (cameras/<id>/zones).

import { api, errorText } from '../api.js';
import { h, toast } from '../dom.js';
import { fmtDateTime, fmtNumber, label, t } from '../i18n.js';

async function healthTable(root, ctx) {
  const rows = await api('/cameras/health');
  const siteName = (id) => ctx.siteById(id)?.name || `#${id}`;
  const tz = (id) => ctx.siteById(id)?.timezone;
  const toggle = (row) => async () => {
    try {
      await api(`/cameras/${row.camera_id}`, { method: 'PATCH', body: { enabled: !row.enabled } });
      ctx.navigate('cameras', { replace: true });
    } catch (error) { toast(errorText(error), 'error'); }
  };
  const head = ['common.camera', 'common.site', 'cameras.state', 'cameras.since', 'cameras.input_fps',
    'cameras.analytics_fps', 'cameras.lag', 'cameras.frame_age', 'cameras.reconnects', 'cameras.decode_errors',
    'cameras.resolution', 'cameras.actions'];
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('nav.cameras')),
      ctx.can('cameras.write') ? h('a', { class: 'button primary', href: '/console/cameras/new', id: 'add-camera' },
        t('cameras.add')) : null),
    h('section', { class: 'panel' }, h('table', { class: 'grid', id: 'health-table' },
      h('thead', {}, h('tr', {}, head.map((k) => h('th', {}, t(k))))),
      h('tbody', {}, rows.map((row) => {
        const p = row.latest || {};
        return h('tr', { dataset: { camera: row.camera_id } },
          h('td', {}, row.name), h('td', {}, siteName(row.site_id)),
          h('td', {}, h('span', { class: `badge state-${row.enabled ? row.state : 'disabled'}` },
            label('state', row.enabled ? row.state : 'disabled'))),
          h('td', {}, fmtDateTime(row.state_since, tz(row.site_id))),
          h('td', { class: 'num' }, fmtNumber(p.input_fps, 1)), h('td', { class: 'num' }, fmtNumber(p.analytics_fps, 1)),
          h('td', { class: 'num' }, p.lag_s === undefined ? '—' : fmtNumber(p.lag_s, 2)),
          h('td', { class: 'num' }, p.last_frame_age_s === undefined ? '—' : fmtNumber(p.last_frame_age_s, 1)),
          h('td', { class: 'num' }, fmtNumber(p.reconnects)), h('td', { class: 'num' }, fmtNumber(p.decode_errors)),
          h('td', {}, p.width ? `${p.width}×${p.height}` : '—'),
          h('td', { class: 'actions' },
            h('a', { href: `/console/cameras/${row.camera_id}/zones`, class: 'button small' }, t('cameras.edit_zones')),
            ctx.can('cameras.write') ? h('button', { class: 'small', onclick: toggle(row) },
              row.enabled ? t('cameras.disable') : t('cameras.enable')) : null));
      }), rows.length ? null : h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, t('wall.no_cameras')))))));
}

export async function render(root, ctx) {
  if (ctx.args[0] === 'new') {
    const wizard = await import('./camera_wizard.js');
    return wizard.render(root, ctx);
  }
  if (ctx.args[1] === 'zones') {
    const editor = await import('./camera_zones.js');
    return editor.render(root, ctx, Number(ctx.args[0]));
  }
  await healthTable(root, ctx);
  return null;
}
