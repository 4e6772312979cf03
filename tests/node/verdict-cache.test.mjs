// The package Validator's JavaScript verdict cache (js/verdict-cache.mjs), through the built
// package (pkg/epochgate, scripts/build-pkg.sh) loaded as Node users load it. A hit is told
// apart from a miss by identity: a hit returns the very object cached, a miss a new one. Every
// test pins a moment where a stale cache would answer wrongly: a revocation applied after a
// hit, the second a token expires, the view's freshness deadline, a step-up's age limit.
// Run: node --test tests/node/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as eg from '../../pkg/epochgate/dist/node.mjs';

const ISS = 'https://id.example';
const AUD = 'app';
const NOW = 1_800_000_000;

function setup(options = {}, issuerOptions = {}) {
  const tokens = eg.generateKeyPair('cache-tokens');
  const updates = eg.generateKeyPair('cache-updates');
  const issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk: tokens.privateJwk, ...issuerOptions });
  const log = new eg.RevocationLog({ privateJwk: updates.privateJwk });
  const validator = new eg.Validator({
    issuer: ISS, audience: AUD, keys: tokens.publicJwk, revocationKeys: updates.publicJwk, ...options,
  });
  const login = (account, extra = {}) => issuer.mint({
    account, session: `sess-${account}-${Math.random()}`, device: log.allocateDevice(account),
    epoch: log.epochOf(account), now: NOW, ...extra,
  });
  return { issuer, log, validator, login };
}

/** Validates twice at `now` and checks the second answer is the first one, from the cache. */
function cached(validator, token, now) {
  const first = validator.validate(token, now);
  assert.equal(first.valid, true, first.message);
  assert.equal(validator.validate(token, now), first, 'the second validation was not a cache hit');
  return first;
}

test('a revocation applied after a cached hit refuses at once, through applyRevocation or a Follower', () => {
  const { log, validator, login } = setup();
  const phone = login('acct');
  const laptop = login('acct');
  cached(validator, phone, NOW);
  cached(validator, laptop, NOW);
  log.revokeDevice('acct', 0, NOW);
  validator.applyRevocation(log.deltaSince(validator.revocationSeq, NOW), NOW);
  assert.equal(validator.validate(phone, NOW).reason, 'revoked_device');
  // The other device is still valid, and is cached again.
  cached(validator, laptop, NOW);

  // The glue's Follower applies updates inside WebAssembly, past this class's methods: the
  // generation the cache checks is the wasm validator's own.
  const follower = new eg.Follower({});
  log.revokeAll('acct', NOW + 1);
  const next = follower.answer(validator, { update: log.deltaSince(validator.revocationSeq, NOW + 1) }, (NOW + 1) * 1000);
  assert.equal(next.next, 'done');
  assert.equal(validator.validate(laptop, NOW + 1).reason, 'revoked_all');
});

test('a cached token expires at the exact second the wasm validator says', () => {
  for (const clockTolerance of [0, 30]) {
    const { validator, login } = setup({ clockTolerance }, { ttl: 100 });
    const token = login('acct');
    const verdict = cached(validator, token, NOW);
    assert.equal(verdict.expiresAt, NOW + 100);
    const last = NOW + 100 + clockTolerance - 1;
    assert.equal(validator.validate(token, last), verdict, 'the last valid second is answered from the cache');
    assert.equal(validator.validate(token, last + 0.999), verdict, 'now is floored as the wasm validator floors it');
    assert.equal(validator.validate(token, last + 1).reason, 'expired', `tolerance ${clockTolerance}`);
    // An expiry is not cached: earlier seconds are still valid.
    assert.equal(validator.validate(token, NOW).valid, true);
  }
});

test('a cached token is refused as state_stale at the view\'s freshness deadline', () => {
  const { log, validator, login } = setup({ maxStateAge: 10 });
  const token = login('acct');
  assert.equal(validator.validate(token, NOW).reason, 'state_stale', 'no update applied yet');
  validator.applyRevocation(log.snapshot(NOW), NOW);
  assert.equal(validator.freshUntil, NOW + 10);
  const verdict = cached(validator, token, NOW);
  assert.equal(validator.validate(token, NOW + 10), verdict);
  assert.equal(validator.validate(token, NOW + 11).reason, 'state_stale');
  // A newer update moves the deadline (and the generation) on.
  validator.applyRevocation(log.deltaSince(validator.revocationSeq, NOW + 11), NOW + 11);
  cached(validator, token, NOW + 11);
  assert.equal(validator.validate(token, NOW + 21).valid, true);
  assert.equal(validator.validate(token, NOW + 22).reason, 'state_stale');
});

test('step-up: the options\' maxAuthAge bounds a cached verdict; a per-call stepUp is never answered from the cache', () => {
  {
    const { validator, login } = setup({ maxAuthAge: 60 });
    const token = login('acct', { authTime: NOW - 10 });
    const verdict = cached(validator, token, NOW);
    assert.equal(validator.validate(token, NOW + 50), verdict);
    assert.equal(validator.validate(token, NOW + 51).reason, 'insufficient_user_authentication');
  }
  const { validator, login } = setup();
  const token = login('acct', { authTime: NOW - 100, amr: ['pwd'] });
  cached(validator, token, NOW);
  const asked = validator.validate(token, NOW, { requiredAmr: ['hwk'] });
  assert.equal(asked.reason, 'insufficient_user_authentication');
  assert.deepEqual(asked.requiredAmr, ['hwk']);
  assert.equal(validator.validate(token, NOW, { maxAuthAge: 5 }).reason, 'insufficient_user_authentication');
  assert.equal(validator.validate(token, NOW, { maxAuthAge: 500 }).valid, true);
});

test('time going backwards is judged again, and time-dependent refusals are not cached', () => {
  const { validator, login } = setup();
  const token = login('acct');
  cached(validator, token, NOW);
  // Issued at NOW: before NOW - 30 the token is from the future.
  assert.equal(validator.validate(token, NOW - 31).reason, 'issued_in_future');
  assert.equal(validator.validate(token, NOW - 30).valid, true);
  const other = login('other');
  assert.equal(validator.validate(other, NOW - 31).reason, 'issued_in_future');
  assert.equal(validator.validate(other, NOW).valid, true);
});

test('verdicts the cache shares are frozen, deeply', () => {
  const { validator, login } = setup();
  const verdict = cached(validator, login('acct', { authTime: NOW - 1, amr: ['hwk', 'user'] }), NOW);
  assert.ok(Object.isFrozen(verdict) && Object.isFrozen(verdict.claims) && Object.isFrozen(verdict.amr));
  assert.ok(Object.isFrozen(verdict.claims.aud) || typeof verdict.claims.aud === 'string');
  assert.throws(() => { verdict.valid = false; }, TypeError);
  assert.throws(() => { verdict.claims.sub = 'someone else'; }, TypeError);
  assert.throws(() => { verdict.amr.push('pwd'); }, TypeError);
  const refusal = validator.validate('not.a.token', NOW);
  assert.equal(refusal.reason, 'malformed');
  assert.equal(validator.validate('not.a.token', NOW), refusal);
  assert.ok(Object.isFrozen(refusal));
});

test('the cache holds at most cacheSize valid verdicts and cacheSize refusals, oldest out first', () => {
  const { validator, login } = setup({ cacheSize: 3 });
  const tokens = Array.from({ length: 10 }, (_, i) => login(`acct-${i}`));
  const verdicts = tokens.map((t) => validator.validate(t, NOW));
  assert.equal(validator.cachedVerdicts, 3);
  assert.equal(validator.validate(tokens[9], NOW), verdicts[9]);
  assert.notEqual(validator.validate(tokens[0], NOW), verdicts[0], 'the oldest was evicted');
  for (let i = 0; i < 10; i++) validator.validate(`junk.${i}.x`, NOW);
  assert.equal(validator.cachedVerdicts, 6);
  // Junk does not evict valid sessions.
  const kept = validator.validate(tokens[0], NOW);
  assert.equal(validator.validate(tokens[0], NOW), kept);

  const off = setup({ cacheSize: 0 });
  const token = off.login('acct');
  assert.notEqual(off.validator.validate(token, NOW), off.validator.validate(token, NOW));
  assert.equal(off.validator.cachedVerdicts, 0);
});

test('eviction is exactly oldest-in first over a long mixed run, refusals and re-judged entries included', () => {
  const size = 5;
  const { log, validator, login } = setup({ cacheSize: size });
  const tokens = Array.from({ length: 12 }, (_, i) => login(`acct-${i}`));
  const junk = Array.from({ length: 12 }, (_, i) => `junk.${i}.x`);
  // A model of the valid map: keys in insertion order, and the verdict each one answers with.
  const order = [];
  const held = new Map();
  // Every verdict answered so far, so that a token the model evicted must get a new one.
  const seen = new Set();
  // xorshift32: the same run every time.
  let seed = 7;
  const next = (n) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let hits = 0;
  let generation = validator.viewGeneration;
  for (let step = 0; step < 3000; step++) {
    if (next(50) === 0) {
      // Any applied update makes every held verdict stale; each is judged again when next asked
      // and replaced where it stands, as the model does.
      log.revokeDevice('bystander', log.allocateDevice('bystander'), NOW);
      validator.applyRevocation(log.snapshot(NOW), NOW);
      assert.notEqual(validator.viewGeneration, generation);
      generation = validator.viewGeneration;
      for (const key of held.keys()) held.set(key, null);
      continue;
    }
    if (next(4) === 0) {
      validator.validate(junk[next(junk.length)], NOW);
      continue;
    }
    const token = tokens[next(tokens.length)];
    const verdict = validator.validate(token, NOW);
    assert.equal(verdict.valid, true, verdict.message);
    if (held.has(token) && held.get(token) !== null) {
      assert.equal(verdict, held.get(token), `step ${step}: a held verdict was not a hit`);
      hits++;
    } else {
      assert.ok(!seen.has(verdict), `step ${step}: an evicted or stale verdict was answered`);
      if (!held.has(token)) {
        if (order.length === size) held.delete(order.shift());
        order.push(token);
      }
      held.set(token, verdict);
      seen.add(verdict);
    }
    assert.ok(validator.cachedVerdicts <= 2 * size);
  }
  assert.ok(hits > 500 && hits < 1500, `${hits} hits: the run should mix hits and misses`);
});

test('a token equal to a cached one but for one character is not a hit', () => {
  const { validator, login } = setup();
  const token = login('acct');
  const verdict = cached(validator, token, NOW);
  const [h, p, s] = token.split('.');
  const flip = (part, at) => part.slice(0, at) + (part[at] === 'A' ? 'B' : 'A') + part.slice(at + 1);
  const forged = [
    `${h}.${p}.${flip(s, 10)}`,
    `${h}.${flip(p, 20)}.${s}`,
    `${flip(h, 5)}.${p}.${s}`,
    `${token.slice(0, -1)}${token.at(-1) === 'A' ? 'Q' : 'A'}`,
  ];
  for (const f of forged) {
    assert.equal(f.length, token.length);
    const answer = validator.validate(f, NOW);
    assert.notEqual(answer, verdict);
    assert.equal(answer.valid, false, f);
    assert.equal(validator.validate(f, NOW).valid, false, 'a cached refusal stays a refusal');
  }
  assert.equal(validator.validate(token, NOW), verdict);
});

test('arguments the wasm validator refuses are still refused with its codes', () => {
  const { validator, login } = setup();
  assert.ok(validator instanceof eg.Validator);
  // The wasm getters the cache reads, defaults filled in.
  assert.deepEqual([validator.clockTolerance, validator.cacheSize, validator.maxAuthAge, validator.freshUntil], [30, 10_000, undefined, Infinity]);
  const strict = setup({ clockTolerance: 5, cacheSize: 7, maxAuthAge: 60, maxStateAge: 9 }).validator;
  assert.deepEqual([strict.clockTolerance, strict.cacheSize, strict.maxAuthAge, strict.freshUntil], [5, 7, 60, -Infinity]);
  const token = login('acct');
  cached(validator, token, NOW);
  assert.throws(() => validator.validate(token, Number.NaN), (e) => e.code === 'invalid_argument');
  assert.throws(() => validator.validate(token, NOW, { maxAuthAge: -1 }), (e) => e.code === 'invalid_option');
  assert.equal(validator.validate(42, NOW).reason, 'malformed');
  // Without `now`, the host clock: the token (issued at NOW, in 2027) is checked against it.
  assert.equal(validator.validate(token).valid, Math.floor(Date.now() / 1000) >= NOW - 30);
});

test('Node entries verify in wasm by default and with node:crypto when given hostEd25519Verify; both agree', async () => {
  const { createRequire } = await import('node:module');
  const cjs = createRequire(import.meta.url)('../../pkg/epochgate/dist/node.cjs');
  for (const m of [eg, cjs]) {
    assert.equal(typeof m.hostEd25519Verify, 'function');
    const tokens = m.generateKeyPair('paths');
    const issuer = new m.Issuer({ issuer: ISS, audience: AUD, privateJwk: tokens.privateJwk });
    const byDefault = new m.Validator({ issuer: ISS, audience: AUD, keys: tokens.publicJwk });
    const host = new m.Validator({ issuer: ISS, audience: AUD, keys: tokens.publicJwk, ed25519Verify: m.hostEd25519Verify });
    const wasm = new m.Validator({ issuer: ISS, audience: AUD, keys: tokens.publicJwk, ed25519Verify: null });
    assert.equal(byDefault.verification, 'wasm');
    assert.equal(host.verification, 'host');
    assert.equal(wasm.verification, 'wasm');
    const token = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, now: NOW });
    const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BAAA' : 'AAAA');
    for (const v of [byDefault, host, wasm]) {
      assert.equal(v.validate(token, NOW).valid, true);
      assert.equal(v.validate(forged, NOW).reason, 'bad_signature');
    }
  }
});
