// The one way the console talks to the API: same-origin fetch with the session cookie. Errors come back
// as ApiError with the HTTP status and the API's detail ({field, message, code, params} list for 422; a
// message with a code and params otherwise); errorText() says them in the user's language.

import { fmtNumber, label, t, tOr } from './i18n.js';

export class ApiError extends Error {
  constructor(status, detail, body = {}) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
    this.code = body.code;
    this.params = body.params || {};
  }

  get fields() {
    return Array.isArray(this.detail) ? this.detail : [];
  }

  /** What went wrong as {field, message, code, params} entries (field null when the whole request failed). */
  get problems() {
    if (Array.isArray(this.detail)) return this.detail;
    if (typeof this.detail !== 'string') return [];
    return [{ field: null, message: this.detail, code: this.code, params: this.params }];
  }
}

// Params that are names of things the console already translates (a zone kind, an event status...).
const PARAM_LABELS = { kind: 'kind', status: 'status', action: 'action', role: 'role', audience: 'role', class_name: 'class' };

function shownParams(params) {
  const shown = {};
  for (const [name, value] of Object.entries(params || {})) {
    if (typeof value === 'number' && !Number.isInteger(value)) shown[name] = fmtNumber(value, 3);
    else if (PARAM_LABELS[name] && typeof value === 'string') shown[name] = label(PARAM_LABELS[name], value);
    else shown[name] = value;
  }
  return shown;
}

// The label of "body.site_ids.0" is that of "body.site_ids" when only that one is given.
function fieldLabel(field, labels) {
  const parts = (field || '').split('.');
  for (let n = parts.length; n > 0; n -= 1) {
    const found = labels[parts.slice(0, n).join('.')];
    if (found) return found;
  }
  return null;
}

/** One problem in the user's language: the translation of its code (`errors.<code>`) with its params, or the
 * API's English message when the code has none; prefixed with the field's label when `labels` names it. */
export function problemText(problem, labels = {}) {
  const english = problem.message || problem.code;
  const text = problem.code ? tOr(`errors.${problem.code}`, shownParams(problem.params), english) : english;
  const name = fieldLabel(problem.field, labels);
  if (!name) return text;
  return `${name}: ${/^\p{Lu}\p{Ll}/u.test(text) ? text[0].toLocaleLowerCase() + text.slice(1) : text}`;
}

/** Everything an API error says, as one line (see problemText); `fallback` for any other failure (a network
 * error, or an answer that is not the API's own, such as a proxy's 502 page). */
export function errorText(error, labels = {}, fallback = t('common.load_failed')) {
  const problems = error instanceof ApiError ? error.problems.filter((p) => p.code || (p.field && p.message)) : [];
  return problems.length ? problems.map((p) => problemText(p, labels)).join('; ') : fallback;
}

export function queryString(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export async function api(path, { method = 'GET', body, query } = {}) {
  const headers = { 'X-Requested-With': 'fetch', Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api${path}${queryString(query)}`, init);
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/auth/login')) {
      window.dispatchEvent(new CustomEvent('vigil:signed-out'));
    }
    throw new ApiError(response.status, data && data.detail !== undefined ? data.detail : data,
      data && typeof data === 'object' ? data : {});
  }
  return data;
}

// Several independent reads at once; a failing one gives its ApiError instead of failing them all.
export async function settle(promises) {
  const results = await Promise.allSettled(promises);
  return results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
}
