// Ticket logs without an online connection (managers and admins): upload a ticket system's exported day (Excel
// or CSV), preview it with each bad row named by its line, then import the good rows; the column mapping is kept
// for the site. Importing the same log again writes nothing twice.

import { api, ApiError, errorText, queryString } from '../api.js';
import { field, fill, h, toast } from '../dom.js';
import { fmtDateTime, fmtNumber, t, tOr } from '../i18n.js';
import { sitePicker } from '../site_picker.js';

const FIELDS = ['ticket_number', 'issued_at', 'called_at', 'finished_at', 'date', 'service', 'counter'];

async function upload(site, file, { preview, day }) {
  const response = await fetch(`/api/sites/${site.id}/ticket-imports${queryString({ filename: file.name, preview, day })}`, {
    method: 'POST', credentials: 'same-origin', body: file,
    headers: { 'X-Requested-With': 'fetch', Accept: 'application/json', 'Content-Type': 'application/octet-stream' },
  });
  const data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data.detail, data);
  return data;
}

function problemText(problem) {
  return tOr(`tickets.error_${problem.code}`, problem.params, problem.message);
}

function resultView(result, tz) {
  const summary = h('p', { id: 'import-summary', class: result.errors.length ? 'warning' : 'ok' }, result.preview
    ? t('tickets.preview_summary', { rows: fmtNumber(result.rows), tickets: fmtNumber(result.tickets),
      errors: fmtNumber(result.errors.length) })
    : t('tickets.import_summary', { tickets: fmtNumber(result.tickets), inserted: fmtNumber(result.inserted),
      duplicates: fmtNumber(result.duplicates), errors: fmtNumber(result.errors.length) }));
  const errors = result.errors.length ? h('ul', { class: 'row-errors', id: 'import-errors' }, result.errors.map((e) =>
    h('li', { dataset: { line: e.line } }, t('tickets.line_n', { n: e.line }), ' · ', t(`tickets.field_${e.field}`), ': ',
      problemText(e)))) : null;
  const sample = h('table', { class: 'grid', id: 'import-sample' }, h('thead', {}, h('tr', {}, ['tickets.line',
    'tickets.field_ticket_number', 'tickets.field_issued_at', 'tickets.field_called_at', 'tickets.field_finished_at',
    'tickets.field_service', 'tickets.field_counter'].map((k) => h('th', {}, t(k))))),
  h('tbody', {}, result.sample.map((r) => h('tr', {}, h('td', {}, r.line), h('td', {}, r.ticket_number),
    h('td', {}, fmtDateTime(r.issued, tz)), h('td', {}, r.called ? fmtDateTime(r.called, tz) : '—'),
    h('td', {}, r.finished ? fmtDateTime(r.finished, tz) : '—'), h('td', {}, r.service || '—'),
    h('td', {}, r.counter ?? '—')))));
  return [summary, errors, h('h3', {}, t('tickets.sample')), sample];
}

export async function render(root, ctx) {
  const { site, element } = sitePicker(ctx, 'service_center', 'tickets');
  root.append(h('div', { class: 'toolbar' }, h('h1', {}, t('tickets.nav')), element));
  if (!site) return null;
  const saved = await api(`/sites/${site.id}/ticket-mapping`);
  const inputs = Object.fromEntries(FIELDS.map((f) => [f, h('input', { id: `map-${f}`, value: saved.mapping?.[f] || '',
    placeholder: t('tickets.recognised') })]));
  const mapMessage = h('p', { class: 'form-error', role: 'alert' });
  const saveMapping = async (e) => {
    e.preventDefault();
    const mapping = Object.fromEntries(FIELDS.filter((f) => inputs[f].value.trim()).map((f) => [f, inputs[f].value.trim()]));
    try {
      await api(`/sites/${site.id}/ticket-mapping`, { method: 'PUT', body: mapping });
      toast(t('common.saved'), 'ok');
      mapMessage.textContent = '';
    } catch (error) { mapMessage.textContent = errorText(error, { 'body.ticket_number': t('tickets.field_ticket_number'),
      'body.issued_at': t('tickets.field_issued_at') }); }
  };
  const file = h('input', { type: 'file', id: 'ticket-file', accept: '.xlsx,.csv,text/csv' });
  const day = h('input', { type: 'date', id: 'ticket-day' });
  const result = h('div', { id: 'import-result' });
  const message = h('p', { class: 'form-error', role: 'alert', id: 'import-error' });
  const run = (preview) => async () => {
    message.textContent = '';
    if (!file.files.length) { message.textContent = t('tickets.choose_file'); return; }
    try {
      fill(result, resultView(await upload(site, file.files[0], { preview, day: day.value || null }), site.timezone));
    } catch (error) { message.textContent = errorText(error); fill(result); }
  };
  root.append(
    h('section', { class: 'panel' }, h('h2', {}, t('tickets.upload')), h('p', { class: 'muted' }, t('tickets.upload_hint')),
      h('div', { class: 'inline-form' }, field(t('tickets.file'), file), field(t('tickets.day'), day, t('tickets.day_hint')),
        h('button', { id: 'ticket-preview', onclick: run(true) }, t('tickets.preview')),
        h('button', { class: 'primary', id: 'ticket-import', onclick: run(false) }, t('tickets.import'))),
      message, result),
    h('form', { class: 'panel', id: 'mapping-form', onsubmit: saveMapping }, h('h2', {}, t('tickets.mapping')),
      h('p', { class: 'muted' }, t('tickets.mapping_hint')),
      h('div', { class: 'form-grid' }, FIELDS.map((f) => field(t(`tickets.field_${f}`), inputs[f]))),
      mapMessage, h('button', { class: 'primary', type: 'submit' }, t('tickets.save_mapping'))));
  return null;
}
