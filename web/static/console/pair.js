// Finding and pairing a device: scan (devices.scan), pick one, pair it for the kit's patient or bind a
// user slot of a shared monitor to a patient (devices.pair with users), like `carehubctl devices pair`.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { text, table, fill, run, field, errorLine } from './ui.js';

const CATEGORIES = ['blood-pressure', 'thermometer', 'pulse-oximeter', 'scale', 'glucose-meter', 'heart-rate'];

// The scan names a device's health services; the first one that matches a category preselects it.
function guessCategory(services = []) {
  const joined = services.join(' ').toLowerCase();
  const hints = [['blood', 'blood-pressure'], ['1810', 'blood-pressure'], ['thermo', 'thermometer'], ['1809', 'thermometer'],
    ['oxim', 'pulse-oximeter'], ['1822', 'pulse-oximeter'], ['weight', 'scale'], ['scale', 'scale'], ['181d', 'scale'],
    ['glucose', 'glucose-meter'], ['1808', 'glucose-meter'], ['heart', 'heart-rate'], ['180d', 'heart-rate']];
  return hints.find(([hint]) => joined.includes(hint))?.[1] ?? '';
}

let form = null;
let onChange = () => {};

function pairForm() {
  const address = field('pair-address', t('dev.pair.address'), { required: true, testid: 'pair-address', placeholder: 'AA:BB:CC:DD:EE:FF', autocomplete: 'off' });
  const category = field('pair-category', t('dev.pair.category'), { tag: 'select', required: true, testid: 'pair-category' },
    [h('option', { value: '' }, t('none')), ...CATEGORIES.map((c) => h('option', { value: c }, `${c} — ${t(`cat.${c}`)}`))]);
  const passkey = field('pair-passkey', t('dev.pair.passkey'), { inputmode: 'numeric', testid: 'pair-passkey', autocomplete: 'off' });
  const user = field('pair-user', t('dev.pair.user'), { inputmode: 'numeric', testid: 'pair-user' });
  const patient = field('pair-patient', t('dev.pair.patient'), { testid: 'pair-patient', placeholder: 'Patient/12345' });
  const result = h('p', { testid: 'pair-result', role: 'status' });
  const error = errorLine('action-error');
  const submit = h('button', { type: 'submit', testid: 'pair-submit' }, t('dev.pair.submit'));
  const el = h('form', { class: 'inline', testid: 'pair-form', 'aria-labelledby': 'pair-title' },
    address.node, category.node, passkey.node, user.node, patient.node, submit, error, result);
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { address: address.input.value.trim(), category: category.input.value };
    if (passkey.input.value.trim() !== '') body.passkey = Number(passkey.input.value.trim());
    const slot = user.input.value.trim();
    const who = patient.input.value.trim();
    if (slot !== '') body.users = [{ user: Number(slot), patient: who }];
    else if (who !== '') body.patient = who;
    result.textContent = '';
    const r = await run(submit, () => api.post('/api/tech/devices/pair', body), {
      errorEl: error, refresh: onChange,
      done: (res) => t('dev.pair.done', { address: res?.device?.address ?? body.address, id: res?.device?.id ?? '' }),
    });
    if (r) result.textContent = t('dev.pair.done', { address: r.device?.address ?? body.address, id: r.device?.id ?? '' });
  });
  return { el, address, category };
}

function scanTable(devices) {
  return h('div', { class: 'table-wrap' }, table(t('dev.scan'),
    [t('dev.address'), t('dev.scan.name'), t('dev.scan.rssi'), t('dev.scan.paired'), t('dev.scan.services'), t('dev.actions')],
    devices.map((d) => ({
      d,
      cells: [text(d.address), text(d.name), d.rssi === undefined ? t('none') : `${d.rssi} dBm`,
        t(d.paired ? 'yes' : 'no'), (d.services ?? []).join(', ') || t('none'),
        h('button', {
          type: 'button', class: 'secondary', testid: 'scan-pair', dataset: { address: d.address },
          onclick: () => {
            form.address.input.value = d.address;
            form.category.input.value = guessCategory(d.services);
            (form.category.input.value ? form.address.input : form.category.input).focus();
          },
        }, t('dev.scan.use'))],
    })),
    (row) => ({ testid: 'scan-result', dataset: { address: row.d.address ?? '' } })));
}

export function initPairing(refresh) {
  onChange = refresh;
  const seconds = field('scan-seconds', t('dev.scan.seconds'), { type: 'number', min: '1', max: '120', value: '10', testid: 'scan-seconds' });
  const results = h('div', { testid: 'scan-results', 'aria-live': 'polite' });
  const error = errorLine('action-error');
  const scan = h('button', { type: 'submit', testid: 'scan-button' }, t('dev.scan'));
  const scanForm = h('form', { class: 'inline', 'aria-label': t('dev.scan') }, seconds.node, scan, error);
  scanForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    replace(results, h('p', {}, t('dev.scanning')));
    const r = await run(scan, () => api.post('/api/tech/devices/scan', { seconds: Number(seconds.input.value) || 10 }), { errorEl: error });
    if (r) fill(results, r.devices ?? [], t('dev.scan.none'), scanTable);
    else replace(results);
  });
  form = pairForm();
  byTestId('devices-section').append(
    h('h3', {}, t('dev.scan')), scanForm, results,
    h('h3', { id: 'pair-title' }, t('dev.pair.title')), form.el);
}
