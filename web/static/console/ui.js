// Small pieces every console section uses: tables built from rows, a status line for each action's
// outcome, and running an action with its button disabled until the hub answered.
import { h, replace } from '/common/dom.js';
import { t } from '/common/i18n.js';
import { dateTime } from '/common/format.js';
import { announce } from '/common/announce.js';

export const text = (v) => (v === undefined || v === null || v === '' ? t('none') : String(v));
export const when = (v) => (v ? dateTime(v) : t('none'));

// A table with a caption (for screen readers) and a header row; cells are nodes or text.
export function table(caption, headers, rows, rowAttrs = () => ({})) {
  return h('table', {},
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.map((row, i) => h('tr', rowAttrs(row, i), row.cells.map((c) => h('td', {}, c))))));
}

// Fills a list container: the table, or a sentence when there is nothing.
export function fill(container, rows, emptyText, build) {
  replace(container, rows.length ? build(rows) : h('p', { class: 'empty' }, emptyText));
}

// The one outcome line of the console (role=status): what the last action did, or why it failed.
export function report(message, isError = false) {
  const toast = document.querySelector('[data-testid="toast"]');
  toast.textContent = message;
  toast.dataset.kind = isError ? 'error' : 'ok';
  if (isError) toast.dataset.error = 'true';
  else delete toast.dataset.error;
  announce(message);
}

export function errorText(e) {
  if (e.status === 503) return t('error.daemon');
  if (e.status === 401) return t('error.session');
  return t('error.generic', { message: e.message });
}

// Runs fn with the button disabled; reports the result (or the server's reason), then refreshes.
export async function run(button, fn, { done, refresh, errorEl } = {}) {
  if (button) button.disabled = true;
  if (errorEl) errorEl.textContent = '';
  try {
    const result = await fn();
    if (done) report(done(result));
    return result;
  } catch (e) {
    const message = errorText(e);
    report(message, true);
    if (errorEl) errorEl.textContent = message;
    return undefined;
  } finally {
    if (button) button.disabled = false;
    refresh?.();
  }
}

// A labelled input (label, then field), for forms built in code.
export function field(id, label, attrs = {}, options = []) {
  const input = h(attrs.tag ?? 'input', { id, name: id, ...attrs, tag: undefined }, options);
  return { input, node: h('div', { class: 'field' }, h('label', { for: id }, label), input) };
}

// A form's local error line (role=alert), for an action's refusal right beside its form.
export const errorLine = (testid) => h('p', { class: 'action-error', testid, role: 'alert' });
