// Passkeys, re-authentication and step-up against a real `wrangler dev`, with a software
// authenticator (authenticator.mjs) playing the browser: registration after a strong
// re-authentication, sign-in with a discoverable credential, passkey re-authentication,
// auth_time/amr in the tokens, the edge's step-up rules (RFC 9470) and POST /v1/reauth — and
// each misuse next to its use: no proof, someone else's session or challenge, a replayed or
// forged challenge, a wrong origin, no user verification, a bad signature, a counter that goes
// back, a removed passkey, floods and oversized bodies.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, cleanup, decodeJwt, exchanges, FAST_ARGON2, freePort, makeSecrets, newMail, openApiProblems,
  currentStep, PASSKEY_OPERATIONS, sleep, startWorker, totpAt, waitFor,
} from './helper.mjs';
import { SoftAuthenticator } from './authenticator.mjs';

const secrets = makeSecrets();
let w;
let api;
let origin;
const PASSWORD = 'correct horse battery';
const EMAIL = `passkeys-${Date.now()}@example.com`;
const OTHER = `other-${Date.now()}@example.com`;
const STEP_UP = { '/app/payments': { max_age: 300, amr: ['hwk'] }, '/app/recent': { max_age: 2 } };

before(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  w = await startWorker({ secrets, port, vars: { ...FAST_ARGON2, RP_ORIGINS: origin, STEP_UP: JSON.stringify(STEP_UP) } });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

const s = {};
const device = (name) => ({ name, type: 'desktop' });

async function login(email, name) {
  const r = await api('POST', '/v1/login', { body: { email, password: PASSWORD, device: device(name) } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function registrationOptions(token, proof = { password: PASSWORD }) {
  const r = await api('POST', '/v1/passkeys/registration-options', { token, body: proof });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.publicKey;
}

async function loginOptions() {
  const r = await api('POST', '/v1/login/passkey-options', { body: {} });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.publicKey;
}

async function reauthOptions(token) {
  const r = await api('POST', '/v1/reauth/passkey-options', { token, body: {} });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.publicKey;
}

const passkeyLogin = (credential, name = 'Passkey laptop') =>
  api('POST', '/v1/login/passkey', { body: { credential, device: device(name) } });

async function activity(token) {
  const r = await api('GET', '/v1/activity', { token });
  assert.equal(r.status, 200);
  return r.body.events.map((e) => e.type);
}

describe('passkeys', () => {
  test('an owner signs up and signs in on two devices; another account exists', async () => {
    assert.equal((await api('POST', '/v1/accounts', { body: { email: EMAIL, password: PASSWORD } })).status, 201);
    assert.equal((await api('POST', '/v1/accounts', { body: { email: OTHER, password: PASSWORD } })).status, 201);
    s.a = await login(EMAIL, 'Laptop');
    s.b = await login(EMAIL, 'Phone');
    s.other = await login(OTHER, 'Stranger');
    s.account = decodeJwt(s.a.token).payload.sub;
    s.auth = new SoftAuthenticator({ origin });
    const claims = decodeJwt(s.a.token).payload;
    assert.deepEqual(claims.amr, ['pwd']);
    assert.ok(Math.abs(claims.auth_time - claims.iat) <= 1, JSON.stringify(claims));
    const none = await api('GET', '/v1/passkeys', { token: s.a.token });
    assert.deepEqual(none.body, { passkeys: [] });
  });

  test('registration options need a strong re-authentication; a token alone gets nothing', async () => {
    let r = await api('POST', '/v1/passkeys/registration-options', { token: s.a.token, body: {} });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'reauth_required');
    assert.doesNotMatch(r.headers.get('www-authenticate') ?? '', /invalid_token/);
    r = await api('POST', '/v1/passkeys/registration-options', { token: s.a.token, body: { password: 'wrong password!!' } });
    assert.equal(r.body.error, 'reauth_failed');
    r = await api('POST', '/v1/passkeys/registration-options', { body: { password: PASSWORD } });
    assert.equal(r.status, 401);
    const o = await registrationOptions(s.a.token);
    assert.equal(o.rp.id, 'localhost');
    assert.equal(Buffer.from(o.user.id, 'base64url').toString(), s.account);
    assert.equal(o.user.name, EMAIL);
    assert.deepEqual(o.pubKeyCredParams.map((p) => p.alg), [-8, -7]);
    assert.equal(o.authenticatorSelection.userVerification, 'required');
    assert.equal(o.authenticatorSelection.residentKey, 'required');
    assert.equal(o.attestation, 'none');
    assert.equal(o.timeout, 300000);
    assert.match(o.challenge, /^[A-Za-z0-9_-]{40,}$/);
    s.options = o;
  });

  test('a registration from another origin, without user verification, or for another RP id is refused', async () => {
    const bad = [
      [{ clientData: { origin: 'https://evil.example' } }, /wrong_origin/],
      [{ uv: false }, /user_not_verified/],
      [{ rpId: 'evil.example' }, /wrong_rp_id/],
    ];
    for (const [over, message] of bad) {
      const credential = new SoftAuthenticator({ origin }).create(s.options, over);
      const r = await api('POST', '/v1/passkeys', { token: s.a.token, body: { name: 'Bad', credential } });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error, 'invalid_passkey');
      assert.match(r.body.message, message);
    }
    // Another session of the same account cannot answer this session's challenge.
    const credential = new SoftAuthenticator({ origin }).create(s.options);
    const r = await api('POST', '/v1/passkeys', { token: s.b.token, body: { credential } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_challenge');
    assert.deepEqual((await api('GET', '/v1/passkeys', { token: s.a.token })).body.passkeys, []);
  });

  test('the owner registers a passkey; the challenge then works no more', async () => {
    const credential = s.auth.create(s.options);
    const r = await api('POST', '/v1/passkeys', { token: s.a.token, body: { name: 'Laptop key', credential } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.passkey.name, 'Laptop key');
    assert.equal(r.body.passkey.algorithm, 'ES256');
    assert.equal(r.body.passkey.last_used_at, null);
    s.keyId = credential.id;
    const again = await api('POST', '/v1/passkeys', { token: s.a.token, body: { credential } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'passkey_exists');
    const replay = await api('POST', '/v1/passkeys', { token: s.a.token, body: { credential: new SoftAuthenticator({ origin }).create(s.options) } });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_challenge');
    assert.match(replay.body.message, /challenge_replayed/);
    const listed = await api('GET', '/v1/passkeys', { token: s.b.token });
    assert.deepEqual(listed.body.passkeys.map((p) => [p.id, p.name, p.backed_up]), [[s.keyId, 'Laptop key', false]]);
    // The options now exclude it.
    const o = await registrationOptions(s.a.token);
    assert.deepEqual(o.excludeCredentials, [{ type: 'public-key', id: s.keyId }]);
    const mail = await newMail(w.base, secrets.vars.ADMIN_TOKEN, EMAIL, new Set(), (m) => /passkey was added/i.test(m.subject));
    assert.ok(mail);
  });

  test('a passkey is renamed by its owner only', async () => {
    let r = await api('PATCH', `/v1/passkeys/${s.keyId}`, { token: s.b.token, body: { name: '  Work laptop ' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.passkey.name, 'Work laptop');
    r = await api('PATCH', `/v1/passkeys/${s.keyId}`, { token: s.other.token, body: { name: 'Mine now' } });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'unknown_passkey');
    r = await api('PATCH', `/v1/passkeys/${s.keyId}`, { token: s.a.token, body: { name: '' } });
    assert.equal(r.status, 400);
    r = await api('PATCH', `/v1/passkeys/${s.keyId}`, { body: { name: 'x' } });
    assert.equal(r.status, 401);
    r = await api('POST', `/v1/passkeys/${s.keyId}`, { token: s.a.token, body: {} });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'PATCH, DELETE');
  });

  test('a fresh device signs in with the passkey alone; its token says how', async () => {
    const r = await passkeyLogin(s.auth.get(await loginOptions()));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const claims = decodeJwt(r.body.token).payload;
    assert.deepEqual(claims.amr, ['hwk', 'user', 'mfa']);
    assert.ok(Math.abs(claims.auth_time - Date.now() / 1000) < 10);
    s.pk = r.body;
    const me = await api('GET', '/v1/me', { token: s.pk.token });
    assert.deepEqual(me.body.amr, ['hwk', 'user', 'mfa']);
    assert.equal(me.body.auth_time, claims.auth_time);
    const sessions = await api('GET', '/v1/sessions', { token: s.pk.token });
    assert.ok(sessions.body.sessions.some((x) => x.name === 'Passkey laptop' && x.current));
    const listed = await api('GET', '/v1/passkeys', { token: s.pk.token });
    assert.ok(listed.body.passkeys[0].last_used_at > 0);
  });

  test('a sign-in answer works once, and forged, foreign or bent answers are refused', async () => {
    const options = await loginOptions();
    const good = s.auth.get(options);
    assert.equal((await passkeyLogin(good)).status, 201);
    let r = await passkeyLogin(good);
    assert.equal(r.status, 400, 'replayed');
    assert.equal(r.body.error, 'invalid_challenge');
    // A challenge the deployment never issued, refused at the edge.
    const forged = Buffer.from(options.challenge, 'base64url');
    forged[forged.length - 1] ^= 1;
    r = await passkeyLogin(s.auth.get({ ...options, challenge: forged.toString('base64url') }));
    assert.equal(r.body.error, 'invalid_challenge');
    // A re-authentication challenge is not a sign-in challenge.
    r = await passkeyLogin(s.auth.get(await reauthOptions(s.a.token)));
    assert.equal(r.body.error, 'invalid_challenge');
    // Bad signature, wrong origin, no user verification, another account's handle: 401.
    for (const over of [{ badSignature: true }, { clientData: { origin: 'https://evil.example' } }, { uv: false },
      { userHandle: Buffer.from(decodeJwt(s.other.token).payload.sub).toString('base64url') }]) {
      r = await passkeyLogin(s.auth.get(await loginOptions(), over));
      assert.equal(r.status, 401, JSON.stringify(over));
      assert.equal(r.body.error, 'invalid_credentials');
    }
    // A handle that names nobody, or none at all.
    r = await passkeyLogin(s.auth.get(await loginOptions(), { userHandle: Buffer.from('nobody here').toString('base64url') }));
    assert.equal(r.status, 401);
    r = await passkeyLogin(s.auth.get(await loginOptions(), { userHandle: null }));
    assert.equal(r.status, 401);
    r = await api('POST', '/v1/login/passkey', { body: { credential: { id: 'x' } } });
    assert.equal(r.status, 401);
    r = await api('POST', '/v1/login/passkey', { raw: 'not json', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
  });

  test('a counter that goes back is refused and shows in the activity log', async () => {
    const r = await passkeyLogin(s.auth.get(await loginOptions(), { count: 1 }));
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_credentials');
    assert.ok((await activity(s.a.token)).includes('passkey_counter_regressed'));
    // The counter moves on from what the origin saw: the next honest sign-in works.
    s.auth.credentials.get(s.keyId).count = 100;
    assert.equal((await passkeyLogin(s.auth.get(await loginOptions()))).status, 201);
  });

  test('step-up: /app/payments asks for a recent passkey; the page re-authenticates and retries', async () => {
    let r = await api('GET', '/app/payments', { token: s.a.token });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'insufficient_user_authentication');
    assert.equal(r.body.max_age, 300);
    assert.deepEqual(r.body.required_amr, ['hwk']);
    const h = r.headers.get('www-authenticate');
    assert.match(h, /^Bearer error="insufficient_user_authentication"/);
    assert.match(h, /max_age=300/);
    // A password re-authentication is recent but not strong enough.
    r = await api('POST', '/v1/reauth', { token: s.a.token, body: { password: PASSWORD } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.amr, ['pwd']);
    assert.equal(r.body.session, s.a.session);
    assert.equal(r.body.device, s.a.device);
    assert.equal((await api('GET', '/app/payments', { token: r.body.token })).status, 401);
    // A passkey re-authentication is.
    r = await api('POST', '/v1/reauth', { token: s.a.token, body: { passkey: s.auth.get(await reauthOptions(s.a.token)) } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.amr, ['hwk', 'user', 'mfa']);
    const claims = decodeJwt(r.body.token).payload;
    assert.equal(claims.sid, s.a.session);
    assert.equal(claims.auth_time, r.body.auth_time);
    r = await api('POST', '/app/payments', { token: r.body.token, body: { amount: 5 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // The upstream learns how the caller authenticated, in the signed assertion.
    const assertion = r.body.headers?.['epochgate-assertion'];
    if (assertion) assert.deepEqual(decodeJwt(assertion).payload.amr, ['hwk', 'user', 'mfa']);
    // Routes without a rule are untouched; a passkey sign-in's token passes too.
    assert.equal((await api('GET', '/app/other', { token: s.a.token })).status, 200);
    assert.equal((await api('GET', '/app/payments', { token: s.pk.token })).status, 200);
  });

  test('step-up by age: a token older than max_age is refused until a re-authentication', async () => {
    const fresh = await login(EMAIL, 'Tablet');
    assert.equal((await api('GET', '/app/recent', { token: fresh.token })).status, 200);
    await sleep(3500);
    let r = await api('GET', '/app/recent', { token: fresh.token });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /max_age=2/);
    r = await api('POST', '/v1/reauth', { token: fresh.token, body: { password: PASSWORD } });
    assert.equal((await api('GET', '/app/recent', { token: r.body.token })).status, 200);
    // Re-authentication is throttled and needs a proof like any other.
    r = await api('POST', '/v1/reauth', { token: fresh.token, body: {} });
    assert.equal(r.body.error, 'reauth_required');
    r = await api('POST', '/v1/reauth', { body: { password: PASSWORD } });
    assert.equal(r.status, 401);
  });

  test('a passkey confirms sign-out-all; the kept token carries the new authentication', async () => {
    // Another session's re-authentication challenge does not work here.
    let r = await api('POST', '/v1/sessions/sign-out-all', {
      token: s.a.token, body: { passkey: s.auth.get(await reauthOptions(s.b.token)), keep_current: true },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_challenge');
    r = await api('POST', '/v1/sessions/sign-out-all', {
      token: s.a.token, body: { passkey: s.auth.get(await reauthOptions(s.a.token)), keep_current: true },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(decodeJwt(r.body.token).payload.amr, ['hwk', 'user', 'mfa']);
    s.a.token = r.body.token;
    await waitFor('the other device refused', async () => (await api('GET', '/v1/me', { token: s.b.token })).status === 401, 3000);
    assert.equal((await api('GET', '/v1/me', { token: s.b.token })).body.error, 'revoked_all');
    assert.equal((await api('GET', '/v1/me', { token: s.a.token })).status, 200);
  });

  test('an EdDSA passkey works like an ES256 one', async () => {
    const ed = new SoftAuthenticator({ origin, alg: 'EdDSA', backupEligible: true });
    const r = await api('POST', '/v1/passkeys', { token: s.a.token, body: { name: 'Synced', credential: ed.create(await registrationOptions(s.a.token)) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.passkey.algorithm, 'EdDSA');
    assert.equal(r.body.passkey.backed_up, true);
    assert.equal(r.body.passkey.backup_eligible, true);
    const signedIn = await passkeyLogin(ed.get(await loginOptions()));
    assert.equal(signedIn.status, 201, JSON.stringify(signedIn.body));
    s.ed = { auth: ed, id: r.body.passkey.id };
  });

  test('removing a passkey needs a proof; afterwards it signs nobody in', async () => {
    let r = await api('DELETE', `/v1/passkeys/${s.keyId}`, { token: s.a.token, body: {} });
    assert.equal(r.body.error, 'reauth_required');
    r = await api('DELETE', `/v1/passkeys/${s.keyId}`, { token: s.other.token, body: { password: PASSWORD } });
    assert.equal(r.status, 404);
    r = await api('DELETE', `/v1/passkeys/${s.keyId}`, { token: s.a.token, body: { passkey: s.auth.get(await reauthOptions(s.a.token)) } });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    r = await api('DELETE', `/v1/passkeys/${s.keyId}`, { token: s.a.token, body: { password: PASSWORD } });
    assert.equal(r.status, 404);
    r = await passkeyLogin(s.auth.get(await loginOptions()));
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_credentials');
    const kinds = await activity(s.a.token);
    for (const k of ['passkey_added', 'passkey_removed', 'passkey_counter_regressed']) assert.ok(kinds.includes(k), k);
    const removed = await api('DELETE', `/v1/passkeys/${s.ed.id}`, { token: s.a.token, body: { password: PASSWORD } });
    assert.equal(removed.status, 204);
    r = await api('POST', '/v1/reauth/passkey-options', { token: s.a.token, body: {} });
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'no_passkeys');
  });

  test('with two-factor authentication on, a passkey alone signs in and is a strong proof alone', async () => {
    const start = await api('POST', '/v1/totp', { token: s.other.token, body: { password: PASSWORD } });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const step = currentStep();
    const on = await api('POST', '/v1/totp/confirm', { token: s.other.token, body: { code: totpAt(start.body.secret, step) } });
    assert.equal(on.status, 204, JSON.stringify(on.body));
    // Strong with 2FA on: the password alone is not enough, the password and a code are.
    let r = await api('POST', '/v1/passkeys/registration-options', { token: s.other.token, body: { password: PASSWORD } });
    assert.equal(r.body.error, 'reauth_required');
    const options = await registrationOptions(s.other.token, { password: PASSWORD, totp: totpAt(start.body.secret, step + 1) });
    const key = new SoftAuthenticator({ origin });
    r = await api('POST', '/v1/passkeys', { token: s.other.token, body: { credential: key.create(options) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    // The password alone now asks for the second factor; the passkey alone signs in.
    r = await api('POST', '/v1/login', { body: { email: OTHER, password: PASSWORD, device: device('Kiosk') } });
    assert.equal(r.body.error, 'totp_required');
    r = await passkeyLogin(key.get(await loginOptions()), 'Second laptop');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    // And it is a whole Strong proof: turning 2FA off with the passkey alone.
    r = await api('DELETE', '/v1/totp', { token: r.body.token, body: { passkey: key.get(await reauthOptions(r.body.token)) } });
    assert.equal(r.status, 204, JSON.stringify(r.body));
  });

  test('floods: sign-in options from many addresses cost no object; forged answers stop at the edge', async () => {
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      api('POST', '/v1/login/passkey-options', { body: {}, clientIp: `203.0.113.${i + 1}` })));
    assert.ok(many.every((r) => r.status === 200));
    assert.equal(new Set(many.map((r) => r.body.publicKey.challenge)).size, many.length);
    const forged = await Promise.all(Array.from({ length: 40 }, (_, i) => {
      const credential = s.ed.auth.get({ challenge: Buffer.alloc(42, i).toString('base64url'), rpId: 'localhost' }, { id: s.ed.id });
      return passkeyLogin(credential).then((r) => r.body.error);
    }).map((p) => p.catch((e) => String(e))));
    assert.ok(forged.every((e) => e === 'invalid_challenge' || /no credential/.test(e)), forged.join());
  });

  test('a body past the cap is refused before it is read', async () => {
    const big = 'x'.repeat(70 * 1024);
    const r = await api('POST', '/v1/login/passkey', { raw: JSON.stringify({ credential: { id: big } }), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 413);
  });

  test('every exchange matches openapi.yaml', () => {
    // A 405 answers a method the path does not document, by design.
    const { problems, seen } = openApiProblems(exchanges.filter((x) => x.status !== 405));
    assert.deepEqual(problems, []);
    // The walk leaves these to this suite.
    assert.deepEqual(PASSKEY_OPERATIONS.filter((op) => !seen.has(op)), []);
  });
});
