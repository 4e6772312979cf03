// Step-up through the built WebAssembly package (pkg/epochgate, built by scripts/build-pkg.sh):
// `authTime`/`amr` minted and read back, also from a token jose signs, `maxAuthAge` and
// `requiredAmr` per validator and per call, what a refusal says was asked, and unusable step-ups.
// Run: node --test tests/node/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as jose from 'jose';

const require = createRequire(import.meta.url);
const eg = require(new URL('../../pkg/epochgate/dist/node.cjs', import.meta.url).pathname);

const ISS = 'https://id.example';
const AUD = 'app';
const NOW = 1_800_000_000;
const REFUSED = 'insufficient_user_authentication';

function setup(options = {}) {
  const { privateJwk, publicJwk } = eg.generateKeyPair('step-1');
  const issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk });
  const validator = new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, ...options });
  const mint = (extra = {}) => issuer.mint({ account: 'acct-n', session: 'sess-n', device: 0, epoch: 0, now: NOW, ...extra });
  return { privateJwk, validator, mint };
}

function throwsCode(fn, code) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof Error, 'not an Error');
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** A refusal without its message, which may be reworded. */
function refusal(verdict) {
  assert.equal(verdict.valid, false);
  assert.ok(verdict.message.length > 0);
  const { message, ...rest } = verdict;
  return rest;
}

test('authTime and amr are minted into the token and shown by a valid verdict', () => {
  const { validator, mint } = setup();
  const verdict = validator.validate(mint({ authTime: NOW - 10, amr: ['hwk', 'user', 'mfa'] }), NOW);
  assert.deepEqual({ ...verdict, claims: undefined }, {
    valid: true, account: 'acct-n', session: 'sess-n', device: 0, epoch: 0, issuedAt: NOW,
    expiresAt: NOW + 2_592_000, authTime: NOW - 10, amr: ['hwk', 'user', 'mfa'], claims: undefined,
  });
  assert.equal(verdict.claims.auth_time, NOW - 10);
  assert.deepEqual(verdict.claims.amr, ['hwk', 'user', 'mfa']);
  // A token without them: no such members at all.
  const old = validator.validate(mint(), NOW);
  assert.equal(old.valid, true);
  assert.ok(!('authTime' in old) && !('amr' in old));
  assert.ok(!('auth_time' in old.claims) && !('amr' in old.claims));
});

test('a token jose signs with auth_time and amr meets a step-up; a wrong amr is malformed', async () => {
  const { privateJwk, validator } = setup();
  const key = await jose.importJWK(privateJwk, 'EdDSA');
  const sign = (claims) => new jose.SignJWT({ sid: 'sess-j', dev: 0, epo: 0, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'step-1', typ: 'session+jwt' })
    .setIssuer(ISS).setAudience(AUD).setSubject('acct-j').setIssuedAt(NOW).setExpirationTime(NOW + 600)
    .sign(key);
  const passkey = await sign({ auth_time: NOW - 60, amr: ['hwk', 'user', 'mfa'] });
  assert.equal(validator.validate(passkey, NOW, { maxAuthAge: 60, requiredAmr: ['hwk'] }).valid, true);
  assert.deepEqual(refusal(validator.validate(passkey, NOW, { maxAuthAge: 59 })), { valid: false, reason: REFUSED, maxAge: 59 });
  for (const amr of ['hwk', [], ['hwk', 'hwk'], [''], [7]]) {
    assert.equal(validator.validate(await sign({ amr }), NOW).reason, 'malformed', JSON.stringify(amr));
  }
  for (const authTime of ['1800000000', -1, 1.5, 2 ** 53]) {
    assert.equal(validator.validate(await sign({ auth_time: authTime }), NOW).reason, 'malformed', String(authTime));
  }
});

test('a step-up per call: at the limit passes, one second over is refused with what was asked', () => {
  const { validator, mint } = setup();
  const token = mint({ authTime: NOW - 300, amr: ['pwd', 'otp', 'mfa'] });
  assert.equal(validator.validate(token, NOW, { maxAuthAge: 300 }).valid, true);
  assert.deepEqual(refusal(validator.validate(token, NOW + 1, { maxAuthAge: 300 })), { valid: false, reason: REFUSED, maxAge: 300 });
  assert.equal(validator.validate(token, NOW, { requiredAmr: ['otp', 'mfa'] }).valid, true);
  assert.deepEqual(refusal(validator.validate(token, NOW, { requiredAmr: ['hwk'] })), { valid: false, reason: REFUSED, requiredAmr: ['hwk'] });
  // Without a step-up, the same tokens and old ones stay valid.
  assert.equal(validator.validate(token, NOW + 1).valid, true);
  assert.equal(validator.validate(mint(), NOW, {}).valid, true);
  assert.equal(validator.validate(mint(), NOW, null).valid, true);
  assert.deepEqual(refusal(validator.validate(mint(), NOW, { maxAuthAge: 10, requiredAmr: ['pwd'] })),
    { valid: false, reason: REFUSED, maxAge: 10, requiredAmr: ['pwd'] });
});

test('a validator step-up applies to every call, and a call only adds to it', () => {
  const { validator, mint } = setup({ maxAuthAge: 300, requiredAmr: ['mfa'] });
  const passkey = mint({ authTime: NOW, amr: ['hwk', 'user', 'mfa'] });
  assert.equal(validator.validate(passkey, NOW + 300).valid, true);
  assert.deepEqual(refusal(validator.validate(passkey, NOW + 301)), { valid: false, reason: REFUSED, maxAge: 300, requiredAmr: ['mfa'] });
  assert.deepEqual(refusal(validator.validate(mint({ authTime: NOW, amr: ['pwd'] }), NOW)),
    { valid: false, reason: REFUSED, maxAge: 300, requiredAmr: ['mfa'] });
  assert.deepEqual(refusal(validator.validate(passkey, NOW + 301, { maxAuthAge: 3600 })),
    { valid: false, reason: REFUSED, maxAge: 300, requiredAmr: ['mfa'] });
  assert.deepEqual(refusal(validator.validate(passkey, NOW + 61, { maxAuthAge: 60, requiredAmr: ['hwk'] })),
    { valid: false, reason: REFUSED, maxAge: 60, requiredAmr: ['mfa', 'hwk'] });
  assert.equal(validator.validate(passkey, NOW + 60, { maxAuthAge: 60, requiredAmr: ['hwk'] }).valid, true);
});

test('a revoked token keeps its reason under a step-up', () => {
  const { privateJwk: updateKey, publicJwk: updatePublic } = eg.generateKeyPair('updates-1');
  const { privateJwk, publicJwk } = eg.generateKeyPair('tokens-1');
  const issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk });
  const validator = new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, revocationKeys: updatePublic });
  const log = new eg.RevocationLog({ privateJwk: updateKey });
  const token = issuer.mint({ account: 'acct-r', session: 's', device: log.allocateDevice('acct-r'), epoch: 0, now: NOW });
  log.revokeAll('acct-r', NOW);
  validator.applyRevocation(log.deltaSince(0, NOW), NOW);
  const verdict = validator.validate(token, NOW, { maxAuthAge: 1, requiredAmr: ['hwk'] });
  assert.equal(verdict.reason, 'revoked_all');
  assert.ok(!('maxAge' in verdict) && !('requiredAmr' in verdict));
});

test('unusable step-ups and claims throw with codes', () => {
  const { privateJwk, publicJwk } = eg.generateKeyPair('k');
  const issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk });
  const validator = new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk });
  const token = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, now: NOW });
  const badAges = [-1, 1.5, '300', NaN, 2 ** 53];
  const badLists = ['hwk', [1], [null], [''], ['hwk', 'hwk'], ['x'.repeat(33)], ['a\nb'], {}, Array.from({ length: 17 }, (_, i) => `m${i}`)];
  for (const maxAuthAge of badAges) {
    throwsCode(() => new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, maxAuthAge }), 'invalid_option');
    throwsCode(() => validator.validate(token, NOW, { maxAuthAge }), 'invalid_option');
    throwsCode(() => issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, authTime: maxAuthAge }), 'invalid_claim');
  }
  for (const list of badLists) {
    throwsCode(() => new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, requiredAmr: list }), 'invalid_option');
    throwsCode(() => validator.validate(token, NOW, { requiredAmr: list }), 'invalid_option');
    throwsCode(() => issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, amr: list }), 'invalid_claim');
  }
  throwsCode(() => issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, amr: [] }), 'invalid_claim');
  for (const stepUp of [5, 'hwk', [], { maxAge: 60 }]) {
    throwsCode(() => validator.validate(token, NOW, stepUp), 'invalid_option');
  }
});
