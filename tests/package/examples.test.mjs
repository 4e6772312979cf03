// The examples, run as a user runs them: from a project that installed the packed package
// (consumer.mjs), against the REAL epochgate Worker under `wrangler dev` — examples/hono-worker
// under its own `wrangler dev` (the package's workerd entry, the Workers cache), and
// examples/node-server under node. A sign-out at the origin reaches them, a dead origin makes
// them fail closed, and misuse (no token, a forged token, a flood of garbage) is refused.
// Needs the Worker built (scripts/test-e2e.sh builds it) and pkg/epochgate (scripts/build-pkg.sh).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FAST_ARGON2, call, freePort, sleep, spawnServer, startWorker, waitFor } from '../e2e/helper.mjs';
import { consumerProject, repoRoot } from './consumer.mjs';

const PASSWORD = 'correct horse battery';
// Small, so failing closed is seen within the test; the origin's updates keep it well inside.
const MAX_STATE_AGE = 5;
const POLL_MS = 50;

/** examples/hono-worker under `wrangler dev`, offline, on its own port and state directory. */
async function startHonoExample(project, originBase) {
  const port = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), 'epochgate-example-state-'));
  const wrangler = join(repoRoot, 'node_modules/.bin/wrangler');
  const server = await spawnServer(wrangler, [
    'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()),
    '--show-interactive-dev-session=false', '--persist-to', persistTo,
    '--var', `EPOCHGATE_ORIGIN:${originBase}`, '--var', `MAX_STATE_AGE:${MAX_STATE_AGE}`,
  ], { cwd: join(project, 'examples/hono-worker'), base: `http://127.0.0.1:${port}` });
  const stop = server.stop;
  server.stop = async () => { await stop(); rmSync(persistTo, { recursive: true, force: true }); };
  return server;
}

async function startNodeExample(project, originBase) {
  const port = await freePort();
  return spawnServer(process.execPath, ['server.mjs'], {
    cwd: join(project, 'examples/node-server'),
    env: { EPOCHGATE_ORIGIN: originBase, PORT: String(port), MAX_STATE_AGE: String(MAX_STATE_AGE) },
    base: `http://127.0.0.1:${port}`,
  });
}

const get = (base, path, token, method = 'GET') =>
  call(base, method, path, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

/** Polls `path` with `token` every POLL_MS until it is refused; the refusal and how long it took. */
async function untilRefused(base, token, from) {
  const r = await waitFor('the example to refuse the token', async () => {
    const res = await get(base, '/api/me', token);
    return res.status === 200 ? false : res;
  }, 20000, POLL_MS);
  return { res: r, ms: Date.now() - from };
}

function assertChallenge(res, reason) {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.headers.get('www-authenticate'), `Bearer error="invalid_token", error_description="${reason}"`);
  assert.equal(res.body.error, reason);
  assert.equal(typeof res.body.message, 'string');
}

let origin;
let project;
let account = 0;
const examples = {};

/** A fresh account signed in on two devices at the origin. */
async function twoDevices() {
  account += 1;
  const email = `user${account}@example.com`;
  assert.equal((await call(origin.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status, 201);
  const login = async (name) => {
    const r = await call(origin.base, 'POST', '/v1/login', { body: { email, password: PASSWORD, device: { name, type: 'laptop' } } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  return { keep: await login('keep'), drop: await login('drop') };
}

before(async () => {
  [origin, project] = await Promise.all([startWorker({ vars: FAST_ARGON2 }), consumerProject()]);
  [examples.hono, examples.node] = await Promise.all([
    startHonoExample(project, origin.base), startNodeExample(project, origin.base),
  ]);
});

after(async () => {
  await Promise.all([examples.hono?.stop(), examples.node?.stop(), origin?.stop()]);
});

for (const name of ['hono', 'node']) {
  describe(`examples/${name === 'hono' ? 'hono-worker under wrangler dev' : 'node-server under node'}`, () => {
    let s;
    const base = () => examples[name].base;
    before(async () => { s = await twoDevices(); });

    test('public route; /api/me with the token answers the session', async () => {
      assert.equal((await get(base(), '/')).status, 200);
      const me = await get(base(), '/api/me', s.keep.token);
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.equal(me.body.valid, true);
      assert.equal(me.body.session, s.keep.session);
      assert.equal(me.body.device, s.keep.device);
      assert.equal(me.body.epoch, s.keep.epoch);
      const originMe = await get(origin.base, '/v1/me', s.keep.token);
      assert.equal(me.body.account, originMe.body.account);
    });

    test('no token, a malformed header, a token forged with another key', async () => {
      const none = await get(base(), '/api/me');
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal(none.body.error, 'missing_token');
      const basic = await call(base(), 'GET', '/api/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      assert.equal(basic.status, 400);
      assert.equal(basic.body.error, 'invalid_request');
      // Someone else's key under the origin's kid: the signature gives it away.
      const { Issuer, generateKeyPair } = await import(join(project, 'node_modules/epochgate/dist/node.mjs'));
      const kid = (await get(origin.base, '/.well-known/jwks.json')).body.keys[0].kid;
      const forger = new Issuer({ issuer: 'epochgate', audience: 'epochgate', privateJwk: generateKeyPair(kid).privateJwk });
      const me = await get(origin.base, '/v1/me', s.keep.token);
      const forged = forger.mint({ account: me.body.account, session: s.keep.session, device: s.keep.device, epoch: s.keep.epoch });
      assertChallenge(await get(base(), '/api/me', forged), 'bad_signature');
    });

    test('a flood of 200 garbage tokens: every one 401, and the example keeps answering', async () => {
      const garbage = (i) => [`x${i}`, `${'a'.repeat(i)}.b.c`, `eyJ${i}.eyJ.sig`, 'A'.repeat(5000 + i), `${i}.${i}.${i}`][i % 5];
      for (let batch = 0; batch < 10; batch++) {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, j) => get(base(), '/api/me', garbage(batch * 20 + j))));
        for (const a of answers) {
          assert.equal(a.status, 401, JSON.stringify(a.body));
          assert.match(a.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
        }
      }
      assert.equal((await get(base(), '/api/me', s.keep.token)).status, 200);
    });

    test('step-up: a password sign-in is asked for a passkey on POST /api/payments', async () => {
      const res = await get(base(), '/api/payments', s.keep.token, 'POST');
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'),
        'Bearer error="insufficient_user_authentication", error_description="authenticate again with hwk", max_age=300');
      assert.equal(res.body.error, 'insufficient_user_authentication');
      assert.equal(res.body.max_age, 300);
      assert.deepEqual(res.body.required_amr, ['hwk']);
    });

    test('a device signed out at the origin is refused: revoked_device', async () => {
      assert.equal((await get(base(), '/api/me', s.drop.token)).status, 200);
      const out = await call(origin.base, 'DELETE', `/v1/sessions/${s.drop.session}`, { headers: { authorization: `Bearer ${s.keep.token}` } });
      assert.equal(out.status, 204, JSON.stringify(out.body));
      const { res, ms } = await untilRefused(base(), s.drop.token, Date.now());
      assertChallenge(res, 'revoked_device');
      console.log(`[examples] ${name}: sign-out refused after ${ms} ms (polled every ${POLL_MS} ms)`);
      assert.equal((await get(base(), '/api/me', s.keep.token)).status, 200, 'the other device stays signed in');
    });
  });
}

describe('with the origin gone', () => {
  test(`both examples fail closed with state_stale once MAX_STATE_AGE (${MAX_STATE_AGE} s) has passed`, async () => {
    const s = await twoDevices();
    for (const ex of Object.values(examples)) assert.equal((await get(ex.base, '/api/me', s.keep.token)).status, 200);
    await origin.stop();
    const from = Date.now();
    for (const [name, ex] of Object.entries(examples)) {
      const { res, ms } = await untilRefused(ex.base, s.keep.token, from);
      assertChallenge(res, 'state_stale');
      console.log(`[examples] ${name}: state_stale ${ms} ms after the origin stopped`);
      // Still answering, still refusing, and the public route is untouched.
      assertChallenge(await get(ex.base, '/api/me', s.keep.token), 'state_stale');
      assert.equal((await get(ex.base, '/')).status, 200);
    }
  });
});
