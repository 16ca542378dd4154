// Alerts the rules raised; a technician acknowledges one on the patient's behalf, always with a reason
// (recorded as "technician <login> for the patient: <reason>").
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, fill, run, errorLine } from './ui.js';

let onChange = () => {};
let showAll = false;

function ackCell(a) {
  if (!(a.requires_ack && a.state === 'open')) return t('none');
  const id = `ack-reason-${a.id}`;
  const reason = h('input', { id, testid: 'alert-ack-reason', required: true, maxlength: '500' });
  const button = h('button', { type: 'submit', testid: 'alert-ack-button' }, t('al.ack'));
  const error = errorLine('action-error');
  const form = h('form', { class: 'inline' }, h('div', { class: 'field' }, h('label', { for: id }, t('al.reason')), reason), button, error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      error.textContent = t('al.reason');
      reason.focus();
      return;
    }
    run(button, () => api.post(`/api/tech/alerts/${encodeURIComponent(a.id)}/ack`, { reason: reason.value.trim() }), {
      errorEl: error, refresh: onChange, done: () => t('al.acked', { id: a.id }),
    });
  });
  return form;
}

function alertTable(rows) {
  return h('div', { class: 'table-wrap' }, table(t('al.list'),
    [t('al.id'), t('al.state'), t('al.severity'), t('al.event'), t('al.rule'), t('al.raised'), t('al.text'), t('dev.actions')],
    rows.map((a) => ({
      a,
      cells: [text(a.id),
        a.requires_ack && a.state === 'open' ? `${text(a.state)} (${t('al.awaiting')})` : text(a.state),
        h('span', { class: `badge ${a.severity}` }, t(`sev.${a.severity}`)),
        text(a.event), text(a.rule), when(a.raised),
        a.notify === false ? `[${t('al.notnotified')}] ${text(a.text)}` : text(a.text),
        ackCell(a)],
    })),
    (row) => ({ testid: 'alert-row', dataset: { id: row.a.id, state: row.a.state } })));
}

export function initAlerts(refresh) {
  onChange = refresh;
  const all = h('input', { type: 'checkbox', id: 'alerts-all', testid: 'alerts-all' });
  all.addEventListener('change', () => {
    showAll = all.checked;
    refreshAlerts();
  });
  byTestId('alerts-section').append(
    h('div', { class: 'field-inline' }, all, ' ', h('label', { for: 'alerts-all' }, t('al.all'))),
    h('div', { testid: 'alerts-list' }));
}

export async function refreshAlerts() {
  const box = byTestId('alerts-list');
  // An acknowledgement being typed is not thrown away by a live refresh.
  if (box.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') return;
  try {
    const r = await api.get(`/api/tech/alerts${showAll ? '?all=true' : ''}`);
    fill(box, r.alerts ?? [], t('al.none'), alertTable);
  } catch (e) {
    replace(box, h('p', { class: 'warning' }, e.message));
  }
}
