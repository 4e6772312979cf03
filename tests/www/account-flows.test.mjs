// The pure parts of the account-security features of the page in Node: the secure-account link
// (read once, then removed from the address), the reset messages, recovery-code texts, the
// security-events filter, the events URL with a ticket, the session's email, and the passkey
// names and messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_LABEL, SECURITY_KINDS, elsewhereText, securityEvents } from '../../www/activity.js';
import { ApiError } from '../../www/api.js';
import { passkeySignInText } from '../../www/auth.js';
import { eventsUrl } from '../../www/live.js';
import { NAME_MAX, passkeyName, unavailableText } from '../../www/passkeys.js';
import { PasskeyError } from '../../www/webauthn.js';
import { codesText, remainingText } from '../../www/recovery.js';
import { secureAccountToken, signedOutText, takeSecureToken } from '../../www/reset.js';
import { Session, createTokenStore } from '../../www/session.js';

test('secureAccountToken reads the fragment of a mailed link', () => {
  assert.equal(secureAccountToken('#secure-account=abc.DEF_123~-x'), 'abc.DEF_123~-x');
  assert.equal(secureAccountToken('#secure-account='), '', 'a link without its token');
  assert.equal(secureAccountToken('#secure-account=a<b'), '', 'characters a token never has');
  assert.equal(secureAccountToken('#secure-account=a&x=1'), '');
  assert.equal(secureAccountToken(''), null);
  assert.equal(secureAccountToken('#main'), null);
  assert.equal(secureAccountToken(undefined), null);
});

test('takeSecureToken removes the token from the address at once, keeping path and query', () => {
  const calls = [];
  const hist = { state: { kept: 1 }, replaceState: (...args) => calls.push(args) };
  const token = takeSecureToken({ hash: '#secure-account=tok-1', pathname: '/', search: '?x=1' }, hist);
  assert.equal(token, 'tok-1');
  assert.deepEqual(calls, [[{ kept: 1 }, '', '/?x=1']]);

  // A malformed link is removed too; no link touches nothing.
  assert.equal(takeSecureToken({ hash: '#secure-account=%3C', pathname: '/', search: '' }, hist), '');
  assert.equal(calls.length, 2);
  assert.equal(takeSecureToken({ hash: '#main', pathname: '/', search: '' }, hist), null);
  assert.equal(calls.length, 2);
});

test('signedOutText counts the devices signed out', () => {
  assert.equal(signedOutText(3), 'All 3 devices signed in to your account were signed out.');
  assert.equal(signedOutText(1), 'The one device signed in to your account was signed out.');
  assert.equal(signedOutText(0), 'No device was signed in.');
  assert.equal(signedOutText(undefined), 'Every device signed in to your account was signed out.');
});

test('the recovery codes file says what they are and lists each code on its own line', () => {
  const codes = ['aaaaa-bbbbb', 'ccccc-ddddd'];
  const text = codesText(codes, { email: 'a@example.com', at: new Date(Date.UTC(2026, 11, 2, 1, 30)) });
  const lines = text.split('\n');
  assert.equal(lines[0], 'epochgate recovery codes for a@example.com');
  assert.match(lines[1], /^Created 2026-12-02 01:30 UTC\./);
  assert.deepEqual(lines.slice(4, 6), codes);
  assert.ok(text.endsWith('\n'));
});

test('remainingText follows the account', () => {
  assert.match(remainingText({ totp_enabled: false, recovery_codes_remaining: 0 }), /Turn on two-factor/);
  assert.doesNotMatch(remainingText(null), /Turn on|You have/, 'nothing claimed before the account is loaded');
  assert.equal(remainingText({ totp_enabled: true, recovery_codes_remaining: 7 }), 'You have 7 unused recovery codes.');
  assert.equal(remainingText({ totp_enabled: true, recovery_codes_remaining: 1 }), 'You have 1 unused recovery code.');
  assert.match(remainingText({ totp_enabled: true, recovery_codes_remaining: 0 }), /no unused recovery codes/);
});

test('every security kind has a label; securityEvents keeps the newest few of them', () => {
  for (const kind of SECURITY_KINDS) assert.ok(EVENT_LABEL[kind], kind);
  const events = [
    { type: 'sign_in', at: 9 },
    { type: 'password_changed', at: 8 },
    { type: 'sign_in_new_device', at: 7 },
    { type: 'reauth_failed', at: 6 },
    { type: 'totp_enabled', at: 5 },
    { type: 'recovery_codes_generated', at: 4 },
    { type: 'recovery_code_used', at: 3 },
    { type: 'email_changed', at: 2 },
    { type: 'account_secured', at: 1 },
  ];
  assert.deepEqual(securityEvents(events).map((e) => e.at), [8, 7, 5, 4, 3]);
  assert.deepEqual(securityEvents(events, 2).map((e) => e.type), ['password_changed', 'sign_in_new_device']);
  assert.deepEqual(securityEvents(undefined), []);
});

test('the events URL carries a ticket, never a token, on the page\'s origin', () => {
  assert.equal(eventsUrl('https://example.com/#x', 't/1').href, 'wss://example.com/v1/events?ticket=t%2F1');
  const local = eventsUrl('http://127.0.0.1:8787/', 'abc');
  assert.equal(local.href, 'ws://127.0.0.1:8787/v1/events?ticket=abc');
  assert.equal(local.searchParams.has('access_token'), false);
});

test('the session records the account\'s email and two-factor state once signed in', () => {
  const data = new Map();
  const store = createTokenStore({ getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v), removeItem: (k) => data.delete(k) });
  const session = new Session({ store });
  assert.equal(session.setEmail('a@example.com'), false, 'no session yet');
  session.signIn('t1', { email: 'old@example.com' });
  assert.equal(session.totp, false, 'not learnt from the sign-in');
  assert.equal(session.setEmail('new@example.com'), true);
  assert.equal(session.setEmail(''), false);
  assert.equal(session.setTotp(true), true);
  assert.deepEqual(JSON.parse(data.get('epochgate.session')), { token: 't1', email: 'new@example.com', totp: true });
});

test('changes made from another device are explained; two-factor changes are left to totp.js', () => {
  assert.match(elsewhereText('email_changed'), /from another device\. If that was not you, change your password\.$/);
  assert.match(elsewhereText('recovery_code_used'), /on another device/);
  assert.equal(elsewhereText('totp_enabled'), null);
  assert.equal(elsewhereText('toString'), null);
});

test('passkey names are trimmed, 1 to 64 characters', () => {
  assert.equal(passkeyName('  Work laptop  '), 'Work laptop');
  assert.equal(passkeyName(''), null);
  assert.equal(passkeyName('   '), null);
  assert.equal(passkeyName(undefined), null);
  assert.equal(passkeyName('x'.repeat(NAME_MAX)), 'x'.repeat(NAME_MAX));
  assert.equal(passkeyName('x'.repeat(NAME_MAX + 1)), null);
  // Characters, not UTF-16 units: 64 emoji are a name.
  assert.equal(passkeyName('🔑'.repeat(NAME_MAX)), '🔑'.repeat(NAME_MAX));
});

test('why passkeys are not offered, in words', () => {
  assert.equal(unavailableText({ state: 'ok' }), '');
  assert.match(unavailableText({ state: 'unsupported' }), /browser cannot use passkeys/);
  assert.match(unavailableText({ state: 'ip_host', localUrl: 'http://localhost:8787/' }), /IP address.*localhost/);
  assert.match(unavailableText({ state: 'ip_host' }), /domain name/);
  assert.match(unavailableText({ state: 'insecure' }), /secure \(https\)/);
});

test('a failed passkey sign-in says why, never only a code', () => {
  assert.match(passkeySignInText(new ApiError(401, 'invalid_credentials', 'invalid credentials')), /not accepted: it may have been removed/);
  assert.match(passkeySignInText(new ApiError(400, 'invalid_challenge', 'x')), /took too long/);
  assert.match(passkeySignInText(Object.assign(new ApiError(429, 'rate_limited', 'x'), { retryAfter: 30 })), /^Too many passkey sign-ins were tried\. Try again in 30 seconds/);
  assert.match(passkeySignInText(new PasskeyError('cancelled')), /^The passkey was not used.* You are not signed in\.$/);
  assert.equal(passkeySignInText(new ApiError(0, 'network', '')), 'You are not signed in. Could not reach the server. Check your connection and try again.');
});

test('passkey changes made elsewhere are explained; every passkey kind is a security event', () => {
  for (const kind of ['passkey_added', 'passkey_removed', 'passkey_counter_regressed']) {
    assert.ok(SECURITY_KINDS.includes(kind), kind);
    assert.ok(EVENT_LABEL[kind], kind);
  }
  assert.match(elsewhereText('passkey_added'), /^A passkey was added to your account from another device\./);
  assert.match(elsewhereText('passkey_removed'), /removed/);
});
