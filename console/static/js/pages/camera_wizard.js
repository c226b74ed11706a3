// Onboarding a camera: discover or enter an address -> probe with credentials -> choose profiles ->
// register it (the API opens the stream and takes a snapshot) -> draw zones and lines on the snapshot -> save.
// Network cameras only (ONVIF or an RTSP URL): video files are added on the server with `vigil cameras add --file`.

import { api, errorText as apiErrorText } from '../api.js';
import { field, fill, h, select, toast } from '../dom.js';
import { fmtNumber, t } from '../i18n.js';
import { zoneEditor } from '../zone_editor.js';

const STEPS = ['address', 'probe', 'profiles', 'snapshot', 'zones'];

// The wizard's labels for the fields the API names in its errors.
const FIELDS = { 'body.host': 'wizard.host', 'body.port': 'wizard.port', 'body.url': 'wizard.main_uri',
  'body.username': 'wizard.username', 'body.password': 'wizard.password',
  'body.name': 'wizard.name', 'body.site_id': 'common.site', 'body.analytics_fps': 'wizard.analytics_fps',
  'body.main_uri': 'wizard.main_stream', 'body.sub_uri': 'wizard.sub_stream' };

function errorText(error) {
  if (error.status === undefined) return error.message; // the wizard's own check, already translated
  if (error.status === 403) return t('common.not_allowed');
  return apiErrorText(error, Object.fromEntries(Object.entries(FIELDS).map(([field, key]) => [field, t(key)])));
}

function profileLabel(p) {
  return `${p.name} · ${p.encoding} ${p.width}×${p.height}${p.fps ? ` · ${fmtNumber(p.fps)} fps` : ''}`;
}

export async function render(root, ctx) {
  const state = { step: 0, kind: 'onvif', host: '', port: 80, url: '', username: '', password: '',
    name: '', site_id: ctx.sites[0]?.id, analytics_fps: 2, report: null, main: null, sub: null, camera: null };
  const steps = h('ol', { class: 'steps', id: 'wizard-steps' });
  const body = h('section', { class: 'panel wizard-body', id: 'wizard-body' });
  const message = h('p', { class: 'form-error', id: 'wizard-error', role: 'alert' });
  root.append(h('div', { class: 'toolbar' }, h('a', { href: '/console/cameras', class: 'back' }, `← ${t('nav.cameras')}`),
    h('h1', {}, t('wizard.title'))), steps, body, message);

  const input = (key, attrs = {}) => h('input', { id: `wiz-${key}`, value: state[key] ?? '', ...attrs,
    oninput: (e) => { state[key] = attrs.type === 'number' ? Number(e.target.value) : e.target.value; } });
  const back = (to) => (state.camera ? null : h('button', { type: 'button', id: 'wizard-back', onclick: () => go(to) },
    t('wizard.back')));
  const next = (label, action, id = 'wizard-next') => {
    const button = h('button', { type: 'button', class: 'primary', id, onclick: async () => {
      message.textContent = '';
      button.disabled = true;
      try { await action(); } catch (error) { message.textContent = errorText(error); } finally { button.disabled = false; }
    } }, label);
    return button;
  };

  function go(step) {
    state.step = step;
    fill(steps, ...STEPS.map((name, i) => h('li', { class: i === step ? 'current' : i < step ? 'done' : '' },
      t(`wizard.step_${name}`))));
    fill(body, ...views[STEPS[step]]());
  }

  async function discover(list) {
    fill(list, h('li', { class: 'muted' }, t('wizard.searching')));
    const devices = await api('/cameras/discover', { method: 'POST', body: { timeout_s: 3 } });
    fill(list, ...devices.map((d) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => {
      Object.assign(state, { kind: 'onvif', host: d.host, port: d.port });
      go(0);
    } }, `${d.name || d.model} — ${d.host}:${d.port}${d.location ? ` (${d.location})` : ''}`))));
    if (!devices.length) list.append(h('li', { class: 'muted' }, t('wizard.none_found')));
  }

  const sourceFields = () => ({
    onvif: [field(t('wizard.host'), input('host', { placeholder: '192.0.2.10' })),
      field(t('wizard.port'), input('port', { type: 'number', min: 1, max: 65535 }))],
    rtsp: [field(t('wizard.main_uri'), input('url', { placeholder: 'rtsp://…' })),
      field(t('wizard.username'), input('username', { autocomplete: 'off' })),
      field(t('wizard.password'), input('password', { type: 'password', autocomplete: 'new-password' }))],
  }[state.kind]);

  const views = {
    address: () => {
      const list = h('ul', { class: 'found', id: 'discovered' });
      return [
        h('h2', {}, t('wizard.step_address')),
        h('div', { class: 'discover' }, h('button', { type: 'button', id: 'wizard-discover',
          onclick: () => discover(list).catch((e) => { fill(list); message.textContent = errorText(e); }) },
        t('wizard.discover')), list),
        h('div', { class: 'form-grid' },
          field(t('wizard.source_kind'), select([['onvif', 'ONVIF'], ['rtsp', 'RTSP']],
            state.kind, { id: 'wiz-source', onchange: (e) => { state.kind = e.target.value; go(0); } })),
          sourceFields()),
        h('div', { class: 'actions' }, next(t('wizard.next'), async () => {
          const missing = { onvif: !state.host, rtsp: !state.url }[state.kind];
          if (missing) throw new Error(t('wizard.need_address'));
          go(state.kind === 'onvif' ? 1 : 3);
        })),
      ];
    },
    probe: () => [
      h('h2', {}, t('wizard.step_probe')),
      h('p', { class: 'muted' }, `${state.host}:${state.port}`),
      h('div', { class: 'form-grid' }, field(t('wizard.username'), input('username', { autocomplete: 'off' })),
        field(t('wizard.password'), input('password', { type: 'password', autocomplete: 'new-password' }))),
      h('div', { class: 'actions' }, back(0), next(t('wizard.probe'), async () => {
        state.report = await api('/cameras/probe', { method: 'POST', body: { host: state.host, port: state.port,
          username: state.username || null, password: state.password || null } });
        const usable = state.report.profiles.filter((p) => p.stream_uri);
        const bySize = [...usable].sort((a, b) => b.width * b.height - a.width * a.height);
        state.main = bySize[0]?.stream_uri || null;
        state.sub = (bySize.filter((p) => p.width >= 640).at(-1) || bySize[0])?.stream_uri || null;
        go(2);
      })),
    ],
    profiles: () => {
      const profiles = state.report.profiles.filter((p) => p.stream_uri);
      const options = profiles.map((p) => [p.stream_uri, profileLabel(p)]);
      const r = state.report;
      const advice = h('div', { class: 'encoder-advice', id: 'encoder-advice' });
      const advise = () => encoderAdvice(advice, profiles.find((p) => p.stream_uri === state.main));
      advise();
      return [
        h('h2', {}, t('wizard.step_profiles')),
        h('p', { id: 'probe-result' }, `${r.manufacturer} ${r.model} · ${t('wizard.firmware')} ${r.firmware}`),
        h('div', { class: 'form-grid' },
          field(t('wizard.main_stream'), select(options, state.main, { id: 'wiz-main',
            onchange: (e) => { state.main = e.target.value; advise(); } })),
          field(t('wizard.sub_stream'), select(options, state.sub, { id: 'wiz-sub', onchange: (e) => { state.sub = e.target.value; } }))),
        advice,
        h('div', { class: 'actions' }, back(1), next(t('wizard.next'), async () => go(3))),
      ];
    },
    snapshot: () => [
      h('h2', {}, t('wizard.step_snapshot')),
      h('div', { class: 'form-grid' },
        field(t('wizard.name'), input('name', { maxlength: 200 })),
        field(t('common.site'), select(ctx.sites.map((s) => [s.id, s.name]), state.site_id, { id: 'wiz-site',
          onchange: (e) => { state.site_id = Number(e.target.value); } })),
        field(t('wizard.analytics_fps'), input('analytics_fps', { type: 'number', min: 0.5, max: 60, step: 0.5 }))),
      h('div', { class: 'actions' }, back(state.kind === 'onvif' ? 2 : 0), next(t('wizard.register'), register, 'wizard-register')),
    ],
    zones: () => {
      const editor = zoneEditor({ zones: [], imageUrl: `/api/cameras/${state.camera.id}/snapshot?zones=false` });
      return [
        h('h2', {}, t('wizard.step_zones')),
        state.notes && state.notes.length ? h('ul', { class: 'notes' }, state.notes.map((n) => h('li', {}, n))) : null,
        editor.element,
        h('div', { class: 'actions' }, next(t('wizard.finish'), async () => {
          if (!(await editor.save(state.camera.id))) return;
          toast(t('wizard.done', { name: state.camera.name }), 'ok');
          ctx.navigate('cameras');
        }, 'wizard-finish')),
      ];
    },
  };

  // Recording copies the main stream as it is and the browser plays H.264 only: recommend it, and set it over
  // ONVIF (H.264, a key frame every 2 s) where the camera allows; a refusal says what to do instead.
  function encoderAdvice(box, profile) {
    if (!profile) { fill(box); return; }
    const h264 = profile.encoding.toUpperCase() === 'H264';
    const result = h('p', { id: 'encoder-result' });
    const apply = next(t('playback.encoder_apply'), async () => {
      const done = await api('/cameras/encoder', { method: 'POST', body: { host: state.host, port: state.port,
        username: state.username || null, password: state.password || null, profile_token: profile.token } });
      if (!done.changed) { fill(result, t('playback.encoder_fits')); return; }
      profile.encoding = done.after.encoding;
      toast(t('playback.encoder_changed', { encoding: done.after.encoding,
        gop: fmtNumber(done.after.gov_length / (done.after.fps || 25), 1) }), 'ok');
      go(2);
    }, 'encoder-apply');
    fill(box, h('p', { class: h264 ? 'muted' : 'notice', id: 'encoder-note' }, h264 ? t('playback.encoder_h264_ok')
      : t('playback.encoder_h265', { encoding: profile.encoding })), h('div', { class: 'actions' }, apply), result);
  }

  async function register() {
    const body = { site_id: state.site_id, name: state.name, kind: state.kind, analytics_fps: state.analytics_fps || null,
      username: state.username || null, password: state.password || null };
    if (state.kind === 'onvif') Object.assign(body, { host: state.host, port: state.port });
    if (state.kind === 'rtsp') body.url = state.url;
    const done = await api('/cameras/onboard', { method: 'POST', body });
    state.camera = done.camera;
    state.notes = done.notes;
    // The API picks the streams itself; keep the engineer's choice when it differs.
    const chosen = {};
    if (state.main && state.main !== done.camera.main_uri) chosen.main_uri = state.main;
    if (state.sub && state.sub !== done.camera.sub_uri) chosen.sub_uri = state.sub;
    // The password typed in this wizard goes along: a profile on another host or port needs it again.
    if (Object.keys(chosen).length && state.password) chosen.password = state.password;
    if (Object.keys(chosen).length) state.camera = await api(`/cameras/${state.camera.id}`, { method: 'PATCH', body: chosen });
    go(4);
  }

  go(0);
  return null;
}
