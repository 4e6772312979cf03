// Passkeys on the Manage-devices page in Chromium against a real `wrangler dev`, with a virtual
// WebAuthn authenticator (Chrome DevTools Protocol) in each browser context: adding a passkey
// after confirming with the password, renaming it, signing in with it on a fresh browser that has
// the same authenticator (no password typed), confirming "Sign out of all devices" with it, the
// step-up of the demo payment (a password session is refused, a passkey confirmation satisfies
// it and the request is sent again), the misuse a person can cause (a cancelled or unverified
// passkey prompt, a flooded options route), removing it, and the page at an IP address or in a
// browser without WebAuthn.
//
// The page is opened at http://localhost:<port>: a passkey needs a domain as its relying party id
// (the worker's default for a loopback PUBLIC_URL is localhost) and a secure context (localhost
// is one). The worker is told that origin with RP_ORIGINS. Steps run in order and share the account.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  FAST_ARGON2, call, cleanup, decodeJwt, freePort, makeSecrets, startWorker, waitFor,
} from '../e2e/helper.mjs';
import { device, launch, shot, stage, storedToken } from './browser.mjs';

const EMAIL = `passkeys-${Date.now()}@example.com`;
const PASSWORD = 'correct horse battery';
const PHONE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36';

/** A platform authenticator that holds discoverable credentials and verifies its user. */
const AUTHENTICATOR = {
  protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
  isUserVerified: true, automaticPresenceSimulation: true,
};

const secrets = makeSecrets();
const PORT = await freePort();
const BASE = `http://localhost:${PORT}`;
let w;
let browser;
/** Every browser context opened, checked for script errors and CSP violations. */
const opened = [];

before(async () => {
  stage();
  w = await startWorker({ secrets, port: PORT, vars: { ...FAST_ARGON2, RP_ORIGINS: BASE } });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

/** A new browser context on the page at `base`, with its own virtual authenticator. */
async function open({ base = BASE, authenticator = true, ...options } = {}) {
  const d = await device(browser, base, { viewport: { width: 1000, height: 900 }, ...options });
  opened.push(d);
  if (!authenticator) return d;
  d.cdp = await d.context.newCDPSession(d.page);
  await d.cdp.send('WebAuthn.enable');
  ({ authenticatorId: d.authenticatorId } = await d.cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR }));
  return d;
}

/** The credentials `d`'s authenticator holds (with their private keys and counters). */
async function credentialsOf(d) {
  return (await d.cdp.send('WebAuthn.getCredentials', { authenticatorId: d.authenticatorId })).credentials;
}

/**
 * Puts the credentials of `from`'s authenticator, as they are now, into `to`'s ("the same
 * authenticator" in another browser). The signature counter goes with them: the copy used last
 * is the one to copy from next, or the server sees the counter go back.
 */
async function copyPasskeys(from, to) {
  await to.cdp.send('WebAuthn.clearCredentials', { authenticatorId: to.authenticatorId });
  for (const credential of await credentialsOf(from)) {
    await to.cdp.send('WebAuthn.addCredential', { authenticatorId: to.authenticatorId, credential });
  }
}

/** Signs in (or up) with the email and password, as device `name`; waits for the account view. */
async function signInWithPassword(d, name, { create = false } = {}) {
  const { page } = d;
  await page.locator('#auth-form').getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Device name').fill(name);
  await page.getByRole('button', { name: create ? 'Create account' : 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Manage devices' }).waitFor();
  await page.locator('#active-devices li').first().waitFor();
}

const passkeysOf = async (token) => {
  const r = await call(w.base, 'GET', '/v1/passkeys', { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.passkeys;
};
const activeSessions = async (token) => (await call(w.base, 'GET', '/v1/sessions', { token })).body.sessions.filter((s) => s.status === 'active');
const noScriptProblems = (d) => assert.deepEqual(d.problems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp:')), []);

let A;
let B;

describe('Passkeys on the page', () => {
  test('a passkey is added after confirming with the password, listed with its name, and renamed', async () => {
    A = await open();
    await signInWithPassword(A, 'Desk A', { create: true });
    const section = A.page.locator('#passkeys-section');
    await section.getByText('You have no passkeys yet.').waitFor();
    assert.equal(await A.page.locator('#passkeys-unavailable').isVisible(), false);

    await A.page.getByRole('button', { name: 'Add a passkey' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Add a passkey' });
    await dialog.waitFor();
    // The name defaults to this device; no passkey to confirm with yet, so only the password or a code.
    assert.match(await dialog.getByLabel('Name of the passkey').inputValue(), /^Chrome on /);
    assert.equal(await dialog.getByRole('button', { name: 'Use a passkey' }).isVisible(), false);
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'reauth-password');

    // A wrong password: refused before any passkey is made.
    await dialog.getByLabel('Name of the passkey').fill('Desk key');
    await dialog.getByLabel('Your password').fill('not the password');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await dialog.getByText('That password or code is wrong. No passkey was added.').waitFor();
    assert.deepEqual(await credentialsOf(A), []);

    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await A.page.getByText('Passkey "Desk key" added.').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    const item = section.locator('li', { hasText: 'Desk key' });
    await item.waitFor();
    assert.match(await item.innerText(), /Added (now|\d+ seconds? ago) · never used/);
    assert.equal(await item.getByText('Synced').count(), 0, 'the virtual authenticator backs nothing up');

    // The authenticator holds one discoverable credential for localhost; the server lists it.
    const held = await credentialsOf(A);
    assert.equal(held.length, 1);
    assert.equal(held[0].rpId, 'localhost');
    assert.equal(held[0].isResidentCredential, true);
    const [listed] = await passkeysOf(await storedToken(A.page));
    assert.equal(listed.name, 'Desk key');
    assert.equal(listed.id, Buffer.from(held[0].credentialId, 'base64').toString('base64url'));
    assert.equal(listed.last_used_at, null);
    assert.ok(['ES256', 'EdDSA'].includes(listed.algorithm), listed.algorithm);
    await A.page.locator('#activity li', { hasText: 'Passkey added' }).first().waitFor();
    await shot(A.page, 'passkeys-added');

    // Rename: an empty name is refused on the page; a new one is saved.
    await item.getByRole('button', { name: 'Rename Desk key' }).click();
    const input = section.getByLabel('New name for Desk key');
    assert.equal(await A.page.evaluate(() => document.activeElement.id), await input.getAttribute('id'));
    await input.fill('   ');
    await section.getByRole('button', { name: 'Save' }).click();
    await section.getByText('Give the passkey a name of 1 to 64 characters.').waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    await input.fill('Laptop key');
    await section.getByRole('button', { name: 'Save' }).click();
    await A.page.getByText('The passkey is now called Laptop key.').waitFor();
    await section.locator('li', { hasText: 'Laptop key' }).waitFor();
    assert.equal(await A.page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Rename Laptop key');
    assert.deepEqual((await passkeysOf(await storedToken(A.page))).map((p) => p.name), ['Laptop key']);
    noScriptProblems(A);
  });

  test('a fresh browser with the same authenticator signs in with the passkey, no password typed', async () => {
    B = await open({ viewport: { width: 360, height: 780 }, userAgent: PHONE_UA, isMobile: true, hasTouch: true });
    await copyPasskeys(A, B);
    await B.page.getByLabel('Device name').fill('Passkey phone');
    await B.page.getByRole('button', { name: 'Use a passkey' }).click();
    await B.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    assert.equal(await B.page.locator('#auth-form').getByLabel('Email').inputValue(), '');
    assert.equal(await B.page.getByLabel('Password', { exact: true }).inputValue(), '');
    // The email is learnt from the account once inside.
    await B.page.getByText(`Signed in as ${EMAIL}`).waitFor();
    await B.page.locator('#active-devices li.current', { hasText: 'Passkey phone' }).waitFor();
    assert.equal(await B.page.locator('#active-devices li.current svg use').getAttribute('href'), '#icon-phone');

    // The token says how this session signed in.
    const { payload } = decodeJwt(await storedToken(B.page));
    assert.deepEqual(payload.amr, ['hwk', 'user', 'mfa']);
    assert.ok(Math.abs(payload.auth_time - Date.now() / 1000) < 120, 'auth_time is now');

    // A sees the new device, and that the passkey was used.
    await A.page.reload();
    await A.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    await waitFor('B in A\'s device list', async () => (await A.page.locator('#active-devices .device-name').allInnerTexts()).includes('Passkey phone'), 10000);
    assert.match(await A.page.locator('#passkeys-list li', { hasText: 'Laptop key' }).innerText(), /last used/);
    assert.ok(await B.page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling at 360 px');
    await shot(B.page, 'passkey-signed-in-phone');
    noScriptProblems(B);
  });

  test('the passkey confirms "Sign out of all devices": the other device is signed out', async () => {
    const before = await storedToken(B.page);
    await B.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    const dialog = B.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    await dialog.waitFor();
    // The password stays on offer; the passkey is the other way.
    assert.equal(await dialog.getByLabel('Your password').isVisible(), true);
    await dialog.getByLabel('Keep me signed in on this device').check();
    await shot(B.page, 'sign-out-all-with-passkey', { fullPage: false });
    await dialog.getByRole('button', { name: 'Use a passkey' }).click();
    await B.page.getByText('Signed out of all other devices.').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    await A.page.getByText('Your account was signed out of all devices from another device').waitFor({ timeout: 15000 });
    assert.equal(await A.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);

    // B kept its session with a new token that carries the passkey confirmation.
    const after = await storedToken(B.page);
    assert.notEqual(after, before);
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: after })).status, 200);
    assert.ok(decodeJwt(after).payload.amr.includes('hwk'));
    assert.deepEqual((await activeSessions(after)).map((s) => s.name), ['Passkey phone']);
    noScriptProblems(A);
    noScriptProblems(B);
  });

  test('a payment needs a recent passkey confirmation: asked for in the dialog, then sent again', async () => {
    await signInWithPassword(A, 'Desk A');
    // B used the passkey last: A takes the newest copy of it.
    await copyPasskeys(B, A);
    const token = await storedToken(A.page);
    assert.deepEqual(decodeJwt(token).payload.amr, ['pwd']);

    // The edge refuses a password session, saying what it needs.
    const refused = await call(w.base, 'POST', '/app/payments', { token, body: { amount: 1 } });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'insufficient_user_authentication');
    assert.deepEqual(refused.body.required_amr, ['hwk']);
    assert.match(refused.headers.get('www-authenticate'), /error="insufficient_user_authentication"/);

    // Cancelled: nothing paid, said in words.
    const pay = A.page.getByRole('button', { name: 'Make a test payment' });
    await pay.click();
    const dialog = A.page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.getByText('This action needs a recent passkey confirmation.').waitFor();
    // Only a passkey can do: no password field, no Continue.
    assert.equal(await dialog.getByLabel('Your password').count(), 0);
    assert.equal(await dialog.getByRole('button', { name: 'Continue' }).isVisible(), false);
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'reauth-passkey-button');
    await shot(A.page, 'payment-step-up', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await A.page.getByText('The test payment was not made. This action needs a recent passkey confirmation, and none was given. Nothing was done.').waitFor();
    assert.equal(await storedToken(A.page), token);

    await pay.click();
    await dialog.getByRole('button', { name: 'Use a passkey' }).click();
    await A.page.getByText('The test payment was accepted.').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    const answer = JSON.parse(await A.page.locator('#payment-answer').innerText());
    assert.equal(answer.echo, true);
    assert.equal(answer.path, '/app/payments');
    assert.equal(answer.method, 'POST');

    // The same session, re-minted with the passkey confirmation; the old token is not signed out.
    const fresh = await storedToken(A.page);
    assert.notEqual(fresh, token);
    assert.equal(decodeJwt(fresh).payload.sid, decodeJwt(token).payload.sid);
    assert.ok(decodeJwt(fresh).payload.amr.includes('hwk'));
    assert.equal((await call(w.base, 'GET', '/v1/me', { token })).status, 200);
    assert.equal((await call(w.base, 'POST', '/app/payments', { token: fresh, body: {} })).status, 200);

    // Within the rule's 5 minutes a second payment asks nothing.
    await A.page.locator('#status').evaluate((e) => { e.textContent = ''; });
    await pay.click();
    await A.page.getByText('The test payment was accepted.').waitFor();
    assert.equal(await dialog.isVisible(), false);
    await shot(A.page, 'payment-accepted');
    noScriptProblems(A);
  });

  test('a cancelled or unverified passkey prompt is explained and changes nothing', async () => {
    const token = await storedToken(A.page);
    const sessionsBefore = (await activeSessions(token)).length;

    // In the dialog: the authenticator cannot verify its user.
    await A.cdp.send('WebAuthn.setUserVerified', { authenticatorId: A.authenticatorId, isUserVerified: false });
    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    await dialog.getByRole('button', { name: 'Use a passkey' }).click();
    await dialog.getByText(/^The passkey was not used: .* No device was signed out\.$/).waitFor();
    assert.equal(await dialog.isVisible(), true);
    await shot(A.page, 'passkey-not-verified', { fullPage: false });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await A.cdp.send('WebAuthn.setUserVerified', { authenticatorId: A.authenticatorId, isUserVerified: true });
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: await storedToken(B.page) })).status, 200, 'B is still signed in');

    // At sign-in: an authenticator with no passkey for this site.
    const E = await open();
    await E.page.getByLabel('Device name').fill('Empty authenticator');
    await E.page.getByRole('button', { name: 'Use a passkey' }).click();
    await E.page.locator('#auth-error').getByText(/^The passkey was not used: .* You are not signed in\.$/).waitFor();
    assert.equal(await storedToken(E.page), null);
    assert.equal(await E.page.getByRole('heading', { name: 'Sign in' }).isVisible(), true);
    assert.equal((await activeSessions(token)).length, sessionsBefore);
    noScriptProblems(E);
    noScriptProblems(A);
  });

  test('a flood of sign-in options changes nothing: the owner still signs in with the passkey', async () => {
    const token = await storedToken(A.page);
    const sessionsBefore = (await activeSessions(token)).length;
    const activityBefore = (await call(w.base, 'GET', '/v1/activity', { token })).body.events.length;
    // Options are stateless (an authenticated challenge, stored nowhere): each asker gets its own.
    const challenges = new Set();
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 40 }, () => call(w.base, 'POST', '/v1/login/passkey-options', { body: {} })));
      for (const r of answers) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        challenges.add(r.body.publicKey.challenge);
      }
    }
    assert.equal(challenges.size, 200);
    assert.equal((await activeSessions(token)).length, sessionsBefore);
    assert.equal((await call(w.base, 'GET', '/v1/activity', { token })).body.events.length, activityBefore);

    // A browser that asked for options and gave up on the prompt: said in words, nothing signed in.
    const H = await open();
    await copyPasskeys(A, H);
    await H.cdp.send('WebAuthn.setUserVerified', { authenticatorId: H.authenticatorId, isUserVerified: false });
    await H.page.getByLabel('Device name').fill('After the flood');
    await H.page.getByRole('button', { name: 'Use a passkey' }).click();
    await H.page.locator('#auth-error').getByText(/^The passkey was not used: .* You are not signed in\.$/).waitFor();
    assert.equal(await storedToken(H.page), null);
    // Then it signs in as usual.
    await H.cdp.send('WebAuthn.setUserVerified', { authenticatorId: H.authenticatorId, isUserVerified: true });
    await H.page.getByRole('button', { name: 'Use a passkey' }).click();
    await H.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    assert.equal(await H.page.locator('#auth-error').innerText(), '');
    assert.equal((await activeSessions(token)).length, sessionsBefore + 1);
    // H used the passkey last: A takes its copy back.
    await copyPasskeys(H, A);
    noScriptProblems(H);
  });

  test('a removed passkey no longer signs in, and the page says why', async () => {
    const section = A.page.locator('#passkeys-section');
    await section.getByRole('button', { name: 'Remove Laptop key' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Remove the passkey "Laptop key"?' });
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Remove passkey' }).click();
    await A.page.getByText('Passkey "Laptop key" removed.').waitFor();
    await section.getByText('You have no passkeys yet.').waitFor();
    assert.equal(await section.locator('#passkeys-list li').count(), 0);
    assert.deepEqual(await passkeysOf(await storedToken(A.page)), []);
    await A.page.locator('#activity li', { hasText: 'Passkey removed' }).first().waitFor();
    // B, signed in elsewhere, is told and its list follows.
    await B.page.getByText('A passkey was removed from your account from another device.').waitFor({ timeout: 15000 });
    await B.page.locator('#passkeys-section').getByText('You have no passkeys yet.').waitFor();

    // The authenticator still holds it; the server no longer knows it.
    const G = await open();
    await copyPasskeys(A, G);
    assert.equal((await credentialsOf(G)).length, 1);
    await G.page.getByLabel('Device name').fill('After removal');
    await G.page.getByRole('button', { name: 'Use a passkey' }).click();
    await G.page.getByText('That passkey was not accepted: it may have been removed from your account. Sign in with your email and password instead.').waitFor();
    assert.equal(await storedToken(G.page), null);
    assert.equal((await activeSessions(await storedToken(A.page))).some((s) => s.name === 'After removal'), false);
    await shot(G.page, 'passkey-removed-sign-in');
    noScriptProblems(G);
  });

  test('at an IP address the passkey controls are disabled with a link to localhost; without WebAuthn they are hidden', async () => {
    const ip = await open({ base: w.base, authenticator: false });
    const button = ip.page.getByRole('button', { name: 'Use a passkey' });
    assert.equal(await button.isDisabled(), true);
    const link = ip.page.locator('#auth-passkey-hint a');
    assert.equal(await link.getAttribute('href'), `http://localhost:${PORT}/`);
    assert.match(await ip.page.locator('#auth-passkey-hint').innerText(), /do not work at an IP address/);
    await signInWithPassword(ip, 'At the IP address');
    assert.equal(await ip.page.getByRole('button', { name: 'Add a passkey' }).isDisabled(), true);
    assert.equal(await ip.page.locator('#passkeys-unavailable a').getAttribute('href'), `http://localhost:${PORT}/`);
    await shot(ip.page, 'passkeys-at-ip-address');

    const old = await open({ authenticator: false });
    await old.context.addInitScript(() => { delete window.PublicKeyCredential; });
    await old.page.reload();
    await old.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // In the page, not shown: no control that could only fail.
    assert.equal(await old.page.locator('#auth-passkey-button').count(), 1);
    assert.equal(await old.page.getByRole('button', { name: 'Use a passkey' }).count(), 0);
    await signInWithPassword(old, 'No WebAuthn');
    assert.equal(await old.page.locator('#passkeys-section').count(), 1);
    assert.equal(await old.page.locator('#passkeys-section').isVisible(), false);
    assert.equal(await old.page.locator('#payments-section').isVisible(), true);
    noScriptProblems(ip);
    noScriptProblems(old);
  });

  test('no script errors and no Content-Security-Policy violations in any browser', () => {
    for (const d of opened) noScriptProblems(d);
  });
});
