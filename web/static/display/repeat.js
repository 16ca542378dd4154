// The repeat request of a confirm-by-repeat rule: large, what to do, and a countdown to its deadline.
// The countdown runs on the hub's own count of seconds left (seconds_left), so a tablet whose clock is a few
// minutes off still shows the real time left.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import { clockTime, countdown } from '/common/format.js';
import { announce } from '/common/announce.js';

let timer = null;
let shownId = null;

function tick(el, endsAt) {
  const left = endsAt - Date.now();
  el.textContent = countdown(left);
  if (left <= 0) {
    clearInterval(timer);
    timer = null;
    byTestId('repeat-expired').hidden = false;
  }
}

export function renderRepeat(request) {
  const panel = byTestId('repeat-request');
  clearInterval(timer);
  timer = null;
  if (!request) {
    panel.hidden = true;
    shownId = null;
    replace(panel);
    return;
  }
  const endsAt = Date.now() + Math.max(0, Number(request.seconds_left ?? 0)) * 1000;
  const clock = h('span', { class: 'countdown', testid: 'countdown', role: 'timer', dataset: { deadline: request.deadline } });
  replace(panel,
    h('div', { class: 'repeat-head' },
      h('h2', { id: 'repeat-title' }, h('span', { 'aria-hidden': 'true' }, '⟲ '), t('repeat.title')),
      h('div', { class: 'countdown-box' }, h('span', {}, t('repeat.countdown')), clock)),
    h('p', { class: 'why', testid: 'repeat-text' }, t('repeat.why')),
    h('ol', {}, h('li', {}, t('repeat.step1')), h('li', {}, t('repeat.step2')), h('li', {}, t('repeat.step3'))),
    h('p', { class: 'deadline' }, t('repeat.deadline', { time: clockTime(request.deadline) })),
    h('p', { testid: 'repeat-expired', hidden: true }, t('repeat.expired')));
  panel.dataset.id = request.id;
  panel.hidden = false;
  // A new request is announced once; the ticking countdown itself is never read out.
  if (shownId !== request.id) {
    shownId = request.id;
    announce(`${t('repeat.title')}. ${t('repeat.why')}`);
  }
  tick(clock, endsAt);
  if (!byTestId('repeat-expired').hidden) return;
  timer = setInterval(() => tick(clock, endsAt), 1000);
}
