// The whole user journey against one real `wrangler dev`: accounts, devices, per-device and
// all-device sign-out, re-authentication and rate limits, password change, TOTP, the activity
// log, WebSocket pushes, restart on the same state, concurrency, bad input, the admin API and the
// OpenAPI description.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  FAST_ARGON2, call, cleanup, currentStep, decodeJwt, exchanges, makeSecrets, openApiProblems, sleep,
  startWorker, totpAt, waitFor,
  openSocket as helperOpenSocket, ticketSocket, PASSKEY_OPERATIONS,
} from './helper.mjs';

const secrets = makeSecrets();
let w;
let api;
const PASSWORD = 'correct horse battery';

before(async () => {
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

/** Polls /v1/me until it is refused; returns that response. */
async function refusedAtEdge(token) {
  return waitFor('the edge to refuse the token', async () => {
    const r = await api('GET', '/v1/me', { token });
    return r.status === 401 ? r : null;
  });
}

function assertTokenRefusal(r, reason) {
  assert.equal(r.status, 401);
  assert.equal(r.body.error, reason);
  assert.equal(typeof r.body.message, 'string');
  assert.equal(r.headers.get('www-authenticate'), `Bearer error="invalid_token", error_description="${reason}"`);
}

const openSocket = (token, opts) => helperOpenSocket(w.base, token, opts);

const s = {}; // shared state of the walk

async function login(email, password, device, extra = {}, clientIp = undefined) {
  return api('POST', '/v1/login', { body: { email, password, device, ...extra }, headers: { 'user-agent': device.ua ?? 'node-test' }, clientIp });
}

describe('the walk', () => {
  test('sign up', async () => {
    s.email = `alice-${Date.now()}@example.com`;
    const r = await api('POST', '/v1/accounts', { body: { email: s.email, password: PASSWORD } });
    assert.equal(r.status, 201);
    assert.match(r.body.account, /^acct_/);
    s.account = r.body.account;
    const again = await api('POST', '/v1/accounts', { body: { email: s.email.toUpperCase(), password: PASSWORD } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'account_exists');
    const bad = await api('POST', '/v1/accounts', { body: { email: 'not-an-email', password: PASSWORD } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_input');
  });

  test('jwks lists the token key', async () => {
    const r = await api('GET', '/.well-known/jwks.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.keys.length, 1);
    assert.equal(r.body.keys[0].kty, 'OKP');
    assert.equal(r.body.keys[0].d, undefined, 'no private member is published');
    assert.equal(r.body.keys[0].kid, JSON.parse(secrets.vars.TOKEN_SIGNING_JWK).kid);
  });

  test('revocation-jwks lists the public revocation-update key, apart from the token keys', async () => {
    const r = await api('GET', '/.well-known/revocation-jwks.json');
    assert.equal(r.status, 200);
    const secret = JSON.parse(secrets.vars.REVOCATION_SIGNING_JWK);
    assert.deepEqual(r.body.keys.map((k) => [k.kid, k.x, k.d]), [[secret.kid, secret.x, undefined]]);
    const tokens = await api('GET', '/.well-known/jwks.json');
    assert.ok(tokens.body.keys.every((k) => k.x !== secret.x), 'never a token key');
  });

  test('sign in on three devices', async () => {
    const devices = [
      { name: 'Laptop', type: 'desktop', ua: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' },
      { name: 'Phone', type: 'mobile', ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari' },
      { name: 'Tablet', type: 'tablet', ua: 'Mozilla/5.0 (Linux; Android 15) Chrome/140' },
    ];
    s.devices = [];
    for (const d of devices) {
      const r = await login(s.email, PASSWORD, { name: d.name, type: d.type, ua: d.ua });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const claims = decodeJwt(r.body.token).payload;
      assert.equal(claims.sub, s.account);
      assert.equal(claims.sid, r.body.session);
      assert.equal(claims.dev, r.body.device);
      assert.equal(claims.epo, 0);
      s.devices.push({ ...d, ...r.body });
    }
    assert.deepEqual(s.devices.map((d) => d.device), [0, 1, 2], 'slots are handed out increasing');
    const me = await api('GET', '/v1/me', { token: s.devices[0].token });
    assert.equal(me.status, 200);
    assert.deepEqual(
      { account: me.body.account, session: me.body.session, device: me.body.device, epoch: me.body.epoch },
      { account: s.account, session: s.devices[0].session, device: 0, epoch: 0 },
    );
  });

  test('list sessions', async () => {
    const r = await api('GET', '/v1/sessions', { token: s.devices[1].token });
    assert.equal(r.status, 200);
    assert.equal(r.body.sessions.length, 3);
    for (const d of s.devices) {
      const row = r.body.sessions.find((x) => x.id === d.session);
      assert.ok(row, `session ${d.session} listed`);
      assert.equal(row.name, d.name);
      assert.equal(row.type, d.type);
      assert.equal(row.user_agent, d.ua);
      assert.equal(row.status, 'active');
      assert.equal(row.current, d === s.devices[1]);
      assert.ok(row.created_at > 1.7e9 && row.last_seen_at >= row.created_at);
      assert.ok('ip' in row && 'location' in row);
    }
  });

  test('sign out one device: refused at the edge, its socket told and closed, others untouched', async () => {
    const [a, b, c] = s.devices;
    s.sockB = await ticketSocket(w.base, b.token); // as the page opens it
    s.sockC = openSocket(c.token);
    await Promise.all([s.sockB.hello, s.sockC.hello]);
    const r = await api('DELETE', `/v1/sessions/${b.session}`, { token: a.token });
    assert.equal(r.status, 204);
    assertTokenRefusal(await refusedAtEdge(b.token), 'revoked_device');
    const code = await s.sockB.closed;
    assert.equal(code, 1000);
    assert.deepEqual(s.sockB.messages.at(-1), { type: 'signed_out', scope: 'device' });
    assert.equal((await api('GET', '/v1/me', { token: a.token })).status, 200);
    assert.equal((await api('GET', '/v1/me', { token: c.token })).status, 200);
    assert.ok(s.sockC.isOpen(), 'the untouched session keeps its socket');
    assert.equal((await api('DELETE', `/v1/sessions/${b.session}`, { token: a.token })).status, 204, 'repeating is harmless');
    const unknown = await api('DELETE', '/v1/sessions/s_nope', { token: a.token });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'unknown_session');
    const list = await api('GET', '/v1/sessions', { token: a.token });
    assert.equal(list.body.sessions.find((x) => x.id === b.session).status, 'signed_out');
    const ws = await api('GET', '/v1/events', { token: b.token });
    assert.equal(ws.status, 401, 'a revoked session cannot open a socket');
  });

  test('sign-out-all needs re-authentication', async () => {
    const a = s.devices[0];
    const none = await api('POST', '/v1/sessions/sign-out-all', { token: a.token, body: {} });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'reauth_required');
    const wrong = await api('POST', '/v1/sessions/sign-out-all', { token: a.token, body: { password: 'wrong password' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'reauth_failed');
    assert.equal((await api('GET', '/v1/me', { token: a.token })).status, 200, 'a refused sign-out changes nothing');
  });

  test('a session\'s re-authentication has its own throttle: 5 failures, then growing waits, even for the right password; the login is not blocked', async () => {
    s.lockedEmail = `locked-${Date.now()}@example.com`;
    assert.equal((await api('POST', '/v1/accounts', { body: { email: s.lockedEmail, password: PASSWORD } })).status, 201);
    const t = await login(s.lockedEmail, PASSWORD, { name: 'Box', type: 'desktop' });
    assert.equal(t.status, 201);
    s.lockedToken = t.body.token;
    for (let n = 0; n < 5; n++) {
      const r = await api('POST', '/v1/sessions/sign-out-all', { token: s.lockedToken, body: { password: `nope ${n}` } });
      assert.equal(r.status, 401, `failure ${n + 1}`);
      assert.equal(r.body.error, 'reauth_failed');
    }
    const limited = await api('POST', '/v1/sessions/sign-out-all', { token: s.lockedToken, body: { password: PASSWORD } });
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error, 'rate_limited');
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 2, `Retry-After ${retry}`);
    // The session's failures are its own: a login to the account is not throttled by them.
    assert.equal((await login(s.lockedEmail, PASSWORD, { name: 'Box', type: 'desktop' })).status, 201);
    assert.equal((await api('GET', '/v1/me', { token: s.lockedToken })).body.epoch, 0, 'no bump happened');
  });

  test('sign-out-all with the password: old tokens revoked_all, offline token refused, kept device works', async () => {
    const [a, , c] = s.devices;
    // A device that signed in but never presented its token before the sign-out.
    const offline = await login(s.email, PASSWORD, { name: 'Old phone', type: 'mobile' });
    assert.equal(offline.status, 201);
    const r = await api('POST', '/v1/sessions/sign-out-all', { token: a.token, body: { password: PASSWORD, keep_current: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.epoch, 1);
    assert.equal(typeof r.body.token, 'string');
    assertTokenRefusal(await refusedAtEdge(a.token), 'revoked_all');
    assertTokenRefusal(await refusedAtEdge(c.token), 'revoked_all');
    assertTokenRefusal((await api('GET', '/v1/me', { token: offline.body.token })), 'revoked_all');
    assert.equal(await s.sockC.closed, 1000);
    assert.deepEqual(s.sockC.messages.at(-1), { type: 'signed_out', scope: 'all' });
    const kept = await api('GET', '/v1/me', { token: r.body.token });
    assert.equal(kept.status, 200);
    assert.equal(kept.body.session, a.session, 'keep_current keeps the session');
    assert.equal(kept.body.epoch, 1);
    s.current = r.body.token;
    const fresh = await login(s.email, PASSWORD, { name: 'New laptop', type: 'desktop' });
    assert.equal(fresh.status, 201);
    assert.equal(fresh.body.epoch, 1);
    assert.equal((await api('GET', '/v1/me', { token: fresh.body.token })).status, 200);
    s.newLaptop = fresh.body;
    const retry = await api('POST', '/v1/sessions/sign-out-all', { token: a.token, body: { password: PASSWORD } });
    assert.equal(retry.status, 401, 'retrying with the old token bumps nothing');
    assert.equal((await api('GET', '/v1/me', { token: s.current })).body.epoch, 1);
  });

  test('password change signs out the others and keeps the current device', async () => {
    const other = s.newLaptop;
    const sock = openSocket(other.token);
    await sock.hello;
    const r = await api('POST', '/v1/password', { token: s.current, body: { current_password: PASSWORD, new_password: `${PASSWORD} 2` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.epoch, 2);
    assertTokenRefusal(await refusedAtEdge(other.token), 'revoked_all');
    assert.deepEqual((await sock.closed, sock.messages.at(-1)), { type: 'signed_out', scope: 'all' });
    const me = await api('GET', '/v1/me', { token: r.body.token });
    assert.equal(me.status, 200);
    s.current = r.body.token;
    assert.equal((await login(s.email, PASSWORD, { name: 'X', type: 'desktop' })).status, 401, 'the old password is gone');
    s.password = `${PASSWORD} 2`;
    const ok = await login(s.email, s.password, { name: 'Desk', type: 'desktop' });
    assert.equal(ok.status, 201);
    s.desk = ok.body;
    const bad = await api('POST', '/v1/password', { token: s.current, body: { current_password: 'nope', new_password: 'whatever123' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, 'reauth_failed');
  });

  test('TOTP enrolment, then a TOTP-verified sign-out-all and a TOTP login', async () => {
    const unconfirmed = await api('POST', '/v1/totp', { token: s.current, body: {} });
    assert.equal(unconfirmed.status, 401, 'enrolment asks for the password (takeover.test.mjs tries the rest)');
    assert.equal(unconfirmed.body.error, 'reauth_required');
    const start = await api('POST', '/v1/totp', { token: s.current, body: { password: s.password } });
    assert.equal(start.status, 200);
    assert.match(start.body.secret, /^[A-Z2-7]{32}$/);
    assert.ok(start.body.otpauth_uri.startsWith('otpauth://totp/'));
    assert.ok(start.body.otpauth_uri.includes(`secret=${start.body.secret}`));
    const secret = start.body.secret;
    const wrongCode = await api('POST', '/v1/totp/confirm', { token: s.current, body: { code: '000000' === totpAt(secret, currentStep()) ? '111111' : '000000' } });
    assert.equal(wrongCode.status, 400);
    const step = currentStep();
    const confirm = await api('POST', '/v1/totp/confirm', { token: s.current, body: { code: totpAt(secret, step) } });
    assert.equal(confirm.status, 204);
    const noCode = await login(s.email, s.password, { name: 'Y', type: 'desktop' });
    assert.equal(noCode.status, 401);
    assert.equal(noCode.body.error, 'totp_required');
    // Codes are single-use: the next step's code (accepted within the ±1 step window).
    const r = await api('POST', '/v1/sessions/sign-out-all', { token: s.current, body: { totp: totpAt(secret, step + 1), keep_current: true } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.epoch, 3);
    assertTokenRefusal(await refusedAtEdge(s.desk.token), 'revoked_all');
    s.current = r.body.token;
    const replay = await api('POST', '/v1/sessions/sign-out-all', { token: s.current, body: { totp: totpAt(secret, step + 1) } });
    assert.equal(replay.status, 401, 'a used code is refused');
    assert.equal(replay.body.error, 'reauth_failed');
    // A login needs a code of a later step: wait until the clock allows step + 2.
    await waitFor('the next TOTP step', async () => currentStep() >= step + 1, 40000, 200);
    const withCode = await login(s.email, s.password, { name: 'Z', type: 'desktop' }, { totp: totpAt(secret, step + 2) });
    assert.equal(withCode.status, 201, JSON.stringify(withCode.body));
  });

  test('the activity log shows each step in order', async () => {
    const r = await api('GET', '/v1/activity', { token: s.current });
    assert.equal(r.status, 200);
    const types = r.body.events.map((e) => e.type).reverse(); // oldest first
    const expected = [
      // The first sign-in is plain; each later one from a user agent the account has not used
      // before is sign_in_new_device (and mailed).
      'account_created', 'sign_in', 'sign_in_new_device', 'sign_in_new_device', 'sign_out', 'reauth_failed',
      'sign_in_new_device', 'sign_out_all', 'sign_in', 'password_changed', 'sign_in_failed', 'sign_in', 'reauth_failed',
      'totp_enabled', 'sign_out_all', 'reauth_failed', 'sign_in',
    ];
    assert.deepEqual(types, expected);
    const at = r.body.events.map((e) => e.at);
    assert.deepEqual([...at].sort((x, y) => y - x), at, 'newest first');
    const signIn = r.body.events.find((e) => e.type === 'sign_in');
    assert.ok(signIn.session && signIn.user_agent);
  });

  test('account settings and recovery routes answer as documented (the attacks are in security.test.mjs)', async () => {
    const account = await api('GET', '/v1/account', { token: s.current });
    assert.equal(account.status, 200, JSON.stringify(account.body));
    assert.equal(account.body.email, s.email);
    assert.equal(account.body.totp_enabled, true);
    const sent = await api('POST', '/v1/reauth/email-code', { token: s.current, body: {} });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const outbox = await api('GET', `/v1/admin/outbox?to=${encodeURIComponent(s.email)}`, { token: secrets.vars.ADMIN_TOKEN });
    assert.equal(outbox.status, 200);
    assert.ok(outbox.body.messages.some((m) => /\b\d{6}\b/.test(m.text)), 'the code was mailed');
    // With two-factor authentication on, the password alone is not enough for these.
    for (const [path, body] of [['/v1/recovery-codes', { password: s.password }], ['/v1/email', { new_email: 'new@example.com', password: s.password }]]) {
      const r = await api('POST', path, { token: s.current, body });
      assert.equal(r.status, 401, `${path} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'reauth_required');
    }
    assert.equal((await api('POST', '/v1/password/reset', { body: { email: 'nobody@example.com' } })).status, 202);
    const confirm = await api('POST', '/v1/password/reset/confirm', { body: { email: 'nobody@example.com', code: '123456', new_password: 'another long password' } });
    assert.equal(confirm.status, 400);
    assert.equal(confirm.body.error, 'invalid_code');
    const secure = await api('POST', '/v1/secure-account', { body: { token: 'acct_x.not-a-link' } });
    assert.equal(secure.status, 400);
    assert.equal(secure.body.error, 'invalid_link');
  });

  test('edge stats count this isolate', async () => {
    const r = await api('GET', '/v1/edge/stats');
    assert.equal(r.status, 200);
    for (const k of ['validations', 'cache_hits', 'origin_fetches', 'view_seq', 'view_age_ms']) assert.equal(typeof r.body[k], 'number', k);
    assert.ok(r.body.validations > 20);
    assert.ok(r.body.cache_hits > 0 && r.body.cache_hits < r.body.validations);
    assert.ok(r.body.view_seq >= 4, `view_seq ${r.body.view_seq}`);
    // HOST_ED25519 is not set: signatures are verified in wasm (the faster path).
    assert.equal(r.body.verification, 'wasm');
    const u = await api('GET', '/v1/revocations?since=0');
    assert.equal(u.status, 200);
    assert.equal(u.body[0], 2, 'format version 2');
    assert.equal(u.body[1], 1, 'a snapshot');
  });

  test('/app is proxied with identity headers (built-in echo), spoofed ones stripped', async () => {
    const me = await api('GET', '/v1/me', { token: s.current });
    const r = await api('POST', '/app/orders?x=1', { token: s.current, raw: 'hello', headers: { 'x-epochgate-account': 'mallory', 'epochgate-assertion': 'forged', 'content-type': 'text/plain' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.echo, true);
    assert.equal(r.body.path, '/app/orders');
    assert.equal(r.body.headers['x-epochgate-account'], me.body.account);
    assert.equal(r.body.headers['x-epochgate-session'], me.body.session);
    assert.equal(r.body.headers['x-epochgate-device'], String(me.body.device));
    assert.equal(r.body.headers.authorization, undefined, 'the bearer token is not passed on');
    assert.equal(r.body.body_bytes, 5);
    // The echo shows the signed assertion an upstream would get (upstream.test.mjs runs an upstream).
    const keys = await api('GET', '/.well-known/upstream-jwks.json');
    assert.equal(keys.status, 200);
    const { payload } = await jwtVerify(r.body.headers['epochgate-assertion'], createLocalJWKSet(keys.body),
      { typ: 'epochgate-assertion+jwt', issuer: 'epochgate', audience: 'upstream', maxTokenAge: 60 });
    assert.deepEqual([payload.sub, payload.sid, payload.dev, payload.htm, payload.htu],
      [me.body.account, me.body.session, me.body.device, 'POST', '/orders?x=1']);
    assertTokenRefusal(await api('GET', '/app/orders'), 'malformed');
  });

  test('bad input gets the documented error shape and changes nothing', async () => {
    const before = await api('GET', '/v1/activity', { token: s.current });
    const sessionsBefore = await api('GET', '/v1/sessions', { token: s.current });
    const cases = [
      [() => api('POST', '/v1/accounts', { raw: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
      [() => api('POST', '/v1/accounts', { raw: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
      [() => api('POST', '/v1/accounts', { body: { email: 'x@example.com' } }), 400, 'invalid_input'],
      [() => api('POST', '/v1/accounts', { body: { email: 42, password: PASSWORD } }), 400, 'invalid_input'],
      [() => api('POST', '/v1/login', { body: { email: s.email, password: s.password } }), 400, 'invalid_input'],
      [() => api('POST', '/v1/login', { body: { email: s.email, password: s.password, device: { name: '' , type: 'x' } } }), 400, 'invalid_input'],
      [() => api('POST', '/v1/accounts', { raw: JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(200000) }), headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large'],
      [() => api('POST', '/v1/sessions/sign-out-all', { token: s.current, raw: '{not json' }), 400, 'invalid_json'],
      [() => api('POST', '/v1/password', { token: s.current, body: { current_password: s.password } }), 400, 'invalid_input'],
      [() => api('POST', '/v1/totp/confirm', { token: s.current, body: {} }), 400, 'invalid_input'],
      [() => api('DELETE', '/v1/totp', { token: s.current, body: { password: s.password } }), 401, 'reauth_required'],
      [() => api('GET', '/v1/nothing-here'), 404, 'not_found'],
      [() => api('GET', '/v1/sessions/x/y', { token: s.current }), 404, 'not_found'],
      [() => api('PUT', '/v1/sessions', { token: s.current }), 405, 'method_not_allowed'],
      [() => api('GET', '/v1/login'), 405, 'method_not_allowed'],
      [() => api('DELETE', '/v1/accounts'), 405, 'method_not_allowed'],
      [() => api('GET', '/v1/revocations?since=abc'), 400, 'invalid_input'],
      [() => api('GET', '/v1/revocations?since=999999'), 409, 'since_ahead'],
    ];
    for (const [run, status, error] of cases) {
      const r = await run();
      assert.equal(r.status, status, `${error}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, error);
      assert.equal(typeof r.body.message, 'string');
      if (status === 405) assert.ok(r.headers.get('allow'));
    }
    for (const [token, reason] of [['', 'malformed'], ['abc', 'malformed'], ['a.b.c', 'malformed'], ['x'.repeat(5000), 'too_large']]) {
      assertTokenRefusal(await api('GET', '/v1/me', { headers: { authorization: `Bearer ${token}` } }), reason);
    }
    const forged = s.current.slice(0, -4) + (s.current.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal((await api('GET', '/v1/me', { token: forged })).status, 401);
    const afterLog = await api('GET', '/v1/activity', { token: s.current });
    assert.deepEqual(afterLog.body.events, before.body.events, 'no event was logged');
    const sessionsAfter = await api('GET', '/v1/sessions', { token: s.current });
    assert.deepEqual(sessionsAfter.body.sessions.map((x) => [x.id, x.status]), sessionsBefore.body.sessions.map((x) => [x.id, x.status]));
    assert.equal((await login('big@example.com', 'whatever1', { name: 'n', type: 't' })).status, 401, 'no account was created');
  });

  test('admin API: refused without or with a wrong token, works with it, idempotent sign-out-all', async () => {
    const acct = `ext-${Date.now()}`;
    const path = `/v1/admin/accounts/${acct}/sessions`;
    const body = { device: { name: 'Kiosk', type: 'kiosk' } };
    const none = await api('POST', path, { body });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_admin_token');
    const wrong = await api('POST', path, { body, token: 'not-the-admin-token' });
    assert.equal(wrong.status, 401);
    const admin = secrets.vars.ADMIN_TOKEN;
    const s1 = await api('POST', path, { body, token: admin });
    assert.equal(s1.status, 201, JSON.stringify(s1.body));
    const s2 = await api('POST', path, { body, token: admin });
    assert.equal(s2.status, 201);
    assert.equal((await api('GET', '/v1/me', { token: s1.body.token })).body.account, acct);
    const del = await api('DELETE', `${path}/${s1.body.session}`, { token: admin });
    assert.equal(del.status, 204);
    assertTokenRefusal(await refusedAtEdge(s1.body.token), 'revoked_device');
    assert.equal((await api('GET', '/v1/me', { token: s2.body.token })).status, 200);
    const notThere = await api('DELETE', `${path}/s_missing`, { token: admin });
    assert.equal(notThere.status, 404);
    const key = `retry-${Date.now()}`;
    const first = await api('POST', `/v1/admin/accounts/${acct}/sign-out-all`, { body: {}, token: admin, headers: { 'idempotency-key': key } });
    const second = await api('POST', `/v1/admin/accounts/${acct}/sign-out-all`, { body: {}, token: admin, headers: { 'idempotency-key': key } });
    assert.equal(first.status, 200);
    assert.deepEqual(second.body, first.body, 'a retried request answers the same');
    assert.equal(first.body.epoch, 1);
    assertTokenRefusal(await refusedAtEdge(s2.body.token), 'revoked_all');
    const s3 = await api('POST', path, { body, token: admin });
    assert.equal(s3.body.epoch, 1, 'the retry did not bump the epoch again');
  });

  test('concurrency: parallel logins and sign-outs never lose a bump nor duplicate a slot', async () => {
    const email = `busy-${Date.now()}@example.com`;
    assert.equal((await api('POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status, 201);
    const first = await login(email, PASSWORD, { name: 'seed', type: 'desktop' });
    const account = decodeJwt(first.body.token).payload.sub;
    const admin = secrets.vars.ADMIN_TOKEN;
    // Twelve devices on twelve networks: parallel checks of one (email, network) bucket are
    // bounded by its free failures (passwords.test.mjs), which is not what this test is about.
    const logins = Array.from({ length: 12 }, (_, n) => login(email, PASSWORD, { name: `d${n}`, type: 'desktop' }, {}, `192.0.2.${n + 1}`));
    const bumps = Array.from({ length: 6 }, () => api('POST', `/v1/admin/accounts/${account}/sign-out-all`, { body: {}, token: admin }));
    const userBump = api('POST', '/v1/sessions/sign-out-all', { token: first.body.token, body: { password: PASSWORD } });
    const [loginResults, bumpResults, user] = await Promise.all([Promise.all(logins), Promise.all(bumps), userBump]);
    const ok = loginResults.filter((r) => r.status === 201);
    assert.equal(ok.length, 12, 'every login succeeded');
    const bumpEpochs = bumpResults.map((r) => r.body.epoch);
    if (user.status === 200) bumpEpochs.push(user.body.epoch);
    else assert.equal(user.body.error, 'revoked_all', 'the user sign-out only loses to an earlier bump');
    const total = bumpEpochs.length;
    assert.deepEqual([...bumpEpochs].sort((x, y) => x - y), Array.from({ length: total }, (_, n) => n + 1), 'each bump got its own epoch');
    const pairs = new Set(ok.map((r) => `${r.body.epoch}/${r.body.device}`));
    assert.equal(pairs.size, ok.length, 'no (epoch, slot) was handed out twice');
    const after = await login(email, PASSWORD, { name: 'after', type: 'desktop' });
    assert.equal(after.body.epoch, total, 'the final epoch counts every bump');
    for (const r of ok) {
      const me = await api('GET', '/v1/me', { token: r.body.token });
      if (r.body.epoch < total) assert.equal(me.body.error ?? (await refusedAtEdge(r.body.token)).body.error, 'revoked_all');
      else assert.equal(me.status, 200);
    }
    // Parallel per-device sign-outs of the current epoch's sessions.
    const live = [after.body, ...ok.filter((r) => r.body.epoch === total).map((r) => r.body)];
    const extra = await Promise.all(Array.from({ length: 4 }, (_, n) => login(email, PASSWORD, { name: `p${n}`, type: 'mobile' })));
    const targets = extra.map((r) => r.body);
    const outs = await Promise.all(targets.map((t) => api('DELETE', `/v1/sessions/${t.session}`, { token: live[0].token })));
    assert.ok(outs.every((r) => r.status === 204));
    for (const t of targets) assertTokenRefusal(await refusedAtEdge(t.token), 'revoked_device');
    assert.equal((await api('GET', '/v1/me', { token: live[0].token })).status, 200);
  });

  test('restart wrangler dev on the same state: accounts, devices, epochs and rate limits persist', async () => {
    const before = await api('GET', '/v1/sessions', { token: s.current });
    const epoch = (await api('GET', '/v1/me', { token: s.current })).body.epoch;
    await w.stop();
    w = await startWorker({ secrets, vars: FAST_ARGON2, persistTo: w.persistTo });
    const me = await api('GET', '/v1/me', { token: s.current });
    assert.equal(me.status, 200);
    assert.equal(me.body.epoch, epoch);
    const after = await api('GET', '/v1/sessions', { token: s.current });
    assert.deepEqual(after.body.sessions.map((x) => [x.id, x.status]).sort(), before.body.sessions.map((x) => [x.id, x.status]).sort());
    assertTokenRefusal(await api('GET', '/v1/me', { token: s.devices[2].token }), 'revoked_all');
    assertTokenRefusal(await api('GET', '/v1/me', { token: s.devices[1].token }), 'revoked_all');
    // Five failures before the restart and one after: the sixth sets a 2 s wait, which only a
    // counter that survived the restart knows about.
    const wrong = await api('POST', '/v1/sessions/sign-out-all', { token: s.lockedToken, body: { password: 'nope again' } });
    assert.equal(wrong.status, 401);
    const limited = await api('POST', '/v1/sessions/sign-out-all', { token: s.lockedToken, body: { password: PASSWORD } });
    assert.equal(limited.status, 429, 'the throttle counter survived the restart');
    const stats = await api('GET', '/v1/edge/stats');
    assert.ok(stats.body.view_seq > 0, 'the new isolate loaded a snapshot');
  });

  test('every documented operation exists and every recorded response matches openapi.yaml', async () => {
    const routed = exchanges.filter((x) => x.status !== 405 && !(x.status === 404 && x.body?.error === 'not_found'));
    const { problems, seen, doc } = openApiProblems(routed, { errorShape: false });
    assert.equal(doc.openapi.slice(0, 3), '3.1');
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item).filter((k) => ['get', 'post', 'put', 'delete', 'patch'].includes(k))) {
        if (template === '/') continue;
        if (template === '/v1/events') continue; // exercised over WebSocket above
        // Passkeys need an authenticator: passkeys.test.mjs plays one, and checks it saw each.
        if (PASSKEY_OPERATIONS.includes(`${method} ${template}`)) continue;
        if (!seen.has(`${method} ${template}`)) problems.push(`documented but never exercised: ${method} ${template}`);
      }
    }
    // Every documented route answers something other than the unknown-route 404 / 405.
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item).filter((k) => ['get', 'post', 'put', 'delete', 'patch'].includes(k))) {
        const path = template.replace(/\{[^}]+\}/g, 'x');
        const r = await fetch(w.base + path, { method: method.toUpperCase() });
        const body = r.headers.get('content-type')?.includes('json') ? await r.json() : null;
        if (r.status === 405 || body?.error === 'not_found') problems.push(`${method} ${template} is not routed (${r.status})`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
