// The time and date in the top bar, in the hub's language; updated on the minute, not every frame.
import { byTestId } from '/common/dom.js';
import { clockTime, longDate } from '/common/format.js';

export function startClock() {
  const clock = byTestId('clock');
  const date = byTestId('date');
  const tick = () => {
    const now = new Date();
    clock.textContent = clockTime(now);
    clock.dateTime = now.toISOString();
    date.textContent = longDate(now);
    setTimeout(tick, 60000 - (now.getSeconds() * 1000 + now.getMilliseconds()) + 50);
  };
  tick();
}
