// Fault injection for the edge: its revocation view follows a test-controlled origin
// (REVOCATIONS_URL, a test-only setting) that serves garbage, truncated, wrongly signed,
// gapped and rolled-back updates, then goes away. No refused update may change the view, and
// past MAX_STATE_AGE without a fresh update the edge must fail closed with state_stale.
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, sign as edSign } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { format } from '../../scripts/gen-dev-vars.mjs';
import { FAST_ARGON2, call, cleanup, encodeUpdate, freePort, makeSecrets, startWorker, waitFor } from './helper.mjs';

const secrets = makeSecrets({ admin: false });
// A retired token key, still accepted through TOKEN_PREVIOUS_JWKS (rotation).
const oldKey = generateKeyPairSync('ed25519');
const oldPublic = { ...oldKey.publicKey.export({ format: 'jwk' }), kid: 'retired-key' };
secrets.vars.TOKEN_PREVIOUS_JWKS = JSON.stringify({ keys: [oldPublic] });
writeFileSync(secrets.file, format(secrets.vars));
const revocationJwk = JSON.parse(secrets.vars.REVOCATION_SIGNING_JWK);
// Same kid, different key: a forgery the edge must refuse.
const forgerJwk = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: revocationJwk.kid };
createPrivateKey({ key: forgerJwk, format: 'jwk' });

const origin = { mode: 'valid', seq: 5, records: new Map(), requests: 0 };
const now = () => Math.floor(Date.now() / 1000);

function validUpdate(since) {
  if (since === 0) {
    return encodeUpdate({ kind: 'snapshot', seq: origin.seq, createdAt: now(), records: [...origin.records.values()] }, revocationJwk);
  }
  const changed = [...origin.records.values()].filter((r) => r.changed > since);
  return encodeUpdate({ kind: 'delta', fromSeq: since, seq: origin.seq, createdAt: now(), records: changed }, revocationJwk);
}

function serve(req, res) {
  origin.requests++;
  const since = Number(new URL(req.url, 'http://x').searchParams.get('since') ?? 0);
  const send = (bytes) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(bytes); };
  const pending = origin.pending; // a change a faulty update tries to smuggle in
  switch (origin.mode) {
    case 'down': req.socket.destroy(); return;
    case 'garbage': send(randomBytes(300)); return;
    case 'truncated': send(encodeUpdate({ kind: 'delta', fromSeq: since, seq: since + 1, createdAt: now(), records: [pending] }, revocationJwk).subarray(0, -9)); return;
    case 'wrong_key': send(encodeUpdate({ kind: 'delta', fromSeq: since, seq: since + 1, createdAt: now(), records: [pending] }, forgerJwk)); return;
    case 'rollback': send(encodeUpdate({ kind: 'snapshot', seq: 1, createdAt: now(), records: [] }, revocationJwk)); return;
    case 'gap':
      if (since !== 0) {
        send(encodeUpdate({ kind: 'delta', fromSeq: since + 3, seq: origin.seq + 3, createdAt: now(), records: [] }, revocationJwk));
        return;
      }
      send(validUpdate(0));
      return;
    default:
      if (since > origin.seq) { res.writeHead(409); res.end(); return; }
      send(validUpdate(since));
  }
}

let server;
let w;
let api;
const stats = async () => (await api('GET', '/v1/edge/stats')).body;

before(async () => {
  const port = await freePort();
  server = createServer(serve);
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  w = await startWorker({
    secrets,
    vars: { ...FAST_ARGON2, REVOCATIONS_URL: `http://127.0.0.1:${port}/updates`, MAX_STATE_AGE: '4', STALENESS_TARGET_MS: '100' },
  });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  await w?.stop();
  server?.close();
  cleanup(w?.persistTo, secrets.dir);
});

async function account(email) {
  assert.equal((await api('POST', '/v1/accounts', { body: { email, password: 'password123' } })).status, 201);
  const r = await api('POST', '/v1/login', { body: { email, password: 'password123', device: { name: 'd', type: 't' } } });
  assert.equal(r.status, 201);
  return r.body;
}

/** Serves valid updates until the edge has applied a fresh one. */
async function healthy() {
  origin.mode = 'valid';
  const since = (await stats()).view_created_at ?? 0;
  await api('GET', '/v1/me', { token: 'x' }); // any request may trigger a refresh; this one is refused
  await waitFor('a fresh valid update', async () => {
    await api('GET', '/v1/edge/stats');
    await api('GET', '/v1/me', { token: 'x' });
    const s = await stats();
    return s.view_created_at > since && s.view_age_ms < 1000 ? s : null;
  }, 20000, 100);
}

describe('edge faults', () => {
  let alice;
  test('a valid snapshot loads the view', async () => {
    alice = await account('alice@example.com');
    const me = await api('GET', '/v1/me', { token: alice.token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal((await stats()).view_seq, 5);
  });

  for (const mode of ['garbage', 'truncated', 'wrong_key', 'rollback']) {
    test(`a ${mode} update never changes the view`, async () => {
      await healthy();
      origin.pending = { account: alice.session && JSON.parse(Buffer.from(alice.token.split('.')[1], 'base64url')).sub, epoch: 7, slots: [] };
      const before = await stats();
      origin.mode = mode;
      const after = await waitFor(`the edge to try a ${mode} update`, async () => {
        await api('GET', '/v1/me', { token: alice.token });
        const s = await stats();
        return s.refresh_errors > before.refresh_errors ? s : null;
      }, 20000, 50);
      assert.equal(after.view_seq, before.view_seq, 'the view kept its sequence');
      const me = await api('GET', '/v1/me', { token: alice.token });
      assert.notEqual(me.body.error, 'revoked_all', 'the smuggled revocation was not applied');
      assert.ok(me.status === 200 || me.body.error === 'state_stale', JSON.stringify(me.body));
    });
  }

  test('a delta with a gap makes the edge fetch a snapshot, which applies', async () => {
    await healthy();
    const sub = JSON.parse(Buffer.from(alice.token.split('.')[1], 'base64url')).sub;
    origin.seq = 6;
    origin.records.set(sub, { account: sub, epoch: 1, slots: [], changed: 6 });
    const before = await stats();
    origin.mode = 'gap';
    const refused = await waitFor('the revocation to arrive through a snapshot', async () => {
      const r = await api('GET', '/v1/me', { token: alice.token });
      return r.status === 401 ? r : null;
    }, 20000, 50);
    assert.equal(refused.body.error, 'revoked_all');
    const s = await stats();
    assert.equal(s.view_seq, 6);
    assert.ok(s.origin_fetches >= before.origin_fetches + 2, 'a delta, then a snapshot');
  });

  test('with the origin unreachable the edge fails closed after MAX_STATE_AGE, and recovers', async () => {
    const bob = await account('bob@example.com');
    await healthy();
    assert.equal((await api('GET', '/v1/me', { token: bob.token })).status, 200);
    origin.mode = 'down';
    const stale = await waitFor('state_stale', async () => {
      const r = await api('GET', '/v1/me', { token: bob.token });
      return r.status === 401 ? r : null;
    }, 30000, 100);
    assert.equal(stale.body.error, 'state_stale');
    assert.equal(stale.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="state_stale"');
    origin.mode = 'valid';
    await waitFor('recovery', async () => (await api('GET', '/v1/me', { token: bob.token })).status === 200, 20000, 100);
  });

  test('a token signed by a previous key (TOKEN_PREVIOUS_JWKS) is accepted and the key is listed', async () => {
    origin.mode = 'valid';
    const jwks = await api('GET', '/.well-known/jwks.json');
    assert.deepEqual(jwks.body.keys.map((k) => k.kid), [JSON.parse(secrets.vars.TOKEN_SIGNING_JWK).kid, 'retired-key']);
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const t = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'EdDSA', kid: 'retired-key', typ: 'session+jwt' })}.${b64({ iss: 'epochgate', aud: 'epochgate', sub: 'legacy-user', sid: 's-legacy', dev: 0, epo: 0, iat: t, exp: t + 600 })}`;
    const token = `${input}.${edSign(null, Buffer.from(input), oldKey.privateKey).toString('base64url')}`;
    const me = await waitFor('the old-key token to be accepted', async () => {
      const r = await api('GET', '/v1/me', { token });
      return r.status === 200 ? r : null;
    }, 20000, 100);
    assert.equal(me.body.account, 'legacy-user');
    const forged = `${input}.${edSign(null, Buffer.from(input), generateKeyPairSync('ed25519').privateKey).toString('base64url')}`;
    const bad = await api('GET', '/v1/me', { token: forged });
    assert.equal(bad.body.error, 'bad_signature');
  });

  test('the admin API is off without ADMIN_TOKEN', async () => {
    const r = await api('POST', '/v1/admin/accounts/someone/sign-out-all', { body: {}, token: 'anything' });
    assert.equal(r.status, 503);
    assert.equal(r.body.error, 'admin_disabled');
  });
});
