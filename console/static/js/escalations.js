// The supervisors' escalation banner: on every page, a supervisor (users.supervisor) sees how many alarms of its
// sites are escalated and still not acknowledged, hears a short generated tone when one is escalated, and jumps
// to the alarm list. The server decides who is a supervisor and which sites it sees; this only shows it.

import { api } from './api.js';
import { h } from './dom.js';
import { label, t } from './i18n.js';
import { alertTone, liveAlarms } from './live.js';

let stop = null;

export function stopEscalations() {
  if (stop) stop();
  stop = null;
  document.getElementById('escalation-banner')?.remove();
}

export async function watchEscalations(user) {
  stopEscalations();
  if (!user || !user.supervisor || user.must_change_password) return;
  const waiting = new Map();  // alarm id -> alarm, escalated and not yet acknowledged
  const text = h('span', { id: 'escalation-text' });
  const link = h('a', { href: '/console/alarms', id: 'escalation-link' }, t('alarmcenter.banner_open'));
  const banner = h('div', { id: 'escalation-banner', role: 'alert', hidden: true }, h('strong', {}, '⚠ '), text, ' ',
    link);
  document.getElementById('top').after(banner);
  const draw = () => {
    banner.hidden = waiting.size === 0;
    const newest = [...waiting.values()].sort((a, b) => (b.escalated_at > a.escalated_at ? 1 : -1))[0];
    text.textContent = newest ? t('alarmcenter.banner', { n: waiting.size, type: label('event', newest.type),
      priority: newest.priority }) : '';
    if (newest) link.href = `/console/alarms/${newest.id}`;
  };
  try {
    const page = await api('/alarms', { query: { urgent: true, limit: 100 } });
    page.items.forEach((alarm) => waiting.set(alarm.id, alarm));
  } catch { /* the live stream still tells what comes next */ }
  draw();
  stop = liveAlarms({
    onAlarm: (op, alarm) => {
      if (alarm.urgent) {
        const fresh = op === 'escalated' && !waiting.has(alarm.id);
        waiting.set(alarm.id, alarm);
        if (fresh) {
          banner.dataset.toned = String(Number(banner.dataset.toned || 0) + (alertTone() ? 1 : 0));
          banner.dataset.escalations = String(Number(banner.dataset.escalations || 0) + 1);
        }
      } else waiting.delete(alarm.id);
      draw();
    },
  });
}
