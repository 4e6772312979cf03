// Every static asset (the page, its modules, its stylesheet) carries the security headers of
// www/_headers: a Content-Security-Policy with frame-ancestors 'none', X-Frame-Options,
// nosniff and no referrer. Applied by Workers static assets, also under `wrangler dev`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanup, makeSecrets, startWorker } from './helper.mjs';

const secrets = makeSecrets({ admin: false });
let w;

before(async () => { w = await startWorker({ secrets }); });
after(async () => {
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

for (const path of ['/', '/app.js', '/app.css', '/devices.js']) {
  test(`${path} carries the security headers`, async () => {
    const r = await fetch(w.base + path);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
    assert.match(csp, /(^|;)\s*default-src 'self'\s*(;|$)/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  });
}

test('the headers file itself is not served', async () => {
  const r = await fetch(`${w.base}/_headers`);
  await r.arrayBuffer();
  assert.notEqual(r.status, 200);
});
