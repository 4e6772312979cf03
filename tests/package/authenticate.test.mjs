// The package's request layer, run in Node from the built package (pkg/epochgate, made by
// scripts/build-pkg.sh): authenticate() on every shape of Authorization header and every
// refusal, unauthorized()'s answer, an Authenticator loading its keys and following revocations
// from an origin (a node:http server publishing a real RevocationLog's updates), and the Hono
// middleware run by a real Hono app.
import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import {
  Authenticator, Issuer, RevocationLog, Validator, authenticate, generateKeyPair, unauthorized,
} from '../../pkg/epochgate/dist/node.mjs';
import { epochgate } from '../../pkg/epochgate/dist/hono.node.mjs';

const ISSUER = 'https://id.example';
const AUDIENCE = 'api';
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tokenKeys = generateKeyPair('t1');
const revocationKeys = generateKeyPair('r1');
const issuer = new Issuer({ issuer: ISSUER, audience: AUDIENCE, privateJwk: tokenKeys.privateJwk });
const jwks = issuer.publicJwks();
const revocationJwks = { keys: [revocationKeys.publicJwk] };

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** A token with any header and claims, signed with `privateJwk`: the refusals the Issuer cannot make. */
function craft(header, claims, privateJwk = tokenKeys.privateJwk) {
  const input = `${b64(header)}.${b64(claims)}`;
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x, d: privateJwk.d }, format: 'jwk' });
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}
const HEADER = { alg: 'EdDSA', kid: 't1', typ: 'session+jwt' };
function claims(extra = {}) {
  const t = now();
  return { iss: ISSUER, aud: AUDIENCE, sub: 'acct_1', sid: 'sess_1', dev: 0, epo: 0, iat: t - 10, exp: t + 3600, ...extra };
}

const withAuth = (value) => ({ headers: { authorization: value } });
const plainValidator = () => new Validator({ issuer: ISSUER, audience: AUDIENCE, keys: jwks });

describe('authenticate(request, validator): the Authorization header', () => {
  const v = plainValidator();
  const token = issuer.mint({ account: 'acct_1', session: 'sess_1', device: 0, epoch: 0 });

  test('no header: 401 missing_token with a bare Bearer challenge', () => {
    for (const request of [{ headers: {} }, new Request('http://x/'), { headers: { authorization: undefined } }]) {
      const r = authenticate(request, v);
      assert.equal(r.ok, false);
      assert.equal(r.status, 401);
      assert.equal(r.error, 'missing_token');
      assert.equal(r.wwwAuthenticate, 'Bearer');
      assert.equal(r.verdict, null);
      assert.deepEqual(r.body, { error: 'missing_token', message: r.message });
    }
  });

  test('the scheme in any case, a Fetch Request, a node-style object, a capitalised key', () => {
    for (const request of [
      withAuth(`Bearer ${token}`), withAuth(`bearer ${token}`), withAuth(`BEARER ${token}`),
      withAuth(`  Bearer   ${token} `), withAuth([`Bearer ${token}`]),
      { headers: { Authorization: `Bearer ${token}` } },
      new Request('http://x/', { headers: { authorization: `Bearer ${token}` } }),
    ]) {
      const r = authenticate(request, v);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.token, token);
      assert.equal(r.session.valid, true);
      assert.equal(r.session.account, 'acct_1');
      assert.equal(r.session.session, 'sess_1');
    }
  });

  test('anything but one Bearer token of the RFC 6750 charset: 400 invalid_request', () => {
    const twice = new Headers();
    twice.append('authorization', `Bearer ${token}`);
    twice.append('authorization', `Bearer ${token}`);
    const cases = {
      empty: withAuth(''),
      'scheme only': withAuth('Bearer'),
      'scheme and space': withAuth('Bearer '),
      basic: withAuth('Basic dXNlcjpwYXNz'),
      'another scheme': withAuth(`DPoP ${token}`),
      'two tokens': withAuth(`Bearer ${token} ${token}`),
      'no space': withAuth(`Bearer${token}`),
      comma: withAuth(`Bearer ${token},x`),
      quote: withAuth('Bearer ab"c'),
      'padding inside': withAuth('Bearer ab=c'),
      'non-ascii': withAuth('Bearer tökén'),
      tab: withAuth(`Bearer\t${token}`),
      'array of two': withAuth([`Bearer ${token}`, `Bearer ${token}`]),
      'empty array': { headers: { authorization: [] } },
      'not text': withAuth(42),
      'two keys of a record': { headers: { authorization: `Bearer ${token}`, Authorization: `Bearer ${token}` } },
      'Headers with two values': { headers: twice },
    };
    for (const [name, request] of Object.entries(cases)) {
      const r = authenticate(request, v);
      if (name === 'empty array') {
        assert.equal(r.status, 401, name); // no value at all: no token
        continue;
      }
      assert.equal(r.ok, false, name);
      assert.equal(r.status, 400, name);
      assert.equal(r.error, 'invalid_request', name);
      assert.match(r.wwwAuthenticate, /^Bearer error="invalid_request", error_description="[^"\\]+"$/, name);
      assert.deepEqual(r.body, { error: 'invalid_request', message: r.message }, name);
    }
  });

  test('two Authorization headers reaching a node:http server: 400, not the first one silently', async () => {
    const seen = [];
    const server = createServer((req, res) => {
      seen.push(authenticate(req, v));
      res.end();
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const send = (values) => new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('error', reject);
      req.setHeader('authorization', values);
      req.end();
    });
    try {
      await send([`Bearer ${token}`, `Bearer ${token}`]);
      await send(`Bearer ${token}`);
    } finally {
      server.close();
    }
    assert.equal(seen[0].status, 400);
    assert.equal(seen[0].error, 'invalid_request');
    assert.equal(seen[1].ok, true);
  });

  test('a request without headers or a non-Validator is a caller bug with a code', () => {
    for (const bad of [null, undefined, {}, { headers: null }, 'Bearer x']) {
      assert.throws(() => authenticate(bad, v), { code: 'invalid_argument' });
    }
    assert.throws(() => authenticate(withAuth(`Bearer ${token}`), {}), { code: 'invalid_argument' });
    assert.throws(() => authenticate(withAuth(`Bearer ${token}`), v, { stepUp: { maxAuthAge: -1 } }), { code: 'invalid_option' });
  });
});

describe('authenticate: every refusal reason, with the edge\'s header and body', () => {
  const log = new RevocationLog({ privateJwk: revocationKeys.privateJwk });
  const dev0 = log.allocateDevice('acct_dev');
  const dev1 = log.allocateDevice('acct_dev');
  log.revokeDevice('acct_dev', dev1);
  log.revokeAll('acct_all');
  const strict = new Validator({ issuer: ISSUER, audience: AUDIENCE, keys: jwks, revocationKeys: revocationJwks, maxTokenBytes: 512 });
  strict.applyRevocation(log.snapshot());
  const stale = new Validator({ issuer: ISSUER, audience: AUDIENCE, keys: jwks, revocationKeys: revocationJwks, maxStateAge: 30 });
  const other = generateKeyPair('t1'); // same kid, another key
  const t = now();
  const mint = (extra) => issuer.mint({ account: 'acct_1', session: 'sess_1', device: 0, epoch: 0, ...extra });

  const cases = [
    ['malformed', strict, 'not.a.token'],
    ['too_large', strict, mint({ jti: 'x'.repeat(600) })],
    ['unsupported_algorithm', strict, craft({ ...HEADER, alg: 'HS256' }, claims())],
    ['forbidden_header', strict, craft({ ...HEADER, crit: ['exp'] }, claims())],
    ['unknown_key', strict, craft({ ...HEADER, kid: 'nobody' }, claims(), other.privateJwk)],
    ['bad_signature', strict, craft(HEADER, claims(), other.privateJwk)],
    ['wrong_type', strict, craft({ ...HEADER, typ: 'JWT' }, claims())],
    ['missing_claim', strict, craft(HEADER, (({ sid, ...c }) => c)(claims()))],
    ['expired', strict, craft(HEADER, claims({ iat: t - 7200, exp: t - 3600 }))],
    ['not_yet_valid', strict, craft(HEADER, claims({ nbf: t + 3600 }))],
    ['issued_in_future', strict, craft(HEADER, claims({ iat: t + 3600, exp: t + 7200 }))],
    ['wrong_issuer', strict, craft(HEADER, claims({ iss: 'https://evil.example' }))],
    ['wrong_audience', strict, craft(HEADER, claims({ aud: 'other' }))],
    ['revoked_all', strict, mint({ account: 'acct_all', epoch: 0 })],
    ['revoked_device', strict, mint({ account: 'acct_dev', device: dev1 })],
    ['state_stale', stale, mint({})],
  ];

  test('each reason is covered once', () => {
    assert.equal(new Set(cases.map(([r]) => r)).size, 16);
  });

  for (const [reason, validator, token] of cases) {
    test(reason, () => {
      const r = authenticate(withAuth(`Bearer ${token}`), validator);
      assert.equal(r.ok, false);
      assert.equal(r.status, 401);
      assert.equal(r.error, reason);
      assert.equal(r.verdict.reason, reason);
      assert.equal(r.message, r.verdict.message);
      assert.equal(r.wwwAuthenticate, `Bearer error="invalid_token", error_description="${reason}"`);
      assert.deepEqual(r.body, { error: reason, message: r.verdict.message });
    });
  }

  test('the same validator accepts what it should (the refusals above are not blanket)', () => {
    assert.equal(authenticate(withAuth(`Bearer ${mint({ account: 'acct_dev', device: dev0 })}`), strict).ok, true);
    assert.equal(authenticate(withAuth(`Bearer ${craft(HEADER, claims())}`), strict).ok, true);
  });
});

describe('step-up (RFC 9470)', () => {
  const v = plainValidator();
  const old = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, authTime: now() - 3600, amr: ['pwd'] });
  const fresh = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, authTime: now() - 5, amr: ['hwk', 'user', 'mfa'] });

  test('an old or weak sign-in: 401 insufficient_user_authentication with max_age and the methods', () => {
    const r = authenticate(withAuth(`Bearer ${old}`), v, { stepUp: { maxAuthAge: 300, requiredAmr: ['hwk'] } });
    assert.equal(r.status, 401);
    assert.equal(r.error, 'insufficient_user_authentication');
    assert.equal(r.wwwAuthenticate,
      'Bearer error="insufficient_user_authentication", error_description="authenticate again with hwk", max_age=300');
    assert.deepEqual(r.body, { error: 'insufficient_user_authentication', message: r.message, max_age: 300, required_amr: ['hwk'] });
  });

  test('methods only: no max_age anywhere', () => {
    const r = authenticate(withAuth(`Bearer ${old}`), v, { stepUp: { requiredAmr: ['hwk', 'mfa'] } });
    assert.equal(r.wwwAuthenticate,
      'Bearer error="insufficient_user_authentication", error_description="authenticate again with hwk and mfa"');
    assert.deepEqual(r.body, { error: 'insufficient_user_authentication', message: r.message, required_amr: ['hwk', 'mfa'] });
  });

  test('a recent passkey sign-in passes; without a step-up the old one does too', () => {
    assert.equal(authenticate(withAuth(`Bearer ${fresh}`), v, { stepUp: { maxAuthAge: 300, requiredAmr: ['hwk'] } }).ok, true);
    assert.equal(authenticate(withAuth(`Bearer ${old}`), v).ok, true);
  });
});

describe('unauthorized(failure)', () => {
  const v = plainValidator();

  test('a refusal: 401, the challenge, no-store, the JSON body', async () => {
    const failure = authenticate(withAuth('Bearer x.y.z'), v);
    const res = unauthorized(failure);
    assert.ok(res instanceof Response);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="malformed"');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { error: 'malformed', message: failure.message });
  });

  test('a missing token and a malformed header', async () => {
    const none = unauthorized(authenticate({ headers: {} }, v));
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const bad = unauthorized(authenticate(withAuth('Basic x'), v));
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('www-authenticate'), /^Bearer error="invalid_request"/);
    assert.equal((await bad.json()).error, 'invalid_request');
  });

  test('anything but a failure is refused', () => {
    const token = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0 });
    for (const bad of [null, {}, authenticate(withAuth(`Bearer ${token}`), v), { ok: false }]) {
      assert.throws(() => unauthorized(bad), { code: 'invalid_argument' });
    }
  });
});

/** An epochgate origin in miniature: the key sets and /v1/revocations from a RevocationLog. */
async function fakeOrigin() {
  const log = new RevocationLog({ privateJwk: revocationKeys.privateJwk });
  const state = { down: false, hits: { jwks: 0, revocationJwks: 0, revocations: 0 }, jwksDelayMs: 0, jwks, jwksEndless: false };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://origin');
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const json = (body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/jwks.json') {
      state.hits.jwks += 1;
      if (state.jwksDelayMs) await sleep(state.jwksDelayMs);
      if (state.jwksEndless) {
        // A body that never ends: 64 KiB pieces for as long as the client reads.
        res.writeHead(200, { 'content-type': 'application/json' });
        const piece = Buffer.alloc(65536, 0x20);
        const more = () => { while (!res.destroyed && res.write(piece)); };
        res.on('drain', more);
        req.socket.on('close', () => res.destroy());
        return more();
      }
      return json(state.jwks);
    }
    if (url.pathname === '/.well-known/revocation-jwks.json') {
      state.hits.revocationJwks += 1;
      return json(revocationJwks);
    }
    if (url.pathname === '/v1/revocations') {
      state.hits.revocations += 1;
      const since = Number(url.searchParams.get('since'));
      if (since > log.seq) {
        res.writeHead(409, { 'content-type': 'application/json' });
        return res.end('{"error":"since_ahead","message":"since is ahead"}');
      }
      const body = since === 0 ? log.snapshot() : log.deltaSince(since);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength });
      return res.end(body);
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { log, state, server, base: `http://127.0.0.1:${server.address().port}` };
}

describe('Authenticator', () => {
  let origin;
  before(async () => { origin = await fakeOrigin(); });
  after(() => origin.server.close());

  const options = (extra = {}) => ({ issuer: ISSUER, audience: AUDIENCE, origin: origin.base, cache: null, ...extra });

  test('bad options throw invalid_option at once, with no I/O', () => {
    const before = { ...origin.state.hits };
    for (const bad of [
      undefined, null, 'x', {},
      { audience: AUDIENCE, origin: 'http://o' },
      { issuer: ISSUER, origin: 'http://o' },
      { issuer: ISSUER, audience: AUDIENCE },
      { issuer: ISSUER, audience: AUDIENCE, origin: 'not a url' },
      { issuer: ISSUER, audience: AUDIENCE, origin: 'ftp://o' },
      { issuer: ISSUER, audience: AUDIENCE, origin: 'http://o', clockTolerance: 99 },
      { issuer: ISSUER, audience: AUDIENCE, origin: 'http://o', follow: 'yes' },
      { issuer: ISSUER, audience: AUDIENCE, origin: 'http://o', unknownThing: 1 },
      { issuer: ISSUER, audience: AUDIENCE, keys: jwks, follow: true },
      { issuer: ISSUER, audience: AUDIENCE, keys: jwks, follow: false, stalenessTargetMs: 5 },
      { issuer: ISSUER, audience: AUDIENCE, origin: 'http://o', fetch: 'fetch' },
    ]) {
      assert.throws(() => new Authenticator(bad), { code: 'invalid_option' }, JSON.stringify(bad));
    }
    assert.throws(() => new Authenticator({ issuer: ISSUER, audience: AUDIENCE, keys: { kty: 'RSA' } }), (e) => typeof e.code === 'string');
    assert.deepEqual(origin.state.hits, before);
  });

  test('keys given: no fetch at all, a validator at once', async () => {
    const auth = new Authenticator({ issuer: ISSUER, audience: AUDIENCE, keys: jwks });
    assert.ok(auth.validator instanceof Validator);
    assert.equal(auth.follower, null);
    const token = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0 });
    const r = await auth.authenticate(withAuth(`Bearer ${token}`));
    assert.equal(r.ok, true);
    assert.equal(r.session.account, 'a');
  });

  test('origin down at first: 503 keys_unavailable, retried after 1 s, then it recovers', async () => {
    origin.state.down = true;
    const auth = new Authenticator(options());
    const token = issuer.mint({ account: 'acct_k', session: 's', device: 0, epoch: 0 });
    const first = await auth.authenticate(withAuth(`Bearer ${token}`));
    assert.equal(first.status, 503);
    assert.equal(first.error, 'keys_unavailable');
    assert.match(first.message, /jwks\.json/);
    const res = unauthorized(first);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal((await res.json()).error, 'keys_unavailable');
    // No token needs no keys: still a 401, not a 503.
    assert.equal((await auth.authenticate({ headers: {} })).status, 401);

    origin.state.down = false;
    const hits = origin.state.hits.jwks;
    assert.equal((await auth.authenticate(withAuth(`Bearer ${token}`))).status, 503, 'within the second: no new try');
    assert.equal(origin.state.hits.jwks, hits);
    await sleep(1100);
    const later = await auth.authenticate(withAuth(`Bearer ${token}`));
    assert.equal(later.ok, true, JSON.stringify(later));
    assert.equal(origin.state.hits.jwks, hits + 1);
    assert.ok(auth.follower);
    auth.close();
  });

  test('a JWKS body that never ends: abandoned past 1 MiB, 503 keys_unavailable, no hang', async () => {
    origin.state.jwksEndless = true;
    try {
      const auth = new Authenticator(options({ refreshTimeoutMs: 60_000 }));
      const token = issuer.mint({ account: 'acct_e', session: 's', device: 0, epoch: 0 });
      const r = await auth.authenticate(withAuth(`Bearer ${token}`));
      assert.equal(r.status, 503);
      assert.equal(r.error, 'keys_unavailable');
      assert.match(r.message, /over 1048576 bytes/);
      auth.close();
    } finally {
      origin.state.jwksEndless = false;
    }
  });

  test('concurrent first requests: one JWKS fetch, every request answered', async () => {
    origin.state.jwksDelayMs = 100;
    const auth = new Authenticator(options());
    const token = issuer.mint({ account: 'acct_c', session: 's', device: 0, epoch: 0 });
    const before = { ...origin.state.hits };
    const results = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(withAuth(`Bearer ${token}`))));
    origin.state.jwksDelayMs = 0;
    assert.deepEqual(results.map((r) => r.ok), Array(20).fill(true));
    assert.equal(origin.state.hits.jwks - before.jwks, 1);
    assert.equal(origin.state.hits.revocationJwks - before.revocationJwks, 1);
    auth.close();
  });

  test('follows sign-outs: a revoked device is refused once the view catches up', async () => {
    const device = origin.log.allocateDevice('acct_f');
    const auth = new Authenticator(options({ stalenessTargetMs: 50 }));
    const token = issuer.mint({ account: 'acct_f', session: 's', device, epoch: 0 });
    assert.equal((await auth.authenticate(withAuth(`Bearer ${token}`))).ok, true);
    origin.log.revokeDevice('acct_f', device);
    const end = Date.now() + 5000;
    let r;
    do {
      await sleep(20);
      r = await auth.authenticate(withAuth(`Bearer ${token}`));
    } while (r.ok && Date.now() < end);
    assert.equal(r.error, 'revoked_device');
    assert.equal(r.wwwAuthenticate, 'Bearer error="invalid_token", error_description="revoked_device"');
    auth.close();
  });

  test('follow: false loads only the token keys, through the given fetch, and never goes stale', async () => {
    const urls = [];
    const auth = new Authenticator({
      issuer: ISSUER, audience: AUDIENCE, origin: `${origin.base}/`, follow: false,
      fetch: (url, init) => { urls.push(url); return fetch(url, init); },
    });
    const token = issuer.mint({ account: 'acct_n', session: 's', device: 0, epoch: 0 });
    const r = await auth.authenticate(withAuth(`Bearer ${token}`));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(urls, [`${origin.base}/.well-known/jwks.json`]);
    assert.equal(auth.follower, null);
    assert.throws(() => new Authenticator({ issuer: ISSUER, audience: AUDIENCE, origin: origin.base, follow: false, maxWaitMs: -1 }),
      { code: 'invalid_option' });
  });

  test('key rotation: a token naming a newly published key reloads the keys once, then validates', async () => {
    const auth = new Authenticator(options({ keyReloadMs: 300 }));
    const old = issuer.mint({ account: 'acct_r', session: 's', device: 0, epoch: 0 });
    assert.equal((await auth.authenticate(withAuth(`Bearer ${old}`))).ok, true);
    const rotated = new Issuer({ issuer: ISSUER, audience: AUDIENCE, privateJwk: generateKeyPair('t2').privateJwk });
    const fresh = rotated.mint({ account: 'acct_r', session: 's2', device: 0, epoch: 0 });
    // Not yet published: the reload finds the same keys and the token stays unknown_key.
    await sleep(350);
    let hits = origin.state.hits.jwks;
    assert.equal((await auth.authenticate(withAuth(`Bearer ${fresh}`))).error, 'unknown_key');
    assert.equal(origin.state.hits.jwks, hits + 1, 'one reload');
    // Published (the old key kept, as a rotation does); within the interval nothing is read again.
    origin.state.jwks = { keys: [...jwks.keys, ...rotated.publicJwks().keys] };
    hits = origin.state.hits.jwks;
    assert.equal((await auth.authenticate(withAuth(`Bearer ${fresh}`))).error, 'unknown_key');
    assert.equal(origin.state.hits.jwks, hits, 'no reload within keyReloadMs');
    await sleep(350);
    const r = await auth.authenticate(withAuth(`Bearer ${fresh}`));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.session.session, 's2');
    assert.equal((await auth.authenticate(withAuth(`Bearer ${old}`))).ok, true, 'the old key still validates');
    // The new validator follows sign-outs like the old one.
    const device = origin.log.allocateDevice('acct_r2');
    const later = rotated.mint({ account: 'acct_r2', session: 's3', device, epoch: 0 });
    origin.log.revokeDevice('acct_r2', device);
    const end = Date.now() + 5000;
    let refused;
    do {
      await sleep(20);
      refused = await auth.authenticate(withAuth(`Bearer ${later}`));
    } while (refused.ok && Date.now() < end);
    assert.equal(refused.error, 'revoked_device');
    origin.state.jwks = jwks;
    auth.close();
  });

  test('tokens naming made-up key ids: at most one key reload per keyReloadMs, whatever the flood', async () => {
    const auth = new Authenticator(options({ keyReloadMs: 60_000 }));
    const good = issuer.mint({ account: 'acct_u', session: 's', device: 0, epoch: 0 });
    assert.equal((await auth.authenticate(withAuth(`Bearer ${good}`))).ok, true);
    const hits = origin.state.hits.jwks;
    const forged = Array.from({ length: 200 }, (_, i) => craft({ ...HEADER, kid: `k${i}` }, claims()));
    const results = await Promise.all(forged.map((t) => auth.authenticate(withAuth(`Bearer ${t}`))));
    assert.deepEqual(new Set(results.map((r) => r.error)), new Set(['unknown_key']));
    assert.equal(origin.state.hits.jwks, hits, 'keys loaded under a minute ago: no reload');
    const never = new Authenticator(options({ keyReloadMs: 0 }));
    assert.equal((await never.authenticate(withAuth(`Bearer ${good}`))).ok, true);
    const before = origin.state.hits.jwks;
    await never.authenticate(withAuth(`Bearer ${forged[0]}`));
    assert.equal(origin.state.hits.jwks, before, 'keyReloadMs 0: never');
    for (const bad of [-1, 1.5, 'x', 86_400_001]) {
      assert.throws(() => new Authenticator(options({ keyReloadMs: bad })), { code: 'invalid_option' });
    }
    auth.close();
    never.close();
  });

  test('a token minted with another key is refused, not trusted', async () => {
    const auth = new Authenticator(options());
    const stranger = new Issuer({ issuer: ISSUER, audience: AUDIENCE, privateJwk: generateKeyPair('t1').privateJwk });
    const r = await auth.authenticate(withAuth(`Bearer ${stranger.mint({ account: 'a', session: 's', device: 0, epoch: 0 })}`));
    assert.equal(r.error, 'bad_signature');
    auth.close();
  });
});

describe('Hono middleware (epochgate/hono) in a real Hono app', () => {
  let origin;
  before(async () => { origin = await fakeOrigin(); });
  after(() => origin.server.close());

  function app(auth) {
    const a = new Hono();
    a.get('/', (c) => c.text('public'));
    a.use('/api/*', auth);
    a.get('/api/me', (c) => c.json({ session: c.get('session'), token: c.get('token') }));
    a.post('/api/pay', auth.stepUp({ maxAuthAge: 300, requiredAmr: ['hwk'] }), (c) => c.json({ paid: c.get('session').account }));
    return a;
  }

  test('session and token on the context; public routes untouched', async () => {
    const auth = epochgate({ issuer: ISSUER, audience: AUDIENCE, origin: origin.base, cache: null });
    const a = app(auth);
    const token = issuer.mint({ account: 'acct_h', session: 'sess_h', device: 0, epoch: 0 });
    assert.equal(await (await a.request('/')).text(), 'public');
    const res = await a.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.token, token);
    assert.equal(body.session.account, 'acct_h');
    assert.equal(body.session.session, 'sess_h');
    assert.ok(auth.authenticator instanceof Authenticator);
    auth.authenticator.close();
  });

  test('refusals: 401 with the challenge and the JSON body; the handler never runs', async () => {
    let ran = 0;
    const auth = epochgate({ issuer: ISSUER, audience: AUDIENCE, origin: origin.base, cache: null });
    const a = new Hono();
    a.use('/api/*', auth);
    a.get('/api/x', (c) => { ran += 1; return c.text('x'); });
    const none = await a.request('/api/x');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await none.json()).error, 'missing_token');
    const bad = await a.request('/api/x', { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="malformed"');
    assert.equal(bad.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(await bad.json()), ['error', 'message']);
    const basic = await a.request('/api/x', { headers: { authorization: 'Basic eDp5' } });
    assert.equal(basic.status, 400);
    assert.equal(ran, 0);
    auth.authenticator?.close();
  });

  test('stepUp on a route: an old password sign-in is asked to authenticate again, a fresh passkey passes', async () => {
    const auth = epochgate({ issuer: ISSUER, audience: AUDIENCE, origin: origin.base, cache: null });
    const a = app(auth);
    const old = issuer.mint({ account: 'acct_s', session: 's', device: 0, epoch: 0, authTime: now() - 3600, amr: ['pwd'] });
    const res = await a.request('/api/pay', { method: 'POST', headers: { authorization: `Bearer ${old}` } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'),
      'Bearer error="insufficient_user_authentication", error_description="authenticate again with hwk", max_age=300');
    const { message, ...body } = await res.json();
    assert.equal(typeof message, 'string');
    assert.deepEqual(body, { error: 'insufficient_user_authentication', max_age: 300, required_amr: ['hwk'] });
    // The same token is fine where no step-up is asked.
    assert.equal((await a.request('/api/me', { headers: { authorization: `Bearer ${old}` } })).status, 200);
    const fresh = issuer.mint({ account: 'acct_s', session: 's', device: 0, epoch: 0, authTime: now() - 10, amr: ['hwk', 'user'] });
    const ok = await a.request('/api/pay', { method: 'POST', headers: { authorization: `Bearer ${fresh}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { paid: 'acct_s' });
    auth.authenticator.close();
  });

  test('a bad step-up rule fails where the route is declared', () => {
    const auth = epochgate({ issuer: ISSUER, audience: AUDIENCE, keys: jwks });
    for (const bad of [null, {}, { maxAuthAge: -1 }, { requiredAmr: 'hwk' }, { maxAge: 300 }]) {
      assert.throws(() => auth.stepUp(bad), { code: 'invalid_option' }, JSON.stringify(bad));
    }
    assert.throws(() => epochgate(null), { code: 'invalid_option' });
    assert.throws(() => epochgate({ issuer: ISSUER }), { code: 'invalid_option' });
  });

  test('options as a function of env: built once, on the first request, from that env', async () => {
    const calls = [];
    const auth = epochgate((env) => {
      calls.push(env);
      return { issuer: env.ISSUER, audience: env.AUDIENCE, origin: env.EPOCHGATE_ORIGIN, cache: null };
    });
    assert.equal(auth.authenticator, null);
    const a = app(auth);
    const env = { ISSUER, AUDIENCE, EPOCHGATE_ORIGIN: origin.base };
    const token = issuer.mint({ account: 'acct_e', session: 's', device: 0, epoch: 0 });
    for (let i = 0; i < 3; i++) {
      const res = await a.request('/api/me', { headers: { authorization: `Bearer ${token}` } }, env);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).session.account, 'acct_e');
    }
    assert.equal(calls.length, 1);
    assert.equal(calls[0], env);
    assert.ok(auth.authenticator instanceof Authenticator);
    auth.authenticator.close();
  });
});
