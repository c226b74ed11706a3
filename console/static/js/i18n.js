// Translations (static/i18n/<lang>.json, Vietnamese first) and locale formatting in the site's time zone.

const LANGS = ['vi', 'en'];
const LOCALES = { vi: 'vi-VN', en: 'en-GB' };
let lang = 'vi';
let dict = {};

export const DEFAULT_TZ = 'Asia/Ho_Chi_Minh';

export function currentLang() {
  return lang;
}

export function locale() {
  return LOCALES[lang];
}

export async function loadLang(wanted) {
  lang = LANGS.includes(wanted) ? wanted : 'vi';
  const response = await fetch(`/console/static/i18n/${lang}.json`, { cache: 'no-cache' });
  dict = await response.json();
  document.documentElement.lang = lang;
  localStorage.setItem('vigil.lang', lang);
  return lang;
}

export function savedLang() {
  return localStorage.getItem('vigil.lang');
}

/** The text of `key` with {name} placeholders filled; a missing key is a bug and is reported as one. */
export function t(key, params = {}) {
  let text = dict[key];
  if (text === undefined) {
    console.error(`missing translation: ${key} (${lang})`);
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] === undefined ? `{${name}}` : params[name]));
}

/** Like t(), for keys that come from data (the API's error codes): `fallback` when there is no such key. */
export function tOr(key, params, fallback) {
  return key in dict ? t(key, params) : fallback;
}

/** Like t(), for names that come from data (event types, zone kinds): the raw name when unknown. */
export function label(prefix, name) {
  if (name === null || name === undefined || name === '') return '—';
  const key = `${prefix}.${name}`;
  return key in dict ? dict[key] : name;
}

export function fmtNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    .format(Number(value));
}

function fmt(value, tz, options) {
  if (!value) return '—';
  const date = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(locale(), { timeZone: tz || DEFAULT_TZ, ...options }).format(date);
}

export const fmtDateTime = (value, tz) => fmt(value, tz, { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit',
  minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
export const fmtTime = (value, tz) => fmt(value, tz, { hour: '2-digit', minute: '2-digit' });
export const fmtTimeSec = (value, tz) => fmt(value, tz, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const fmtDate = (value, tz, long = false) => fmt(value, tz, long ? { dateStyle: 'full' } : { dateStyle: 'medium' });
export const fmtMonth = (value, tz) => fmt(value, tz, { month: 'long', year: 'numeric' });
export const fmtHour = (value, tz) => fmt(value, tz, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** A duration in seconds as "m:ss" minutes or "1 giờ 5 phút" style words. */
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(Number(seconds));
  if (s < 60) return t('unit.seconds', { n: fmtNumber(s) });
  const minutes = s / 60;
  if (minutes < 60) return t('unit.minutes', { n: fmtNumber(minutes, 1) });
  return t('unit.hours_minutes', { h: fmtNumber(Math.floor(minutes / 60)), m: fmtNumber(Math.round(minutes % 60)) });
}

/** The local calendar date (YYYY-MM-DD) of `value` in time zone `tz`. */
export function localDay(value, tz) {
  const date = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz || DEFAULT_TZ, year: 'numeric', month: '2-digit',
    day: '2-digit' }).format(date);
}

/** The hour (0-23) of `value` in time zone `tz`. */
export function localHour(value, tz) {
  const date = value instanceof Date ? value : new Date(value);
  return Number(new Intl.DateTimeFormat('en-GB', { timeZone: tz || DEFAULT_TZ, hour: '2-digit', hourCycle: 'h23' })
    .format(date));
}

/** The UTC instant of local midnight of `day` (YYYY-MM-DD) in `tz` (the offset read back from Intl). */
export function zonedMidnight(day, tz) {
  const guess = new Date(`${day}T00:00:00Z`);
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz || DEFAULT_TZ, hourCycle: 'h23', year: 'numeric',
    month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(guess);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asLocal = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  return new Date(guess.getTime() - (asLocal - guess.getTime()));
}
