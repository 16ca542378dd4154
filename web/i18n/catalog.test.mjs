// The catalogs a translator edits stay usable: every language has every key with the same {placeholders},
// and every key the pages use exists in English. Run: node --test web/i18n/
// (CAREHUB_WEB_DIR points it at another copy of web/, to see it fail on a broken catalog.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = process.env.CAREHUB_WEB_DIR ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (lang) => JSON.parse(fs.readFileSync(path.join(web, 'i18n', `${lang}.json`), 'utf8'));
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const en = load('en');

function files(dir, ext) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

for (const lang of ['it', 'es']) {
  test(`${lang}.json has the keys and placeholders of en.json`, () => {
    const other = load(lang);
    assert.deepEqual(Object.keys(other).filter((k) => !(k in en)), [], `keys ${lang} has that en lacks`);
    assert.deepEqual(Object.keys(en).filter((k) => !(k in other)), [], `keys missing from ${lang}`);
    for (const key of Object.keys(en)) {
      assert.equal(typeof other[key], 'string', `${lang}: ${key}`);
      assert.notEqual(other[key].trim(), '', `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(other[key]), placeholders(en[key]), `${lang}: ${key} placeholders`);
    }
  });
}

test('every key the pages name exists in en.json', () => {
  const used = new Set();
  for (const f of files(path.join(web, 'static'), '.html')) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/data-i18n(?:-label|-placeholder|-title)?="([^"]+)"/g)) used.add(m[1]);
  }
  for (const f of files(path.join(web, 'static'), '.js')) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/\bt\('([\w.-]+)'/g)) used.add(m[1]);
  }
  assert.ok(used.size > 50, `found only ${used.size} keys: the scan itself is broken`);
  assert.deepEqual([...used].filter((k) => !(k in en)).sort(), []);
});

test('the kinds, categories and severities the pages build keys for are in en.json', () => {
  const built = ['blood-pressure', 'body-weight', 'body-temperature', 'spo2', 'glucose', 'heart-rate'].map((k) => `kind.${k}`)
    .concat(['blood-pressure', 'thermometer', 'pulse-oximeter', 'scale', 'glucose-meter', 'heart-rate'].map((c) => `cat.${c}`))
    .concat(['red', 'amber', 'info'].map((s) => `sev.${s}`))
    .concat(['blood-pressure', 'thermometer', 'pulse-oximeter', 'scale', 'glucose-meter', 'heart-rate'].map((c) => `devname.${c}`));
  assert.deepEqual(built.filter((k) => !(k in en)), []);
});
