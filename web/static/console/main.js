// The technician console: a login, then every section of the hub on one page, kept fresh by the live
// feed (a reading or an alert refreshes what it changes) and by the Refresh button.
import * as api from '/common/api.js';
import { loadLanguage, t } from '/common/i18n.js';
import { byTestId } from '/common/dom.js';
import { connectLive } from '/common/live.js';
import { showLogin } from './login.js';
import { refreshOverview } from './overview.js';
import { initDevices, refreshDevices } from './devices.js';
import { initPairing } from './pair.js';
import { initReadings, refreshReadings } from './readings.js';
import { initSync, refreshSync } from './sync.js';
import { initAlerts, refreshAlerts } from './alerts.js';
import { initConfig } from './config.js';
import { initEvents, refreshEvents } from './events.js';
import { initUsers } from './users.js';
import { initDisplays, refreshDisplays } from './displays.js';

let live = null;
let built = false;
let timer = null;

function refreshAll() {
  return Promise.allSettled([refreshOverview(), refreshDevices(), refreshReadings(), refreshSync(), refreshAlerts(), refreshEvents(), refreshDisplays()]);
}

// Bursts of events (a device emptying its memory) make one refresh.
function scheduleRefresh() {
  clearTimeout(timer);
  timer = setTimeout(refreshAll, 300);
}

function setConnection(state) {
  const el = byTestId('connection-state');
  el.dataset.state = state;
  el.textContent = t(state === 'live' ? 'conn.live' : 'conn.reconnecting');
}

function build() {
  if (built) return;
  built = true;
  initDevices(scheduleRefresh);
  initPairing(scheduleRefresh);
  initUsers(scheduleRefresh);
  initReadings(scheduleRefresh);
  initSync(scheduleRefresh);
  initAlerts(scheduleRefresh);
  initConfig(scheduleRefresh);
  initEvents();
  initDisplays(scheduleRefresh);
  byTestId('refresh').addEventListener('click', () => refreshAll());
  byTestId('logout').addEventListener('click', async () => {
    await api.post('/api/tech/logout', {}).catch(() => {});
    loggedOut();
  });
}

function loggedIn() {
  build();
  byTestId('console').hidden = false;
  byTestId('session-actions').hidden = false;
  refreshAll();
  live?.close();
  live = connectLive('/api/events', {
    events: ['hello', 'reading', 'alert', 'daemon', 'resync', 'action'],
    onEvent: (type, data) => {
      if (type === 'hello' || type === 'daemon') setConnection((type === 'hello' ? data.daemon : data.reachable) ? 'live' : 'reconnecting');
      scheduleRefresh();
    },
    onResync: scheduleRefresh,
    onState: setConnection,
  });
}

function loggedOut() {
  live?.close();
  live = null;
  api.setCsrf(null);
  showLogin(loggedIn);
}

async function boot() {
  const lang = await api.get('/api/i18n').then((r) => r.language).catch(() => 'en');
  await loadLanguage(lang);
  api.onUnauthorized(() => {
    const wasIn = !byTestId('console').hidden;
    loggedOut();
    if (wasIn) byTestId('login-error').textContent = t('error.session');
  });
  try {
    const session = await api.get('/api/tech/session');
    api.setCsrf(session.csrf, 'X-CSRF-Token');
    loggedIn();
  } catch {
    loggedOut();
  }
}

boot();
