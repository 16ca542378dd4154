// Pairing a tablet or phone on the home network: it asks the hub for a code, the hub's own screen shows
// it, the user types it here. The hub's screen (a loopback client) polls for a pending code to show.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import { clockTime } from '/common/format.js';
import * as api from '/common/api.js';

export function showPairing(onPaired) {
  const screen = byTestId('pair-display');
  const error = h('p', { class: 'pair-error', testid: 'pair-display-error', role: 'alert' });
  const input = h('input', {
    id: 'pair-code', testid: 'pair-display-code', inputmode: 'numeric', autocomplete: 'one-time-code',
    pattern: '[0-9]{6}', maxlength: '6', required: true,
  });
  const request = h('button', { type: 'button', class: 'pair-request secondary', testid: 'pair-display-request' }, t('pair.request'));
  request.addEventListener('click', async () => {
    error.textContent = '';
    try {
      await api.post('/api/pair/request', {});
      input.focus();
    } catch (e) {
      error.textContent = t('error.generic', { message: e.message });
    }
  });
  const form = h('form', { class: 'pair-form', testid: 'pair-display-form' },
    request,
    h('label', { for: 'pair-code' }, t('pair.code')), input,
    h('button', { type: 'submit', testid: 'pair-display-submit' }, t('pair.submit')), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await api.post('/api/pair/confirm', { code: input.value.trim() });
      onPaired();
    } catch (err) {
      error.textContent = err.status === 429 ? t('pair.wait', { seconds: err.retryAfter ?? 60 }) : t('pair.failed');
      input.select();
    }
  });
  replace(screen, h('h2', {}, t('pair.title')), h('p', {}, t('pair.help')), form);
  screen.hidden = false;
}

// On the hub's own screen: show a code someone on the home network asked for, for as long as it lives.
// The stream's `pairing` event asks at once; a slow poll covers a missed event. Returns "check now".
export function watchHubCode() {
  const box = byTestId('hub-pair-code');
  let shown = null;
  let timer = null;
  const poll = async () => {
    clearTimeout(timer);
    try {
      const res = await api.get('/api/pair/code');
      if (res?.code && res.code !== shown) {
        replace(box,
          h('h2', {}, t('pair.hub.title')), h('p', {}, t('pair.hub.help')),
          h('p', { class: 'code', testid: 'hub-pair-code-value' }, res.code),
          res.expires ? h('p', {}, t('pair.hub.expires', { time: clockTime(res.expires) })) : null);
        box.hidden = false;
      } else if (!res?.code) {
        box.hidden = true;
      }
      shown = res?.code ?? null;
    } catch {
      // Not the hub's own screen, or carehub-web restarting: try again on the next round.
    }
    timer = setTimeout(poll, shown ? 3000 : 10000);
  };
  poll();
  return poll;
}
