// Upload: sync.status, "upload now", and the dead letters with the server's OperationOutcome, retried
// together after a fix (`carehubctl sync dead` / `sync retry-dead`).
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, run, errorLine } from './ui.js';
import { valuesText } from './readings.js';
import { outcomeNode } from './outcome.js';

let onChange = () => {};

function statusList(s) {
  return h('dl', { class: 'kv' }, Object.entries(s ?? {}).flatMap(([k, v]) =>
    [h('dt', {}, k), h('dd', {}, typeof v === 'object' && v !== null ? JSON.stringify(v) : text(v))]));
}

function deadRows(readings, alerts) {
  const rows = [
    ...readings.map((r) => ({
      id: r.uid, kind: 'reading',
      cells: [when(r.time), `${text(r.kind)} (${text(r.device)}): ${valuesText(r.values)}`,
        outcomeNode(r.dead_reason, 'dead-reason')],
    })),
    ...alerts.map((a) => ({
      id: a.id, kind: 'alert',
      cells: [when(a.raised), t('sy.alert', { id: a.id, rule: text(a.rule), raised: when(a.raised) }),
        outcomeNode(a.reason, 'dead-reason')],
    })),
  ];
  return h('div', { class: 'table-wrap' }, table(t('sy.dead'), [t('rd.time'), t('rd.values'), t('sy.reason')], rows,
    (row) => ({ testid: 'dead-letter', dataset: { id: row.id, kind: row.kind } })));
}

export function initSync(refresh) {
  onChange = refresh;
  const error = errorLine('action-error');
  const now = h('button', { type: 'button', testid: 'sync-now' }, t('sy.now'));
  now.addEventListener('click', () => run(now, () => api.post('/api/tech/sync/now', {}), { errorEl: error, done: () => t('sy.started'), refresh: onChange }));
  const retry = h('button', { type: 'button', testid: 'retry-button' }, t('sy.retry'));
  retry.addEventListener('click', () => run(retry, () => api.post('/api/tech/sync/retry', {}), {
    errorEl: error, refresh: onChange, done: (r) => t('sy.retried', { count: r?.requeued ?? 0 }),
  }));
  byTestId('sync-section').append(
    h('h3', {}, t('sy.status')), h('div', { testid: 'sync-status' }), h('div', { class: 'row-actions' }, now), error,
    h('h3', {}, t('sy.dead')), h('div', { testid: 'dead-letters' }), h('div', { class: 'row-actions' }, retry));
}

export async function refreshSync() {
  const [status, dead] = await Promise.allSettled([api.get('/api/tech/sync'), api.get('/api/tech/sync/dead')]);
  replace(byTestId('sync-status'), status.status === 'fulfilled' ? statusList(status.value) : h('p', { class: 'warning' }, status.reason.message));
  const box = byTestId('dead-letters');
  if (dead.status !== 'fulfilled') return replace(box, h('p', { class: 'warning' }, dead.reason.message));
  const readings = dead.value.readings ?? [];
  const alerts = dead.value.dead_alerts ?? [];
  replace(box, readings.length + alerts.length ? deadRows(readings, alerts) : h('p', { class: 'empty' }, t('sy.dead.none')));
  byTestId('retry-button').disabled = readings.length + alerts.length === 0;
}
