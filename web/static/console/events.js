// Recent events carehub-web saw (alert events, readings, logins, technician actions), newest first.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, fill } from './ui.js';

// Everything but time and type, as key=value, so a new kind of event still shows what it carries.
// A nested object (an event's `data`) is spread into its own key=value pairs.
function detail(e) {
  const pairs = [];
  for (const [k, v] of Object.entries(e)) {
    if (k === 'time' || k === 'type') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) pairs.push(`${k2}=${typeof v2 === 'object' && v2 !== null ? JSON.stringify(v2) : v2}`);
    } else {
      pairs.push(`${k}=${Array.isArray(v) ? v.join(',') : v}`);
    }
  }
  return pairs.join(' ');
}

export function initEvents() {
  byTestId('events-section').append(h('div', { testid: 'events-list' }));
}

export async function refreshEvents() {
  const box = byTestId('events-list');
  try {
    const r = await api.get('/api/tech/events');
    const events = [...(r.events ?? [])].reverse();
    fill(box, events, t('ev.none'), (rows) => h('div', { class: 'table-wrap' }, table(t('section.events'),
      [t('ev.time'), t('ev.type'), t('ev.detail')],
      rows.map((e) => ({ cells: [when(e.time), text(e.type), h('span', { class: 'reason' }, detail(e))] })),
      () => ({ testid: 'event-row' }))));
  } catch (e) {
    replace(box, h('p', { class: 'warning' }, e.message));
  }
}
