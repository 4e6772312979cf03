// The upstream assertion, end to end: a Node upstream behind a real `wrangler dev` edge runs the
// README's verifier (examples/verify-assertion.mjs) on every request it gets. A forwarded request
// verifies and names its caller; what a client sends as an assertion or identity header never
// reaches the upstream; an assertion copied onto another request, replayed, or older than 60 s is
// refused by the verifier; and without its key the edge forwards nothing.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { generateKeyPairSync, sign as edSign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet } from 'jose';
import { assertionVerifier } from '../../examples/verify-assertion.mjs';
import { format } from '../../scripts/gen-dev-vars.mjs';
import { FAST_ARGON2, call, cleanup, decodeJwt, freePort, makeSecrets, startWorker } from './helper.mjs';

const PASSWORD = 'correct horse battery';
const secrets = makeSecrets({ admin: false });
const unkeyed = makeSecrets({ admin: false });
const upstreamJwk = JSON.parse(secrets.vars.UPSTREAM_SIGNING_JWK);

/** What the upstream received, newest last: method, url, headers, and the verifier's verdict. */
const received = [];
let verify = null;
let upstream;
let w;
let bare; // an edge without UPSTREAM_SIGNING_JWK, in front of the same upstream

before(async () => {
  const port = await freePort();
  upstream = createServer(async (req, res) => {
    const seen = { method: req.method, url: req.url, headers: req.headers };
    try {
      seen.caller = await verify(req);
    } catch (e) {
      seen.refused = e.message;
    }
    received.push(seen);
    res.writeHead(seen.caller ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(seen.caller ? { caller: seen.caller } : { refused: seen.refused }));
  });
  await new Promise((r) => upstream.listen(port, '127.0.0.1', r));
  const vars = { ...FAST_ARGON2, UPSTREAM_URL: `http://127.0.0.1:${port}/base` };
  delete unkeyed.vars.UPSTREAM_SIGNING_JWK;
  writeFileSync(unkeyed.file, format(unkeyed.vars));
  // One after the other: each runs the build step, which must not run twice at once.
  w = await startWorker({ secrets, vars });
  bare = await startWorker({ secrets: unkeyed, vars });
  verify = assertionVerifier({ edge: w.base });
});
after(async () => {
  await Promise.all([w?.stop(), bare?.stop()]);
  upstream?.close();
  cleanup(w?.persistTo, bare?.persistTo, secrets.dir, unkeyed.dir);
});

async function signIn(base, email) {
  const up = await call(base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const r = await call(base, 'POST', '/v1/login', { body: { email, password: PASSWORD, device: { name: 'Laptop', type: 'desktop' } } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { ...r.body, account: up.body.account };
}

/** The request the upstream got for this call. */
async function through(base, method, path, opts) {
  const before = received.length;
  const r = await call(base, method, path, opts);
  assert.equal(received.length, before + 1, `the upstream got ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return { r, got: received.at(-1) };
}

describe('the upstream assertion', () => {
  let me;
  before(async () => {
    me = await signIn(w.base, `upstream-${Date.now()}@example.com`);
  });

  test('the README shows the verifier this file runs', () => {
    const code = readFileSync(new URL('../../examples/verify-assertion.mjs', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(code.slice(code.indexOf('import ')).trimEnd()), 'README quotes examples/verify-assertion.mjs');
  });

  test('the upstream JWKS is the assertion key alone, public', async () => {
    const r = await call(w.base, 'GET', '/.well-known/upstream-jwks.json');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.keys.map((k) => k.kid), [upstreamJwk.kid]);
    assert.equal(r.body.keys[0].x, upstreamJwk.x);
    assert.equal(r.body.keys[0].d, undefined, 'no private part');
    const tokens = await call(w.base, 'GET', '/.well-known/jwks.json');
    assert.ok(!tokens.body.keys.some((k) => k.x === upstreamJwk.x), 'not a token key');
  });

  test('a forwarded request verifies and names its caller, for its method, path and query', async () => {
    const { r, got } = await through(w.base, 'POST', '/app/orders/7?x=1&y=a%20b', { token: me.token, body: { item: 1 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(got.caller, { account: me.account, session: me.session, device: me.device });
    assert.deepEqual(r.body.caller, got.caller);
    assert.equal(got.url, '/base/orders/7?x=1&y=a%20b');
    const { header, payload } = decodeJwt(got.headers['epochgate-assertion']);
    assert.deepEqual(header, { alg: 'EdDSA', typ: 'epochgate-assertion+jwt', kid: upstreamJwk.kid });
    assert.equal(payload.iss, 'epochgate');
    assert.equal(payload.aud, 'upstream');
    assert.equal(payload.htm, 'POST');
    assert.equal(payload.htu, '/base/orders/7?x=1&y=a%20b');
    assert.ok(payload.exp - payload.iat <= 60 && Math.abs(payload.iat - Date.now() / 1000) < 10);
    assert.match(payload.jti, /^[A-Za-z0-9_-]{16,}$/);
    // The identity headers are still sent, and agree; the token is not.
    assert.equal(got.headers['x-epochgate-account'], me.account);
    assert.equal(got.headers.authorization, undefined);
    const get = await through(w.base, 'GET', '/app', { token: me.token });
    assert.deepEqual([get.got.url, decodeJwt(get.got.headers['epochgate-assertion']).payload.htu], ['/base/', '/base/']);
    assert.ok(get.got.caller, get.got.refused);
  });

  test('a client\'s own assertion and X-Epochgate-* headers never reach the upstream', async () => {
    const captured = (await through(w.base, 'GET', '/app/profile', { token: me.token })).got.headers['epochgate-assertion'];
    const attacker = generateKeyPairSync('ed25519').privateKey;
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${b64({ alg: 'EdDSA', typ: 'epochgate-assertion+jwt', kid: upstreamJwk.kid })}.${b64({ iss: 'epochgate', aud: 'upstream', sub: 'acct_mallory', sid: 's_mallory', dev: 0, htm: 'GET', htu: '/base/admin', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60, jti: 'forged' })}`;
    const forged = `${input}.${edSign(null, Buffer.from(input), attacker).toString('base64url')}`;
    for (const sent of [forged, captured]) {
      const { r, got } = await through(w.base, 'GET', '/app/admin', {
        token: me.token,
        headers: { 'epochgate-assertion': sent, 'x-epochgate-account': 'acct_mallory', 'x-epochgate-role': 'admin', 'epochgate-extra': '1' },
      });
      assert.equal(r.status, 200);
      assert.notEqual(got.headers['epochgate-assertion'], sent);
      assert.deepEqual(got.caller, { account: me.account, session: me.session, device: me.device });
      assert.equal(got.headers['x-epochgate-account'], me.account);
      assert.equal(got.headers['x-epochgate-role'], undefined);
      assert.equal(got.headers['epochgate-extra'], undefined);
    }
  });

  test('the verifier refuses what does not come from the edge for this request', async () => {
    const { got } = await through(w.base, 'DELETE', '/app/orders/7?confirm=1', { token: me.token });
    assert.ok(got.caller, got.refused);
    const assertion = got.headers['epochgate-assertion'];
    const request = (method, url, headers) => ({ method, url, headers });
    // Identity headers alone, as anything that reaches the upstream around the edge could send.
    await assert.rejects(verify(request('GET', '/base/admin', { 'x-epochgate-account': me.account })), /no Epochgate-Assertion/);
    // Copied onto another path, query or method.
    for (const [method, url] of [['DELETE', '/base/orders/8?confirm=1'], ['DELETE', '/base/orders/7'], ['POST', '/base/orders/7?confirm=1']]) {
      await assert.rejects(verify(request(method, url, { 'epochgate-assertion': assertion })), /not (DELETE|POST)/, `${method} ${url}`);
    }
    // Replayed on the same request.
    await assert.rejects(verify(request('DELETE', '/base/orders/7?confirm=1', { 'epochgate-assertion': assertion })), /already used/);
    // Signed by another key under the edge's kid.
    const other = generateKeyPairSync('ed25519').privateKey;
    const [h, p] = assertion.split('.');
    const resigned = `${h}.${p}.${edSign(null, Buffer.from(`${h}.${p}`), other).toString('base64url')}`;
    await assert.rejects(verify(request('DELETE', '/base/orders/7?confirm=1', { 'epochgate-assertion': resigned })), /signature/);
    // A session token is not an assertion, even sent as one.
    await assert.rejects(verify(request('GET', '/base/x', { 'epochgate-assertion': me.token })));
  });

  test('an assertion more than 60 s old is refused', async () => {
    const { got } = await through(w.base, 'GET', '/app/late', { token: me.token });
    const jwks = createLocalJWKSet((await call(w.base, 'GET', '/.well-known/upstream-jwks.json')).body);
    const { iat } = decodeJwt(got.headers['epochgate-assertion']).payload;
    const at = (s) => ({ currentDate: new Date(s * 1000) });
    const req = { method: 'GET', url: '/base/late', headers: got.headers };
    // A fresh verifier (its own replay memory), with the keys given rather than fetched.
    await assert.rejects(assertionVerifier({ keys: jwks })(req, at(iat + 61 + 5)), /exp|"iat"|timestamp/);
    assert.deepEqual(await assertionVerifier({ keys: jwks })(req, at(iat + 30)), got.caller);
  });
});

describe('without UPSTREAM_SIGNING_JWK', () => {
  test('the edge forwards nothing to its upstream and says which secret is missing', async () => {
    const me = await signIn(bare.base, `bare-${Date.now()}@example.com`);
    const before = received.length;
    const r = await call(bare.base, 'POST', '/app/orders', { token: me.token, body: { item: 1 } });
    assert.equal(r.status, 503);
    assert.equal(r.body.error, 'not_configured');
    assert.match(r.body.message, /UPSTREAM_SIGNING_JWK/);
    const jwks = await call(bare.base, 'GET', '/.well-known/upstream-jwks.json');
    assert.equal(jwks.status, 503);
    assert.match(jwks.body.message, /UPSTREAM_SIGNING_JWK/);
    assert.equal(received.length, before, 'nothing reached the upstream');
    // Everything else works without it.
    assert.equal((await call(bare.base, 'GET', '/v1/me', { token: me.token })).status, 200);
  });
});
