// Clickjacking: another site must not be able to show the Manage-devices page in a frame (and
// trick a user into pressing "Sign out of all devices" or confirming a change under it). The page
// is served with `frame-ancestors 'none'` and `X-Frame-Options: DENY` (www/_headers); here
// Chromium is shown a page on another origin that frames it, against a real `wrangler dev`.
//
// A control frame on the framing site renders, so the check would see a framed page if the
// headers were gone; and the page opened directly renders.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { FAST_ARGON2, cleanup, makeSecrets, startWorker } from '../e2e/helper.mjs';
import { launch, shot, stage } from './browser.mjs';

const secrets = makeSecrets();
let w;
let browser;
let framer;
let framerBase;

before(async () => {
  stage();
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  browser = await launch();
  // The attacker's site: another origin (another port) framing the page, and a control page
  // framing a harmless page of its own.
  framer = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (req.url === '/inner') return res.end('<!doctype html><p id="inner">framed content</p>');
    const src = req.url === '/control' ? '/inner' : `${w.base}/`;
    return res.end(`<!doctype html><title>framer</title><iframe id="f" src="${src}" width="800" height="600"></iframe>`);
  });
  await new Promise((resolve) => framer.listen(0, '127.0.0.1', resolve));
  framerBase = `http://127.0.0.1:${framer.address().port}`;
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (framer ? framer.close(resolve) : resolve()));
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

/** The frame's document, or null when the browser shows no document of that origin there. */
async function framedSelector(page, selector) {
  await page.waitForLoadState('load');
  const child = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(child, 'the framing page has its iframe');
  try {
    return { url: child.url(), found: await child.evaluate((s) => document.querySelector(s) !== null, selector) };
  } catch {
    return { url: child.url(), found: false };
  }
}

test('a frame on the framing site renders (control: the check can see framed content)', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${framerBase}/control`);
  const r = await framedSelector(page, '#inner');
  assert.equal(r.found, true, `control frame at ${r.url}`);
  await page.context().close();
});

test('the Manage-devices page does not render inside another site\'s frame', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(framerBase);
  const r = await framedSelector(page, '#auth-view');
  await shot(page, 'framed-by-another-site');
  assert.equal(r.found, false, `the page rendered in a frame (frame at ${r.url})`);
  assert.notEqual(r.url, `${w.base}/`, 'the frame holds the page\'s document');
  await page.context().close();
});

test('opened directly, the page renders', async () => {
  const page = await (await browser.newContext()).newPage();
  const res = await page.goto(`${w.base}/`);
  assert.match(res.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
  assert.equal(res.headers()['x-frame-options'], 'DENY');
  assert.equal(await page.locator('#auth-view').count(), 1);
  await page.context().close();
});
