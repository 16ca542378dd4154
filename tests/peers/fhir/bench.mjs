// Throughput check for the test FHIR server, shaped like carehub's uploader: one client, bundles of
// Observations created conditionally on their identifier, subject/device/gateway references.
//
//   node bench.mjs http://127.0.0.1:PORT [--observations 10000] [--bundle-size 100] [--type batch|transaction]
//                  [--single 1000]
//
// Sends every bundle twice (the second time all entries must come back "200": the conditional
// creates match), then --single individual POSTs with If-None-Exist. Exits 1 on any unexpected status.
// Needs only Node's fetch; the server should run with --quiet so stderr logging is not measured.
const args = process.argv.slice(2);
const origin = args[0]?.replace(/\/+$/, '');
if (!origin?.startsWith('http')) {
  console.error('usage: node bench.mjs http://127.0.0.1:PORT [--observations N] [--bundle-size N] [--type batch|transaction] [--single N]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i > 0 ? args[i + 1] : dflt;
};
const total = Number(opt('observations', 10000));
const bundleSize = Number(opt('bundle-size', 100));
const bundleType = opt('type', 'batch');
const singles = Number(opt('single', 1000));
const base = `${origin}/fhir/R4`;
const FHIR = { 'content-type': 'application/fhir+json' };

function fail(message) {
  console.error(`bench: FAIL: ${message}`);
  process.exit(1);
}

async function call(method, path, body, headers = {}) {
  const res = await fetch(base + path, { method, headers: { ...FHIR, ...headers }, body: JSON.stringify(body) });
  return [res.status, await res.json()];
}

function observation(n, sensorRef, hubRef) {
  return {
    resourceType: 'Observation',
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}` }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: 'Patient/bench-patient' },
    effectiveDateTime: new Date(Date.UTC(2026, 0, 1) + n * 60000).toISOString(),
    valueQuantity: { value: 60 + (n % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
    device: { reference: sensorRef },
    extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice', valueReference: { reference: hubRef } }],
  };
}

function deviceEntry(urn, mac) {
  const system = 'http://hl7.org/fhir/sid/eui-48/bluetooth';
  return {
    fullUrl: urn,
    resource: { resourceType: 'Device', identifier: [{ system, value: mac }] },
    request: { method: 'POST', url: 'Device', ifNoneExist: `identifier=${system}|${mac}` },
  };
}

function bundle(first, count) {
  const sensor = 'urn:uuid:5e5e5e5e-0000-4000-8000-000000000001';
  const hub = 'urn:uuid:4b4b4b4b-0000-4000-8000-000000000001';
  const entry = [deviceEntry(sensor, '00-1A-7D-DA-71-13'), deviceEntry(hub, 'B8-27-EB-00-00-01')];
  for (let n = first; n < first + count; n++) {
    const resource = observation(n, sensor, hub);
    entry.push({
      fullUrl: `urn:uuid:${crypto.randomUUID()}`,
      resource,
      request: { method: 'POST', url: 'Observation', ifNoneExist: `identifier=${resource.identifier[0].system}|${resource.identifier[0].value}` },
    });
  }
  return { resourceType: 'Bundle', type: bundleType, entry };
}

async function sendAll(expectObservationStatus) {
  const started = performance.now();
  for (let first = 0; first < total; first += bundleSize) {
    const [status, body] = await call('POST', '', bundle(first, Math.min(bundleSize, total - first)));
    if (status !== 200) fail(`bundle at ${first}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
    const bad = body.entry.slice(2).find((e) => e.response.status !== expectObservationStatus);
    if (bad) fail(`bundle at ${first}: entry status ${bad.response.status}, wanted ${expectObservationStatus}: ${JSON.stringify(bad.response.outcome)}`);
  }
  return (performance.now() - started) / 1000;
}

const [patientStatus] = await call('PUT', '/Patient/bench-patient', { resourceType: 'Patient', id: 'bench-patient' });
if (patientStatus >= 300) fail(`PUT Patient: HTTP ${patientStatus}`);

const create = await sendAll('201');
console.log(`bench: ${total} Observations created in ${bundleSize}-entry ${bundleType} bundles: ${create.toFixed(2)} s, ${Math.round(total / create)} Observations/s`);
const again = await sendAll('200');
console.log(`bench: same bundles again (all conditional creates match): ${again.toFixed(2)} s, ${Math.round(total / again)} Observations/s`);

const startedSingles = performance.now();
for (let i = 0; i < singles; i++) {
  const resource = observation(total + i, 'Device/does-not-matter', 'Device/does-not-matter');
  delete resource.device;
  delete resource.extension;
  const ifNoneExist = `identifier=${resource.identifier[0].system}|${resource.identifier[0].value}`;
  const [status, body] = await call('POST', '/Observation', resource, { 'if-none-exist': ifNoneExist });
  if (status !== 201) fail(`single POST ${i}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
}
const singleSeconds = (performance.now() - startedSingles) / 1000;
if (singles > 0) {
  console.log(`bench: ${singles} single conditional POSTs: ${singleSeconds.toFixed(2)} s, ${Math.round(singles / singleSeconds)} requests/s`);
}

const stats = await (await fetch(`${origin}/__control/stats`)).json();
if (stats.resources.Observation !== total + singles) fail(`server holds ${stats.resources.Observation} Observations, wanted ${total + singles}`);
console.log(`bench: server now holds ${JSON.stringify(stats.resources)}`);
