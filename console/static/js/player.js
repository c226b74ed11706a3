// Recorded video in the page: hls.js (/console/vendor/hls.min.js, loaded on first use) plays the API's HLS
// playlists through Media Source Extensions. Recordings carry their wall-clock time (#EXT-X-PROGRAM-DATE-TIME),
// so a player knows which moment it shows (hls.playingDate) and can seek to a moment of its playlist.
// Debian's Chromium plays H.264 this way, not H.265: pages check `browser_playable` and say so instead.

import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

let loading = null;
let mine = null;
let mineAt = 0;

/** The cameras whose recordings this user may watch (the API's /recordings/cameras, kept 30 s), so pages ask
 * only for footage they may show (a refused request would still be a red line in the browser's console). */
export function footageCameras() {
  if (!mine || Date.now() - mineAt > 30000) {
    mine = api('/recordings/cameras').catch(() => []);
    mineAt = Date.now();
  }
  return mine;
}

/** window.Hls, loading the vendor script once (a plain <script>: the CSP allows only the console's own files). */
export function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = h('script', { src: '/console/vendor/hls.min.js' });
      script.addEventListener('load', () => resolve(window.Hls));
      script.addEventListener('error', () => { loading = null; reject(new Error('hls.js did not load')); });
      document.head.append(script);
    });
  }
  return loading;
}

// Live: start one second behind the newest segment's end and catch up (2-s segments: a few seconds behind the
// camera in all). Recorded: a modest buffer ahead, little kept behind.
const LIVE = { liveSyncDuration: 1, liveMaxLatencyDuration: 5, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 10,
  lowLatencyMode: false, manifestLoadingMaxRetry: 2 };
const RECORDED = { maxBufferLength: 20, backBufferLength: 30, manifestLoadingMaxRetry: 1 };

/**
 * A <video> playing `url` (an HLS playlist of the API). Returns {element, video, ready, stop, playingDate,
 * seekToDate, setRate}: `ready` resolves once the playlist is parsed and rejects on a fatal error (its
 * `status` is the HTTP status when the playlist itself was refused).
 */
export function hlsPlayer(url, { live = false, autoplay = true, id } = {}) {
  const video = h('video', { class: 'recording', id, muted: true, playsInline: true, controls: true });
  video.muted = true;  // autoplay without a click needs a muted video
  const element = h('div', { class: 'player' }, video);
  let hls = null;
  let stopped = false;
  const ready = loadHls().then((Hls) => new Promise((resolve, reject) => {
    if (stopped) return;
    if (!Hls.isSupported()) { reject(new Error('no MSE')); return; }
    hls = new Hls(live ? LIVE : RECORDED);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      if (autoplay) video.play().catch(() => {});
      resolve();
    });
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal) return;
      const error = new Error(data.details);
      error.status = data.response ? data.response.code : undefined;
      reject(error);
      element.classList.add('failed');
      if (hls) hls.destroy();
      hls = null;
    });
    hls.loadSource(url);
    hls.attachMedia(video);
  }));
  ready.catch(() => {});
  return {
    element, video, ready,
    stop() { stopped = true; if (hls) hls.destroy(); hls = null; video.removeAttribute('src'); },
    /** The wall-clock moment on screen (null before the first frame). */
    playingDate() { return hls && hls.playingDate ? hls.playingDate : null; },
    /** Seek to a moment of the loaded playlist; false when the playlist does not hold it. */
    seekToDate(when) {
      const ms = when.getTime();
      const fragments = hls && hls.levels && hls.levels[0] && hls.levels[0].details
        ? hls.levels[0].details.fragments : [];
      const frag = fragments.find((f) => f.programDateTime <= ms && ms < f.programDateTime + f.duration * 1000);
      if (!frag) return false;
      video.currentTime = frag.start + (ms - frag.programDateTime) / 1000;
      return true;
    },
    setRate(rate) { video.playbackRate = rate; },
  };
}

/** The notice shown instead of a player when the browser cannot play the camera's codec (H.265). */
export function codecNotice() {
  return h('div', { class: 'notice codec-unplayable', id: 'codec-unplayable' }, t('playback.h265'));
}

/** The privacy line under every player and download form. */
export function privacyNote() {
  return h('p', { class: 'muted privacy-note' }, t('playback.privacy'));
}
