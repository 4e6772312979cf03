// Account security as an attacker tries it, against a real `wrangler dev`: a stolen session
// token, a stranger guessing passwords from one or many addresses, an enumerator reading 429s,
// and the owner's ways back — a mailed reset code, the "not you?" link, recovery codes and
// mailed re-authentication codes — each of which must work once and only for the owner. Mail
// is read from the development outbox (`GET /v1/admin/outbox`); client addresses are set with
// `CF-Connecting-IP`, as Cloudflare sets it. Each test has its own account, so each stands alone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  call, cleanup, codeFrom, currentStep, exchanges, FAST_ARGON2, makeSecrets, newMail,
  openApiProblems, readOutbox, secureAccountTokenFrom, sleep, startWorker, totpAt, waitFor,
  openSocket as helperOpenSocket,
} from './helper.mjs';

const secrets = makeSecrets();
const ADMIN = secrets.vars.ADMIN_TOKEN;
let w;
let api;
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a new staple for the horse';
const sockets = [];

before(async () => {
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  for (const s of sockets) s.ws.terminate();
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

let serial = 0;
/** A fresh address, so that no test shares an account or a throttle bucket with another. */
const fresh = (tag) => `${tag}-${Date.now()}-${++serial}@example.com`;

async function signUp(email, password = PASSWORD) {
  const r = await api('POST', '/v1/accounts', { body: { email, password } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.account;
}

function login(email, password, { device = 'Laptop', ua, ip, ...extra } = {}) {
  const headers = ua ? { 'user-agent': ua } : {};
  return api('POST', '/v1/login', { body: { email, password, device: { name: device, type: 'desktop' }, ...extra }, headers, clientIp: ip });
}

async function signIn(email, password = PASSWORD, opts = {}) {
  const r = await login(email, password, opts);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/** An API error: its status, its code and a message. */
function assertError(r, status, code, what = '') {
  assert.equal(r.status, status, `${what} ${JSON.stringify(r.body)}`);
  assert.equal(r.body?.error, code, what);
  assert.equal(typeof r.body.message, 'string', what);
}

/** A 401 that asks for (or refuses) a re-authentication: the session itself lives on. */
function assertReauth(r, code, what = '') {
  assertError(r, 401, code, what);
  assert.doesNotMatch(r.headers.get('www-authenticate') ?? '', /invalid_token/, what);
}

/** A 429 with the `Retry-After` it announces, in whole seconds; returns that number. */
function assertLimited(r, what = '') {
  assertError(r, 429, 'rate_limited', what);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 900, `${what} Retry-After ${r.headers.get('retry-after')}`);
  return retry;
}

/** Polls `GET /v1/me` until the edge refuses `token` (within `ms`); returns that answer. */
function refusedAtEdge(token, ms = 1500) {
  return waitFor('the edge to refuse the token', async () => {
    const r = await api('GET', '/v1/me', { token });
    return r.status === 401 ? r : null;
  }, ms);
}

async function assertSignedOutEverywhere(tokens) {
  for (const t of tokens) {
    const r = await refusedAtEdge(t);
    assert.equal(r.body.error, 'revoked_all');
    assert.match(r.headers.get('www-authenticate'), /error="invalid_token", error_description="revoked_all"/);
  }
}

async function activity(token) {
  const r = await api('GET', '/v1/activity', { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.events.map((e) => e.type);
}

async function account(token) {
  const r = await api('GET', '/v1/account', { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const outbox = (to) => readOutbox(w.base, ADMIN, to);
const mailIds = async (to) => (await outbox(to)).map((m) => m.id);
const nextMail = (to, seen, match) => newMail(w.base, ADMIN, to, seen, match);

/** Turns two-factor authentication on; returns the secret and the step of the code used. */
async function enableTotp(token, password = PASSWORD) {
  const start = await api('POST', '/v1/totp', { token, body: { password } });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const step = currentStep();
  const confirm = await api('POST', '/v1/totp/confirm', { token, body: { code: totpAt(start.body.secret, step) } });
  assert.equal(confirm.status, 204, JSON.stringify(confirm.body));
  return { secret: start.body.secret, step };
}

/** A six-digit code that is not `code`. */
const otherCode = (code) => (code === '000000' ? '111111' : '000000');

const openSocket = (token, opts) => {
  const s = helperOpenSocket(w.base, token, opts);
  sockets.push(s);
  return s;
};

describe('account security, attacked', () => {
  test('a stolen token alone changes nothing: reauth_required, reauth_failed for a guess, the session throttled on its own', async () => {
    const email = fresh('stolen');
    await signUp(email);
    const owner = await signIn(email, PASSWORD, { device: 'Owner laptop' });
    const stolen = (await signIn(email, PASSWORD, { device: 'Owner phone' })).token;
    const attacker = fresh('attacker');
    const guess = 'a guess at the password';

    // Two-factor authentication off: nothing offered.
    for (const [method, path, body] of [
      ['POST', '/v1/totp', {}],
      ['POST', '/v1/email', { new_email: attacker }],
      ['POST', '/v1/password', { new_password: 'attacker password 1' }],
      ['POST', '/v1/sessions/sign-out-all', {}],
    ]) assertReauth(await api(method, path, { token: stolen, body }), 'reauth_required', `${method} ${path}`);
    // A guess is refused and counted: four failures in the stolen session's bucket.
    for (const [method, path, body] of [
      ['POST', '/v1/totp', { password: guess }],
      ['POST', '/v1/email', { new_email: attacker, password: guess }],
      ['POST', '/v1/password', { current_password: guess, new_password: 'attacker password 1' }],
      ['POST', '/v1/sessions/sign-out-all', { password: guess }],
    ]) assertReauth(await api(method, path, { token: stolen, body }), 'reauth_failed', `${method} ${path} with a guess`);

    // The owner turns two-factor authentication on.
    const { secret, step } = await enableTotp(owner.token);
    const code = totpAt(secret, step + 1); // current, not yet used: say the attacker phished it
    for (const [method, path, body] of [
      ['DELETE', '/v1/totp', {}],
      ['POST', '/v1/recovery-codes', {}],
      ['POST', '/v1/email', { new_email: attacker }],
      // A code alone is not enough for a Strong route, nor is a (stolen) password alone.
      ['DELETE', '/v1/totp', { totp: code }],
      ['POST', '/v1/recovery-codes', { totp: code }],
      ['POST', '/v1/email', { new_email: attacker, totp: code }],
      ['POST', '/v1/recovery-codes', { recovery_code: 'aaaaa-bbbbb' }],
      ['DELETE', '/v1/totp', { password: PASSWORD }],
      ['POST', '/v1/recovery-codes', { password: PASSWORD }],
    ]) {
      const r = await api(method, path, { token: stolen, body });
      assertReauth(r, 'reauth_required', `${method} ${path} ${JSON.stringify(body)}`);
      assert.match(r.body.message, /password|email/i, 'the message says what is needed');
    }
    // The fifth failure; the code is not used up by a request with a wrong password.
    assertReauth(await api('DELETE', '/v1/totp', { token: stolen, body: { password: guess, totp: code } }), 'reauth_failed');
    assertLimited(await api('POST', '/v1/sessions/sign-out-all', { token: stolen, body: { password: `${guess} 6` } }), 'sixth try');
    assertLimited(await api('POST', '/v1/password', { token: stolen, body: { current_password: `${guess} 7`, new_password: 'attacker password 1' } }), 'seventh try');

    // The owner's own session is neither throttled nor short of the code.
    const codes = await api('POST', '/v1/recovery-codes', { token: owner.token, body: { password: PASSWORD, totp: code } });
    assert.equal(codes.status, 200, JSON.stringify(codes.body));
    assert.equal(codes.body.codes.length, 10);
    const acct = await account(owner.token);
    assert.equal(acct.email, email, 'the email did not change');
    assert.equal(acct.totp_enabled, true, 'two-factor authentication is still on');
    assert.equal((await api('GET', '/v1/me', { token: owner.token })).status, 200);
    assert.equal((await api('GET', '/v1/me', { token: stolen })).status, 200, 'refusals sign nobody out');
    assert.deepEqual(await outbox(attacker), [], 'nothing was mailed to the attacker');
    const types = await activity(owner.token);
    assert.equal(types.filter((t) => t === 'reauth_failed').length, 5, JSON.stringify(types));
    for (const t of ['email_changed', 'totp_disabled', 'sign_out_all', 'password_changed']) assert.ok(!types.includes(t), t);
  });

  test('a stranger guessing from one address, then many, is throttled; the owner is not locked out', async () => {
    const email = fresh('target');
    await signUp(email);
    const OWNER_IP = '198.51.100.7';
    const owner = await signIn(email, PASSWORD, { ip: OWNER_IP });
    const listed = await api('GET', '/v1/sessions', { token: owner.token });
    assert.equal(listed.body.sessions[0].ip, OWNER_IP, 'the client address is read from CF-Connecting-IP');

    /** Wrong passwords from `ips` in turn until a 429; returns the statuses. */
    async function guessUntilLimited(ips) {
      const statuses = [];
      for (let n = 0; n < 8; n++) {
        const r = await login(email, `guess ${n} ${ips.join()}`, { ip: ips[n % ips.length] });
        statuses.push(r.status);
        if (r.status === 429) { assertLimited(r); break; }
        assertError(r, 401, 'invalid_credentials');
      }
      return statuses;
    }
    const FIVE_THEN_429 = [401, 401, 401, 401, 401, 429];
    assert.deepEqual(await guessUntilLimited(['203.0.113.66']), FIVE_THEN_429);
    // Throttled, the right password reveals nothing either.
    assertLimited(await login(email, PASSWORD, { ip: '203.0.113.66' }), 'the right password from the throttled address');
    // An IPv6 /64 is one bucket, however many addresses in it the stranger uses.
    const sameNet = Array.from({ length: 6 }, (_, n) => `2001:db8:5:7:${n + 1}::${(n * 4099).toString(16)}`);
    assert.deepEqual(await guessUntilLimited(sameNet), FIVE_THEN_429, 'one /64');
    assertLimited(await login(email, 'guess v6', { ip: '2001:db8:5:7::1' }), 'the /64 is throttled');
    assertError(await login(email, 'guess elsewhere', { ip: '2001:db8:5:8::1' }), 401, 'invalid_credentials', 'another /64');
    // Each address has its own bucket: rotating addresses buys five guesses each, no more.
    // Ten of them (sixty-one failures in all) must still not lock the owner out.
    const rotated = [];
    for (let n = 0; n < 10; n++) {
      const ip = `203.0.113.${100 + n}`;
      rotated.push([ip, await guessUntilLimited([ip])]);
    }

    // The owner, from their existing session: re-authenticated sign-out-all and password change.
    const out = await api('POST', '/v1/sessions/sign-out-all', { token: owner.token, body: { password: PASSWORD, keep_current: true }, clientIp: OWNER_IP });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    const changed = await api('POST', '/v1/password', { token: out.body.token, body: { current_password: PASSWORD, new_password: NEW_PASSWORD }, clientIp: OWNER_IP });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal((await api('GET', '/v1/me', { token: changed.body.token })).status, 200);
    // And signs in from their usual address and from new ones.
    for (const ip of [OWNER_IP, '192.0.2.200', '2001:db8:9:9::1']) {
      const r = await login(email, NEW_PASSWORD, { ip });
      assert.equal(r.status, 201, `the owner signing in from ${ip} after a stranger's failures from 13 networks: ${JSON.stringify(r.body)}`);
    }
    for (const [ip, statuses] of rotated) assert.deepEqual(statuses, FIVE_THEN_429, ip);
  });

  test('no account oracle: an unknown email answers exactly like a known one, 429s and Retry-After included', async () => {
    const known = fresh('known');
    await signUp(known);
    const unknown = fresh('nobody');
    const ip = '203.0.113.50';
    async function sequence(email) {
      const out = [];
      for (let n = 0; n < 7; n++) {
        const r = await login(email, `wrong password ${n}`, { ip });
        out.push([r.status, r.body.error, r.body.message, r.headers.get('retry-after')]);
      }
      return out;
    }
    const a = await sequence(known);
    const b = await sequence(unknown);
    assert.deepEqual(a.map(([s, e]) => [s, e]), [
      ...Array(5).fill([401, 'invalid_credentials']),
      [429, 'rate_limited'], [429, 'rate_limited'],
    ]);
    assert.deepEqual(b, a, 'the unknown email got the same statuses, codes, messages and Retry-After');
    assert.ok(Number(a[5][3]) >= 1);

    // Sign-up of an existing email is the one place that says so (contract), case-blind.
    assertError(await api('POST', '/v1/accounts', { body: { email: known.toUpperCase(), password: PASSWORD } }), 409, 'account_exists');
    // A reset code guessed for either answers the same.
    const confirm = (email) => api('POST', '/v1/password/reset/confirm', { body: { email, code: '123456', new_password: NEW_PASSWORD }, clientIp: '203.0.113.51' });
    const ck = await confirm(known);
    const cu = await confirm(unknown);
    assertError(ck, 400, 'invalid_code');
    assert.deepEqual([cu.status, cu.body], [ck.status, ck.body]);
  });

  test('after the free failures the delay grows: each Retry-After, once waited out, buys one attempt and a longer wait', async () => {
    const email = fresh('patient');
    await signUp(email);
    const ip = '203.0.113.77';
    const guess = (n) => login(email, `guess ${n}`, { ip });
    for (let n = 0; n < 5; n++) assertError(await guess(n), 401, 'invalid_credentials', `free failure ${n + 1}`);
    const waits = [assertLimited(await guess(5))];
    assert.ok([1, 2].includes(waits[0]), `first Retry-After ${waits[0]}`);
    for (let round = 0; round < 2; round++) {
      await sleep(waits.at(-1) * 1000);
      assertError(await guess(10 + round), 401, 'invalid_credentials', `the attempt after waiting ${waits.at(-1)} s`);
      waits.push(assertLimited(await guess(20 + round), `after failure ${6 + round}`));
    }
    assert.ok(waits[1] > waits[0] && waits[2] > waits[1], `Retry-After grows: ${waits}`);
    // The owner's right password from another address is not held up.
    await signIn(email, PASSWORD, { ip: '198.51.100.8' });
  });

  test('a password reset signs out every device; the code works once; an unknown email gets the same 202 and no mail', async () => {
    const email = fresh('reset');
    await signUp(email);
    const a = await signIn(email, PASSWORD, { device: 'Laptop' });
    const b = await signIn(email, PASSWORD, { device: 'Phone' });
    const nobody = fresh('nobody');
    const u = await api('POST', '/v1/password/reset', { body: { email: nobody } });
    assert.equal(u.status, 202, JSON.stringify(u.body));

    const seen = await mailIds(email);
    const r = await api('POST', '/v1/password/reset', { body: { email } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(r.body, {});
    assert.deepEqual(u.body, r.body, 'known and unknown emails get the same answer');
    const mail = await nextMail(email, seen, (m) => codeFrom(m.text));
    assert.equal(mail.to, email);
    const code = codeFrom(mail.text);
    assert.deepEqual(await outbox(nobody), [], 'no mail for an unknown email');

    assertError(await api('POST', '/v1/password/reset/confirm', { body: { email, code: otherCode(code), new_password: NEW_PASSWORD } }), 400, 'invalid_code', 'a wrong code');
    const ok = await api('POST', '/v1/password/reset/confirm', { body: { email, code, new_password: NEW_PASSWORD } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.signed_out, 2);
    await assertSignedOutEverywhere([a.token, b.token]);
    assertError(await login(email, PASSWORD), 401, 'invalid_credentials', 'the old password');
    const now = await signIn(email, NEW_PASSWORD);
    assertError(await api('POST', '/v1/password/reset/confirm', { body: { email, code, new_password: 'yet another password' } }), 400, 'invalid_code', 'the used code');
    await signIn(email, NEW_PASSWORD);
    assert.ok((await activity(now.token)).includes('password_reset'));
    await nextMail(email, [...seen, mail.id], (m) => /password/i.test(`${m.subject} ${m.text}`) && !codeFrom(m.text));
  });

  test('a stranger guessing reset codes is throttled per address; the owner resets with a new code', async () => {
    const email = fresh('guessed');
    await signUp(email);
    const old = await signIn(email);
    let seen = await mailIds(email);
    assert.equal((await api('POST', '/v1/password/reset', { body: { email }, clientIp: '203.0.113.20' })).status, 202);
    const first = await nextMail(email, seen, (m) => codeFrom(m.text));
    const STRANGER = '203.0.113.21';
    const guesses = [];
    for (let n = 0; n < 6; n++) {
      const code = String(100000 + n * 7919);
      const r = await api('POST', '/v1/password/reset/confirm', { body: { email, code: code === codeFrom(first.text) ? '999999' : code, new_password: 'attacker password 1' }, clientIp: STRANGER });
      guesses.push(r.status);
      if (r.status === 429) assertLimited(r, 'guess 6');
      else assertError(r, 400, 'invalid_code', `guess ${n + 1}`);
    }
    assert.deepEqual(guesses, [400, 400, 400, 400, 400, 429]);
    assert.equal((await api('GET', '/v1/me', { token: old.token })).status, 200, 'wrong codes sign nobody out');

    seen = await mailIds(email);
    assert.equal((await api('POST', '/v1/password/reset', { body: { email }, clientIp: '198.51.100.20' })).status, 202);
    const second = await nextMail(email, seen, (m) => codeFrom(m.text));
    const ok = await api('POST', '/v1/password/reset/confirm', { body: { email, code: codeFrom(second.text), new_password: NEW_PASSWORD }, clientIp: '198.51.100.20' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    await assertSignedOutEverywhere([old.token]);
    await signIn(email, NEW_PASSWORD);
    assertError(await login(email, 'attacker password 1'), 401, 'invalid_credentials');
  });

  test('"not you?": a new device is mailed a link that signs out everywhere and requires a reset; known devices mail nothing', async () => {
    const email = fresh('notyou');
    await signUp(email);
    const HOME = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
    const ELSEWHERE = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36 Edg/140.0';
    const first = await signIn(email, PASSWORD, { ua: HOME });
    const second = await signIn(email, PASSWORD, { ua: HOME, device: 'Desktop' });
    const links = async () => (await outbox(email)).filter((m) => secureAccountTokenFrom(m.text));
    assert.deepEqual(await links(), [], 'a first sign-in and a known device mail no link');
    assert.ok(!(await activity(first.token)).includes('sign_in_new_device'));

    const seen = await mailIds(email);
    const intruder = await signIn(email, PASSWORD, { ua: ELSEWHERE, device: 'Unknown PC', ip: '203.0.113.9' });
    const mail = await nextMail(email, seen, (m) => secureAccountTokenFrom(m.text));
    const token = secureAccountTokenFrom(mail.text);
    assert.equal((await activity(first.token)).filter((t) => t === 'sign_in_new_device').length, 1);

    const seen2 = await mailIds(email);
    const secured = await api('POST', '/v1/secure-account', { body: { token } });
    assert.equal(secured.status, 200, JSON.stringify(secured.body));
    assert.equal(secured.body.signed_out, 3);
    await assertSignedOutEverywhere([first.token, second.token, intruder.token]);
    for (const ua of [ELSEWHERE, HOME]) assertError(await login(email, PASSWORD, { ua }), 403, 'password_reset_required', ua);
    assertError(await login(email, 'not the password', { ua: HOME }), 401, 'invalid_credentials', 'the flag is told only to the right password');
    assertError(await api('POST', '/v1/secure-account', { body: { token } }), 400, 'invalid_link', 'the link works once');
    assertError(await api('POST', '/v1/secure-account', { body: { token: `${token.slice(0, -2)}xx` } }), 400, 'invalid_link', 'a forged link');

    const reset = await nextMail(email, seen2, (m) => codeFrom(m.text));
    const ok = await api('POST', '/v1/password/reset/confirm', { body: { email, code: codeFrom(reset.text), new_password: NEW_PASSWORD } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const back = await signIn(email, NEW_PASSWORD, { ua: HOME });
    assert.equal((await account(back.token)).password_reset_required, false);
    const types = await activity(back.token);
    for (const t of ['account_secured', 'password_reset']) assert.ok(types.includes(t), `${t} in ${types}`);
    assert.equal((await links()).length, 1, 'signing in from the known device again mailed no link');
  });

  test('recovery codes: ten, each works once, a new set voids the old, use is logged and mailed', async () => {
    const email = fresh('recovery');
    await signUp(email);
    let { token } = await signIn(email);
    assertError(await api('POST', '/v1/recovery-codes', { token, body: { password: PASSWORD } }), 409, 'totp_not_enabled');
    const { secret, step } = await enableTotp(token);
    assertReauth(await api('POST', '/v1/recovery-codes', { token, body: { password: PASSWORD } }), 'reauth_required', 'password alone');
    const gen = await api('POST', '/v1/recovery-codes', { token, body: { password: PASSWORD, totp: totpAt(secret, step + 1) } });
    assert.equal(gen.status, 200, JSON.stringify(gen.body));
    const codes = gen.body.codes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
    assert.equal((await account(token)).recovery_codes_remaining, 10);

    const seen = await mailIds(email);
    const used = await signIn(email, PASSWORD, { recovery_code: codes[0] });
    assert.ok(used.token);
    assertError(await login(email, PASSWORD, { recovery_code: codes[0] }), 401, 'invalid_credentials', 'the same code again');
    assert.equal((await account(token)).recovery_codes_remaining, 9);
    assert.ok((await activity(token)).includes('recovery_code_used'));
    await nextMail(email, seen, (m) => /recovery/i.test(`${m.subject} ${m.text}`));

    // A recovery code is also a re-authentication (sign-out-all takes any proof).
    const out = await api('POST', '/v1/sessions/sign-out-all', { token, body: { recovery_code: codes[1], keep_current: true } });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    token = out.body.token;
    assertReauth(await api('POST', '/v1/sessions/sign-out-all', { token, body: { recovery_code: codes[1] } }), 'reauth_failed', 'used for re-authentication once');

    const again = await api('POST', '/v1/recovery-codes', { token, body: { password: PASSWORD, recovery_code: codes[2] } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.codes.length, 10);
    assert.ok(again.body.codes.every((c) => !codes.includes(c)), 'a new set');
    assertError(await login(email, PASSWORD, { recovery_code: codes[3] }), 401, 'invalid_credentials', 'an old code after a new set');
    await signIn(email, PASSWORD, { recovery_code: again.body.codes[0] });
    assert.equal((await account(token)).recovery_codes_remaining, 9);
    const types = await activity(token);
    assert.equal(types.filter((t) => t === 'recovery_codes_generated').length, 2);
    // Two sign-ins, a sign-out-all and the second factor of the new set.
    assert.equal(types.filter((t) => t === 'recovery_code_used').length, 4, JSON.stringify(types));
  });

  test('an emailed code re-authenticates once; a second code within 30 s is refused', async () => {
    const email = fresh('mailcode');
    await signUp(email);
    const me = await signIn(email);
    const seen = await mailIds(email);
    const r = await api('POST', '/v1/reauth/email-code', { token: me.token, body: {} });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(r.body, { sent_to: `${email[0]}•••@example.com`, expires_in: 600 });
    const code = codeFrom((await nextMail(email, seen, (m) => codeFrom(m.text))).text);
    assertLimited(await api('POST', '/v1/reauth/email-code', { token: me.token, body: {} }), 'a second code at once');

    const out = await api('POST', '/v1/sessions/sign-out-all', { token: me.token, body: { email_code: code, keep_current: true } });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    await assertSignedOutEverywhere([me.token]);
    assertReauth(await api('POST', '/v1/sessions/sign-out-all', { token: out.body.token, body: { email_code: code } }), 'reauth_failed', 'the code again');
    assertReauth(await api('POST', '/v1/sessions/sign-out-all', { token: out.body.token, body: { email_code: otherCode(code) } }), 'reauth_failed', 'a guess');
  });

  test('a WebSocket ticket opens one socket, once; ?access_token= is refused', async () => {
    const email = fresh('socket');
    await signUp(email);
    const a = await signIn(email);
    const b = await signIn(email, PASSWORD, { device: 'Phone' });
    assertError(await api('POST', '/v1/events/ticket', { body: {} }), 401, 'malformed', 'no token, no ticket');
    const t = await api('POST', '/v1/events/ticket', { token: a.token, body: {} });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    assert.equal(t.body.expires_in, 30);
    assert.equal(typeof t.body.ticket, 'string');
    assert.ok(!t.body.ticket.includes(a.token) && !a.token.includes(t.body.ticket), 'the ticket is not the token');

    const first = openSocket(undefined, { ticket: t.body.ticket });
    assert.equal((await first.hello).type, 'hello');
    const refused = async (s, what) => {
      const e = await s.hello.then(() => null, (x) => x);
      assert.ok(e, `${what}: the upgrade was accepted`);
      assert.equal(e.status, 401, `${what}: ${e.message}`);
      return e.body;
    };
    assert.equal((await refused(openSocket(undefined, { ticket: t.body.ticket }), 'the same ticket')).error, 'invalid_ticket');
    assert.equal((await refused(openSocket(undefined, { ticket: 'not-a-ticket' }), 'a made-up ticket')).error, 'invalid_ticket');
    await refused(openSocket(a.token, { viaQuery: true }), '?access_token=');

    // The socket is the session's: signing that device out tells it and closes it.
    const del = await api('DELETE', `/v1/sessions/${a.session}`, { token: b.token });
    assert.equal(del.status, 204);
    assert.equal(await first.closed, 1000);
    assert.deepEqual(first.messages.at(-1), { type: 'signed_out', scope: 'device' });
    // A ticket outlives neither its session nor its single use.
    const tb = await api('POST', '/v1/events/ticket', { token: b.token, body: {} });
    assert.equal(tb.status, 201);
    const out = await api('POST', '/v1/sessions/sign-out-all', { token: b.token, body: { password: PASSWORD } });
    assert.equal(out.status, 200);
    await refused(openSocket(undefined, { ticket: tb.body.ticket }), 'a ticket of a signed-out session');
  });

  test('the admin outbox is the admin\'s: no token or a session token is refused', async () => {
    const email = fresh('outbox');
    await signUp(email);
    const { token } = await signIn(email);
    const path = `/v1/admin/outbox?to=${encodeURIComponent(email)}`;
    assertError(await api('GET', path), 401, 'invalid_admin_token', 'no token');
    assertError(await api('GET', path, { token }), 401, 'invalid_admin_token', 'a session token');
    assertError(await api('GET', path, { token: `${ADMIN}x` }), 401, 'invalid_admin_token', 'a wrong admin token');
    const ok = await api('GET', path, { token: ADMIN });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.body.messages));
  });

  test('every response, errors included, matches openapi.yaml', () => {
    const { problems } = openApiProblems(exchanges, { errorShape: true });
    assert.ok(exchanges.some((x) => x.status === 429), 'a 429 was checked');
    assert.deepEqual(problems, []);
  });
});
