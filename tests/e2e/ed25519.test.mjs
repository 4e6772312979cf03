// The edge's two ways of computing a token signature's equation, against a real `wrangler dev`:
// the wasm curve arithmetic (the default) and workerd's node:crypto (HOST_ED25519 = "on";
// wrangler.toml turns on nodejs_compat). Both accept a genuine token and refuse a forged signature,
// a signature of other claims and one with S + L (the malleable twin verify_strict refuses and
// OpenSSL-style verifiers need the core's strict check to refuse). The vector-level equivalence
// of the two paths inside workerd is tests/package/workerd.test.mjs. A HOST_ED25519 that is neither
// on nor off is a configuration error, answered as one, not a silent choice of either path.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FAST_ARGON2, call, cleanup, makeSecrets, startWorker } from './helper.mjs';

const PASSWORD = 'correct horse battery';
// The group order L, little-endian.
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** The token with L added to its signature's S (still below 2^256, so 32 bytes). */
function plusL(token) {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  let n = 0n;
  for (let i = 63; i >= 32; i--) n = (n << 8n) | BigInt(sig[i]);
  n += L;
  for (let i = 32; i < 64; i++, n >>= 8n) sig[i] = Number(n & 0xffn);
  return `${h}.${p}.${sig.toString('base64url')}`;
}

for (const [label, hostEd25519, expected] of [['wasm (default)', undefined, 'wasm'], ['node:crypto (HOST_ED25519 on)', 'on', 'host']]) {
  describe(`edge signature verification: ${label}`, () => {
    const secrets = makeSecrets({ admin: false });
    let w;
    let api;
    let token;

    before(async () => {
      const vars = { ...FAST_ARGON2, ...(hostEd25519 ? { HOST_ED25519: hostEd25519 } : {}) };
      w = await startWorker({ secrets, vars });
      api = (method, path, opts) => call(w.base, method, path, opts);
      const email = `ed25519-${Date.now()}@example.com`;
      assert.equal((await api('POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status, 201);
      const r = await api('POST', '/v1/login', { body: { email, password: PASSWORD, device: { name: 'Laptop', type: 'desktop' } } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      token = r.body.token;
    });
    after(async () => {
      await w?.stop();
      cleanup(w?.persistTo, secrets.dir);
    });

    test(`the isolate verifies with ${expected}`, async () => {
      assert.equal((await api('GET', '/v1/me', { token })).status, 200);
      const stats = await api('GET', '/v1/edge/stats');
      assert.equal(stats.body.verification, expected);
    });

    test('a forged signature, a signature of other claims and S + L are refused as bad_signature', async () => {
      const [h, p, s] = token.split('.');
      const flipped = Buffer.from(s, 'base64url');
      flipped[10] ^= 0x40;
      const claims = JSON.parse(Buffer.from(p, 'base64url'));
      const other = Buffer.from(JSON.stringify({ ...claims, dev: claims.dev + 1 })).toString('base64url');
      for (const bad of [`${h}.${p}.${flipped.toString('base64url')}`, `${h}.${other}.${s}`, plusL(token)]) {
        const r = await api('GET', '/v1/me', { token: bad });
        assert.equal(r.status, 401, bad);
        assert.equal(r.body.error, 'bad_signature', bad);
      }
      // The genuine token is still good: refusals cached nothing in its place.
      assert.equal((await api('GET', '/v1/me', { token })).status, 200);
    });
  });
}

describe('edge signature verification: HOST_ED25519 neither on nor off', () => {
  const secrets = makeSecrets({ admin: false });
  let w;
  before(async () => {
    w = await startWorker({ secrets, vars: { ...FAST_ARGON2, HOST_ED25519: 'yes' }, readyStatus: 'any' });
  });
  after(async () => {
    await w?.stop();
    cleanup(w?.persistTo, secrets.dir);
  });

  test('every request is answered 503 not_configured naming the variable, a login included', async () => {
    const email = `ed25519-misconfigured-${Date.now()}@example.com`;
    for (const [method, path, body] of [
      ['GET', '/.well-known/jwks.json'],
      ['GET', '/v1/edge/stats'],
      ['POST', '/v1/accounts', { email, password: PASSWORD }],
      ['GET', '/v1/me'],
    ]) {
      const r = await call(w.base, method, path, { body, token: 'a.b.c' });
      assert.equal(r.status, 503, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'not_configured', `${method} ${path}`);
      assert.match(r.body.message, /HOST_ED25519 is "yes"; it must be on or off/);
    }
  });
});
