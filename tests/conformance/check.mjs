#!/usr/bin/env node
// Checks FHIR resources against R4, the R4 vital-signs profiles and the PHD IG (tests/peers/fhir/conformance.mjs).
//   node tests/conformance/check.mjs [--warnings] [--quiet] [--strict] [FILE...]   (no FILE, or "-": stdin)
// --strict: a rule that could not be evaluated (an expression the engine refuses, a value set the R4 files
// cannot enumerate) fails the run too, instead of only being listed.
// A FILE holds JSON (a resource, a Bundle, or an array of them) or markdown whose ```json fences hold them.
// A searchset Bundle (a FHIR search answer) is the server's, not ours: its entry resources are checked one by
// one instead. Prints one line per failure naming the source, the resource, the path and the rule; exits
// 1 if any resource has an error, 2 if an input cannot be read or parsed or holds no resource, 0 otherwise.
import { readFileSync } from 'node:fs';
import { validateDetailed } from '../peers/fhir/conformance.mjs';

const args = process.argv.slice(2);
const showWarnings = args.includes('--warnings');
const quiet = args.includes('--quiet');
const strict = args.includes('--strict');
const files = args.filter((a) => !a.startsWith('--') || a === '-');
if (args.some((a) => a.startsWith('--') && !['--warnings', '--quiet', '--strict'].includes(a))) {
  process.stderr.write('usage: check.mjs [--warnings] [--quiet] [--strict] [FILE...]\n');
  process.exit(2);
}

// The JSON documents of one input: the whole text, or every ```json fence of a markdown text.
function documents(name, text) {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return [{ where: name, text }];
  const out = [];
  const fence = /^```json[ \t]*\n([\s\S]*?)^```/gm;
  for (let m; (m = fence.exec(text)); ) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ where: `${name}:${line}`, text: m[1] });
  }
  return out;
}

// What to check in one parsed document: resources, with searchset Bundles opened.
function resourcesOf(doc) {
  if (Array.isArray(doc)) return doc.flatMap(resourcesOf);
  if (doc?.resourceType === 'Bundle' && doc.type === 'searchset') {
    return (doc.entry ?? []).filter((e) => e.search?.mode !== 'outcome' && e.resource).map((e) => e.resource);
  }
  return [doc];
}

const label = (r) => {
  if (r?.id) return `${r.resourceType}/${r.id}`;
  const code = r?.code?.coding?.map((c) => c.code).join(',');
  return `${r?.resourceType ?? '?'}${code ? ` (${code})` : ''}`;
};

let checked = 0;
let failed = 0;
let unreadable = 0;
const unchecked = new Set();
for (const file of files.length ? files : ['-']) {
  let text;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    process.stderr.write(`${file}: cannot read: ${e.message}\n`);
    unreadable++;
    continue;
  }
  const docs = documents(file === '-' ? 'stdin' : file, text);
  if (docs.length === 0) process.stderr.write(`${file}: no JSON and no \`\`\`json fence found\n`);
  for (const { where, text: json } of docs) {
    let doc;
    try {
      doc = JSON.parse(json);
    } catch (e) {
      process.stderr.write(`${where}: not JSON: ${e.message}\n`);
      unreadable++;
      continue;
    }
    for (const resource of resourcesOf(doc)) {
      checked++;
      const { issues, unchecked: notEvaluated } = validateDetailed(resource);
      notEvaluated.forEach((u) => unchecked.add(u));
      const errors = issues.filter((i) => i.severity === 'error');
      if (errors.length) failed++;
      for (const i of issues) {
        if (i.severity !== 'error' && !showWarnings) continue;
        process.stdout.write(`${where}: ${label(resource)}: ${i.severity} ${i.path} [${i.rule}] ${i.message}\n`);
      }
    }
  }
}
if (!quiet) process.stderr.write(`conformance: ${checked} resource(s) checked, ${failed} with errors\n`);
if (unchecked.size && (!quiet || strict)) process.stderr.write(`conformance: not evaluated: ${[...unchecked].join('; ')}\n`);
// Nothing checked is an error too: a document that lost its examples must not pass as conformant.
if (checked === 0) process.stderr.write('conformance: no resource found in the input\n');
process.exit(unreadable || checked === 0 ? 2 : failed || (strict && unchecked.size) ? 1 : 0);
