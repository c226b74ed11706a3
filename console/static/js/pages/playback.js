// Xem lại / Playback: a camera's recorded day as a timeline (recorded spans, holes, event markers); a click plays
// from that moment (an hour's playlist at a time), at 1x/2x/4x, jumping between events; a range downloads as MP4
// with a reason. The URL holds the camera, the day and the moment (?camera=&day=&at=), so other pages (the counter
// audit) open a camera at a time. Footage is personal data: the server decides who sees which camera.

import { api, errorText, queryString } from '../api.js';
import { clear, fill, h, s, select, toast } from '../dom.js';
import { fmtDate, fmtHour, fmtTimeSec, label, localDay, t, zonedMidnight } from '../i18n.js';
import { codecNotice, hlsPlayer, privacyNote } from '../player.js';

const DAY_MS = 86400000;
const WINDOW_MS = 3600000;  // one playlist covers an hour from the chosen moment
const EVENT_LEAD_MS = 5000;  // an event plays from a little before it
const SPEEDS = [1, 2, 4];
const ZOOMS = [['day', 86400000], ['hour', 3600000], ['minutes', 600000]];  // the strip's width

// The strip shows [from, to) of the day: the whole day, or a zoomed window around the moment on screen.
function timeline(spans, events, from, to, tz, dayStart, onPick) {
  const width = to - from;
  const x = (value) => ((new Date(value).getTime() - from) / width) * 1440;
  const clip = (a, b) => [Math.max(0, x(a)), Math.min(1440, x(b))];
  const head = s('line', { class: 'playhead', x1: -10, x2: -10, y1: 0, y2: 60 });
  const svg = s('svg', { class: 'timeline recording-timeline', id: 'recording-timeline', viewBox: '0 0 1440 60',
    preserveAspectRatio: 'none' },
  s('rect', { x: 0, y: 14, width: 1440, height: 28, class: 'gap' }),
  spans.map((span) => {
    const [a, b] = clip(span.start, span.end);
    return b <= 0 || a >= 1440 ? null : s('rect', { x: a, y: 14, width: Math.max(3, b - a), height: 28, class: 'recorded' });
  }),
  events.filter((e) => x(e.time) >= 0 && x(e.time) <= 1440).map((event) => s('circle', { cx: x(event.time), cy: 50, r: 5,
    class: `mark sev-${event.severity}`, 'data-event': event.id,
    onclick: (e) => { e.stopPropagation(); onPick(new Date(new Date(event.time).getTime() - EVENT_LEAD_MS)); } },
  s('title', {}, `${label('event', event.type)} ${fmtTimeSec(event.time, tz)}`))),
  head);
  svg.addEventListener('click', (e) => {
    const box = svg.getBoundingClientRect();
    onPick(new Date(from + ((e.clientX - box.left) / box.width) * width));
  });
  const step = [[21600000, 7200000], [3600000, 600000], [1800000, 300000], [0, 60000]].find(([over]) => width >= over)[1];
  const ticks = [];
  for (let tick = dayStart + Math.ceil((from - dayStart) / step) * step; tick <= to; tick += step) {  // local hours
    ticks.push(h('span', { style: { left: `${((tick - from) / width) * 100}%` } }, fmtHour(tick, tz)));
  }
  const moveHead = (when) => {
    const pos = when ? x(when) : -10;
    head.setAttribute('x1', pos);
    head.setAttribute('x2', pos);
  };
  return { element: h('div', { class: 'timeline-box' }, svg, h('div', { class: 'timeline-hours' }, ticks)), moveHead };
}

function legend() {
  return h('div', { class: 'legend' }, [['recorded', 'playback.legend_recorded'], ['gap', 'playback.legend_gap'],
    ['event', 'playback.legend_event']].map(([kind, key]) => h('span', {}, h('i', { class: `swatch rec-${kind}` }), t(key))));
}

function downloadForm(camera, day, tz, defaults) {
  const dayStart = zonedMidnight(day, tz).getTime();
  const clock = (when) => fmtTimeSec(when, tz);
  const from = h('input', { type: 'time', step: 1, id: 'export-from', value: clock(defaults.from), required: true });
  const to = h('input', { type: 'time', step: 1, id: 'export-to', value: clock(defaults.to), required: true });
  const reason = h('textarea', { id: 'export-reason', rows: 2, maxlength: 2000, placeholder: t('playback.reason_placeholder') });
  const caseRef = h('input', { id: 'export-case', maxlength: 200 });
  const result = h('div', { id: 'export-result' });
  const button = h('button', { class: 'primary', id: 'export-submit', type: 'submit' }, t('playback.export'));
  const moment = (text) => {
    const [hh, mm, ss] = text.split(':').map(Number);
    return new Date(dayStart + ((hh * 60 + mm) * 60 + (ss || 0)) * 1000).toISOString();
  };
  const form = h('form', { class: 'panel export-form', id: 'export-form', onsubmit: async (e) => {
    e.preventDefault();
    if (!reason.value.trim()) { toast(t('playback.reason_needed'), 'error'); reason.focus(); return; }
    button.disabled = true;
    button.textContent = t('playback.exporting');
    try {
      const made = await api(`/recordings/${camera.id}/exports`, { method: 'POST', body: {
        start: moment(from.value), end: moment(to.value), reason: reason.value.trim(), case_ref: caseRef.value.trim() || null } });
      fill(result,
        h('p', { id: 'export-actual' }, t('playback.exported', { start: fmtTimeSec(made.actual_start, tz),
          end: fmtTimeSec(made.actual_end, tz), segments: made.segments })),
        h('p', {}, t('playback.sha256'), ' ', h('code', { class: 'sha256', id: 'export-sha256' }, made.sha256)),
        h('a', { class: 'button', id: 'export-download', href: made.download_url, download: made.file_name },
          t('playback.download_file', { name: made.file_name })));
    } catch (error) {
      fill(result, h('p', { class: 'form-error' }, errorText(error, { 'body.reason': t('playback.reason'),
        'body.end': t('playback.to'), 'body.start': t('playback.from') })));
    } finally {
      button.disabled = false;
      button.textContent = t('playback.export');
    }
  } },
  h('h2', {}, t('playback.download')),
  h('div', { class: 'form-grid' }, h('label', { class: 'field' }, h('span', {}, t('playback.from')), from),
    h('label', { class: 'field' }, h('span', {}, t('playback.to')), to)),
  h('label', { class: 'field' }, h('span', {}, t('playback.reason')), reason),
  h('label', { class: 'field' }, h('span', {}, t('playback.case_ref')), caseRef),
  h('div', { class: 'actions' }, button), result, privacyNote());
  return form;
}

export async function render(root, ctx) {
  const cameras = await api('/recordings/cameras');
  if (!cameras.length) {
    root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('playback.title'))),
      h('div', { class: 'panel empty', id: 'playback-empty' }, t('playback.no_cameras')));
    return null;
  }
  const camera = cameras.find((c) => String(c.id) === ctx.query.camera) || cameras[0];
  const tz = ctx.siteById(camera.site_id)?.timezone;
  const at = ctx.query.at ? new Date(ctx.query.at) : null;
  const today = localDay(new Date(), tz);
  // No day asked for: the day of the camera's newest footage (today while it records; the day before, in the
  // first hour after midnight or for a camera that stopped), not an empty page.
  const newest = camera.last_recorded ? localDay(new Date(camera.last_recorded), tz) : today;
  const day = ctx.query.day || (at ? localDay(at, tz) : newest);
  const dayStart = zonedMidnight(day, tz).getTime();
  const dayEnd = dayStart + DAY_MS;
  const go = (params) => ctx.navigate(`playback${queryString({ camera: camera.id, day, ...params })}`);
  const cameraChoice = select(cameras.map((c) => [c.id, `${c.site_name} · ${c.name}`]), camera.id,
    { id: 'playback-camera', onchange: (e) => ctx.navigate(`playback${queryString({ camera: e.target.value, day })}`) });
  const dayChoice = h('input', { type: 'date', id: 'playback-day', value: day, max: today,
    onchange: (e) => go({ day: e.target.value, at: null }) });
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('playback.title')), cameraChoice, dayChoice,
    h('span', { class: 'muted' }, fmtDate(new Date(dayStart), tz, true))));

  const range = { start: new Date(dayStart).toISOString(), end: new Date(dayEnd).toISOString() };
  const [spans, events] = await Promise.all([
    api(`/recordings/${camera.id}/spans`, { query: range }),
    ctx.can('events.read') ? api('/events', { query: { camera_id: camera.id, since: range.start, until: range.end,
      limit: 500 } }).then((page) => page.items.slice().reverse()).catch(() => []) : Promise.resolve([]),
  ]);
  let player = null;
  let rate = 1;
  let windowEnd = null;
  const stage = h('div', { class: 'player-stage', id: 'player-stage' }, h('p', { class: 'muted' }, t('playback.click_to_play')));
  const nowLabel = h('span', { id: 'playing-at', class: 'playing-at' });
  let zoom = DAY_MS;
  let line = null;
  const strip = h('div', { id: 'timeline-strip' });
  function drawStrip(centre) {
    const from = zoom >= DAY_MS ? dayStart : Math.min(Math.max(dayStart, centre - zoom / 2), dayEnd - zoom);
    line = timeline(spans.spans, events, from, from + zoom, tz, dayStart, (when) => play(when));
    line.range = [from, from + zoom];
    fill(strip, line.element);
  }
  const firstMoment = at || new Date(spans.spans.length ? spans.spans[0].start : dayStart);
  const focus = () => ((player && player.playingDate()) || firstMoment).getTime();
  const zoomButtons = ZOOMS.map(([name, width]) => h('button', { class: `small zoom${width === zoom ? ' active' : ''}`,
    id: `zoom-${name}`, onclick: () => {
      zoom = width;
      zoomButtons.forEach((b, i) => b.classList.toggle('active', ZOOMS[i][1] === width));
      drawStrip(focus());
    } }, t(`playback.zoom_${name}`)));
  drawStrip(focus());
  const playable = spans.browser_playable || !spans.codecs.length;

  function play(when) {
    let start = when.getTime();
    const next = spans.spans.find((span) => new Date(span.end).getTime() > start);
    if (!next) { toast(t('playback.nothing_recorded'), 'info'); return; }
    start = Math.max(start, new Date(next.start).getTime());
    if (player && player.seekToDate(new Date(start))) return;
    if (player) player.stop();
    windowEnd = Math.min(dayEnd, start + WINDOW_MS);
    const url = `/api/recordings/${camera.id}/playlist.m3u8${queryString({ start: new Date(start).toISOString(),
      end: new Date(windowEnd).toISOString() })}`;
    player = hlsPlayer(url, { id: 'playback-video' });
    player.video.addEventListener('playing', () => { player.setRate(rate); });
    player.video.addEventListener('ended', () => { if (windowEnd < dayEnd) play(new Date(windowEnd)); });
    player.ready.catch((error) => toast(error.status === 403 ? t('playback.not_permitted') : t('playback.play_error'), 'error'));
    fill(stage, player.element);
  }

  function jump(direction) {
    const current = (player && player.playingDate()) || (at || new Date(dayStart));
    const times = events.map((e) => new Date(e.time).getTime());
    const target = direction > 0 ? times.find((time) => time - EVENT_LEAD_MS > current.getTime() + 1000)
      : times.slice().reverse().find((time) => time < current.getTime() - 1000);
    if (target === undefined) { toast(t('playback.no_more_events'), 'info'); return; }
    play(new Date(target - EVENT_LEAD_MS));
  }

  const speedButtons = SPEEDS.map((speed) => h('button', { class: `small speed${speed === 1 ? ' active' : ''}`,
    id: `speed-${speed}`, onclick: () => {
      rate = speed;
      if (player) player.setRate(speed);
      speedButtons.forEach((b, i) => b.classList.toggle('active', SPEEDS[i] === speed));
    } }, `${speed}x`));
  const controls = h('div', { class: 'actions player-controls' },
    h('button', { id: 'prev-event', onclick: () => jump(-1) }, t('playback.prev_event')),
    h('button', { id: 'next-event', onclick: () => jump(1) }, t('playback.next_event')),
    h('span', { class: 'muted' }, t('playback.speed')), speedButtons, nowLabel);
  const defaults = { from: firstMoment, to: new Date(firstMoment.getTime() + 60000) };
  root.append(
    h('section', { class: 'panel' }, strip, h('div', { class: 'timeline-foot' }, legend(),
      h('span', { class: 'zooms' }, h('span', { class: 'muted' }, t('playback.zoom')), zoomButtons)),
      spans.spans.length ? null : h('p', { class: 'muted', id: 'nothing-recorded' }, t('playback.nothing_recorded'))),
    h('div', { class: 'two-col' },
      h('section', { class: 'panel' }, playable ? [stage, controls] : codecNotice(), privacyNote()),
      ctx.can('recordings.export') ? downloadForm(camera, day, tz, defaults) : null));

  const clock = setInterval(() => {
    const when = player && player.playingDate();
    const outside = when && (when.getTime() < line.range[0] || when.getTime() >= line.range[1]);
    if (outside && zoom < DAY_MS) drawStrip(when.getTime());
    line.moveHead(when);
    fill(nowLabel, when ? t('playback.playing_at', { time: fmtTimeSec(when, tz) }) : '');
  }, 500);
  if (at && playable && spans.spans.length) play(at);
  return () => { clearInterval(clock); if (player) player.stop(); clear(stage); };
}
