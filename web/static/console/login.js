// The login page: POST /api/tech/login gives the session cookie and the CSRF token for every later POST.
import { byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import * as api from '/common/api.js';

export function showLogin(onLoggedIn) {
  byTestId('console').hidden = true;
  byTestId('session-actions').hidden = true;
  byTestId('login').hidden = false;
  const form = byTestId('login-form');
  const error = byTestId('login-error');
  const password = byTestId('login-password');
  password.focus();
  form.onsubmit = async (e) => {
    e.preventDefault();
    const submit = byTestId('login-submit');
    submit.disabled = true;
    error.textContent = '';
    try {
      const r = await api.post('/api/tech/login', { user: byTestId('login-user').value.trim(), password: password.value });
      password.value = '';
      api.setCsrf(r.csrf, 'X-CSRF-Token');
      byTestId('login').hidden = true;
      onLoggedIn();
    } catch (err) {
      error.textContent = err.status === 429 ? t('login.locked', { seconds: err.retryAfter ?? 60 })
        : err.status === 401 ? t('login.failed') : t('error.generic', { message: err.message });
      password.select();
    } finally {
      submit.disabled = false;
    }
  };
}
