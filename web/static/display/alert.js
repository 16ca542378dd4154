// The red alert: full screen, the clinician's text, one big OK. Nothing else on the page can be reached
// while it is open (inert), and it comes back until the hub has recorded the acknowledgement: OK only
// closes it when the POST succeeded, and every reminder re-opens and re-announces it.
import { byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import { dateTime } from '/common/format.js';
import * as api from '/common/api.js';

let current = null;
let onAcknowledged = () => {};

function setBackgroundInert(inert) {
  for (const el of document.querySelectorAll('body > header, body > main')) el.inert = inert;
}

function show(alert) {
  const dialog = byTestId('red-alert');
  const wasOpen = !dialog.hidden && current?.id === alert.id;
  current = alert;
  dialog.dataset.id = alert.id;
  byTestId('alert-text').textContent = alert.text;
  byTestId('alert-since').textContent = alert.raised ? t('alert.since', { time: dateTime(alert.raised) }) : '';
  dialog.hidden = false;
  setBackgroundInert(true);
  if (!wasOpen) {
    byTestId('alert-ack-error').textContent = '';
    byTestId('alert-ok').focus();
  }
}

function hide() {
  current = null;
  const dialog = byTestId('red-alert');
  dialog.hidden = true;
  delete dialog.dataset.id;
  byTestId('alert-reminder').textContent = '';
  setBackgroundInert(false);
}

async function acknowledge() {
  if (!current) return;
  const button = byTestId('alert-ok');
  const label = button.querySelector('span');
  const error = byTestId('alert-ack-error');
  button.disabled = true;
  label.textContent = t('alert.sending');
  error.textContent = '';
  try {
    await api.post(`/api/display/alerts/${encodeURIComponent(current.id)}/ack`, {});
    hide();
    onAcknowledged();
  } catch {
    error.textContent = t('alert.failed');
  } finally {
    button.disabled = false;
    label.textContent = t('alert.ok');
  }
}

export function initAlert(afterAck) {
  onAcknowledged = afterAck;
  byTestId('alert-ok').addEventListener('click', acknowledge);
  // The dialog has exactly one control: keep Tab on it rather than letting focus fall behind.
  byTestId('red-alert').addEventListener('keydown', (e) => {
    if (e.key === 'Tab') {
      e.preventDefault();
      byTestId('alert-ok').focus();
    }
  });
}

export function renderAlert(alert) {
  if (alert) show(alert);
  else if (current) hide();
}

// A reminder from the hub: the alert is still open; say so and put the OK button under the finger again.
export function remind(alertId) {
  if (!current || current.id !== alertId) return;
  byTestId('alert-reminder').textContent = t('alert.reminder');
  byTestId('alert-ok').focus();
}
