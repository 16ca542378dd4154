// The technician console in chromium at 1280×800: login, the BLE kit's monitor scanned and paired, a
// reading the FHIR server refused seen with its OperationOutcome and retried, a red alert acknowledged on
// the patient's behalf; every section checked with axe-core and photographed for the technician guide.
import { CONSOLE, DISPLAY, axeViolations, launch, screenshot } from './lib/browser.mjs';
import { BleKit, Carehubd, FhirPeer, Web, ago, bp, eventually } from './lib/peers.mjs';
import { assert, hidden, scoped, visible } from './lib/testing.mjs';

const MONITOR = 'A4:C1:38:00:00:01';
const MONITOR_ID = 'ble-a4-c1-38-00-00-01';
const ID_SYSTEM = 'urn:ietf:rfc:3986';  // Observation.identifier of a reading: urn:uuid:<uid>

async function assertAccessible(page, screen) {
  assert.deepEqual(await axeViolations(page), [], `${screen}: serious or critical accessibility violations`);
}

async function openConsole(scope, web) {
  const context = await launch(scope);
  const page = context.pages()[0] ?? await context.newPage();
  await page.setViewportSize(CONSOLE);
  await page.goto(web.url('/console/'));
  await visible(page, 'login-form');
  return page;
}

async function logIn(page, password) {
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await visible(page, 'status-overview');
  await visible(page, 'status-hub');
}

// Brings section `name` (#overview, #devices, …) into view, as its link in the console's navigation does.
async function section(page, name) {
  await page.locator(`nav a[href="#${name}"]`).click();
  await page.locator(`section#${name}`).waitFor({ state: 'visible' });
}

// A screenshot of section `name` as the technician sees it after choosing it: scrolled to its top.
async function shot(page, name, file, focus) {
  // With `focus` (a test id), that part of the section is brought to the middle of the screen instead.
  const target = focus ? page.locator(`section#${name} [data-testid="${focus}"]`).first() : page.locator(`section#${name}`);
  await target.evaluate((el, block) => el.scrollIntoView({ block }), focus ? 'center' : 'start');
  await screenshot(page, file);
}

// The console reads the hub on demand: Refresh, then wait for what should be there.
async function refresh(page) {
  await page.getByTestId('refresh').click();
}

function carehubdWithKit(scope, fhir, kit) {
  const daemon = new Carehubd(scope, { fhirUrl: fhir.base, env: { DBUS_SYSTEM_BUS_ADDRESS: kit.address } });
  daemon.config.sources = { ble: { adapter: 'hci0', reconnect: { base_ms: 50, cap_ms: 500 }, resolve_timeout_ms: 5000, device_time: 'utc' } };
  return daemon;
}

scoped('the technician logs in, pairs a monitor of the BLE kit, discards a record from before the pairing, sees a dead letter with the server\'s reason and retries it', async (scope) => {
  const [fhir, kit] = await Promise.all([FhirPeer.start(scope), BleKit.start(scope)]);
  await kit.run('setup', `${MONITOR},BP7150,bp,dis`);
  // No Patient on the server yet: the uploader holds every reading back (a configuration error, not the
  // readings' fault), so the rejection below is in place before the reading is first sent.
  const daemon = carehubdWithKit(scope, fhir, kit);
  await daemon.start();
  const web = await Web.start(scope, daemon);
  const page = await openConsole(scope, web);
  await assertAccessible(page, 'login');
  await screenshot(page, 'console-login');

  await page.getByTestId('login-password').fill('not the password');
  await page.getByTestId('login-submit').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="login-error"]')?.textContent.trim().length > 0);
  await logIn(page, web.password);
  assert.match(await page.getByTestId('status-hub').textContent(), /hub-browser/);
  await assertAccessible(page, 'overview (the hub waiting for its Patient on the server)');

  // Scan, pick the monitor, pair it for the patient.
  await section(page, 'devices');
  const seconds = page.getByTestId('scan-seconds');
  if (await seconds.count()) await seconds.fill('1');
  await page.getByTestId('scan-button').click();
  const found = await visible(page, 'scan-result', { attrs: { address: MONITOR }, ms: 15000 });
  await found.getByTestId('scan-pair').click();
  assert.equal(await page.getByTestId('pair-address').inputValue(), MONITOR, 'the pair form is filled from the scan');
  const category = page.getByTestId('pair-category');
  if (await category.evaluate((el) => el.tagName === 'SELECT')) await category.selectOption('blood-pressure');
  else await category.fill('blood-pressure');
  await page.getByTestId('pair-patient').fill('Patient/test-patient');
  await page.getByTestId('pair-submit').click();
  await visible(page, 'pair-result', { ms: 15000 });
  await visible(page, 'device-row', { attrs: { address: MONITOR }, ms: 15000 });
  const registered = await eventually(async () => (await daemon.ctlJson(['devices', 'list', '--json'])).find((d) => d.address === MONITOR),
    'the monitor in the registry');
  assert.equal(registered.id, MONITOR_ID);
  await assertAccessible(page, 'devices');
  await shot(page, 'devices', 'console-devices');

  // The monitor sends a record from its memory measured before the pairing (10 hours ago): nobody's until
  // the technician decides (issue 14). It shows as unassigned; the technician discards it with a reason.
  await kit.run('wait-notifying', MONITOR, '2a35', '20');
  const record = (await kit.run('hex-bp', '141', '88', '71', '600')).trim();
  await kit.run('notify', MONITOR, '2a35', record);
  const [old] = await eventually(async () => {
    const rows = await daemon.ctlJson(['readings', 'unassigned', '--json']);
    return rows.length === 1 && rows;
  }, 'the old record unassigned');
  await section(page, 'readings');
  await refresh(page);
  const unassigned = await visible(page, 'unassigned-row', { attrs: { id: old.uid } });
  await assertAccessible(page, 'readings with an unassigned one');
  await shot(page, 'readings', 'console-readings');
  await unassigned.getByTestId('unassigned-pick').check();
  await page.getByTestId('unassigned-reason').fill('measured before the pairing: not known whose');
  await page.getByTestId('unassigned-discard').click();
  await eventually(async () => (await daemon.ctlJson(['readings', 'unassigned', '--json'])).length === 0, 'discarded');
  await page.locator(`[data-testid="unassigned-row"][data-id="${old.uid}"]`).waitFor({ state: 'detached' });

  // A reading the server will refuse (a rejection rule on its identifier), then the Patient appears and
  // the technician uploads now from the console.
  const [uid] = await daemon.add(bp(128, 82, ago(3), 'manual'));
  const [other] = await daemon.add(bp(126, 80, ago(2), 'manual'));
  await fhir.reject(`${ID_SYSTEM}|urn:uuid:${uid}`, 422);
  await fhir.put('Patient/test-patient', { resourceType: 'Patient', id: 'test-patient' });
  await section(page, 'sync');
  await page.getByTestId('sync-now').click();
  const dead = await eventually(async () => (await daemon.ctlJson(['sync', 'dead', '--json'])).find((d) => JSON.stringify(d).includes(uid)),
    'the refused reading dead-lettered', 20000);
  await eventually(async () => (await fhir.get(`Observation?identifier=${encodeURIComponent(`${ID_SYSTEM}|urn:uuid:${other}`)}`)).entry?.length === 1,
    'the other reading uploaded');
  await refresh(page);
  const row = await visible(page, 'dead-letter', { attrs: { id: uid } });
  const reason = await row.getByTestId('dead-reason').textContent();
  assert.match(reason, /urn:uuid:/, `the server's OperationOutcome is shown: ${reason}`);
  assert.ok(JSON.stringify(dead).includes('urn:uuid:'), 'the store keeps the same reason');
  await assertAccessible(page, 'upload with a dead letter');
  await shot(page, 'sync', 'console-sync-dead-letter', 'dead-letters');

  // The server is fixed; Retry re-drives it and it arrives.
  await fhir.clearRejections();
  await page.getByTestId('retry-button').click();
  await eventually(async () => (await fhir.get(`Observation?identifier=${encodeURIComponent(`${ID_SYSTEM}|urn:uuid:${uid}`)}`)).entry?.length === 1,
    'the retried reading on the FHIR server', 20000);
  assert.equal((await daemon.ctlJson(['sync', 'dead', '--json'])).length, 0, 'no dead letter left in the store');
  await refresh(page);
  await page.locator(`[data-testid="dead-letter"][data-id="${uid}"]`).waitFor({ state: 'detached' });
  // The Patient exists and everything went up: the upload state says so, not the error it had before.
  const syncStatus = await page.getByTestId('sync-status').textContent();
  assert.doesNotMatch(syncStatus, /configuration error/, `the upload state after the fix: ${syncStatus}`);
});

scoped('the technician acknowledges a red alert for the patient with a reason; the readings, configuration, events and paired-displays sections', async (scope) => {
  const fhir = await FhirPeer.start(scope);
  await fhir.put('Patient/test-patient', { resourceType: 'Patient', id: 'test-patient' });
  const daemon = new Carehubd(scope, { fhirUrl: fhir.base });
  await daemon.start();
  await daemon.add(bp(205, 118, ago(3)));
  await daemon.add(bp(207, 121, ago(2)));
  const red = (await daemon.alerts()).find((a) => a.severity === 'red');
  assert.ok(red, 'HF5 raised its red alert');
  const web = await Web.start(scope, daemon);
  const page = await openConsole(scope, web);
  // The patient's screen beside it shows the red alert until someone acknowledges it.
  const display = await page.context().newPage();
  await display.setViewportSize(DISPLAY);
  await display.goto(web.url('/display/'));
  await visible(display, 'red-alert', { attrs: { id: red.id } });
  await logIn(page, web.password);
  await assertAccessible(page, 'overview');
  await screenshot(page, 'console-overview');  // a hub in order, for the guide

  await section(page, 'alerts');
  const row = await visible(page, 'alert-row', { attrs: { id: red.id } });
  await assertAccessible(page, 'alerts');
  await shot(page, 'alerts', 'console-alerts');
  await row.getByTestId('alert-ack-reason').fill('phoned the patient, who is resting');
  await row.getByTestId('alert-ack-button').click();
  const acked = await eventually(async () => (await daemon.alerts()).find((a) => a.id === red.id && a.state === 'acknowledged'),
    'the alert acknowledged in the store');
  assert.match(String(acked.acknowledged_by), /technician/i, 'recorded as a technician on the patient\'s behalf');
  assert.match(String(acked.acknowledged_by), /phoned the patient/, 'with the reason');
  await hidden(display, 'red-alert');  // gone from the patient's screen too, live
  const ack = await eventually(async () => (await fhir.detectedIssue(red.id))?.mitigation?.find((m) => m.action.coding.some((c) => c.code === 'acknowledged')),
    'the acknowledgement on the FHIR peer');
  // The clinician can tell it from the patient's own OK, and reads the reason.
  assert.equal(ack.action.coding[0].display, "Acknowledged on the patient's behalf");
  assert.match(ack.action.text, /phoned the patient/);

  await section(page, 'readings');
  await assertAccessible(page, 'readings');

  await section(page, 'config');
  await page.getByTestId('config-check').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="config-result"]')?.textContent.trim().length > 0);
  await assertAccessible(page, 'configuration');
  await shot(page, 'config', 'console-config');

  await section(page, 'events');
  await visible(page, 'event-row');
  await assertAccessible(page, 'events');
  await shot(page, 'events', 'console-events');

  await section(page, 'displays');
  await visible(page, 'web-settings');
  await assertAccessible(page, 'paired displays');
  await shot(page, 'displays', 'console-displays');
});
