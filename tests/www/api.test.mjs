// The page's API client (www/api.js) in Node against a fake fetch: token refusals reported once
// through the callback, form answers left to the form, Retry-After, network failures, 204.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, NOT_DEFINITIVE, TOKEN_REASONS, createApi, errorText, isTokenRefusal, retryAfterSeconds } from '../../www/api.js';

const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** A client whose fetch answers `answer(url, init)`, recording requests and refusals. */
function client(answer, { token = 'tok', now } = {}) {
  const calls = [];
  const refused = [];
  const api = createApi({
    getToken: () => token,
    onTokenRefused: (why) => refused.push(why),
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
