// The rules of the HL7 Personal Health Device IG, STU 2 (2.0.0), transcribed from its FSH source
// (github.com/HL7/phd, tag 2.0.0, input/fsh/StructureDefinition.*.fsh) as FHIRPath over the resource, evaluated by
// the `fhirpath` R4 engine. Each rule names the FSH element it comes from, so a failure points at the IG text.
// Applied to resources that declare the profile in meta.profile, as the HL7 validator does.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { expandValueSet } from './conformance-definitions.mjs';

const PHD = 'http://hl7.org/fhir/uv/phd/StructureDefinition/';
const MDC = "'urn:iso:std:iso:11073:10101'";
const UCUM = "'http://unitsofmeasure.org'";
const GATEWAY = "'http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice'";
const MSMT = "'http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status'";
const CDI = "'http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers'";
const inList = (codes) => `(${codes.map((c) => `code = '${c}'`).join(' or ')})`;
// ValueSets of the IG (input/fsh/ValueSet.*.fsh at 2.0.0), enumerated there.
const MDC_CLOCK_TYPES = ['67975', '68226', '67983', '68072'];
const MDC_DEVICE_VERSION_TYPES = ['531974', '531975', '531976', '531977', '532352', '67912'];
const DEVICE_TYPES_11073_MDC = ['528385', '528384', '528388', '528390', '528391', '528392', '528397', '528399',
  '528401', '528402', '528403', '528404', '528405', '528406', '528408', '528409', '528412', '528413', '528425',
  '528426', '528455', '528456', '528457', '528484', '528501', '528502', '528503', '528504', '528505', '528506',
  '528507', '528508', '528509', '528510', '528511', '528512', '528513', '528514', '528524', '528525', '528532',
  '528533', '528534', '528535', '528536'];
const refTo = (types) => `reference.matches('^urn:uuid:|(^|/)(${types.join('|')})/[A-Za-z0-9.-]{1,64}(/_history/.+)?$')`;

const baseObservation = [
  ['PhdBaseObservation:extension:GatewayDevice', `extension.where(url = ${GATEWAY}).count() = 1 and extension.where(url = ${GATEWAY}).value.ofType(Reference).${refTo(['Device'])}`,
    'exactly one observation-gatewayDevice extension (1..1) with a reference to the PhgDevice'],
  ['PhdBaseObservation:category:PHD-Observation', "category.where(coding.exists() and coding.all(system = 'http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories' and code = 'phd')).count() = 1",
    'exactly one category whose codings are all PhdObservationCategories#phd (slice PHD-Observation 1..1)'],
  ['PhdBaseObservation:identifier:conditionalCreate', `identifier.where(system = '${PHD}PhdBaseObservation').count() <= 1 and identifier.where(system = '${PHD}PhdBaseObservation').all(type.empty() and value.exists())`,
    'the conditionalCreate identifier (system PhdBaseObservation) is 0..1, has a value and no type'],
  ['mdc-1', `code.coding.exists() and code.coding.where(system = ${MDC}).exists()`, 'a (published or private) MDC code is expected in Observation.code', 'warning'],
  ['PhdBaseObservation:subject', `subject.exists() and subject.${refTo(['Patient', 'Device'])}`, 'subject 1.. is a reference to a Patient or PhdDevice'],
  ['PhdBaseObservation:effective', 'effective.ofType(dateTime).exists() or effective.ofType(Period).exists()', 'effective[x] 1.. only dateTime or Period'],
  ['PhdBaseObservation:interpretation.coding:MsmtStatusInterpretation', `interpretation.all(coding.where(system = ${MSMT}).count() = 1 and coding.where(system = ${MSMT}).all(code.exists()))`,
    'every interpretation carries exactly one measurement-status coding (slice MsmtStatusInterpretation 1..1)'],
  ['PhdBaseObservation:device', `device.exists() and device.${refTo(['Device'])}`, 'device 1.. with reference 1..1 to the PhdDevice'],
  ['PhdBaseObservation:component:supplementalTypesComponent', `component.where(code.coding.where(system = ${MDC} and code = '68193').exists()).all(value.ofType(CodeableConcept).coding.all(system = ${MDC} and code.exists()) and value.ofType(CodeableConcept).exists() and dataAbsentReason.empty())`,
    'a Supplemental-Types component (MDC 68193) has a valueCodeableConcept of MDC codes and no dataAbsentReason'],
];

const quantityUcum = `value.exists() and system = ${UCUM} and code.exists()`;
const numericObservation = [
  ...baseObservation,
  ['PhdNumericObservation:value[x]', 'value.empty() or value.ofType(Quantity).exists()', 'value[x] only Quantity'],
  ['PhdNumericObservation:valueQuantity', `value.ofType(Quantity).all(${quantityUcum})`, 'valueQuantity has value 1.., system = UCUM (exactly) and code 1..'],
];

const compound = `component.where(code.coding.where(system = ${MDC} and code = '68193').empty())`;
const compoundNumericObservation = [
  ...baseObservation,
  ['PhdCompoundNumericObservation:value[x]', 'value.empty()', 'value[x] ..0: the values are in the components'],
  ['PhdCompoundNumericObservation:component:compound.code.coding:MdcType', `${compound}.all(code.coding.where(system = ${MDC}).count() = 1)`,
    'every compound component code has exactly one MDC coding (slice MdcType 1..1)'],
  ['PhdCompoundNumericObservation:component:compound.valueQuantity', `${compound}.all((value.empty() or value.ofType(Quantity).exists()) and value.ofType(Quantity).all(${quantityUcum}))`,
    'compound components: value[x] only Quantity, with value 1.., system = UCUM and code 1..'],
  ['PhdCompoundNumericObservation:component:compound.interpretation', `${compound}.interpretation.all(coding.where(system = ${MSMT}).count() = 1)`,
    'every component interpretation carries exactly one measurement-status coding'],
];

const coincidentTimeStamp = [
  ['PhdCoincidentTimeStampObservation:status', "status = 'final'", 'status = #final (exactly)'],
  ['PhdCoincidentTimeStampObservation:code.coding:MDCType', `code.coding.where(system = ${MDC} and ${inList(MDC_CLOCK_TYPES)}).count() = 1`,
    'code has exactly one MDC clock type coding (MDCClockTypes, required)'],
  ['PhdCoincidentTimeStampObservation:subject', `subject.${refTo(['Device'])}`, 'subject 1.. is a reference to the PhdDevice'],
  ['PhdCoincidentTimeStampObservation:value[x]', 'value.empty() or value.ofType(dateTime).exists() or value.ofType(Quantity).exists()', 'value[x] only dateTime or Quantity'],
  ['PhdCoincidentTimeStampObservation:device', `device.${refTo(['Device'])}`, 'device 1.. with reference 1..1 to the PhgDevice'],
  ['PhdCoincidentTimeStampObservation:derivedFrom', 'derivedFrom.empty()', 'derivedFrom 0..0'],
  ['PhdCoincidentTimeStampObservation:hasMember', 'hasMember.empty()', 'hasMember 0..0'],
  ['PhdCoincidentTimeStampObservation:specimen', 'specimen.empty()', 'specimen 0..0'],
  ['PhdCoincidentTimeStampObservation:focus', 'focus.empty()', 'focus 0..0'],
  ['PhdCoincidentTimeStampObservation:component:clockSyncMethod', `component.where(code.coding.where(system = ${MDC} and code = '68220').exists()).all(dataAbsentReason.empty())`,
    'the clockSyncMethod component (MDC 68220) has no dataAbsentReason'],
];

const idSlice = (code) => `identifier.where(type.coding.where(system = ${CDI} and code = '${code}').exists())`;
const deviceIdentifiers = (p) => [
  [`${p}:identifier`, 'identifier.exists()', 'identifier 1..'],
  [`${p}:identifier:systemIdIdentifier`, `${idSlice('SYSID')}.count() <= 1 and ${idSlice('SYSID')}.all(system = 'urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680' and value.exists())`,
    'systemIdIdentifier 0..1: system urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680 (exactly), value 1..'],
  [`${p}:identifier:systemIdIdentifier.value`, `${idSlice('SYSID')}.all(value.matches('^([0-9A-F]{2}-){7}[0-9A-F]{2}$'))`,
    'the EUI-64 as 8 upper-case hex bytes separated by dashes, e.g. FE-ED-AB-EE-DE-AD-77-C3 (element definition)', 'warning'],
  [`${p}:identifier:btmacAddressIdentifier`, `${idSlice('BTMAC')}.count() <= 1 and ${idSlice('BTMAC')}.all(system = 'http://hl7.org/fhir/sid/eui-48/bluetooth' and value.exists())`,
    'btmacAddressIdentifier 0..1: system http://hl7.org/fhir/sid/eui-48/bluetooth (exactly), value 1..'],
  [`${p}:identifier:btmacAddressIdentifier.value`, `${idSlice('BTMAC')}.all(value.matches('^([0-9A-F]{2}-){5}[0-9A-F]{2}$'))`,
    'the Bluetooth address as an EUI-48 with dashes, e.g. 00-E5-DE-AD-77-C3 (element definition)', 'warning'],
  [`${p}:identifier:macAddressIdentifier`, `${idSlice('ETHMAC')}.count() <= 1 and ${idSlice('ETHMAC')}.all(system = 'http://hl7.org/fhir/sid/eui-48/ethernet' and value.exists())`,
    'macAddressIdentifier 0..1: system http://hl7.org/fhir/sid/eui-48/ethernet (exactly), value 1..'],
];
const versionSlice = `version.where(type.coding.where(system = ${MDC} and ${inList(MDC_DEVICE_VERSION_TYPES)}).exists())`;
const specializationSlice = `specialization.where(systemType.coding.where(system = ${MDC} and ${inList(DEVICE_TYPES_11073_MDC)}).exists())`;
const deviceProperties = (p) => [
  [`${p}:property:timeSyncProperty`, `property.where(type.coding.where(system = ${MDC} and code = '68220').exists()).count() <= 1 and property.where(type.coding.where(system = ${MDC} and code = '68220').exists()).all(valueCode.count() <= 1 and valueCode.coding.exists())`,
    'timeSyncProperty (MDC 68220) 0..1 with one valueCode of 1..* codings'],
  [`${p}:property:timeSyncAccuracyProperty`, `property.where(type.coding.where(system = ${MDC} and code = '68221').exists()).all(valueQuantity.count() = 1 and valueQuantity.all(system = ${UCUM} and code = 'us'))`,
    'timeSyncAccuracyProperty (MDC 68221): one valueQuantity in UCUM us'],
  [`${p}:parent`, 'parent.empty()', 'parent ..0'],
];

const phdDevice = [
  ...deviceIdentifiers('PhdDevice'),
  ['PhdDevice:manufacturer', 'manufacturer.exists()', 'manufacturer 1..'],
  ['PhdDevice:modelNumber', 'modelNumber.exists()', 'modelNumber 1..'],
  ['PhdDevice:type.coding:PhdCode', `type.coding.where(system = ${MDC} and code = '65573').count() = 1`, 'type 1.. with exactly one coding MDC#65573 (slice PhdCode 1..1)'],
  ['PhdDevice:specialization:MDCType', `${specializationSlice}.exists() and ${specializationSlice}.all(version.exists())`,
    'specialization 1..: at least one with an MDC device specialization (DeviceTypes11073MDC, required) and a version'],
  ['PhdDevice:version:MDCType', `${versionSlice}.exists() and ${versionSlice}.all(component.empty())`,
    'version 1..*: at least one whose type is an MDC version type (MDCDeviceVersionTypes, required), no component'],
  ...deviceProperties('PhdDevice'),
];

const phgDevice = [
  ...deviceIdentifiers('PhgDevice'),
  ['PhgDevice:type.coding:MDCType', `type.coding.where(system = ${MDC}).count() = 1 and type.coding.where(system = ${MDC}).all(code = '531981')`,
    'type 1.. with exactly one MDC coding, code 531981 (exactly)'],
  ['PhgDevice:specialization:MDCType', `${specializationSlice}.exists()`, 'specialization 1..*: at least one with an MDC device specialization (DeviceTypes11073MDC)'],
  ['PhgDevice:version:MDCType', `${versionSlice}.exists() and ${versionSlice}.all(component.empty())`,
    'version 1..*: at least one whose type is an MDC version type (MDCDeviceVersionTypes), no component'],
  ...deviceProperties('PhgDevice'),
];

export const PHD_PROFILES = new Map([
  [`${PHD}PhdBaseObservation`, { type: 'Observation', rules: baseObservation }],
  [`${PHD}PhdNumericObservation`, { type: 'Observation', rules: numericObservation }],
  [`${PHD}PhdCompoundNumericObservation`, { type: 'Observation', rules: compoundNumericObservation }],
  [`${PHD}PhdCoincidentTimeStampObservation`, { type: 'Observation', rules: coincidentTimeStamp }],
  [`${PHD}PhdDevice`, { type: 'Device', rules: phdDevice }],
  [`${PHD}PhgDevice`, { type: 'Device', rules: phgDevice }],
]);

const compiled = new Map();
// Reports the issues `resource` has against one PHD profile (by url); false if the url is not one transcribed here.
export function phdIssues(resource, url, path, issue) {
  const profile = PHD_PROFILES.get(url.split('|')[0]);
  if (!profile) return false;
  if (resource.resourceType !== profile.type) {
    issue('error', path, 'profile:type', `${url} applies to ${profile.type}, not ${resource.resourceType}`);
    return true;
  }
  for (const [rule, expression, message, severity] of profile.rules) {
    let fn = compiled.get(expression);
    if (!fn) compiled.set(expression, (fn = fhirpath.compile({ base: profile.type, expression }, r4, { traceFn: () => {} })));
    let r;
    let text = message;
    try {
      r = fn(resource, { resource, rootResource: resource });
    } catch (e) {
      // Malformed input the engine cannot navigate (e.g. a string where an object belongs): the rule does not hold.
      r = [];
      text = `${message} (could not be evaluated: ${String(e.message ?? e).split('\n')[0]})`;
    }
    if (!(r.length === 1 && r[0] === true)) issue(severity ?? 'error', path, rule, text);
  }
  // dataAbsentReason.coding from data-absent-reason (required), on the Observation and on compound components.
  if (profile.type === 'Observation') {
    const dar = expandValueSet('http://hl7.org/fhir/ValueSet/data-absent-reason');
    const reasons = [resource.dataAbsentReason, ...(resource.component ?? []).map((c) => c.dataAbsentReason)].filter(Boolean);
    for (const r of reasons) {
      if (dar && !(r.coding ?? []).every((c) => dar.has(`${c.system}|${c.code}`))) {
        issue('error', path, 'PhdBaseObservation:dataAbsentReason.coding:binding', 'dataAbsentReason codings come from data-absent-reason (required)');
      }
    }
  }
  return true;
}
