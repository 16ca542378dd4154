// Tablets and phones paired to show the patient display on the home network; a lost one is revoked here.
// Also carehub-web's own settings and counters (where it listens, its TLS fingerprint).
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, fill, run } from './ui.js';

let onChange = () => {};

function displayTable(rows) {
  return h('div', { class: 'table-wrap' }, table(t('section.displays'),
    [t('dev.id'), t('dp.paired'), t('dp.seen'), t('dev.actions')],
    rows.map((d) => ({
      d,
      cells: [text(d.id), when(d.paired ?? d.created), when(d.last_seen),
        h('button', {
          type: 'button', class: 'danger', testid: 'display-revoke',
          onclick: (e) => run(e.currentTarget, () => api.post(`/api/tech/displays/${encodeURIComponent(d.id)}/revoke`, {}), {
            done: () => `${t('dp.revoke')}: ${d.id}`, refresh: onChange,
          }),
        }, t('dp.revoke'))],
    })),
    (row) => ({ testid: 'display-row', dataset: { id: row.d.id } })));
}

function settings(web) {
  return h('dl', { class: 'kv', testid: 'web-settings' }, Object.entries(web ?? {}).flatMap(([k, v]) =>
    [h('dt', {}, k), h('dd', {}, typeof v === 'object' && v !== null ? JSON.stringify(v) : text(v))]));
}

export function initDisplays(refresh) {
  onChange = refresh;
  byTestId('displays-section').append(h('div', { testid: 'displays-list' }), h('h3', {}, 'carehub-web'), h('div', { testid: 'web-box' }));
}

export async function refreshDisplays() {
  const [displays, web] = await Promise.allSettled([api.get('/api/tech/displays'), api.get('/api/tech/web')]);
  const box = byTestId('displays-list');
  if (displays.status === 'fulfilled') fill(box, displays.value.displays ?? [], t('dp.none'), displayTable);
  else replace(box, h('p', { class: 'warning' }, displays.reason.message));
  replace(byTestId('web-box'), web.status === 'fulfilled' ? settings(web.value) : h('p', { class: 'warning' }, web.reason.message));
}
