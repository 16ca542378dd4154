// Readings: the unassigned ones a technician must decide on (assign to a patient, or discard with a
// reason), and the buffer by state, like `carehubctl readings unassigned` and `carehubctl measurements`.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, fill, run, field, errorLine, report } from './ui.js';

let onChange = () => {};

export const valuesText = (values) =>
  Object.entries(values ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || t('none');

function unassignedTable(rows) {
  return h('div', { class: 'table-wrap' }, table(t('rd.unassigned'),
    ['', t('rd.time'), t('rd.device'), t('rd.user'), t('rd.kind'), t('rd.values'), t('rd.why')],
    rows.map((r) => ({
      r,
      cells: [h('input', { type: 'checkbox', class: 'pick', value: r.uid, 'aria-label': t('rd.select', { uid: r.uid }), testid: 'unassigned-pick' }),
        when(r.time), text(r.device), text(r.user), text(r.kind), valuesText(r.values), text(r.reason)],
    })),
    (row) => ({ testid: 'unassigned-row', dataset: { id: row.r.uid } })));
}

const picked = () => [...byTestId('unassigned-list').querySelectorAll('input.pick:checked')].map((c) => c.value);

function decisionForms() {
  const patient = field('assign-readings-patient', t('rd.assign.patient'), { placeholder: 'Patient/12345', testid: 'unassigned-patient' });
  const assign = h('button', { type: 'submit', testid: 'unassigned-assign' }, t('rd.assign'));
  const error1 = errorLine('action-error');
  const assignForm = h('form', { class: 'inline', 'aria-label': t('rd.assign') }, patient.node, assign, error1);
  assignForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const uids = picked();
    if (!uids.length) return report(t('rd.noselection'), true);
    run(assign, () => api.post('/api/tech/readings/assign', { uids, patient: patient.input.value.trim() }), {
      errorEl: error1, refresh: onChange,
      done: (r) => t('rd.assigned', { count: r?.assigned?.length ?? uids.length, patient: r?.patient ?? patient.input.value }),
    });
  });
  const reason = field('discard-reason', t('rd.discard.reason'), { testid: 'unassigned-reason' });
  const discard = h('button', { type: 'submit', class: 'danger', testid: 'unassigned-discard' }, t('rd.discard'));
  const error2 = errorLine('action-error');
  const discardForm = h('form', { class: 'inline', 'aria-label': t('rd.discard') }, reason.node, discard, error2);
  discardForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const uids = picked();
    if (!uids.length) return report(t('rd.noselection'), true);
    const body = { uids };
    if (reason.input.value.trim()) body.reason = reason.input.value.trim();
    run(discard, () => api.post('/api/tech/readings/discard', body), {
      errorEl: error2, refresh: onChange, done: (r) => t('rd.discarded', { count: r?.discarded ?? uids.length }),
    });
  });
  return [assignForm, discardForm];
}

function bufferTable(rows) {
  return h('div', { class: 'table-wrap' }, table(t('rd.buffer'),
    [t('rd.time'), t('rd.kind'), t('rd.device'), t('rd.sync'), t('rd.values')],
    rows.map((r) => ({
      r,
      cells: [when(r.time), text(r.kind), text(r.device), text(r.sync),
        h('span', {}, valuesText(r.values),
          r.dead_reason ? h('div', { class: 'reason' }, r.dead_reason) : null,
          r.quarantine_reason ? h('div', { class: 'reason' }, r.quarantine_reason) : null)],
    })),
    (row) => ({ testid: 'buffer-row', dataset: { id: row.r.uid } })));
}

async function showBuffer(state, container) {
  const query = state ? `?state=${encodeURIComponent(state)}&limit=100` : '?limit=100';
  const r = await api.get(`/api/tech/readings${query}`);
  fill(container, r.readings ?? [], t('none'), bufferTable);
}

export function initReadings(refresh) {
  onChange = refresh;
  const state = field('buffer-state', t('rd.state'), { tag: 'select', testid: 'buffer-state' },
    ['', 'pending', 'synced', 'dead', 'quarantined', 'unassigned', 'discarded'].map((s) => h('option', { value: s }, s || t('none'))));
  const show = h('button', { type: 'submit', class: 'secondary', testid: 'buffer-show' }, t('rd.show'));
  const list = h('div', { testid: 'buffer-list' });
  const bufferForm = h('form', { class: 'inline', 'aria-label': t('rd.buffer') }, state.node, show);
  bufferForm.addEventListener('submit', (e) => {
    e.preventDefault();
    run(show, () => showBuffer(state.input.value, list));
  });
  byTestId('readings-section').append(
    h('h3', {}, t('rd.unassigned')), h('div', { testid: 'unassigned-list' }), ...decisionForms(),
    h('h3', {}, t('rd.buffer')), bufferForm, list);
}

export async function refreshReadings() {
  const container = byTestId('unassigned-list');
  try {
    const r = await api.get('/api/tech/readings/unassigned');
    // Keep the technician's ticks across a live refresh.
    const ticked = new Set(picked());
    fill(container, r.readings ?? [], t('rd.unassigned.none'), unassignedTable);
    for (const box of container.querySelectorAll('input.pick')) box.checked = ticked.has(box.value);
  } catch (e) {
    replace(container, h('p', { class: 'warning' }, e.message));
  }
}
