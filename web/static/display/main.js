// The patient display: finds out who it is (the hub's own screen, a paired tablet, or not yet paired),
// loads the hub's language, then keeps the screen in step with the hub through the live feed.
import * as api from '/common/api.js';
import { loadLanguage, t } from '/common/i18n.js';
import { byTestId } from '/common/dom.js';
import { connectLive } from '/common/live.js';
import { startClock } from './clock.js';
import { renderHome } from './home.js';
import { renderRepeat } from './repeat.js';
import { initAlert, renderAlert, remind } from './alert.js';
import { drawTrends, resizeTrends } from './trends.js';
import { showPairing, watchHubCode } from './pairing.js';

let screen = 'home';
let refreshTimer = null;
let lastHome = null;
let checkHubCode = null;
// Live means all three hold: the event stream is open, carehub-web reaches carehubd, and the last read of
// the home screen worked. Anything else shows the unobtrusive "reconnecting" line. Whether carehubd is
// reachable is the stream's word alone (hello, daemon events): an answer to a read sent before carehubd
// went away may arrive after the event that says so, and must not undo it.
const link = { stream: false, daemon: true, fetched: false };

function updateConnection(change = {}) {
  Object.assign(link, change);
  const state = link.stream && link.daemon && link.fetched ? 'live' : 'reconnecting';
  const el = byTestId('connection-state');
  el.dataset.state = state;
  el.textContent = t(state === 'live' ? 'conn.live' : 'conn.reconnecting');
}

async function refreshHome() {
  try {
    const home = await api.get('/api/display/home');
    byTestId('loading').hidden = true;
    byTestId('unreachable').hidden = true;
    lastHome = home;
    renderHome(home);
    renderRepeat(home.repeat_request);
    renderAlert(home.red_alert);
    updateConnection({ fetched: true });
  } catch (e) {
    // The last screen stays as it was (the patient's data is still true); say we are catching up.
    if (e.status === 401 && e.code === 'pairing-required') return location.reload();
    byTestId('loading').hidden = true;
    if (byTestId('latest-readings').childElementCount === 0) byTestId('unreachable').hidden = false;
    updateConnection({ fetched: false });
    scheduleRefresh(3000);
  }
  if (screen === 'trends') drawTrends().catch(() => {});
}

// Several events in a burst (a device emptying its memory) make one refresh.
function scheduleRefresh(delay = 100) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshHome, delay);
}

function showScreen(name) {
  screen = name;
  byTestId('display-home').hidden = name !== 'home';
  byTestId('display-trends').hidden = name !== 'trends';
  for (const b of document.querySelectorAll('.nav-button')) b.setAttribute('aria-pressed', String(b.dataset.screen === name));
  if (name === 'trends') drawTrends().catch(() => {});
}

function onLiveEvent(type, data) {
  if (type === 'hello' || type === 'daemon') {
    const up = (type === 'hello' ? data.daemon : data.reachable) !== false;
    updateConnection({ daemon: up });
    if (up) scheduleRefresh(0);
    return;
  }
  if (type === 'pairing') return checkHubCode?.();
  if (type === 'alert' && data.event === 'reminder') remind(data.alert);
  scheduleRefresh(type === 'alert' || type === 'resync' ? 0 : 100);
}

function startDisplay(session) {
  byTestId('display-home').hidden = false;
  document.querySelector('.screens').hidden = false;
  for (const b of document.querySelectorAll('.nav-button')) b.addEventListener('click', () => showScreen(b.dataset.screen));
  window.addEventListener('resize', resizeTrends);
  initAlert(() => scheduleRefresh(0));
  // "Measured 5 minutes ago" stays true on a screen nobody touches for hours.
  setInterval(() => lastHome && renderHome(lastHome), 60000);
  if (session.kind === 'local') checkHubCode = watchHubCode();
  connectLive('/api/events', {
    events: ['hello', 'reading', 'alert', 'daemon', 'pairing', 'resync'],
    onEvent: onLiveEvent,
    onResync: () => scheduleRefresh(0),
    onState: (state) => {
      updateConnection({ stream: state === 'live' });
      // The stream cannot say why it failed: ask the hub. A revoked tablet gets 401 pairing-required and
      // goes back to the pairing form instead of showing the patient's last readings indefinitely.
      if (state !== 'live') scheduleRefresh(1000);
    },
  });
  refreshHome();
}

async function boot() {
  let session = null;
  try {
    session = await api.get('/api/display/session');
  } catch (e) {
    if (e.code === 'pairing-required') {
      const lang = await api.get('/api/i18n').then((r) => r.language).catch(() => 'en');
      await loadLanguage(lang);
      startClock();
      byTestId('loading').hidden = true;
      showPairing(() => location.reload());
      return;
    }
    // carehub-web itself is not up yet (the kiosk starts first): try again shortly.
    await loadLanguage('en').catch(() => {});
    byTestId('loading').hidden = true;
    byTestId('unreachable').hidden = false;
    updateConnection();
    setTimeout(boot, 3000);
    return;
  }
  api.setCsrf(session.csrf, 'X-CSRF-Token');
  await loadLanguage(session.language);
  startClock();
  updateConnection();
  startDisplay(session);
}

boot();
