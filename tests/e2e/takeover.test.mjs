// The account takeover through two-factor authentication, tried against a real `wrangler dev`:
// an attacker holding only a stolen session token must not be able to turn two-factor
// authentication on (then sign every device out with its own codes and lock the owner out with
// `totp_required`), nor turn the owner's off. The owner can still do both, with the password
// (and a current code to turn it off); every change is pushed to the account's other live
// sessions and listed in the activity log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, cleanup, currentStep, exchanges, FAST_ARGON2, makeSecrets, openApiProblems, sleep,
  startWorker, totpAt, waitFor, openSocket as helperOpenSocket,
} from './helper.mjs';

const secrets = makeSecrets();
let w;
let api;
const PASSWORD = 'correct horse battery';
const EMAIL = `owner-${Date.now()}@example.com`;

before(async () => {
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  for (const s of sockets) s.ws.terminate();
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

const sockets = [];

function openSocket(token) {
  const s = helperOpenSocket(w.base, token);
  sockets.push(s);
  return s;
}

function login(device, extra = {}) {
  return api('POST', '/v1/login', { body: { email: EMAIL, password: PASSWORD, device: { name: device, type: 'desktop' }, ...extra } });
}

/** A 401 that answers a form (re-authentication), not a refused token: the session lives on. */
function assertReauth(r, code) {
  assert.equal(r.status, 401, JSON.stringify(r.body));
  assert.equal(r.body.error, code);
  assert.doesNotMatch(r.headers.get('www-authenticate') ?? '', /invalid_token/);
}

/** A code of `secret` that is not the one of `step`'s window. */
function wrongCode(secret, step) {
  const near = [step - 1, step, step + 1, step + 2].map((s) => totpAt(secret, s));
  for (const c of ['000000', '111111', '222222', '333333', '444444']) if (!near.includes(c)) return c;
  throw new Error('no wrong code');
}

const s = {};

describe('two-factor authentication cannot be used to take an account over', () => {
  test('the owner signs up and signs in on three devices; one of their tokens is stolen', async () => {
    const r = await api('POST', '/v1/accounts', { body: { email: EMAIL, password: PASSWORD } });
    assert.equal(r.status, 201);
    s.owner = (await login('Owner laptop')).body;
    s.tablet = (await login('Owner tablet')).body;
    s.stolen = (await login('Owner phone')).body.token; // what the attacker has, and nothing else
    for (const x of [s.owner, s.tablet]) assert.ok(x.token);
    s.ownerSocket = openSocket(s.owner.token);
    s.tabletSocket = openSocket(s.tablet.token);
    await Promise.all([s.ownerSocket.hello, s.tabletSocket.hello]);
  });

  test('with only the stolen token, enrolment is refused: reauth_required, or reauth_failed for a guess', async () => {
    assertReauth(await api('POST', '/v1/totp', { token: s.stolen, body: {} }), 'reauth_required');
    assertReauth(await api('POST', '/v1/totp', { token: s.stolen }), 'reauth_required');
    // A code is no proof while two-factor authentication is off: enrolment takes the password.
    assertReauth(await api('POST', '/v1/totp', { token: s.stolen, body: { totp: '123456' } }), 'reauth_required');
    assertReauth(await api('POST', '/v1/totp', { token: s.stolen, body: { password: 'a guess at the password' } }), 'reauth_failed');
  });

  test('the attacker got no pending secret, so there is nothing to confirm', async () => {
    const r = await api('POST', '/v1/totp/confirm', { token: s.stolen, body: { code: '123456' } });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error, 'totp_not_started');
  });

  test('nor can the stolen token sign every device out, and the owner still signs in with the password alone', async () => {
    assertReauth(await api('POST', '/v1/sessions/sign-out-all', { token: s.stolen, body: {} }), 'reauth_required');
    const r = await login('Owner desktop');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    for (const x of [s.owner, s.tablet]) assert.equal((await api('GET', '/v1/me', { token: x.token })).status, 200);
    assert.ok(s.ownerSocket.isOpen() && s.tabletSocket.isOpen());
    assert.deepEqual(s.tabletSocket.messages.filter((m) => m.type !== 'hello'), []);
  });

  test('the owner enrols with the password; the other live session is told and stays open', async () => {
    const off = await api('DELETE', '/v1/totp', { token: s.owner.token, body: { password: PASSWORD, totp: '123456' } });
    assert.equal(off.status, 409, 'nothing to turn off yet');
    assert.equal(off.body.error, 'totp_not_enabled');
    const start = await api('POST', '/v1/totp', { token: s.owner.token, body: { password: PASSWORD } });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.match(start.body.secret, /^[A-Z2-7]{32}$/);
    s.secret = start.body.secret;
    s.step = currentStep();
    const confirm = await api('POST', '/v1/totp/confirm', { token: s.owner.token, body: { code: totpAt(s.secret, s.step) } });
    assert.equal(confirm.status, 204, JSON.stringify(confirm.body));

    await waitFor('the security push', () => s.tabletSocket.messages.some((m) => m.type === 'security'));
    assert.deepEqual(s.tabletSocket.messages.filter((m) => m.type !== 'hello'), [{ type: 'security', event: 'totp_enabled' }]);
    await sleep(300);
    assert.ok(s.tabletSocket.isOpen(), 'a security push is not a sign-out');
    assert.deepEqual(s.ownerSocket.messages.filter((m) => m.type !== 'hello'), [], 'the session that made the change is not told');
    assert.equal((await api('GET', '/v1/me', { token: s.tablet.token })).status, 200);

    const again = await api('POST', '/v1/totp', { token: s.owner.token, body: { password: PASSWORD } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'totp_already_enabled');
    const noCode = await login('Owner desktop');
    assert.equal(noCode.status, 401);
    assert.equal(noCode.body.error, 'totp_required');
  });

  test('with only the stolen token (even with the password, or a code), two-factor authentication cannot be turned off', async () => {
    const code = totpAt(s.secret, s.step + 1);
    assertReauth(await api('DELETE', '/v1/totp', { token: s.stolen, body: {} }), 'reauth_required');
    assertReauth(await api('DELETE', '/v1/totp', { token: s.stolen }), 'reauth_required');
    assertReauth(await api('DELETE', '/v1/totp', { token: s.stolen, body: { password: PASSWORD } }), 'reauth_required');
    assertReauth(await api('DELETE', '/v1/totp', { token: s.stolen, body: { totp: code } }), 'reauth_required');
    assertReauth(await api('DELETE', '/v1/totp', { token: s.stolen, body: { password: 'a guess', totp: code } }), 'reauth_failed');
    assertReauth(await api('DELETE', '/v1/totp', { token: s.stolen, body: { password: PASSWORD, totp: wrongCode(s.secret, s.step) } }), 'reauth_failed');
    const still = await login('Owner desktop');
    assert.equal(still.body.error, 'totp_required', 'two-factor authentication is still on');
  });

  test('the owner turns it off with the password and a current code, then signs in with the password alone', async () => {
    // The code the attacker sent with a wrong password was not used up.
    const code = totpAt(s.secret, s.step + 1);
    const off = await api('DELETE', '/v1/totp', { token: s.owner.token, body: { password: PASSWORD, totp: code } });
    assert.equal(off.status, 204, JSON.stringify(off.body));
    await waitFor('the second security push', () => s.tabletSocket.messages.filter((m) => m.type === 'security').length === 2);
    assert.deepEqual(s.tabletSocket.messages.filter((m) => m.type !== 'hello'), [
      { type: 'security', event: 'totp_enabled' },
      { type: 'security', event: 'totp_disabled' },
    ]);
    await sleep(300);
    assert.ok(s.tabletSocket.isOpen() && s.ownerSocket.isOpen());
    assert.deepEqual(s.ownerSocket.messages.filter((m) => m.type !== 'hello'), []);

    const again = await api('DELETE', '/v1/totp', { token: s.owner.token, body: { password: PASSWORD, totp: totpAt(s.secret, s.step + 2) } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'totp_not_enabled');
    const r = await login('Owner desktop');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.ok(r.body.token);
    // The pending secret went with it: confirming needs a new enrolment.
    const confirm = await api('POST', '/v1/totp/confirm', { token: s.owner.token, body: { code: totpAt(s.secret, currentStep()) } });
    assert.equal(confirm.body.error, 'totp_not_started');
  });

  test('the activity log lists both changes and the refused attempts', async () => {
    const r = await api('GET', '/v1/activity', { token: s.owner.token });
    assert.equal(r.status, 200);
    const types = r.body.events.map((e) => e.type);
    const enabled = types.indexOf('totp_enabled');
    const disabled = types.indexOf('totp_disabled');
    assert.ok(enabled >= 0 && disabled >= 0, JSON.stringify(types));
    assert.ok(disabled < enabled, 'newest first: turned off after it was turned on');
    for (const t of ['totp_enabled', 'totp_disabled']) {
      assert.equal(types.filter((x) => x === t).length, 1, t);
      assert.equal(r.body.events.find((e) => e.type === t).session, s.owner.session, `${t} names the owner's session`);
    }
    // One wrong password at enrolment, a wrong password and a wrong code at turning off.
    assert.equal(types.filter((x) => x === 'reauth_failed').length, 3);
    assert.ok(!types.includes('sign_out_all'));
  });

  test('every response matches openapi.yaml', () => {
    const { problems } = openApiProblems(exchanges, { errorShape: false });
    assert.ok(exchanges.some((x) => x.method === 'DELETE' && x.path === '/v1/totp' && x.status === 204));
    assert.deepEqual(problems, []);
  });
});
