// Debian's chromium, headless, driven by playwright-core; an accessibility check with axe-core; the
// screenshots the guides show.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { BUILD } from './proc.mjs';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const DISPLAY = { width: 800, height: 480 };  // the hub's own touchscreen
export const CONSOLE = { width: 1280, height: 800 };

// Where screenshots go: docs/screenshots/ when the guides' pictures are being refreshed
// (CAREHUB_SCREENSHOTS=docs, see tests/browser/README.md), else beside the build, so an ordinary run
// leaves the source tree untouched.
const SHOTS = process.env.CAREHUB_SCREENSHOTS === 'docs'
  ? path.resolve(import.meta.dirname, '..', '..', '..', 'docs', 'screenshots')
  : path.join(BUILD, 'tests', 'browser', 'screenshots');

// A fresh chromium for one test (its own profile directory): a persistent context is the only way
// Playwright accepts a user data directory. Closed by the scope.
// `executablePath` may be a wrapper (a chromium inside a network namespace); `ignoreHTTPSErrors` for a
// hub's self-signed certificate, which a real tablet accepts once by its fingerprint.
export async function launch(scope, { executablePath = '/usr/bin/chromium', locale = 'en-GB', ignoreHTTPSErrors = false, profile = 'chromium-profile' } = {}) {
  const context = await chromium.launchPersistentContext(scope.file(profile), {
    executablePath,
    ignoreHTTPSErrors,
    headless: true,
    viewport: DISPLAY,
    locale,
    timezoneId: 'UTC',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      // Without these chromium keeps calling Google's services, which on this closed network only fail.
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  scope.defer(() => context.close());
  // Every page error and console error is in the test's output when it fails.
  const log = scope.file('browser.log');
  scope.logs.push(log);
  context.on('page', (page) => watch(page, log));
  for (const p of context.pages()) watch(p, log);
  return context;
}

function watch(page, log) {
  page.on('pageerror', (e) => fs.appendFileSync(log, `pageerror ${page.url()}: ${e.message}\n`));
  page.on('console', (m) => fs.appendFileSync(log, `console.${m.type()} ${page.url()}: ${m.text()}\n`));
  page.on('requestfailed', (r) => fs.appendFileSync(log, `requestfailed ${r.url()}: ${r.failure()?.errorText}\n`));
}

// axe-core on the page as it is now, WCAG 2.0 and 2.1 A and AA rules: the violations of serious or
// critical impact (an empty list passes). Injected by evaluation, not a <script> tag, so the page's
// Content-Security-Policy stays as it is served.
export async function axeViolations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => globalThis.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  // Small PNGs for the guides: the viewport only, no animations caught half way, no caret.
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), animations: 'disabled', caret: 'hide' });
}
