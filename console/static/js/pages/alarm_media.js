// An alarm's clip: the HLS playlist the recordings serve for its newest event, played with hls.js (pinned, served
// from /console/vendor/hls.min.js) through Media Source Extensions, when the recordings index says there is
// footage and the playlist answers; otherwise a sentence that says so.

import { h } from '../dom.js';
import { t } from '../i18n.js';

let loading = null;

/** hls.js, loaded once, on the first alarm that has a clip. */
export function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  loading = loading || new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/console/vendor/hls.min.js';
    script.onload = () => resolve(window.Hls);
    script.onerror = () => { loading = null; reject(new Error('hls.js did not load')); };
    document.head.append(script);
  });
  return loading;
}

/** A <video> playing `url` (an HLS playlist); `onState('playing' | 'failed')`. Returns the element. */
export function hlsVideo(url, onState = () => {}) {
  const video = h('video', { controls: true, muted: true, playsinline: true, preload: 'auto', id: 'alarm-clip-video' });
  loadHls().then((Hls) => {
    if (Hls && Hls.isSupported()) {
      // No web worker: the console's policy allows scripts from its own files only, not blob: workers.
      const player = new Hls({ enableWorker: false });
      player.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) onState('failed'); });
      player.loadSource(url);
      player.attachMedia(video);
      video.addEventListener('loadeddata', () => onState('playing'), { once: true });
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
    } else onState('failed');
  }).catch(() => onState('failed'));
  return video;
}

export function alarmClip(alarm) {
  const box = h('div', { class: 'clip', id: 'alarm-clip', dataset: { state: 'none' } });
  const say = (key, state) => { box.dataset.state = state; box.replaceChildren(h('p', { class: 'muted' }, t(key))); };
  if (!alarm.clip_available) {
    say('alarmcenter.clip_none', 'none');
    return box;
  }
  say('alarmcenter.clip_loading', 'loading');
  fetch(alarm.clip_url, { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } }).then((answer) => {
    if (!answer.ok) return say('alarmcenter.clip_not_ready', 'missing');
    box.dataset.state = 'loading';
    const video = hlsVideo(alarm.clip_url, (state) => {
      box.dataset.state = state;
      if (state === 'failed') say('alarmcenter.clip_failed', 'failed');
    });
    box.replaceChildren(video, h('a', { href: alarm.clip_url, class: 'small' }, t('alarmcenter.clip_link')));
    return null;
  }).catch(() => say('alarmcenter.clip_failed', 'failed'));
  return box;
}
