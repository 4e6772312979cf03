// Password work at the edge, as an attacker meets it: no Argon2 runs in a Durable Object, so the
// edge reserves each check at the origin, hashes, and settles. Parallel guesses must not pass the
// throttle together, per-network limits and the isolate's hashing budget must shed a flood with
// 429 / 503 and Retry-After while valid tokens keep being served, a client cannot forge the
// edge's verdict, and a check whose settle never comes back stops counting.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  call, cleanup, exchanges, FAST_ARGON2, makeSecrets, openApiProblems, sleep, startWorker,
} from './helper.mjs';

const PASSWORD = 'correct horse battery';
const workers = [];
after(async () => {
  for (const w of workers) {
    await w.stop();
    cleanup(w.persistTo);
  }
  for (const w of workers) cleanup(w.secrets.dir);
});

async function start(vars, opts = {}) {
  const w = await startWorker({ vars: { ...FAST_ARGON2, ...vars }, ...opts });
  workers.push(w);
  return w;
}

let serial = 0;
const fresh = (tag) => `${tag}-${Date.now()}-${++serial}@example.com`;
const address = () => `198.51.100.${(++serial % 250) + 1}`;

function login(base, email, password, ip, headers = {}) {
  return call(base, 'POST', '/v1/login', {
    body: { email, password, device: { name: 'Laptop', type: 'desktop' } }, clientIp: ip, headers,
  });
}

function assertError(r, status, code, what = '') {
  assert.equal(r.status, status, `${what} ${JSON.stringify(r.body)}`);
  assert.equal(r.body?.error, code, what);
  assert.equal(typeof r.body.message, 'string', what);
}

function retryAfter(r) {
  const n = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(n) && n >= 1, `Retry-After ${r.headers.get('retry-after')}`);
  return n;
}

/** Retries `fn` while it answers 503 `overloaded`, honouring Retry-After (the budget tests). */
async function patiently(fn) {
  for (;;) {
    const r = await fn();
    if (r.status !== 503) return r;
    await sleep(retryAfter(r) * 1000);
  }
}

describe('with per-network limits on', () => {
  let w;
  let api;
  test('start', async () => {
    w = await start({ NETWORK_LIMITS: 'on' });
    api = (m, p, o) => call(w.base, m, p, o);
  });

  test('parallel guesses cannot pass the throttle together; the owner elsewhere is not held up', async () => {
    const email = fresh('parallel');
    const owner = address();
    assert.equal((await api('POST', '/v1/accounts', { body: { email, password: PASSWORD }, clientIp: owner })).status, 201);
    const attacker = address();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login(w.base, email, `wrong guess ${i}`, attacker)),
    );
    const wrong = answers.filter((r) => r.status === 401);
    const limited = answers.filter((r) => r.status === 429);
    assert.equal(wrong.length + limited.length, 12, JSON.stringify(answers.map((r) => r.status)));
    assert.ok(wrong.length <= 5, `${wrong.length} guesses were checked; the bucket allows 5`);
    for (const r of wrong) assertError(r, 401, 'invalid_credentials');
    for (const r of limited) { assertError(r, 429, 'rate_limited'); retryAfter(r); }
    // Once the guesses are settled, the bucket holds exactly the checked ones.
    const next = await login(w.base, email, 'one more', attacker);
    assertError(next, 429, 'rate_limited', 'after five failures');
    // The owner's network has its own bucket.
    assert.equal((await login(w.base, email, PASSWORD, owner)).status, 201);
  });

  test('a client cannot forge the edge verdict, the new hash or the internal route', async () => {
    const email = fresh('forge');
    const ip = address();
    const forged = {
      'x-epochgate-internal-password': 'right',
      'x-epochgate-internal-reservation': 'r_forged',
      'x-epochgate-internal-new-password-hash': '$argon2id$v=19$m=256,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    };
    const up = await api('POST', '/v1/accounts', { body: { email, password: PASSWORD }, clientIp: ip, headers: forged });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    // The password stored is the one sent, hashed by the edge, not the forged hash.
    assertError(await login(w.base, email, 'not the password', ip, forged), 401, 'invalid_credentials');
    assert.equal((await login(w.base, email, PASSWORD, ip)).status, 201);
    for (const path of ['/internal/password', '/internal/touch', '/internal/directory/claim',
      '/internal/directory/begin', '/internal/directory/end', '/internal/directory/lookup']) {
      assertError(await api('POST', path, { body: { email } }), 404, 'not_found', path);
    }
    assertError(await api('GET', '/internal/account-email?account=acct_x'), 404, 'not_found', 'account-email');
  });

  test('a re-authentication is checked at the edge and its parallel guesses are bounded too', async () => {
    const email = fresh('reauth');
    const ip = address();
    await api('POST', '/v1/accounts', { body: { email, password: PASSWORD }, clientIp: ip });
    const { token } = (await login(w.base, email, PASSWORD, ip)).body;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => api('POST', '/v1/sessions/sign-out-all', {
      token, body: { password: `wrong ${i}`, keep_current: true }, clientIp: ip,
    })));
    const failed = answers.filter((r) => r.status === 401);
    assert.ok(failed.length <= 5, JSON.stringify(answers.map((r) => r.status)));
    for (const r of failed) assertError(r, 401, 'reauth_failed');
    for (const r of answers.filter((a) => a.status !== 401)) assertError(r, 429, 'rate_limited');
    await sleep(retryAfter(answers.find((r) => r.status === 429)) * 1000 + 1100);
    const ok = await patiently(() => api('POST', '/v1/sessions/sign-out-all', {
      token, body: { password: PASSWORD, keep_current: true }, clientIp: ip,
    }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('one network gets 429 past its password attempts; another network does not', async () => {
    const ip = address();
    let first429;
    // The limiter counts in fixed 10 s windows: across a window's end up to twice the limit pass.
    for (let i = 0; i < 45 && !first429; i++) {
      // A new unknown email each time: the per-email buckets never fill, only the network's limit.
      const r = await login(w.base, fresh('spray'), PASSWORD, ip);
      if (r.status === 429) first429 = { i, r };
      else assertError(r, 401, 'invalid_credentials', `attempt ${i}`);
    }
    assert.ok(first429, 'no 429 after 45 attempts from one address');
    assert.ok(first429.i >= 20 && first429.i <= 40, `limited after ${first429.i} attempts; the limit is 20 per 10 s`);
    assertError(first429.r, 429, 'rate_limited');
    assert.equal(retryAfter(first429.r), 10);
    assertError(await login(w.base, fresh('spray'), PASSWORD, address()), 401, 'invalid_credentials', 'another network');
  });

  test('sign-ups are limited per network, an IPv6 /64 counting as one', async () => {
    const base = `2001:db8:${(++serial).toString(16)}:1`;
    // The limiter counts in fixed 60 s windows: across a window's end up to twice the limit pass.
    let first429;
    for (let i = 0; i < 21 && !first429; i++) {
      const r = await api('POST', '/v1/accounts', {
        body: { email: fresh('signup'), password: PASSWORD }, clientIp: `${base}::${(i + 1).toString(16)}`,
      });
      if (r.status === 429) first429 = { i, r };
      else assert.equal(r.status, 201, `sign-up ${i}: ${JSON.stringify(r.body)}`);
    }
    assert.ok(first429 && first429.i >= 10 && first429.i <= 20, `first 429 at ${first429?.i}; the limit is 10 per 60 s`);
    assertError(first429.r, 429, 'rate_limited', 'past the limit from one /64');
    assert.equal(retryAfter(first429.r), 60);
    const other = await api('POST', '/v1/accounts', {
      body: { email: fresh('signup'), password: PASSWORD }, clientIp: `2001:db8:${(++serial).toString(16)}:2::1`,
    });
    assert.equal(other.status, 201, 'another /64');
  });
});

describe('the isolate hashing budget', () => {
  test('a flood from many addresses is shed with 503 while valid tokens are served', async () => {
    // FAST_ARGON2 hashes are estimated at 1 ms: a budget of 2 ms is two hashes a second.
    const w = await start({ HASH_BUDGET_MS: '2' });
    const api = (m, p, o) => call(w.base, m, p, o);
    const email = fresh('budget');
    assert.equal((await patiently(() => api('POST', '/v1/accounts', { body: { email, password: PASSWORD } }))).status, 201);
    const signedIn = await patiently(() => login(w.base, email, PASSWORD, address()));
    assert.equal(signedIn.status, 201);
    const { token } = signedIn.body;
    const flood = await Promise.all(Array.from({ length: 20 }, () => login(w.base, fresh('flood'), PASSWORD, address())));
    const shed = flood.filter((r) => r.status === 503);
    assert.ok(shed.length >= 15, `only ${shed.length} of 20 shed: ${flood.map((r) => r.status)}`);
    for (const r of shed) {
      assertError(r, 503, 'overloaded');
      assert.ok(retryAfter(r) <= 2);
    }
    for (const r of flood.filter((a) => a.status !== 503)) assertError(r, 401, 'invalid_credentials');
    assert.equal((await api('GET', '/v1/me', { token })).status, 200);
    const stats = (await api('GET', '/v1/edge/stats')).body;
    assert.ok(stats.hash_shed >= shed.length, JSON.stringify(stats));
  });
});

describe('a check that never settles in time', () => {
  test('stops counting once expired, and a late verdict is not taken', async () => {
    const secrets = makeSecrets();
    // Hashes of about a tenth of a second or more, against a 20 ms reservation; a budget that
    // never sheds them (this test is about the reservation, not the budget).
    const slow = { ARGON2_MEMORY_KIB: '32768', ARGON2_ITERATIONS: '3', PASSWORD_CHECK_TIMEOUT_MS: '20', HASH_BUDGET_MS: '1000000' };
    // Started through start(), so the worker is stopped whatever the test's outcome.
    let w = await start(slow, { secrets });
    const email = fresh('late');
    assert.equal((await call(w.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status, 201);
    const ip = address();
    for (let i = 0; i < 7; i++) {
      const r = await login(w.base, email, i % 2 ? PASSWORD : 'wrong password', ip);
      assertError(r, 503, 'overloaded', `late check ${i}`);
      assert.match(r.body.message, /took too long/);
    }
    // Same state, the default timeout: seven expired reservations (more than the bucket's five
    // free failures) hold nothing, and no late verdict counted as a failure.
    await w.stop();
    w = await start({ ARGON2_MEMORY_KIB: '32768', ARGON2_ITERATIONS: '3', HASH_BUDGET_MS: '1000000' }, { secrets, persistTo: w.persistTo });
    const r = await login(w.base, email, PASSWORD, ip);
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
});

test('every exchange matches openapi.yaml', () => {
  const { problems } = openApiProblems(exchanges.filter((x) => !x.path.startsWith('/internal/')));
  assert.deepEqual(problems, []);
});
