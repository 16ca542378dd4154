// Dates, times and numbers in the hub's language, through Intl (never hand-made formats).
import { language } from './i18n.js';

const cache = new Map();
function formatter(kind, options) {
  const key = `${language()}|${kind}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    cache.set(key, kind === 'date' ? new Intl.DateTimeFormat(language(), options)
      : kind === 'rel' ? new Intl.RelativeTimeFormat(language(), options)
        : new Intl.NumberFormat(language(), options));
  }
  return cache.get(key);
}

const asDate = (value) => (value instanceof Date ? value : new Date(value));

export const clockTime = (d) => formatter('date', { hour: 'numeric', minute: '2-digit' }).format(asDate(d));
export const longDate = (d) =>
  formatter('date', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(asDate(d));
export const dateTime = (d) => formatter('date', { dateStyle: 'medium', timeStyle: 'short' }).format(asDate(d));
export const shortDate = (d) => formatter('date', { day: 'numeric', month: 'short' }).format(asDate(d));

export function number(value, maximumFractionDigits = 1) {
  return formatter('num', { maximumFractionDigits }).format(value);
}

// "3 minutes ago", "yesterday", "2 days ago": how long since a reading, in words.
export function ago(value, now = Date.now()) {
  const seconds = Math.round((asDate(value).getTime() - now) / 1000);
  const rel = formatter('rel', { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rel.format(0, 'minute');
  if (abs < 3600) return rel.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rel.format(Math.round(seconds / 3600), 'hour');
  return rel.format(Math.round(seconds / 86400), 'day');
}

// A countdown as m:ss (or h:mm:ss), never negative.
export function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

// A reading's time on a card: day, month and time, no year (the card also says how long ago).
export const shortDateTime = (d) =>
  formatter('date', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(asDate(d));
