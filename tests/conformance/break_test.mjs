// Break-on-purpose tests of the conformance checker (tests/peers/fhir/conformance.mjs): every good resource of
// fixtures.mjs passes; each case breaks one rule of one checker (R4 invariant, R4 structure, vital-signs
// binding/fixed value/slice, PHD IG profile, Device profile, Bundle) and the checker must report exactly that
// rule and nothing else. Run: node --experimental-websocket tests/conformance/break_test.mjs (the flag is for
// @medplum/core, which the obs-7 case runs beside the checker to show the peer's engine misses it).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { errorsOf, validate, validateDetailed } from '../peers/fhir/conformance.mjs';
import * as good from './fixtures.mjs';

const UCUM = 'http://unitsofmeasure.org';
const errorRules = (resource) => [...new Set(errorsOf(validate(resource)).map((i) => i.rule))].sort();

function breaks(name, make, expected) {
  test(name, () => {
    const resource = make();
    assert.deepEqual(errorRules(resource), [...expected].sort(), JSON.stringify(errorsOf(validate(resource)), null, 1));
  });
}

for (const [name, make] of Object.entries(good.goodResources)) {
  test(`the good ${name} passes every checker, every rule evaluated`, () => {
    const { issues, unchecked } = validateDetailed(make());
    assert.deepEqual(errorsOf(issues), []);
    assert.deepEqual(unchecked, []);
  });
}

// ---- R4 invariants (from the R4 StructureDefinitions, on the fhirpath R4 engine) ----
const componentRepeatingCode = () => {
  const r = good.heartRate();
  r.component = [{ code: structuredClone(r.code), valueQuantity: { value: 60, unit: 'beats/minute', system: UCUM, code: '/min' } }];
  return r;
};
breaks('obs-7: a component repeating Observation.code beside a value', componentRepeatingCode, ['obs-7']);

test("obs-7: Medplum's FHIRPath (the peer's validator) misses what the checker catches", () => {
  // Resolved from the peer's node_modules, where the FHIR peer gets it.
  const { evalFhirPathTyped, toTypedValue } = createRequire(new URL('../peers/fhir/server.mjs', import.meta.url))('@medplum/core');
  const r = componentRepeatingCode();
  const expression = 'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()';
  const typed = toTypedValue(r);
  // The reason issue 13 exists: intersect() compares Codings by identity there, so obs-7 holds.
  assert.deepEqual(evalFhirPathTyped(expression, [typed], { '%resource': typed }).map((v) => v.value), [true]);
  assert.ok(errorRules(r).includes('obs-7'));
});

breaks('obs-6: dataAbsentReason beside a value', () => {
  const r = good.heartRate();
  r.dataAbsentReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'error' }] };
  return r;
}, ['obs-6']);
breaks('qty-3 (Quantity): a unit code without a system', () => {
  const r = good.bodyHeight();
  r.referenceRange = [{ low: { value: 150, code: 'cm' } }];
  return r;
}, ['qty-3']);
breaks('ref-1 (Reference): a local reference without a contained resource', () => {
  const r = good.heartRate();
  r.subject.reference = '#p1';
  return r;
}, ['ref-1']);
test('ref-1 as validators correct it: a reference by identifier only (R4 allows it) passes', () => {
  const r = good.bodyHeight();
  r.derivedFrom = [{ identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:61313cf7-e7f6-8f65-b472-f6de35a35078' } }];
  assert.deepEqual(errorsOf(validate(r)), []);
});
test('vs-1 as validators correct it: a vital sign over an effectivePeriod passes', () => {
  const r = good.heartRate();
  delete r.effectiveDateTime;
  r.effectivePeriod = { start: '2026-11-21T08:30:00Z', end: '2026-11-21T08:31:00Z' };
  assert.deepEqual(errorsOf(validate(r)), []);
});
breaks('ele-1: an empty string', () => {
  const r = good.heartRate();
  r.category[0].text = '';
  return r;
}, ['ele-1']);
// The nested resource is referred to from nowhere either (dom-3 on the contained one): R4 leaves no way to.
breaks('dom-2: a contained resource containing another', () => {
  const r = good.heartRate();
  r.contained = [{ resourceType: 'Patient', id: 'p', contained: [{ resourceType: 'Patient', id: 'q' }] }];
  r.subject.reference = '#p';
  return r;
}, ['dom-2', 'dom-3']);
breaks('dom-3: a contained resource nothing refers to', () => {
  const r = good.heartRate();
  r.contained = [{ resourceType: 'Patient', id: 'p' }];
  return r;
}, ['dom-3']);
breaks('dom-4: a contained resource with a versionId', () => {
  const r = good.heartRate();
  r.contained = [{ resourceType: 'Patient', id: 'p', meta: { versionId: '1' } }];
  r.subject.reference = '#p';
  return r;
}, ['dom-4']);
breaks('bdl-3 (Bundle): a transaction entry without request', () => {
  const r = good.transaction();
  delete r.entry[1].request;
  return r;
}, ['bdl-3']);

// ---- R4 structure and bindings ----
breaks('R4 structure: an unknown element', () => ({ ...good.heartRate(), valu: 1 }), ['R4:structure']);
breaks("R4 structure: Medplum's own Meta.author is not an R4 element", () => ({ ...good.heartRate(), meta: { author: { reference: 'Device/hub-1' } } }),
  ['R4:structure']);
breaks('R4 dateTime format', () => ({ ...good.heartRate(), effectiveDateTime: '2026-13-45T08:30:00Z' }), ['R4:dateTime:format']);
breaks('R4 required binding: DetectedIssue.status is an observation-status (R4, not R5)', () => ({ ...good.detectedIssue(), status: 'mitigated' }),
  ['R4:DetectedIssue.status:binding']);
breaks('UCUM: a Quantity in the UCUM system with a code that is not UCUM', () => {
  const r = good.bodyHeight();
  r.referenceRange = [{ low: { value: 150, system: UCUM, code: 'centimetre' } }];
  return r;
}, ['UCUM:code']);

// ---- R4 vital-signs profiles (applied by LOINC code) ----
breaks('vital signs required binding: body height in m (ucum-bodylength)', () => {
  const r = good.bodyHeight();
  r.valueQuantity = { value: 1.75, unit: 'm', system: UCUM, code: 'm' };
  return r;
}, ['observation-bodyheight:Observation.value[x]:valueQuantity.code:binding']);
breaks('vital signs component binding: a weight component in m (ucum-vitals-common)', () => {
  const r = good.heartRate();
  r.code.coding[0].code = '29463-7';
  r.valueQuantity = { value: 81.4, unit: 'kg', system: UCUM, code: 'kg' };
  r.component = [{ code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] }, valueQuantity: { value: 1.75, unit: 'm', system: UCUM, code: 'm' } }];
  return r;
}, ['observation-bodyweight:Observation.component.value[x]:binding']);
test('vital signs binding applies to coded types only: a component valueInteger is not checked against ucum-vitals-common', () => {
  const r = good.bloodPressure();
  r.component.push({ code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }, { system: 'urn:iso:std:iso:11073:10101', code: '149546' }] }, valueInteger: 64 });
  assert.deepEqual(errorsOf(validate(r)).filter((i) => i.rule.endsWith(':binding')), []);
});
breaks('vital signs fixed value: heart rate in a unit other than /min', () => {
  const r = good.heartRate();
  r.valueQuantity.code = '/s';
  return r;
}, ['observation-heartrate:Observation.value[x]:valueQuantity.code:fixed']);
breaks('vital signs slice VSCat: the vital-signs category missing', () => {
  const r = good.bloodPressure();
  r.category = r.category.slice(1);
  return r;
}, ['observation-bp:Observation.category:VSCat:min']);
breaks('vital signs slice SystolicBP: the systolic component missing', () => {
  const r = good.bloodPressure();
  r.component = r.component.slice(1);
  return r;
}, ['observation-bp:Observation.component:SystolicBP:min']);
breaks('vs-2: a vital sign without value, component or dataAbsentReason', () => {
  const r = good.heartRate();
  delete r.valueQuantity;
  return r;
}, ['vs-2']);
breaks('vs-1: a vital sign effective to the month only', () => ({ ...good.heartRate(), effectiveDateTime: '2026-11' }), ['vs-1']);

// ---- PHD IG (STU 2) profiles ----
breaks('PhdBaseObservation: no gatewayDevice extension', () => {
  const r = good.bloodPressure();
  delete r.extension;
  return r;
}, ['PhdBaseObservation:extension:GatewayDevice']);
breaks('PhdBaseObservation: the phd category in the same CodeableConcept as vital-signs (neither slice matches)', () => {
  const r = good.bodyHeight();
  r.category = [{ coding: [r.category[0].coding[0], r.category[1].coding[0]] }];
  return r;
}, ['PhdBaseObservation:category:PHD-Observation', 'observation-bodyheight:Observation.category:VSCat:min']);
breaks('PhdBaseObservation: an interpretation without a measurement-status coding', () => {
  const r = good.bodyHeight();
  r.interpretation = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H' }] }];
  return r;
}, ['PhdBaseObservation:interpretation.coding:MsmtStatusInterpretation']);
breaks('PhdBaseObservation: two conditional-create identifiers', () => {
  const r = good.bloodPressure();
  r.identifier.push({ ...r.identifier[0], value: 'another' });
  return r;
}, ['PhdBaseObservation:identifier:conditionalCreate']);
breaks('PhdNumericObservation: value in MDC units', () => {
  const r = good.bodyHeight();
  r.valueQuantity = { value: 175, unit: 'cm', system: 'urn:iso:std:iso:11073:10101', code: '263441' };
  return r;
}, ['PhdNumericObservation:valueQuantity', 'observation-bodyheight:Observation.value[x]:valueQuantity.system:fixed',
  'observation-bodyheight:Observation.value[x]:valueQuantity.code:binding']);
breaks('PhdCompoundNumericObservation: a component without its MDC coding', () => {
  const r = good.bloodPressure();
  r.component[2].code.coding.pop();
  return r;
}, ['PhdCompoundNumericObservation:component:compound.code.coding:MdcType']);

// ---- PHD Device profiles ----
breaks('PhdDevice: no manufacturer', () => {
  const r = good.phdDevice();
  delete r.manufacturer;
  return r;
}, ['PhdDevice:manufacturer']);
breaks('PhdDevice: the SYSID identifier in a carehub system', () => {
  const r = good.phdDevice();
  r.identifier[0].system = 'urn:carehub:device';
  return r;
}, ['PhdDevice:identifier:systemIdIdentifier']);
breaks('PhdDevice: no MDC version type', () => {
  const r = good.phdDevice();
  r.version[0].type.coding[0].code = '1';
  return r;
}, ['PhdDevice:version:MDCType']);
breaks('PhgDevice: the type of a PHD (65573) instead of a PHG (531981)', () => {
  const r = good.phgDevice();
  r.type.coding[0].code = '65573';
  return r;
}, ['PhgDevice:type.coding:MDCType']);
