// Conformance checker for the resources carehub sends, independent of Medplum's validator (which the FHIR peer
// uses and whose intersect() misses obs-7). validate(resource) -> [{severity, path, rule, message}], over:
//   - every R4 rule of the resource and of every element in it (conformance-structure.mjs, from the R4
//     StructureDefinitions): invariants (dom-*, obs-*, qty-3, ref-1, ele-1, ext-1, bdl-*, ...), cardinality,
//     unknown elements, primitive formats, required bindings; plus UCUM validity of UCUM quantities;
//   - the R4 vital-signs profiles, applied by LOINC code as the HL7 validator does, and any declared in
//     meta.profile: their invariants (vs-1..3), fixed values, required bindings and slices;
//   - the PHD IG (STU 2) profiles declared in meta.profile (conformance-phd.mjs).
// Bundles are walked: every entry resource gets all of the above.
import { createRequire } from 'node:module';
import { definitions } from './conformance-definitions.mjs';
import { coreIssues, profileIssues } from './conformance-structure.mjs';
import { phdIssues } from './conformance-phd.mjs';

const require = createRequire(import.meta.url);
const ucum = require('@lhncbc/ucum-lhc').UcumLhcUtils.getInstance();

const VITALSIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
let vitalsByCode = null;

// LOINC code -> the url of the vital-signs profile whose code slice fixes it, read from the profiles themselves.
function vitalSignsProfiles() {
  if (vitalsByCode) return vitalsByCode;
  vitalsByCode = new Map();
  for (const sd of definitions().byUrl.rawValues()) {
    if (sd.baseDefinition !== VITALSIGNS) continue;
    for (const el of sd.snapshot.element) {
      if (/^Observation\.code\.coding:[^.]+\.code$/.test(el.id) && el.fixedCode) vitalsByCode.set(el.fixedCode, sd.url);
    }
  }
  return vitalsByCode;
}

// The profiles the HL7 validator would apply to an Observation without being told: the vital-signs profile of
// each LOINC code it carries.
function implicitProfiles(resource) {
  if (resource.resourceType !== 'Observation') return [];
  const found = [];
  for (const c of resource.code?.coding ?? []) {
    const url = c.system === 'http://loinc.org' ? vitalSignsProfiles().get(c.code) : undefined;
    if (url && !found.includes(url)) found.push(url);
  }
  return found;
}

function checkUcum(node, path, issue) {
  if (Array.isArray(node)) return node.forEach((v, i) => checkUcum(v, `${path}[${i}]`, issue));
  if (node === null || typeof node !== 'object') return;
  if (node.system === 'http://unitsofmeasure.org' && typeof node.code === 'string' && 'value' in node) {
    const r = ucum.validateUnitString(node.code);
    if (r.status !== 'valid') issue('error', path, 'UCUM:code', `'${node.code}' is not a valid UCUM unit`);
  }
  for (const [k, v] of Object.entries(node)) if (k !== 'resource' && k !== 'contained') checkUcum(v, `${path}.${k}`, issue);
}

// Every issue of `resource` (a resource or a Bundle); `unchecked` collects what could not be evaluated.
export function validateDetailed(resource) {
  const issues = [];
  const unchecked = new Set();
  const issue = (severity, path, rule, message) => issues.push({ severity, path, rule, message });
  const ctx = { issue, unchecked, env: null };
  ctx.onResource = (res, path) => {
    checkUcum(res, path, issue);
    const declared = (res.meta?.profile ?? []).map((p) => p.split('|')[0]);
    for (const url of new Set([...declared, ...implicitProfiles(res)])) {
      if (phdIssues(res, url, path, issue)) continue;
      const def = definitions().byUrl.get(url);
      if (!def) {
        issue('warning', path, 'profile:unknown', `profile ${url} is not known to this checker`);
      } else if (def.type !== res.resourceType) {
        issue('error', path, 'profile:type', `${url} applies to ${def.type}, not ${res.resourceType}`);
      } else if (def.sd.derivation === 'constraint') {
        profileIssues(res, def, path, ctx);
      }
    }
  };
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    issue('error', '$', 'R4:structure', 'a resource must be a JSON object');
  } else {
    coreIssues(resource, ctx);
  }
  return { issues, unchecked: [...unchecked].sort() };
}

export function validate(resource) {
  return validateDetailed(resource).issues;
}

// Only errors make a resource non-conformant; warnings (e.g. dom-6: no narrative) are reported, not failed.
export const errorsOf = (issues) => issues.filter((i) => i.severity === 'error');
