// `state_stale` is not the end of a session: when the edge cannot confirm sign-outs (its
// revocation view is older than MAX_STATE_AGE), it refuses every token, valid ones included. The
// page must keep its token, say so and try again, and enter the account once the edge is fresh —
// not throw the user out as if the device had been signed out.
//
// The edge follows a test-controlled update source (REVOCATIONS_URL, as in tests/e2e/faults),
// which the test takes down and brings back; the page runs in Chromium against a real
// `wrangler dev`.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import {
  FAST_ARGON2, call, cleanup, encodeUpdate, freePort, makeSecrets, startWorker, waitFor,
} from '../e2e/helper.mjs';
import { launch, shot, stage, storedToken } from './browser.mjs';

const secrets = makeSecrets({ admin: false });
const revocationJwk = JSON.parse(secrets.vars.REVOCATION_SIGNING_JWK);
const source = { up: true };
const now = () => Math.floor(Date.now() / 1000);

/** No account is signed out: an empty snapshot at sequence 1, then empty deltas. */
function serve(req, res) {
  if (!source.up) { req.socket.destroy(); return; }
  const since = Number(new URL(req.url, 'http://x').searchParams.get('since') ?? 0);
  const update = since === 0
    ? encodeUpdate({ kind: 'snapshot', seq: 1, createdAt: now(), records: [] }, revocationJwk)
    : encodeUpdate({ kind: 'delta', fromSeq: 1, seq: 1, createdAt: now(), records: [] }, revocationJwk);
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.end(update);
}

let server;
let w;
let browser;

before(async () => {
  stage();
  const port = await freePort();
  server = createServer(serve);
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  w = await startWorker({
    secrets,
    vars: { ...FAST_ARGON2, REVOCATIONS_URL: `http://127.0.0.1:${port}/updates`, MAX_STATE_AGE: '3', STALENESS_TARGET_MS: '100' },
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await w?.stop();
  server?.close();
  cleanup(w?.persistTo, secrets.dir);
});

test('a stale edge keeps the page\'s session, which enters the account once the edge is fresh', async () => {
  const email = `stale-${Date.now()}@example.com`;
  assert.equal((await call(w.base, 'POST', '/v1/accounts', { body: { email, password: 'password123' } })).status, 201);
  const login = await call(w.base, 'POST', '/v1/login', { body: { email, password: 'password123', device: { name: 'Laptop', type: 'laptop' } } });
  assert.equal(login.status, 201);
  const { token } = login.body;

  const context = await browser.newContext();
  await context.addInitScript(([t, e]) => {
    if (!sessionStorage.getItem('epochgate.session')) {
      sessionStorage.setItem('epochgate.session', JSON.stringify({ token: t, email: e, totp: false }));
    }
  }, [token, email]);
  const page = await context.newPage();
  const accountShown = () => page.locator('#account-view').isVisible();

  // Fresh edge: the stored session enters the account.
  await page.goto(`${w.base}/`);
  await waitFor('the account view', accountShown, 20000, 100);

  // The update source goes away; past MAX_STATE_AGE the edge refuses every token.
  source.up = false;
  await waitFor('the edge to fail closed', async () => {
    const me = await call(w.base, 'GET', '/v1/me', { token });
    return me.status === 401 && me.body.error === 'state_stale';
  }, 20000, 250);

  await page.reload();
  await waitFor('the page to say it cannot check the session', async () =>
    /cannot confirm sign-outs right now/.test(await page.locator('#page-error').textContent()), 20000, 100);
  await shot(page, 'state-stale-keeps-session');
  assert.equal(await page.locator('#signed-out').isVisible(), false, 'the page left as if signed out');
  assert.equal(await accountShown(), false);
  assert.equal(await storedToken(page), token, 'the token was dropped');

  // The source comes back: the page's next try enters the account with the same token.
  source.up = true;
  await waitFor('the account view again', accountShown, 30000, 200);
  assert.equal(await storedToken(page), token);
  assert.equal(await page.locator('#page-error').textContent(), '');
  await context.close();
});
