// node:test glue: each test gets its own Scope (temp dir, peers, browser), closed when it ends; page
// waits by test id. Playwright's auto-waiting does the waiting: a condition with a deadline, no sleeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope } from './proc.mjs';

export function scoped(name, fn, options = {}) {
  test(name, { timeout: 120000, ...options }, async (t) => {
    const scope = new Scope(name);
    let failed = true;
    try {
      await fn(scope, t);
      failed = false;
    } finally {
      await scope.close(failed);
    }
  });
}

export const byId = (page, id) => page.getByTestId(id);

// Waits until the element with test id `id` (optionally `[data-…]` attributes) is visible: the locator.
export async function visible(page, id, { attrs = {}, ms = 10000 } = {}) {
  let sel = `[data-testid="${id}"]`;
  for (const [k, v] of Object.entries(attrs)) sel += `[data-${k}="${v}"]`;
  const loc = page.locator(sel).first();
  await loc.waitFor({ state: 'visible', timeout: ms });
  return loc;
}

export async function hidden(page, id, ms = 10000) {
  await page.locator(`[data-testid="${id}"]`).first().waitFor({ state: 'hidden', timeout: ms });
}

export { assert };
