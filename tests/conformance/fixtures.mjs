// Good resources of every shape carehub sends, each conformant to R4, the vital-signs profile its LOINC code
// selects and the PHD IG profile it declares. The break-on-purpose tests copy one, break one rule, and expect
// exactly that rule back. Codes: LOINC as in R4's vital-signs profiles; MDC from ISO/IEEE 11073-10101 as the
// PHD IG uses them (150020..150023 non-invasive blood pressure, 149546 pulse rate, 188740 body height).
const PHD = 'http://hl7.org/fhir/uv/phd/StructureDefinition/';
const MDC = 'urn:iso:std:iso:11073:10101';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const CDI = 'http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers';

const categories = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
  { coding: [{ system: 'http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories', code: 'phd' }] },
];
const gateway = { url: 'http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice', valueReference: { reference: 'Device/hub-1' } };
const mmHg = (value) => ({ value, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' });
const component = (loinc, mdc, value) => ({
  code: { coding: [{ system: LOINC, code: loinc }, { system: MDC, code: mdc }] },
  valueQuantity: mmHg(value),
});

export function bloodPressure() {
  return {
    resourceType: 'Observation',
    meta: { profile: [`${PHD}PhdCompoundNumericObservation`, 'http://hl7.org/fhir/StructureDefinition/bp'] },
    extension: [structuredClone(gateway)],
    identifier: [{ system: `${PHD}PhdBaseObservation`, value: 'bp-2026-11-21T08:30:00Z-sensor-1' }],
    status: 'final',
    category: structuredClone(categories),
    code: { coding: [{ system: LOINC, code: '85354-9' }, { system: MDC, code: '150020' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-21T08:30:00Z',
    device: { reference: 'Device/sensor-1' },
    component: [component('8480-6', '150021', 128), component('8462-4', '150022', 82), component('8478-0', '150023', 97)],
  };
}

export function bodyHeight() {
  return {
    resourceType: 'Observation',
    meta: { profile: [`${PHD}PhdNumericObservation`] },
    extension: [structuredClone(gateway)],
    status: 'final',
    category: structuredClone(categories),
    code: { coding: [{ system: LOINC, code: '8302-2' }, { system: MDC, code: '188740' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-21T08:30:00Z',
    valueQuantity: { value: 175, unit: 'cm', system: UCUM, code: 'cm' },
    device: { reference: 'Device/scale-1' },
    derivedFrom: [{ reference: 'Observation/weight-1' }],
  };
}

export function heartRate() {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [structuredClone(categories[0])],
    code: { coding: [{ system: LOINC, code: '8867-4' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-21T08:30:00Z',
    valueQuantity: { value: 64, unit: 'beats/minute', system: UCUM, code: '/min' },
  };
}

export function phdDevice() {
  return {
    resourceType: 'Device',
    meta: { profile: [`${PHD}PhdDevice`] },
    identifier: [
      { type: { coding: [{ system: CDI, code: 'SYSID' }] }, system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680', value: '00-1C-05-FF-FE-12-34-56' },
      { type: { coding: [{ system: CDI, code: 'BTMAC' }] }, system: 'http://hl7.org/fhir/sid/eui-48/bluetooth', value: '00-1C-05-12-34-56' },
    ],
    manufacturer: 'Acme Health',
    serialNumber: 'SN-0042',
    modelNumber: 'BP-7',
    type: { coding: [{ system: MDC, code: '65573' }] },
    specialization: [{ systemType: { coding: [{ system: MDC, code: '528391' }] }, version: '1' }],
    version: [{ type: { coding: [{ system: MDC, code: '531976' }] }, value: '1.4.2' }],
  };
}

export function phgDevice() {
  return {
    resourceType: 'Device',
    meta: { profile: [`${PHD}PhgDevice`] },
    identifier: [
      { type: { coding: [{ system: CDI, code: 'SYSID' }] }, system: 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680', value: '02-00-00-FF-FE-00-00-01' },
      { system: 'urn:carehub:hub', value: 'hub-1' },
    ],
    manufacturer: 'carehub',
    modelNumber: 'carehubd',
    type: { coding: [{ system: MDC, code: '531981' }] },
    specialization: [{ systemType: { coding: [{ system: MDC, code: '528391' }] }, version: '1' }],
    version: [{ type: { coding: [{ system: MDC, code: '531975' }] }, value: '0.9.0' }],
    property: [{ type: { coding: [{ system: MDC, code: '68220' }] }, valueCode: [{ coding: [{ system: MDC, code: '532228' }] }] }],
  };
}

export function detectedIssue() {
  return {
    resourceType: 'DetectedIssue',
    identifier: [{ system: 'urn:carehub:alert', value: 'hf5-1' }],
    status: 'amended',
    severity: 'high',
    patient: { reference: 'Patient/p1' },
    identifiedDateTime: '2026-11-21T08:30:00Z',
    evidence: [{ detail: [{ reference: 'Observation/101' }] }],
    mitigation: [{ action: { coding: [{ system: 'urn:carehub:alert-action', code: 'acknowledged' }] }, date: '2026-11-21T09:00:00Z' }],
  };
}

// A transaction Bundle as carehub uploads: a conditional create per resource.
export function transaction() {
  const entry = (resource, ifNoneExist) => ({
    fullUrl: `urn:uuid:${crypto.randomUUID()}`,
    resource,
    request: { method: 'POST', url: resource.resourceType, ifNoneExist },
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [entry(phdDevice(), 'identifier=x'), entry(bloodPressure(), 'identifier=y'), entry(heartRate(), 'identifier=z')],
  };
}

export const goodResources = { bloodPressure, bodyHeight, heartRate, phdDevice, phgDevice, detectedIssue, transaction };
