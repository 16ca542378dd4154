// Configuration: carehubd checks its own file, then reloads it (a reload that does not validate keeps the
// running configuration, and says why).
import { h, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';
import { run, report } from './ui.js';

export function initConfig(refresh) {
  const result = h('p', { testid: 'config-result', role: 'status', class: 'reason' });
  const check = h('button', { type: 'button', testid: 'config-check' }, t('cf.check'));
  const reload = h('button', { type: 'button', class: 'secondary', testid: 'config-reload' }, t('cf.reload'));
  check.addEventListener('click', async () => {
    result.textContent = '';
    const r = await run(check, () => api.post('/api/tech/config/check', {}), { errorEl: result });
    if (!r) return;
    const message = r.ok === false ? t('error.generic', { message: r.error }) : t('cf.ok', { file: r.file ?? '' });
    result.textContent = message;
    report(message, r.ok === false);
  });
  reload.addEventListener('click', async () => {
    result.textContent = '';
    const r = await run(reload, () => api.post('/api/tech/config/reload', {}), { errorEl: result, refresh });
    if (r) result.textContent = t('cf.reloaded');
    if (r) report(t('cf.reloaded'));
  });
  byTestId('config-section').append(h('div', { class: 'row-actions' }, check, reload), result);
}
