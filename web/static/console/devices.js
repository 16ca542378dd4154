// The kit's registered devices (devices.list and the user-slot bindings), with forget, assign and unbind.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, when, table, fill, run, field, errorLine } from './ui.js';

let refreshAll = () => {};

function slots(device, bindings) {
  const mine = bindings.filter((b) => b.device === device.id);
  if (!mine.length) return text(device.patient);
  return h('ul', {}, mine.map((b) => h('li', {}, `${t('rd.user')} ${b.user} → ${b.patient} (${when(b.since)}) `,
    h('button', {
      type: 'button', class: 'secondary', testid: 'device-unbind', dataset: { id: device.id, user: String(b.user) },
      onclick: (e) => run(e.currentTarget, () => api.post('/api/tech/devices/unbind', { device: device.id, user: b.user }),
        { done: () => `${device.id} ${t('rd.user')} ${b.user}: ${t('dev.users.other')}`, refresh: refreshAll }),
    }, t('dev.unbind')))), h('li', {}, t('dev.users.other')));
}

// Forgetting unpairs the device: the button asks once more, in place, instead of a browser dialog.
function forgetButton(device) {
  const cell = h('div', { class: 'row-actions' });
  const ask = h('button', { type: 'button', class: 'danger', testid: 'device-forget' }, t('dev.forget'));
  ask.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'danger', testid: 'device-forget-confirm' }, t('dev.forget'));
    const no = h('button', { type: 'button', class: 'secondary', testid: 'device-forget-cancel' }, t('cancel'));
    yes.addEventListener('click', () => run(yes, () => api.post('/api/tech/devices/forget', { address: device.address }),
      { done: (r) => `${t('dev.forget')}: ${r?.forgotten?.address ?? device.address}`, refresh: refreshAll }));
    no.addEventListener('click', () => replace(cell, ask));
    replace(cell, h('span', { role: 'alert' }, t('dev.forget.confirm', { device: device.id ?? device.address })), yes, no);
    yes.focus();
  });
  cell.append(ask);
  return cell;
}

function deviceTable(devices, bindings) {
  return h('div', { class: 'table-wrap' }, table(t('dev.list'),
    [t('dev.address'), t('dev.id'), t('dev.category'), t('dev.model'), t('dev.state'), t('dev.users'), t('dev.last'), t('dev.battery'), t('dev.actions')],
    devices.map((d) => ({
      d,
      cells: [text(d.address), text(d.id), text(d.category), text(d.model), text(d.state), slots(d, bindings),
        h('span', {}, `${when(d.last_seen)} / ${when(d.last_reading)}`,
          d.last_error ? h('span', { class: 'reason' }, ` — ${t('ov.last_error', { error: d.last_error })}`) : null),
        d.battery === undefined || d.battery === null ? t('none') : `${d.battery}%`,
        forgetButton(d)],
    })),
    (row) => ({ testid: 'device-row', dataset: { id: row.d.id ?? '', address: row.d.address ?? '' } })));
}

function assignForm() {
  const device = field('assign-device', t('dev.assign.device'), { required: true, testid: 'assign-device' });
  const user = field('assign-user', t('dev.assign.user'), { inputmode: 'numeric', testid: 'assign-user' });
  const patient = field('assign-patient', t('dev.pair.patient').split('(')[0].trim(), { required: true, placeholder: 'Patient/12345', testid: 'assign-patient' });
  const error = errorLine('action-error');
  const submit = h('button', { type: 'submit', testid: 'device-assign-submit' }, t('dev.assign'));
  const form = h('form', { class: 'inline', testid: 'device-assign-form', 'aria-labelledby': 'assign-title' },
    device.node, user.node, patient.node, submit, error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const slot = user.input.value.trim();
    const body = slot === ''
      ? { address: device.input.value.trim(), patient: patient.input.value.trim() }
      : { device: device.input.value.trim(), user: Number(slot), patient: patient.input.value.trim() };
    run(submit, () => api.post('/api/tech/devices/assign', body), {
      errorEl: error, refresh: refreshAll,
      done: (r) => r?.binding ? `${r.binding.device} ${t('rd.user')} ${r.binding.user} → ${r.binding.patient}`
        : `${r?.device?.id ?? body.address} → ${r?.device?.patient ?? body.patient}`,
    });
  });
  return h('div', {}, h('h3', { id: 'assign-title' }, t('dev.assign.title')), form);
}

// The forms are built once (a refresh from a live event must not wipe what the technician is typing);
// only the list is redrawn.
export function initDevices(onChange) {
  refreshAll = onChange;
  byTestId('devices-section').append(
    h('h3', {}, t('dev.list')), h('div', { testid: 'device-list' }), assignForm());
}

export async function refreshDevices() {
  const container = byTestId('device-list');
  try {
    const [list, bindings] = await Promise.all([
      api.get('/api/tech/devices'),
      api.get('/api/tech/devices/bindings').catch(() => ({ bindings: [] })),
    ]);
    fill(container, list.devices ?? [], t('dev.none'), (rows) => deviceTable(rows, bindings.bindings ?? []));
  } catch (e) {
    replace(container, h('p', { class: 'warning' }, e.message));
  }
}
