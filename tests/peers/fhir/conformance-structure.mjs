// Walks a resource against StructureDefinition snapshots and evaluates their constraints with the `fhirpath`
// package's R4 model (the reference FHIRPath engine; unlike Medplum's, its intersect()/= compare by value, so
// obs-7 fires when a component repeats the Observation's code).
//   coreIssues(resource)        every R4 rule of the resource type and of every datatype present: cardinality,
//                               unknown elements, primitive formats, required bindings, every invariant.
//   profileIssues(resource, d)  the rules a profile (e.g. R4 vital signs) adds: cardinalities, fixed and pattern
//                               values, required bindings, slices (value, pattern and type discriminators) and
//                               its own invariants.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import { definitions, expandValueSet } from './conformance-definitions.mjs';

// Known defects in R4's published expressions, corrected as the HL7 Java validator corrects them before
// evaluating (org.hl7.fhir.validation instance/utils/FHIRPathExpressionFixer.fixExpr, the R4 entries), keyed by
// the exact published expression; vs-1 as Firely's validator corrects it (FirelyTeam/firely-validator-api#202):
// `$this as dateTime` is empty for an effectivePeriod, which would fail every Period.
const REF_1_R4 = "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))";
const FIXED_EXPRESSIONS = new Map([
  // ref-1: a reference by identifier or display only (no `reference`) is valid R4
  [REF_1_R4, `reference.exists() implies (reference = '#' or (${REF_1_R4}))`],
  // bdl-8: an entry without fullUrl
  ["fullUrl.contains('/_history/').not()", "fullUrl.exists() implies fullUrl.contains('/_history/').not()"],
  ['probability is decimal implies (probability as decimal) <= 100', 'probability.empty() or ((probability is decimal) implies ((probability as decimal) <= 100))'],
  ['enableWhen.count() > 2 implies enableBehavior.exists()', 'enableWhen.count() >= 2 implies enableBehavior.exists()'],
  ["generated='generated' implies source.empty()", "generation='generated' implies source.empty()"],
]);
// dom-3 filters descendants with the function as(), which the FHIRPath spec (and fhirpath.js) make an error on a
// collection of more than one item; the Java engine filters instead. ofType() is that filter.
const FIXED_KEYS = new Map([
  ['vs-1', () => '$this is dateTime implies $this.toString().length() >= 10'],
  ['dom-3', (expression) => expression.replaceAll('descendants().as(', 'descendants().ofType(').replaceAll('.where(as(canonical)', '.where(ofType(canonical)')],
]);
const fixup = (c) => FIXED_KEYS.get(c.key)?.(c.expression) ?? FIXED_EXPRESSIONS.get(c.expression) ?? c.expression;
const quiet = { traceFn: () => {} }; // dom-3's trace() would print to stdout

const compiled = new Map();
// Evaluates one invariant on one node; returns true, false, or an Error the expression could not be run with.
function holds(node, base, expression, env) {
  const key = `${base}\u0000${expression}`;
  let fn = compiled.get(key);
  try {
    if (!fn) {
      fn = fhirpath.compile({ base, expression }, r4, quiet);
      compiled.set(key, fn);
    }
    const result = fn(node, env);
    // As the HL7 validator does: only a single `true` passes; false and empty both fail.
    return result.length === 1 && result[0] === true;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

const isSystemType = (code) => code?.startsWith('http://hl7.org/fhirpath/System.');
const PRIMITIVES = new Set(['boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary',
  'instant', 'date', 'dateTime', 'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid', 'xhtml']);
const isPrimitive = (code) => PRIMITIVES.has(code) || isSystemType(code);
const NUMERIC = new Set(['integer', 'decimal', 'unsignedInt', 'positiveInt']);

const regexes = new Map();
function regexOf(type) {
  if (regexes.has(type)) return regexes.get(type);
  const def = definitions().core.get(type);
  const valueEl = def?.byId.get(`${type}.value`);
  const ext = valueEl?.type?.[0]?.extension?.find((x) => x.url === 'http://hl7.org/fhir/StructureDefinition/regex');
  const re = ext ? new RegExp(`^(?:${ext.valueString})$`) : null;
  regexes.set(type, re);
  return re;
}

const lastSegment = (path) => path.slice(path.lastIndexOf('.') + 1);
const capital = (s) => s[0].toUpperCase() + s.slice(1);

// The values present for one element of `obj`, with their JSON field, type and array position. Primitive values
// come with their `_field` companion (id and extensions of the primitive).
export function gather(obj, el) {
  const name = lastSegment(el.path);
  const out = [];
  const push = (field, type) => {
    const v = obj[field];
    const x = obj[`_${field}`];
    if (v === undefined && x === undefined) return;
    const isArray = Array.isArray(v) || Array.isArray(x);
    const vs = Array.isArray(v) ? v : v === undefined ? [] : [v];
    const xs = Array.isArray(x) ? x : x === undefined ? [] : [x];
    for (let i = 0; i < Math.max(vs.length, xs.length); i++) {
      out.push({ value: vs[i] ?? undefined, ext: xs[i] ?? undefined, field, type, index: isArray ? i : null, isArray });
    }
  };
  if (name.endsWith('[x]')) {
    for (const t of el.type ?? []) push(name.slice(0, -3) + capital(t.code), t.code);
  } else {
    push(name, el.type?.[0]?.code ?? null);
  }
  return out;
}

const fieldNames = (el) => {
  const name = lastSegment(el.path);
  return name.endsWith('[x]') ? (el.type ?? []).map((t) => name.slice(0, -3) + capital(t.code)) : [name];
};
const itemPath = (parent, it) => (it.field ? `${parent}.${it.field}${it.isArray ? `[${it.index}]` : ''}` : parent);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function codingsOf(value, type) {
  if (value === undefined || value === null) return [];
  if (type === 'Coding') return [value];
  if (type === 'CodeableConcept') return value.coding ?? [];
  if (type === 'Quantity' || type === 'Duration' || type === 'Age' || type === 'Count' || type === 'Distance') {
    return value.code !== undefined ? [{ system: value.system, code: value.code }] : [];
  }
  return typeof value === 'string' ? [{ code: value }] : [];
}

// The types a binding applies to (R4 eld-11: coded elements, string, uri; Quantity by its unit code), as the HL7
// validator checks them: a binding on a choice such as Observation.component.value[x] says nothing about an
// integer or a Period in it.
const BINDABLE = new Set(['code', 'Coding', 'CodeableConcept', 'Quantity', 'Duration', 'Age', 'Count', 'Distance', 'string', 'uri']);

// A required binding: some coding of the value is in the value set. Sets the R4 files cannot enumerate are
// recorded in ctx.unchecked instead of failing.
function checkBinding(it, el, path, ctx, rule) {
  const b = el.binding;
  if (!b || b.strength !== 'required' || !b.valueSet || !BINDABLE.has(it.type)) return;
  if (it.value === undefined || it.value === null || it.value === '') return;
  const vs = expandValueSet(b.valueSet);
  if (!vs) {
    ctx.unchecked.add(`binding ${b.valueSet.split('|')[0]}`);
    return;
  }
  const codes = codingsOf(it.value, it.type);
  const inSet = (c) => (c.system ? vs.has(`${c.system}|${c.code}`) : [...vs].some((s) => s.endsWith(`|${c.code}`)));
  if (!codes.some(inSet)) {
    const shown = codes.map((c) => `${c.system ?? ''}#${c.code}`).join(', ') || 'no code';
    const name = b.valueSet.split('|')[0].split('/').pop();
    ctx.issue('error', path, rule, `${shown} is not in the required value set ${name}`);
  }
}

// `wrap` turns the invariant into the expression actually run (primitives are checked from their parent).
function checkConstraints(constraints, node, base, path, ctx, skipKey, wrap = (e) => e) {
  for (const c of constraints) {
    if (!c.expression || skipKey(c.key)) continue;
    const ok = holds(node, base, wrap(fixup(c)), ctx.env);
    if (ok === true) continue;
    if (ok instanceof Error) {
      ctx.unchecked.add(`${c.key} (${ok.message.split('\n')[0].slice(0, 80)})`);
      continue;
    }
    ctx.issue(c.severity === 'warning' ? 'warning' : 'error', path, c.key, c.human);
  }
}

// ---- core R4 -------------------------------------------------------------------------------------------------

const coreSkip = () => false;

function checkCardinality(items, el, path, ctx, rule) {
  const max = el.max === '*' ? Infinity : Number(el.max);
  if (items.length < el.min) ctx.issue('error', `${path}.${lastSegment(el.path)}`, `${rule}:min`, `${el.id}: minimum ${el.min}, found ${items.length}`);
  if (items.length > max) ctx.issue('error', `${path}.${lastSegment(el.path)}`, `${rule}:max`, `${el.id}: maximum ${el.max}, found ${items.length}`);
}

function walkCore(obj, def, elId, base, path, ctx, isResourceRoot) {
  const children = def.childrenOf(elId);
  const known = new Set(isResourceRoot ? ['resourceType'] : []);
  for (const el of children) for (const f of fieldNames(el)) known.add(f).add(`_${f}`);
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) ctx.issue('error', `${path}.${key}`, 'R4:structure', `unknown element '${key}' in ${elId}`);
  }
  for (const el of children) {
    const items = gather(obj, el);
    checkCardinality(items, el, path, ctx, `R4:${el.path}`);
    const single = el.max === '1';
    for (const it of items) {
      const p = itemPath(path, it);
      if (single && it.isArray) ctx.issue('error', p, 'R4:structure', `${el.path} is not repeating but is a JSON array`);
      if (!single && !it.isArray) ctx.issue('error', p, 'R4:structure', `${el.path} repeats and must be a JSON array`);
      checkCoreItem(it, el, def, base, obj, p, ctx);
    }
  }
}

function checkPrimitive(it, el, base, parent, p, ctx) {
  const v = it.value;
  const hasExt = isObject(it.ext) && Array.isArray(it.ext.extension) && it.ext.extension.length > 0;
  if (v === undefined || v === null || v === '') {
    if (!hasExt) ctx.issue('error', p, 'ele-1', 'a primitive needs a value or an extension (no empty strings or nulls)');
  } else if (it.type === 'boolean' ? typeof v !== 'boolean' : NUMERIC.has(it.type) ? typeof v !== 'number' : typeof v !== 'string') {
    ctx.issue('error', p, 'R4:structure', `${it.type} has the wrong JSON type (${typeof v})`);
  } else if (!isSystemType(it.type) && it.type !== 'xhtml') {
    const re = regexOf(it.type);
    if (re && !re.test(String(v))) ctx.issue('error', p, `R4:${it.type}:format`, `'${v}' is not a valid ${it.type}`);
  }
  if (it.ext !== undefined) walkCore(it.ext, definitions().core.get('Element'), 'Element', 'Element', `${p}(_)`, ctx, false);
  // Other primitive-level invariants: evaluated from the parent so the engine sees the typed value.
  const rest = (el.constraint ?? []).filter((c) => c.key !== 'ele-1');
  if (rest.length && v !== undefined) {
    const nav = `${lastSegment(el.path).replace('[x]', '')}${it.isArray ? `[${it.index}]` : ''}`;
    checkConstraints(rest, parent, base, p, ctx, coreSkip, (e) => `${nav}.all(${e})`);
  }
}

function checkCoreItem(it, el, def, base, parent, p, ctx) {
  const defs = definitions();
  checkBinding(it, el, p, ctx, `R4:${el.path}:binding`);
  if (el.contentReference) {
    const target = el.contentReference.slice(el.contentReference.indexOf('#') + 1);
    if (!isObject(it.value)) return ctx.issue('error', p, 'R4:structure', `${el.path} must be a JSON object`);
    checkConstraints(def.byId.get(target)?.constraint ?? [], it.value, target, p, ctx, coreSkip);
    return walkCore(it.value, def, target, target, p, ctx, false);
  }
  if (isPrimitive(it.type)) return checkPrimitive(it, el, base, parent, p, ctx);
  if (!isObject(it.value)) return ctx.issue('error', p, 'R4:structure', `${el.path} must be a JSON object`);
  if (def.childrenOf(el.id).length > 0) {
    // A backbone element defined inline in this StructureDefinition.
    checkConstraints(el.constraint ?? [], it.value, el.path, p, ctx, coreSkip);
    return walkCore(it.value, def, el.id, el.path, p, ctx, false);
  }
  if (it.type === 'Resource' || defs.core.get(it.type)?.sd.kind === 'resource') {
    const nested = el.path.endsWith('.contained') ? ctx.env.rootResource : it.value;
    return checkResourceInto(it.value, p, ctx, nested);
  }
  const tdef = defs.core.get(it.type);
  if (!tdef) return ctx.unchecked.add(`type ${it.type}`);
  const seen = new Set();
  const constraints = [...(el.constraint ?? []), ...(tdef.root.constraint ?? [])].filter((c) => !seen.has(c.key) && seen.add(c.key));
  checkConstraints(constraints, it.value, it.type, p, ctx, coreSkip);
  walkCore(it.value, tdef, it.type, it.type, p, ctx, false);
}

function checkResourceInto(resource, path, ctx, rootResource) {
  const def = definitions().core.get(resource?.resourceType);
  if (!def || def.sd.kind !== 'resource') {
    return ctx.issue('error', path, 'R4:structure', `unknown resourceType '${resource?.resourceType}'`);
  }
  const saved = ctx.env;
  ctx.env = { resource, rootResource: rootResource ?? resource };
  checkConstraints(def.root.constraint ?? [], resource, def.type, path, ctx, coreSkip);
  walkCore(resource, def, def.type, def.type, path, ctx, true);
  ctx.env = saved;
  if (ctx.onResource) ctx.onResource(resource, path);
}

// Runs the core R4 checks over a resource (and every resource inside it: Bundle entries, contained).
// ctx.onResource(resource, path) is called for each of them, so callers can add profile checks.
export function coreIssues(resource, ctx) {
  checkResourceInto(resource, resource?.resourceType ?? '$', ctx, resource);
}

// ---- profiles ------------------------------------------------------------------------------------------------

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
}
// FHIR pattern semantics: everything in the pattern is present in the value; array items match some item.
function containsPattern(value, pattern) {
  if (typeof pattern !== 'object' || pattern === null) return value === pattern;
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((p) => value.some((v) => containsPattern(v, p)));
  return isObject(value) && Object.keys(pattern).every((k) => containsPattern(value[k], pattern[k]));
}

const fixedOf = (el) => {
  for (const k of Object.keys(el)) {
    if (k.startsWith('fixed')) return { kind: 'fixed', value: el[k] };
    if (k.startsWith('pattern')) return { kind: 'pattern', value: el[k] };
  }
  return null;
};

// mode: null for a full check; { root, paths } when only deciding whether an item belongs to a slice (then only
// fixed/pattern values on the discriminator paths and nested slices count).
function profileElement(items, pdef, el, ctx, mode, parentBase, parent, parentPath) {
  const rel = mode ? el.path.slice(mode.root.length).replace(/^\./, '') : null;
  const onPath = (r) => !mode || mode.paths.some((d) => d === '$this' || d === r || d.startsWith(`${r}.`) || r === '');
  const fixed = fixedOf(el);
  const coreKeys = definitions().coreKeys;
  for (const it of items) {
    const p = itemPath(parentPath, it);
    if (fixed && (!mode || onPath(rel))) {
      const ok = fixed.kind === 'fixed' ? deepEqual(it.value, fixed.value) : containsPattern(it.value, fixed.value);
      if (!ok) ctx.issue('error', p, `${pdef.name}:${el.id}:${fixed.kind}`, `must be ${fixed.kind === 'fixed' ? 'exactly' : 'like'} ${JSON.stringify(fixed.value)}`);
    }
    if (!mode) {
      checkBinding(it, el, p, ctx, `${pdef.name}:${el.id}:binding`);
      const own = (el.constraint ?? []).filter((c) => !coreKeys.has(c.key));
      if (own.length && it.value !== undefined) {
        if (isObject(it.value)) {
          const base = isPrimitive(it.type) || !definitions().core.has(it.type) || it.type === 'BackboneElement' ? el.path : it.type;
          checkConstraints(own, it.value, el.path === pdef.type ? pdef.type : base, p, ctx, coreSkip);
        } else {
          const nav = `${lastSegment(el.path).replace('[x]', '')}${it.isArray ? `[${it.index}]` : ''}`;
          checkConstraints(own, parent, parentBase, p, ctx, coreSkip, (e) => `${nav}.all(${e})`);
        }
      }
    }
    if (!isObject(it.value)) continue;
    const base = definitions().core.has(it.type) && it.type !== 'BackboneElement' && it.type !== 'Resource' ? it.type : el.path;
    for (const ch of pdef.childrenOf(el.id)) {
      const chRel = mode ? ch.path.slice(mode.root.length).replace(/^\./, '') : null;
      if (mode && !onPath(chRel)) continue;
      const chItems = gather(it.value, ch);
      if (!mode) profileCardinality(chItems, ch, pdef, p, ctx);
      profileElement(chItems, pdef, ch, ctx, mode, base, it.value, p);
    }
  }
  const slices = pdef.slicesOf(el.id);
  if (!el.slicing || slices.length === 0) return;
  const matched = new Set();
  for (const slice of slices) {
    const members = items.filter((it) => inSlice(it, slice, el.slicing.discriminator ?? [], pdef, ctx));
    members.forEach((m) => matched.add(m));
    const max = slice.max === '*' ? Infinity : Number(slice.max);
    const where = `${parentPath}.${lastSegment(el.path)}`;
    if (members.length < slice.min) ctx.issue('error', where, `${pdef.name}:${slice.id}:min`, `slice ${slice.sliceName}: minimum ${slice.min}, found ${members.length}`);
    if (members.length > max) ctx.issue('error', where, `${pdef.name}:${slice.id}:max`, `slice ${slice.sliceName}: maximum ${slice.max}, found ${members.length}`);
    profileElement(members, pdef, slice, ctx, mode, parentBase, parent, parentPath);
  }
  if (el.slicing.rules === 'closed') {
    for (const it of items) {
      if (!matched.has(it)) ctx.issue('error', itemPath(parentPath, it), `${pdef.name}:${el.id}:closed`, `not allowed: matches none of the slices of ${el.id}`);
    }
  }
}

function inSlice(it, slice, discriminators, pdef, ctx) {
  const paths = [];
  for (const d of discriminators) {
    if (d.type === 'type') {
      if (it.type !== slice.type?.[0]?.code) return false;
    } else if (d.type === 'value' || d.type === 'pattern') {
      paths.push(d.path);
    } else {
      ctx.unchecked.add(`${pdef.name}: ${d.type} discriminator`);
      return false;
    }
  }
  if (paths.length === 0) return true;
  const probe = { issue: () => (probe.failed = true), unchecked: ctx.unchecked, env: ctx.env, failed: false };
  profileElement([it], pdef, slice, probe, { root: slice.path, paths }, null, null, '');
  return !probe.failed;
}

function profileCardinality(items, el, pdef, path, ctx) {
  const core = definitions().core.get(pdef.type)?.byId.get(el.path);
  if (core && core.min === el.min && core.max === el.max) return; // the core walk checks it already
  checkCardinality(items, el, path, ctx, `${pdef.name}:${el.id}`);
}

// The rules `pdef` adds to `resource` (the core walk reports the ones R4 itself has).
export function profileIssues(resource, pdef, path, ctx) {
  const saved = ctx.env;
  ctx.env = { resource, rootResource: resource };
  profileElement([{ value: resource, type: pdef.type, field: '', index: null, isArray: false }], pdef, pdef.root, ctx, null, pdef.type, null, path);
  ctx.env = saved;
}
