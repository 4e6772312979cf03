// The re-auth rule of the page (www/proof.js) in Node: which proofs each action asks for with
// two-factor authentication on and off, the fields sent, and what is refused before sending.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  METHODS, MISSING_TEXT, buildProof, normalise, normaliseRecoveryCode, proofGroups, requirementText, stepUpPlan, stepUpText,
} from '../../www/proof.js';

test('any proof: one method, the second factors only with two-factor authentication on', () => {
  assert.deepEqual(proofGroups('any', false), [['password', 'email_code']]);
  assert.deepEqual(proofGroups('any', true), [['password', 'email_code', 'totp', 'recovery_code']]);
});

test('strong proof: password or emailed code, and with 2FA on also app code or recovery code', () => {
  assert.deepEqual(proofGroups('strong', false), [['password', 'email_code']]);
  assert.deepEqual(proofGroups('strong', true), [['password', 'email_code'], ['totp', 'recovery_code']]);
});

test('an unknown strength is a programming error', () => {
  assert.throws(() => proofGroups('weak', true), TypeError);
});

test('every method appears in at most one group, and every group offers the password or a code first', () => {
  for (const strength of ['any', 'strong']) {
    for (const totpOn of [false, true]) {
      const all = proofGroups(strength, totpOn).flat();
      assert.equal(all.length, new Set(all).size, `${strength}/${totpOn}`);
      for (const m of all) assert.ok(METHODS.includes(m));
      assert.equal(proofGroups(strength, totpOn)[0][0], 'password');
    }
  }
});

test('the requirement sentence names what is needed', () => {
  assert.match(requirementText('strong', true), /two things/);
  assert.match(requirementText('any', true), /recovery codes/);
  assert.doesNotMatch(requirementText('any', false), /authenticator|recovery/);
  assert.doesNotMatch(requirementText('strong', false), /authenticator|recovery/);
});

test('recovery codes are normalised to lowercase xxxxx-xxxxx', () => {
  assert.equal(normaliseRecoveryCode('ABCDE-FGH23'), 'abcde-fgh23');
  assert.equal(normaliseRecoveryCode(' abcde fgh23 '), 'abcde-fgh23');
  assert.equal(normaliseRecoveryCode('abcdefgh23'), 'abcde-fgh23');
  assert.equal(normaliseRecoveryCode('abcde-fgh2'), null, 'too short');
  assert.equal(normaliseRecoveryCode('abcde-fgh21'), null, '1 is not base32');
  assert.equal(normaliseRecoveryCode('abcde-fgh23x'), null, 'too long');
  assert.equal(normaliseRecoveryCode(undefined), null);
});

test('six-digit codes allow spaces; passwords are sent as typed', () => {
  assert.equal(normalise('totp', '123 456'), '123456');
  assert.equal(normalise('email_code', ' 654321'), '654321');
  assert.equal(normalise('totp', '12345'), null);
  assert.equal(normalise('email_code', '12345a'), null);
  assert.equal(normalise('password', '  spaced  '), '  spaced  ');
  assert.equal(normalise('password', ''), null);
  assert.throws(() => normalise('fingerprint', 'x'), TypeError);
});

test('buildProof sends exactly the chosen fields', () => {
  const strong = proofGroups('strong', true);
  assert.deepEqual(buildProof(strong, ['password', 'totp'], { password: 'pw', totp: '123456', recovery_code: 'ignored' }),
    { body: { password: 'pw', totp: '123456' } });
  assert.deepEqual(buildProof(strong, ['email_code', 'recovery_code'], { password: 'ignored', email_code: '111 222', recovery_code: 'ABCDEFGH23' }),
    { body: { email_code: '111222', recovery_code: 'abcde-fgh23' } });
  const any = proofGroups('any', true);
  assert.deepEqual(buildProof(any, ['recovery_code'], { recovery_code: 'abcde-fgh23' }), { body: { recovery_code: 'abcde-fgh23' } });
});

test('the password change names its password current_password', () => {
  assert.deepEqual(buildProof(proofGroups('any', false), ['password'], { password: 'pw' }, { passwordField: 'current_password' }),
    { body: { current_password: 'pw' } });
  // Other proofs keep their names.
  assert.deepEqual(buildProof(proofGroups('any', false), ['email_code'], { email_code: '123456' }, { passwordField: 'current_password' }),
    { body: { email_code: '123456' } });
});

test('buildProof names the first missing or malformed field and sends nothing', () => {
  const strong = proofGroups('strong', true);
  assert.deepEqual(buildProof(strong, ['password', 'totp'], { password: '', totp: '123456' }),
    { missing: 'password', text: MISSING_TEXT.password });
  assert.deepEqual(buildProof(strong, ['password', 'totp'], { password: 'pw', totp: '12' }),
    { missing: 'totp', text: MISSING_TEXT.totp });
  assert.deepEqual(buildProof(strong, ['password', 'recovery_code'], { password: 'pw', recovery_code: 'nope' }),
    { missing: 'recovery_code', text: MISSING_TEXT.recovery_code });
  assert.equal(buildProof(proofGroups('any', false), ['email_code'], {}).missing, 'email_code');
});

test('a method chosen outside its group is a programming error', () => {
  assert.throws(() => buildProof(proofGroups('any', false), ['totp'], { totp: '123456' }), TypeError);
  assert.throws(() => buildProof(proofGroups('strong', true), ['password', 'email_code'], { password: 'p', email_code: '123456' }), TypeError);
});

test('a step-up asks for a passkey alone when only a passkey gives the methods, two factors for mfa', () => {
  assert.deepEqual(stepUpPlan({ maxAge: 300, requiredAmr: ['hwk'] }), { passkeyOnly: true, strength: 'any' });
  assert.deepEqual(stepUpPlan({ requiredAmr: ['user'] }), { passkeyOnly: true, strength: 'any' });
  assert.deepEqual(stepUpPlan({ maxAge: 300, requiredAmr: [] }), { passkeyOnly: false, strength: 'any' });
  assert.deepEqual(stepUpPlan({ requiredAmr: ['mfa'] }), { passkeyOnly: false, strength: 'strong' });
  assert.deepEqual(stepUpPlan({ requiredAmr: ['pwd'] }), { passkeyOnly: false, strength: 'any' });
  assert.deepEqual(stepUpPlan(), { passkeyOnly: false, strength: 'any' });
});

test('a step-up says why it asks', () => {
  assert.equal(stepUpText({ maxAge: 300, requiredAmr: ['hwk'] }), 'This action needs a recent passkey confirmation.');
  assert.equal(stepUpText({ maxAge: 300, requiredAmr: [] }), 'This action needs you to have confirmed it is you in the last 5 minutes.');
  assert.equal(stepUpText({ maxAge: 90 }), 'This action needs you to have confirmed it is you in the last minute.');
  assert.equal(stepUpText({ maxAge: 30 }), 'This action needs you to have confirmed it is you in the last 30 seconds.');
  assert.equal(stepUpText({ maxAge: null, requiredAmr: ['mfa'] }), 'This action needs you to confirm it is you.');
});
