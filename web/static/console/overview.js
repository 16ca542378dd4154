// The whole picture of `carehubctl status`, section by section, from GET /api/tech/status.
import { h, replace, byTestId } from '/common/dom.js';
import { t } from '/common/i18n.js';
import { number } from '/common/format.js';
import * as api from '/common/api.js';
import { text, when, errorText } from './ui.js';

function bytes(v) {
  if (typeof v !== 'number') return t('none');
  const units = [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]];
  for (const [unit, size] of units) if (v >= size) return `${number(v / size, 1)} ${unit}`;
  return `${number(v, 0)} B`;
}

const kv = (pairs) => h('dl', { class: 'kv' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

function hubBlock(s) {
  return h('div', { testid: 'status-hub' }, kv([
    [t('ov.hub'), text(s.hub)], [t('ov.patient'), text(s.patient)],
    [t('ov.uptime'), `${text(s.uptime_s)} s`], [t('ov.config'), text(s.config)],
  ]));
}

function bufferBlock(b = {}) {
  const pairs = [
    [t('ov.pending'), text(b.pending)], [t('ov.synced'), text(b.synced)], [t('ov.dead'), text(b.dead)],
    [t('ov.quarantined'), text(b.quarantined)], [t('ov.queued'), text(b.queued)], [t('ov.unassigned'), text(b.unassigned)],
    [t('ov.disk'), t('ov.disk.value', { db: bytes(b.bytes), wal: bytes(b.wal_bytes), free: bytes(b.disk_free_bytes), path: text(b.path) })],
    [t('ov.cap'), t('ov.cap.value', { used: bytes(b.used_bytes), max: b.max_bytes === 0 ? t('ov.nocap') : bytes(b.max_bytes), state: text(b.state) }) + (b.detail ? `: ${b.detail}` : '')],
  ];
  return h('div', { testid: 'status-buffer' }, h('h3', {}, t('ov.buffer')), kv(pairs),
    b.unassigned > 0 ? h('p', { class: 'warning' }, `${b.unassigned} ${t('ov.unassigned')}: ${t('ov.unassigned.help')}`) : null,
    b.quarantined > 0 ? h('p', { class: 'warning' }, `${b.quarantined} ${t('ov.quarantined')}: ${t('ov.quarantined.help')}`) : null);
}

function syncBlock(y = {}) {
  return h('div', { testid: 'status-sync' }, h('h3', {}, t('ov.sync')),
    h('p', {}, h('strong', {}, text(y.state)), y.enabled ? ` → ${text(y.base_url)}` : ''),
    h('p', {}, t('ov.sync.times', { success: when(y.last_success), attempt: when(y.last_attempt), next: when(y.next_attempt), failures: text(y.consecutive_failures) })),
    y.last_error ? h('p', { class: 'reason' }, t('ov.last_error', { error: y.last_error })) : null);
}

function sourceLine(name, s = {}) {
  if (name === 'ble') {
    const a = s.adapter ?? {};
    return h('li', {}, h('strong', {}, 'ble: '), t('ov.ble', {
      bluetoothd: t(s.bluetoothd ? 'ov.up' : 'ov.down'), adapter: text(a.name),
      powered: t(a.powered ? 'ov.powered' : 'ov.notpowered'),
    }) + (a.state ? ` (${a.state})` : ''));
  }
  return h('li', {}, h('strong', {}, `${name}: `), `${text(s.state)}${s.connected_since ? ` ${when(s.connected_since)}` : ''} ${s.url ?? s.broker ?? ''}`,
    s.last_error ? h('span', { class: 'reason' }, ` — ${t('ov.last_error', { error: s.last_error })}`) : null);
}

function sourcesBlock(s) {
  const sources = Object.entries(s.sources ?? {});
  const a = s.alerts ?? {};
  return h('div', { testid: 'status-sources' }, h('h3', {}, t('ov.sources')),
    h('ul', {}, sources.map(([name, src]) => sourceLine(name, src))),
    h('h3', {}, t('ov.alerts')),
    h('p', {}, t('ov.alerts.value', { open: text(a.open), awaiting: text(a.awaiting_ack), rules: text(a.rules), file: text(a.rules_file) })));
}

function warningsBlock(s) {
  const warnings = [...(s.warnings ?? [])];
  for (const d of s.devices ?? []) if (d.warning) warnings.push(`${d.id}: ${d.warning}`);
  return h('div', { testid: 'status-warnings' }, h('h3', {}, t('ov.warnings')),
    warnings.length ? warnings.map((w) => h('p', { class: 'warning' }, w)) : h('p', { class: 'empty' }, t('ov.nowarnings')));
}

export async function refreshOverview() {
  const box = byTestId('status-overview');
  try {
    const s = await api.get('/api/tech/status');
    replace(box, hubBlock(s), bufferBlock(s.buffer), syncBlock(s.sync), sourcesBlock(s), warningsBlock(s));
    return s;
  } catch (e) {
    replace(box, h('p', { class: 'warning' }, e.status === 503 ? t('ov.daemon.down') : errorText(e)));
    return null;
  }
}
