// Onboarding a camera: discover or enter an address -> probe with credentials -> choose profiles ->
// register it (disabled) and take a snapshot -> draw zones and lines on it -> save (enables the camera).

import { api, hasEndpoint } from '../api.js';
import { snapshotUrl } from '../camera_view.js';
import { field, fill, h, select, toast } from '../dom.js';
import { fmtNumber, t } from '../i18n.js';
import { zoneEditor } from '../zone_editor.js';

const STEPS = ['address', 'probe', 'profiles', 'snapshot', 'zones'];

async function findEndpoint(word) {
  const spec = await fetch('/openapi.json').then((r) => r.json()).catch(() => ({ paths: {} }));
  return Object.keys(spec.paths || {}).find((p) => p.startsWith('/api/cameras') && p.includes(word)
    && spec.paths[p].post) || null;
}

function errorText(error) {
  if (error.status === undefined) return error.message;
  if (error.status === 403) return t('common.not_allowed');
  if (error.fields && error.fields.length) return error.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return typeof error.detail === 'string' ? error.detail : t('common.load_failed');
}

export async function render(root, ctx) {
  const state = { step: 0, source_kind: 'onvif', host: '', port: 80, username: '', password: '', main_uri: '',
    sub_uri: '', snapshot_uri: '', name: '', site_id: ctx.sites[0]?.id, analytics_fps: 5, report: null, camera: null };
  const endpoints = { discover: await findEndpoint('discover'), probe: await findEndpoint('probe') };
  const steps = h('ol', { class: 'steps', id: 'wizard-steps' });
  const body = h('section', { class: 'panel wizard-body', id: 'wizard-body' });
  const message = h('p', { class: 'form-error', id: 'wizard-error', role: 'alert' });
  let editor = null;
  root.append(h('div', { class: 'toolbar' }, h('a', { href: '/console/cameras', class: 'back' }, `← ${t('nav.cameras')}`),
    h('h1', {}, t('wizard.title'))), steps, body, message);

  const input = (key, attrs = {}) => h('input', { id: `wiz-${key}`, value: state[key] ?? '', ...attrs,
    oninput: (e) => { state[key] = attrs.type === 'number' ? Number(e.target.value) : e.target.value; } });
  const nav = (...buttons) => h('div', { class: 'actions' }, state.step > 0 && !state.camera
    ? h('button', { type: 'button', onclick: () => go(state.step - 1) }, t('wizard.back')) : null, ...buttons);
  const next = (label, action, id = 'wizard-next') => h('button', { type: 'button', class: 'primary', id, onclick: async () => {
    message.textContent = '';
    try { await action(); } catch (error) { message.textContent = errorText(error); }
  } }, label);

  function go(step) {
    state.step = step;
    fill(steps, ...STEPS.map((name, i) => h('li', { class: i === step ? 'current' : i < step ? 'done' : '' },
      t(`wizard.step_${name}`))));
    fill(body, ...views[STEPS[step]]());
  }

  async function discover(list) {
    fill(list, h('li', { class: 'muted' }, t('wizard.searching')));
    const found = await api(endpoints.discover.replace(/^\/api/, ''), { method: 'POST', body: {} });
    const devices = Array.isArray(found) ? found : found.devices || [];
    fill(list, ...devices.map((d) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => {
      state.host = d.host || d.address; state.port = d.port || 80; go(0);
    } }, `${d.model || d.name || ''} ${d.host || d.address}:${d.port || 80}`))));
    if (!devices.length) list.append(h('li', { class: 'muted' }, t('wizard.none_found')));
  }

  const views = {
    address: () => {
      const list = h('ul', { class: 'found' });
      return [
        h('h2', {}, t('wizard.step_address')),
        h('div', { class: 'discover' }, endpoints.discover
          ? h('button', { type: 'button', id: 'wizard-discover', onclick: () => discover(list).catch((e) => { message.textContent = errorText(e); }) },
            t('wizard.discover'))
          : h('p', { class: 'muted', id: 'discover-missing' }, t('wizard.discover_missing')), list),
        h('div', { class: 'form-grid' },
          field(t('wizard.source_kind'), select([['onvif', 'ONVIF'], ['rtsp', 'RTSP'], ['file', t('wizard.file')]],
            state.source_kind, { id: 'wiz-source', onchange: (e) => { state.source_kind = e.target.value; go(0); } })),
          state.source_kind === 'onvif' ? [field(t('wizard.host'), input('host', { placeholder: '192.0.2.10' })),
            field(t('wizard.port'), input('port', { type: 'number', min: 1, max: 65535 }))]
            : field(t('wizard.main_uri'), input('main_uri', { placeholder: 'rtsp://…' }))),
        nav(next(t('wizard.next'), async () => {
          if (state.source_kind === 'onvif' && !state.host) throw new Error(t('wizard.need_host'));
          go(state.source_kind === 'onvif' ? 1 : 3);
        })),
      ];
    },
    probe: () => [
      h('h2', {}, t('wizard.step_probe')),
      h('div', { class: 'form-grid' }, field(t('wizard.username'), input('username', { autocomplete: 'off' })),
        field(t('wizard.password'), input('password', { type: 'password', autocomplete: 'new-password' }))),
      endpoints.probe ? null : h('p', { class: 'muted', id: 'probe-missing' }, t('wizard.probe_missing')),
      nav(next(endpoints.probe ? t('wizard.probe') : t('wizard.next'), async () => {
        if (endpoints.probe) {
          state.report = await api(endpoints.probe.replace(/^\/api/, ''), { method: 'POST', body: { host: state.host,
            port: state.port, username: state.username || null, password: state.password || null } });
        }
        go(2);
      })),
    ],
    profiles: () => {
      const profiles = (state.report && state.report.profiles) || [];
      const option = (p) => [p.stream_uri, `${p.name} · ${p.encoding} ${p.width}×${p.height}${p.fps ? ` @ ${fmtNumber(p.fps)} fps` : ''}`];
      if (profiles.length && !state.main_uri) {
        const sorted = [...profiles].sort((a, b) => b.width * b.height - a.width * a.height);
        state.main_uri = sorted[0].stream_uri;
        state.sub_uri = sorted.at(-1).stream_uri;
        state.snapshot_uri = sorted[0].snapshot_uri || '';
      }
      return [
        h('h2', {}, t('wizard.step_profiles')),
        state.report ? h('p', {}, `${state.report.manufacturer || ''} ${state.report.model || ''} · ${state.report.firmware || ''}`) : null,
        h('div', { class: 'form-grid' }, profiles.length
          ? [field(t('wizard.main_stream'), select(profiles.map(option), state.main_uri, { id: 'wiz-main',
            onchange: (e) => { state.main_uri = e.target.value; } })),
          field(t('wizard.sub_stream'), select(profiles.map(option), state.sub_uri, { id: 'wiz-sub',
            onchange: (e) => { state.sub_uri = e.target.value; } }))]
          : [field(t('wizard.main_uri'), input('main_uri', { placeholder: 'rtsp://…' })),
            field(t('wizard.sub_uri'), input('sub_uri', { placeholder: 'rtsp://…' })),
            field(t('wizard.snapshot_uri'), input('snapshot_uri', { placeholder: 'http://…' }))]),
        nav(next(t('wizard.next'), async () => go(3))),
      ];
    },
    snapshot: () => [
      h('h2', {}, t('wizard.step_snapshot')),
      h('div', { class: 'form-grid' },
        field(t('wizard.name'), input('name', { maxlength: 200 })),
        field(t('common.site'), select(ctx.sites.map((s) => [s.id, s.name]), state.site_id, { id: 'wiz-site',
          onchange: (e) => { state.site_id = Number(e.target.value); } })),
        field(t('wizard.analytics_fps'), input('analytics_fps', { type: 'number', min: 0.5, max: 60, step: 0.5 }))),
      h('p', { class: 'muted' }, t('wizard.register_hint')),
      nav(next(t('wizard.register'), async () => {
        const payload = { site_id: state.site_id, name: state.name, source_kind: state.source_kind, enabled: false,
          analytics_fps: state.analytics_fps, main_uri: state.main_uri || null, sub_uri: state.sub_uri || null,
          snapshot_uri: state.snapshot_uri || null };
        if (state.source_kind === 'onvif') Object.assign(payload, { onvif_host: state.host, onvif_port: state.port,
          username: state.username || null, password: state.password || null });
        state.camera = await api('/cameras', { method: 'POST', body: payload });
        go(4);
      }, 'wizard-register')),
    ],
    zones: () => {
      const picture = state.snapshotOffered ? `${snapshotUrl(state.camera.id)}?t=${Date.now()}` : null;
      editor = zoneEditor({ zones: [], imageUrl: picture });
      return [
        h('h2', {}, t('wizard.step_zones')),
        picture ? null : h('p', { class: 'muted' }, t('zones.no_snapshot')),
        editor.element,
        nav(next(t('wizard.finish'), async () => {
          if (!(await editor.save(state.camera.id))) return;
          await api(`/cameras/${state.camera.id}`, { method: 'PATCH', body: { enabled: true } });
          toast(t('wizard.done', { name: state.camera.name }), 'ok');
          ctx.navigate('cameras');
        }, 'wizard-finish')),
      ];
    },
  };
  state.snapshotOffered = await hasEndpoint('get', '/api/cameras/{camera_id}/snapshot');
  go(0);
  return null;
}
