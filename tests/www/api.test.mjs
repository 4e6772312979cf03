// The page's API client (www/api.js) in Node against a fake fetch: token refusals reported once
// through the callback, form answers left to the form, Retry-After, network failures, 204, and
// step-up (a 401 insufficient_user_authentication: ask once, then the request once more).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApiError, NOT_DEFINITIVE, TOKEN_REASONS, createApi, errorText, isTokenRefusal, retryAfterSeconds, stepUpRequirement,
} from '../../www/api.js';

const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** A client whose fetch answers `answer(url, init)`, recording requests and refusals. */
function client(answer, { token = 'tok', now, onStepUp } = {}) {
  const calls = [];
  const refused = [];
  const api = createApi({
    getToken: () => token,
    onTokenRefused: (why) => refused.push(why),
    ...(onStepUp ? { onStepUp } : {}),
    fetch: async (url, init) => { calls.push({ url, init }); return answer(url, init); },
    ...(now ? { now } : {}),
  });
  return { api, calls, refused };
}

test('a sign-out recorded but not yet at every edge counts as done, with its answer', async () => {
  const delayed = (result) => json(503, { error: 'propagation_delayed', message: 'm', ...(result ? { result } : {}) }, { 'retry-after': '2' });
  assert.deepEqual(await client(() => delayed({ epoch: 2, token: 't2' })).api('POST', '/v1/sessions/sign-out-all', { body: {} }), { epoch: 2, token: 't2' });
  assert.equal(await client(() => delayed()).api('DELETE', '/v1/sessions/s_1'), null);
});

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the request should have failed');
}

test('a JSON answer is returned; the bearer token and JSON body are sent', async () => {
  const { api, calls } = client(() => json(200, { ok: 1 }));
  assert.deepEqual(await api('POST', '/v1/password', { body: { a: 1 } }), { ok: 1 });
  const { url, init } = calls[0];
  assert.equal(url, '/v1/password');
  assert.equal(init.method, 'POST');
  assert.equal(init.headers.authorization, 'Bearer tok');
  assert.equal(init.headers['content-type'], 'application/json');
  assert.equal(init.headers.accept, 'application/json');
  assert.equal(init.body, '{"a":1}');
  assert.equal(init.cache, 'no-store');
});

test('auth: false sends no Authorization header; a GET has no body', async () => {
  const { api, calls } = client(() => json(200, {}));
  await api('GET', '/v1/me', { auth: false });
  assert.equal(calls[0].init.headers.authorization, undefined);
  assert.equal(calls[0].init.headers['content-type'], undefined);
  assert.equal(calls[0].init.body, undefined);
});

test('204 resolves to null', async () => {
  const { api } = client(() => new Response(null, { status: 204 }));
  assert.equal(await api('DELETE', '/v1/sessions/x'), null);
});

test('a 401 with an invalid_token challenge calls onTokenRefused once with the reason', async () => {
  const { api, refused } = client(() => json(401, { error: 'revoked_device', message: 'this device was signed out' }, {
    'www-authenticate': 'Bearer error="invalid_token", error_description="revoked_device"',
  }));
  const err = await rejection(api('GET', '/v1/activity'));
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 401);
  assert.equal(err.code, 'revoked_device');
  assert.equal(err.handled, true);
  assert.deepEqual(refused, [{ reason: 'revoked_device', detail: 'this device was signed out' }]);
});

test('a 401 with a token reason code and no challenge is a token refusal too', async () => {
  const { api, refused } = client(() => json(401, { error: 'expired', message: 'expired' }));
  const err = await rejection(api('GET', '/v1/me'));
  assert.equal(err.handled, true);
  assert.deepEqual(refused.map((r) => r.reason), ['expired']);
});

test('a 401 reauth_failed is an answer to the form: no callback, not handled', async () => {
  const { api, refused } = client(() => json(401, { error: 'reauth_failed', message: 'wrong password' }, {
    'www-authenticate': 'Bearer realm="epochgate"',
  }));
  const err = await rejection(api('POST', '/v1/sessions/sign-out-all', { body: { password: 'x' } }));
  assert.equal(err.code, 'reauth_failed');
  assert.equal(err.handled, undefined);
  assert.deepEqual(refused, []);
});

test('a 401 on an unauthenticated request (sign-in) never ends the session', async () => {
  const { api, refused } = client(() => json(401, { error: 'invalid_credentials', message: 'no' }, {
    'www-authenticate': 'Bearer error="invalid_token"',
  }));
  const err = await rejection(api('POST', '/v1/login', { auth: false, body: {} }));
  assert.equal(err.code, 'invalid_credentials');
  assert.deepEqual(refused, []);
});

test('429 Retry-After in seconds and as an HTTP date', async () => {
  const now = Date.UTC(2026, 10, 21, 17, 0, 0);
  const seconds = client(() => json(429, { error: 'rate_limited', message: 'slow down' }, { 'retry-after': '900' }));
  const a = await rejection(seconds.api('POST', '/v1/login', { auth: false, body: {} }));
  assert.equal(a.code, 'rate_limited');
  assert.equal(a.retryAfter, 900);

  const date = new Date(now + 120_000).toUTCString();
  const dated = client(() => json(429, { error: 'rate_limited', message: 'slow down' }, { 'retry-after': date }), { now: () => now });
  const b = await rejection(dated.api('POST', '/v1/login', { auth: false, body: {} }));
  assert.equal(b.retryAfter, 120);

  const none = client(() => json(429, { error: 'rate_limited', message: 'slow down' }));
  assert.equal((await rejection(none.api('GET', '/v1/me'))).retryAfter, null);
  assert.deepEqual([...seconds.refused, ...dated.refused, ...none.refused], []);
});

test('retryAfterSeconds: delta-seconds, past and future dates, garbage', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(retryAfterSeconds(' 30 ', now), 30);
  assert.equal(retryAfterSeconds(new Date(now + 61_000).toUTCString(), now), 61);
  assert.equal(retryAfterSeconds(new Date(now - 10_000).toUTCString(), now), 0);
  assert.equal(retryAfterSeconds('soon', now), null);
  assert.equal(retryAfterSeconds(null, now), null);
  assert.equal(retryAfterSeconds('', now), null);
});

test('a network failure rejects with code "network" and status 0', async () => {
  const { api, refused } = client(() => { throw new TypeError('Failed to fetch'); });
  const err = await rejection(api('GET', '/v1/me'));
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 0);
  assert.equal(err.code, 'network');
  assert.deepEqual(refused, []);
});

test('an error without a JSON body gets an http_<status> code', async () => {
  const { api } = client(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
  const err = await rejection(api('GET', '/v1/me'));
  assert.equal(err.code, 'http_502');
  assert.equal(err.message, 'Bad Gateway');
});

test('the token refusal rule and the reason list', () => {
  assert.equal(TOKEN_REASONS.length, new Set(TOKEN_REASONS).size);
  assert.ok(Object.isFrozen(TOKEN_REASONS));
  for (const reason of TOKEN_REASONS) assert.equal(isTokenRefusal(401, '', reason), !NOT_DEFINITIVE.includes(reason), reason);
  assert.deepEqual([...NOT_DEFINITIVE], ['state_stale', 'insufficient_user_authentication']);
  // A step-up refusal keeps the session whatever the challenge says.
  assert.equal(isTokenRefusal(401, 'Bearer error="insufficient_user_authentication"', 'insufficient_user_authentication'), false);
  assert.equal(isTokenRefusal(401, 'Bearer error="invalid_token"', 'insufficient_user_authentication'), false);
  assert.equal(isTokenRefusal(401, 'Bearer error="invalid_token"', 'whatever'), true);
  assert.equal(isTokenRefusal(401, 'Bearer realm="epochgate"', 'totp_required'), false);
  assert.equal(isTokenRefusal(403, 'Bearer error="invalid_token"', 'expired'), false);
  assert.equal(isTokenRefusal(401, null, 'reauth_required'), false);
});

test('errorText explains the common failures', () => {
  assert.equal(errorText(new ApiError(0, 'network', '')), 'Could not reach the server. Check your connection and try again.');
  assert.equal(errorText(new ApiError(0, 'network', ''), { network: 'Retrying.' }), 'Could not reach the server. Retrying.');
  assert.equal(errorText(new ApiError(401, 'reauth_failed', '')), 'That password or code is wrong.');
  assert.equal(errorText(new ApiError(401, 'invalid_credentials', '')), 'Wrong email, password or code.');
  assert.equal(errorText(new ApiError(500, 'internal', '')), 'Something went wrong (internal).');
  assert.match(errorText(new ApiError(503, 'propagation_delayed', '')), /sign-out is recorded/);
  const limited = Object.assign(new ApiError(429, 'rate_limited', ''), { retryAfter: 900 });
  assert.match(errorText(limited, { rateLimited: 'Nothing changed. ' }), /^Too many failed attempts on this account\. Nothing changed\. Try again in 15 minutes/);
  const busy = Object.assign(new ApiError(503, 'overloaded', ''), { retryAfter: 2 });
  assert.match(errorText(busy), /^The server is busy checking passwords; nothing was changed\. Try again in 2 seconds/);
});

test('a 401 state_stale keeps the session: no callback, not handled, the code reaches the caller', async () => {
  // The edge's answer when its revocation view is too old: the token may well be fine.
  const { api, refused } = client(() => json(401, { error: 'state_stale', message: 'the revocation view is 45 s old' }, {
    'www-authenticate': 'Bearer error="invalid_token", error_description="state_stale"',
  }));
  const err = await rejection(api('GET', '/v1/me'));
  assert.equal(err.code, 'state_stale');
  assert.equal(err.status, 401);
  assert.notEqual(err.handled, true);
  assert.deepEqual(refused, []);
  assert.match(errorText(err, { network: 'Trying again in a few seconds…' }), /cannot confirm sign-outs right now.*Trying again/);
});

// --- step-up -----------------------------------------------------------------------------------

const STEP_UP_BODY = {
  error: 'insufficient_user_authentication', message: 'this route needs a passkey confirmation in the last 300 s',
  max_age: 300, required_amr: ['hwk'],
};
const STEP_UP_HEADER = 'Bearer error="insufficient_user_authentication", error_description="needs a passkey", max_age=300';
const stepUpAnswer = () => json(401, STEP_UP_BODY, { 'www-authenticate': STEP_UP_HEADER });

test('stepUpRequirement reads the body, else the WWW-Authenticate challenge; anything else is null', () => {
  assert.deepEqual(stepUpRequirement(401, STEP_UP_HEADER, STEP_UP_BODY),
    { maxAge: 300, requiredAmr: ['hwk'], message: STEP_UP_BODY.message });
  // An answer whose body is not JSON: the challenge alone.
  assert.deepEqual(stepUpRequirement(401, STEP_UP_HEADER, null), { maxAge: 300, requiredAmr: [], message: '' });
  assert.deepEqual(stepUpRequirement(401, 'Bearer error="insufficient_user_authentication", max_age="60"', null).maxAge, 60);
  // A rule without max_age, and a body without the header.
  assert.deepEqual(stepUpRequirement(401, null, { error: 'insufficient_user_authentication', message: 'm', required_amr: ['hwk', 7] }),
    { maxAge: null, requiredAmr: ['hwk'], message: 'm' });
  assert.equal(stepUpRequirement(401, null, { ...STEP_UP_BODY, max_age: -1 }).maxAge, null);
  assert.equal(stepUpRequirement(403, STEP_UP_HEADER, STEP_UP_BODY), null);
  assert.equal(stepUpRequirement(401, 'Bearer error="invalid_token", error_description="expired"', { error: 'expired' }), null);
  assert.equal(stepUpRequirement(401, null, { error: 'reauth_failed' }), null);
});

test('a step-up refusal asks once, then sends the request again with the new token', async () => {
  let token = 'old';
  const asked = [];
  const calls = [];
  const api = createApi({
    getToken: () => token,
    onTokenRefused: () => assert.fail('a step-up refusal must not end the session'),
    onStepUp: async (requirement) => { asked.push(requirement); token = 'fresh'; return true; },
    fetch: async (url, init) => {
      calls.push(init.headers.authorization);
      return init.headers.authorization === 'Bearer fresh' ? json(200, { paid: true }) : stepUpAnswer();
    },
  });
  assert.deepEqual(await api('POST', '/app/payments', { body: { amount: 1 } }), { paid: true });
  assert.deepEqual(calls, ['Bearer old', 'Bearer fresh']);
  assert.deepEqual(asked, [{ maxAge: 300, requiredAmr: ['hwk'], message: STEP_UP_BODY.message }]);
});

test('a step-up not given, or refused again after it, reaches the caller with what was asked', async () => {
  // Cancelled: no second request.
  const cancelled = client(() => stepUpAnswer(), { onStepUp: async () => false });
  const a = await rejection(cancelled.api('POST', '/app/payments', { body: {} }));
  assert.equal(a.code, 'insufficient_user_authentication');
  assert.deepEqual(a.requirement.requiredAmr, ['hwk']);
  assert.notEqual(a.handled, true);
  assert.equal(cancelled.calls.length, 1);
  assert.deepEqual(cancelled.refused, []);
  assert.equal(errorText(a), 'This action needs a recent passkey confirmation, and none was given. Nothing was done.');

  // Given, and still refused: sent once more only, asked once only.
  let asks = 0;
  // (A second ask would say no, so that asking again fails here rather than looping.)
  const again = client(() => stepUpAnswer(), { onStepUp: async () => { asks++; return asks === 1; } });
  const b = await rejection(again.api('POST', '/app/payments', { body: {} }));
  assert.equal(b.code, 'insufficient_user_authentication');
  assert.equal(asks, 1);
  assert.equal(again.calls.length, 2);

  // A callback that throws counts as not given.
  const broken = client(() => stepUpAnswer(), { onStepUp: async () => { throw new Error('dialog gone'); } });
  assert.equal((await rejection(broken.api('POST', '/app/payments', { body: {} }))).code, 'insufficient_user_authentication');
  assert.equal(broken.calls.length, 1);

  // stepUp: false, and unauthenticated requests, never ask.
  let never = 0;
  const off = client(() => stepUpAnswer(), { onStepUp: async () => { never++; return true; } });
  await rejection(off.api('POST', '/app/payments', { body: {}, stepUp: false }));
  await rejection(off.api('POST', '/v1/login', { body: {}, auth: false }));
  assert.equal(never, 0);
  assert.equal(off.calls.length, 2);
});

test('without a step-up callback the refusal is the caller\'s, and a rule with only max_age reads so', async () => {
  const { api, refused } = client(() => json(401, { error: 'insufficient_user_authentication', message: 'too old', max_age: 60 }, {
    'www-authenticate': 'Bearer error="insufficient_user_authentication", max_age=60',
  }));
  const err = await rejection(api('GET', '/app/report'));
  assert.equal(err.code, 'insufficient_user_authentication');
  assert.deepEqual(err.requirement, { maxAge: 60, requiredAmr: [], message: 'too old' });
  assert.deepEqual(refused, []);
  assert.match(errorText(err), /confirm it is you again/);
});
