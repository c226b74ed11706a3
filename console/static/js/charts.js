// Charts with Chart.js (npm, pinned by console/package-lock.json, served from /console/vendor/): numbers
// in the page's locale, sized by their container, destroyed with the page.

import { h } from './dom.js';
import { fmtNumber, locale } from './i18n.js';

export const PALETTE = ['#1c7ed6', '#f08c00', '#2f9e44', '#e03131', '#7048e8', '#0c8599', '#c2255c', '#5c940d'];

/** A chart in a fixed-height box; returns {element, chart}. `config` is a Chart.js config. */
export function chart(config, { height = 260, id } = {}) {
  const canvas = h('canvas', { id });
  const element = h('div', { class: 'chart-box', style: { height: `${height}px` } }, canvas);
  if (!window.Chart) {
    element.append(h('p', { class: 'muted' }, 'Chart.js'));
    return { element, chart: null };
  }
  const options = config.options || {};
  options.locale = locale();
  options.maintainAspectRatio = false;
  options.animation = false;
  options.responsive = true;
  for (const scale of Object.values(options.scales || {})) {
    scale.ticks = { callback(value) { return this.getLabelForValue ? labelOf(this, value) : fmtNumber(value, 1); },
      ...(scale.ticks || {}) };
  }
  const made = new window.Chart(canvas, { ...config, options });
  return { element, chart: made };
}

function labelOf(scale, value) {
  return scale.type === 'category' ? scale.getLabelForValue(value) : fmtNumber(value, 1);
}

export function destroyAll(charts) {
  for (const c of charts.splice(0)) c.chart?.destroy();
}
