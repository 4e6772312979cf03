// Browser side of the page tests: Debian's Chromium driven by playwright-core, one browser
// context per simulated device, screenshots under test-artifacts/www/. The worker side (a real
// `wrangler dev` on a free port with a fresh state directory) comes from tests/e2e/helper.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from '../e2e/helper.mjs';

export const artifacts = join(root, 'test-artifacts', 'www');
mkdirSync(artifacts, { recursive: true });

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export function launch() {
  // playwright gives every launch a fresh, empty profile directory of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Copies the package's browser build into www/pkg (scripts/stage-www.sh), where the worker serves it. */
export function stage() {
  const r = spawnSync('bash', [join(root, 'scripts/stage-www.sh')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stage-www.sh failed (${r.status}):\n${r.stderr}`);
}

/** A new device: a context with its own storage, an open page, and console errors collected. */
export async function device(browser, base, options = {}) {
  const context = await browser.newContext({ baseURL: base, locale: 'en-US', ...options });
  const problems = [];
  // Every Content-Security-Policy violation of every load, reported back to the test.
  await context.exposeBinding('reportCspViolation', (_source, text) => problems.push(`csp: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      globalThis.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto('/');
  return { context, page, problems };
}

export const shot = (page, name, opts = {}) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true, ...opts });

/** The session token the page keeps in sessionStorage (null when signed out). */
export async function storedToken(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('epochgate.session') ?? 'null')?.token ?? null);
}
