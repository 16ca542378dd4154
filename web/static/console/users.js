// User Data Service devices (scales, glucose meters that keep a user only after a consent code): register a
// new user, consent to an existing one, or delete it on the device, like `carehubctl devices users`.
// The device answers only once it connects: the technician presses its button (up to 60 s).
import { h, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { run, field, errorLine } from './ui.js';

export function initUsers(refresh) {
  const address = field('uds-address', t('dev.pair.address'), { required: true, testid: 'uds-address', placeholder: 'AA:BB:CC:DD:EE:FF' });
  const action = field('uds-action', t('dev.uds.action'), { tag: 'select', testid: 'uds-action' },
    ['register', 'consent', 'delete'].map((a) => h('option', { value: a }, t(a === 'consent' ? 'dev.uds.consent.action' : `dev.uds.${a}`))));
  const consent = field('uds-consent', t('dev.uds.consent'), { inputmode: 'numeric', testid: 'uds-consent', autocomplete: 'off' });
  const user = field('uds-user', t('dev.uds.user'), { inputmode: 'numeric', testid: 'uds-user' });
  const patient = field('uds-patient', t('dev.pair.patient'), { testid: 'uds-patient', placeholder: 'Patient/12345' });
  const result = h('p', { testid: 'uds-result', role: 'status' });
  const error = errorLine('action-error');
  const submit = h('button', { type: 'submit', testid: 'uds-submit' }, t('dev.uds.submit'));
  const form = h('form', { class: 'inline', testid: 'uds-form', 'aria-labelledby': 'uds-title' },
    address.node, action.node, consent.node, user.node, patient.node, submit, error, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { address: address.input.value.trim(), action: action.input.value };
    if (body.action !== 'delete') body.consent = Number(consent.input.value.trim());
    if (body.action === 'consent') body.user = Number(user.input.value.trim());
    result.textContent = t('dev.uds.press');
    const r = await run(submit, () => api.post('/api/tech/devices/users', body), { errorEl: error, refresh });
    if (!r) {
      result.textContent = '';
      return;
    }
    result.textContent = t('dev.uds.done', { user: r.user ?? '', device: r.device ?? body.address });
    // Like carehubctl's register --patient: the new slot is bound to the patient right away.
    const who = patient.input.value.trim();
    if (body.action === 'register' && who !== '' && r.user !== undefined) {
      await run(submit, () => api.post('/api/tech/devices/assign', { device: body.address, user: r.user, patient: who }), {
        errorEl: error, refresh, done: (b) => `${b?.binding?.device ?? body.address} ${t('rd.user')} ${r.user} → ${who}`,
      });
    }
  });
  byTestId('devices-section').append(h('h3', { id: 'uds-title' }, t('dev.uds.title')), h('p', {}, t('dev.uds.help')), form);
}
