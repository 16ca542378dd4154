// The calm home screen: everything is fine (or: look at the message above), the latest measurement of
// each kind with when it was taken, and the devices that need the patient's help.
import { h, replace, byTestId } from '/common/dom.js';
import { t, has } from '/common/i18n.js';
import { ago, dateTime, shortDateTime } from '/common/format.js';
import { describe, PATIENT_KINDS } from './readings.js';

function renderStatus(home) {
  const box = byTestId('status-message');
  const fine = home.ok !== false;
  box.dataset.state = fine ? 'ok' : 'attention';
  replace(box,
    h('span', { class: 'icon', 'aria-hidden': 'true' }, fine ? '✔' : 'ℹ'),
    h('div', {},
      h('strong', {}, t(fine ? 'status.ok.title' : 'status.attention.title')),
      h('p', {}, t(fine ? 'status.ok.detail' : 'status.attention.detail'))));
}

function latestItem(reading) {
  const d = describe(reading);
  return h('li', { testid: 'latest-reading', dataset: { kind: reading.kind } },
    h('p', { class: 'kind' }, d.name),
    h('p', { class: 'value', testid: 'latest-value' }, d.value, h('span', { class: 'unit' }, d.unit)),
    d.extra ? h('p', { class: 'extra' }, d.extra) : null,
    h('p', { class: 'time', testid: 'latest-time' },
      t('latest.measured', { when: ago(reading.time) }), ' · ',
      h('time', { datetime: reading.time }, shortDateTime(reading.time))));
}

function renderLatest(latest = []) {
  const list = byTestId('latest-readings');
  const shown = latest
    .filter((r) => PATIENT_KINDS.includes(r.kind))
    .sort((a, b) => PATIENT_KINDS.indexOf(a.kind) - PATIENT_KINDS.indexOf(b.kind));
  if (shown.length === 0) replace(list, h('li', { class: 'none' }, t('latest.none')));
  else replace(list, shown.map(latestItem));
}

// The patient knows "the scale", not "ble-aa-bb-…": the device's kind when the hub says it, else its name.
function deviceName(item) {
  if (item.category && has(`devname.${item.category}`)) return t(`devname.${item.category}`);
  return item.name || item.model || item.id;
}

function attentionText(item) {
  const device = deviceName(item);
  if (item.reason === 'battery-low') return t('devices.battery-low', { device, battery: item.battery });
  if (item.reason === 'not-seen') {
    return t('devices.not-seen', { device, when: item.last_seen ? dateTime(item.last_seen) : '-' });
  }
  return t('devices.other', { device });
}

function renderAttention(attention = []) {
  const section = byTestId('devices-attention');
  section.hidden = attention.length === 0;
  replace(section.querySelector('ul'), attention.map((item) =>
    h('li', { testid: 'device-attention', dataset: { id: item.id, reason: item.reason } }, attentionText(item))));
}

export function renderHome(home) {
  renderStatus(home);
  renderLatest(home.latest);
  renderAttention(home.attention);
}
