// Recent events carehub-web saw (alert events, readings, logins, technician actions), newest first.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, fill } from './ui.js';

// Everything but time and type, as key=value, so a new kind of event still shows what it carries.
function detail(e) {
  return Object.entries(e).filter(([k]) => k !== 'time' && k !== 'type')
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : v}`).join(' ');
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
