// The live event feed: Server-Sent Events from /api/events/stream, resumed after the last seq seen.

/**
 * The server ended the stream: signed out (the page goes to sign-in, as on any 401) or the user's role or sites
 * changed (open it again at once, with the new scope).
 */
function ended(current, reopen) {
  return (message) => {
    current().close();
    if (JSON.parse(message.data).code === 'session_expired') {
      window.dispatchEvent(new CustomEvent('vigil:signed-out'));
    } else {
      reopen();
    }
  };
}

export function liveEvents({ after, onEvent, onState }) {
  let source = null;
  let last = after || 0;
  let closed = false;
  let retry = null;
  function open() {
    source = new EventSource(`/api/events/stream${last ? `?after=${last}` : ''}`);
    source.onopen = () => onState('live');
    const handle = (op) => (message) => {
      const event = JSON.parse(message.data);
      if (event.seq > last && op === 'insert') last = event.seq;
      onEvent(op, event);
    };
    source.addEventListener('insert', handle('insert'));
    source.addEventListener('update', handle('update'));
    source.addEventListener('end', ended(() => source, () => { if (!closed) open(); }));
    source.onerror = () => {
      onState('reconnecting');
      // EventSource retries by itself, but with the first URL's `after`: reopen with the latest seq instead.
      source.close();
      if (!closed) retry = setTimeout(open, 2000);
    };
  }
  open();
  return () => { closed = true; clearTimeout(retry); source.close(); };
}

let audio = null;

/** A short two-tone chime (no sound file needed). */
export function chime() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [i, freq] of [880, 660].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.15, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.18);
      osc.stop(now + i * 0.18 + 0.17);
    }
  } catch { /* no audio device: the feed still shows the event */ }
}

/**
 * The alarms of the user's sites as they are raised, change and are escalated: `onAlarm(op, alarm)` with op
 * insert, update or escalated. Changes made while the stream was away are not replayed: `onReopen` is called
 * when it comes back, for the page to read its list again.
 */
export function liveAlarms({ onAlarm, onState = () => {}, onReopen = () => {} }) {
  let source = null;
  let closed = false;
  let retry = null;
  let opened = false;
  function open() {
    source = new EventSource('/api/events/stream?alarms=true&events=false');
    source.onopen = () => {
      onState('live');
      if (opened) onReopen();
      opened = true;
    };
    source.addEventListener('alarm', (message) => {
      const data = JSON.parse(message.data);
      onAlarm(data.op, data.alarm);
    });
    source.addEventListener('end', ended(() => source, () => { if (!closed) open(); }));
    source.onerror = () => {
      onState('reconnecting');
      source.close();
      if (!closed) retry = setTimeout(open, 2000);
    };
  }
  open();
  return () => { closed = true; clearTimeout(retry); source.close(); };
}

/** Three short urgent beeps, generated (no sound file): an escalated alarm. Returns whether it could play. */
export function alertTone() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (let i = 0; i < 3; i += 1) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'square';
      osc.frequency.value = 988;
      gain.gain.setValueAtTime(0.12, now + i * 0.22);
      gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.22 + 0.15);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.22);
      osc.stop(now + i * 0.22 + 0.16);
    }
    return true;
  } catch { return false; /* no audio device: the banner still shows */ }
}
