// The Manage-devices page in Chromium against a real `wrangler dev`: devices A (desktop), B (a
// phone-sized window) and C (a TV) on one account. Steps run in order and share the account.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  FAST_ARGON2, call, cleanup, currentStep, makeSecrets, startWorker, totpAt, waitFor,
} from '../e2e/helper.mjs';
import { device, launch, shot, stage, storedToken } from './browser.mjs';

const EMAIL = `page-${Date.now()}@example.com`;
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'staple battery horse';
const PHONE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36';
const TV_UA = 'Mozilla/5.0 (Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/5.0 Chrome/120.0.0.0 TV Safari/537.36';

const secrets = makeSecrets();
let w;
let browser;
let A;
let B;
let C;
let password = PASSWORD;

before(async () => {
  stage();
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

/** Fills the sign-in form; `create` signs up first. Waits for the device list. */
async function signIn(dev, { name, type, create = false, totp } = {}) {
  const { page } = dev;
  await page.locator('#auth-form').getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(password);
  if (name) await page.getByLabel('Device name').fill(name);
  if (type) await page.getByLabel('Device type').selectOption(type);
  if (totp) {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#auth-form').getByLabel('Two-factor code').fill(totp());
  }
  await page.getByRole('button', { name: create ? 'Create account' : 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Manage devices' }).waitFor();
  await page.locator('#active-devices li').first().waitFor();
}

const activeNames = (page) => page.locator('#active-devices .device-name').allInnerTexts();
const inactiveNames = (page) => page.locator('#inactive-devices .device-name').allInnerTexts();

describe('Manage devices page', () => {
  test('sign up on A and sign in on B; device names and types are prefilled from the browser', async () => {
    A = await device(browser, w.base, { viewport: { width: 1100, height: 900 } });
    B = await device(browser, w.base, { viewport: { width: 360, height: 780 }, userAgent: PHONE_UA, isMobile: true, hasTouch: true });

    // Prefill: a readable name and the type guessed from the user agent.
    await A.page.getByLabel('Device name').waitFor();
    assert.match(await A.page.getByLabel('Device name').inputValue(), /^Chrome on /);
    assert.equal(await A.page.getByLabel('Device type').inputValue(), 'desktop');
    assert.equal(await B.page.getByLabel('Device type').inputValue(), 'phone');
    assert.match(await B.page.getByLabel('Device name').inputValue(), /^Chrome on /);

    await signIn(A, { name: 'Work laptop <b>A</b>', create: true });
    await signIn(B, { name: 'Pixel B' });
    await A.page.reload();
    await A.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    await waitFor('both devices on A', async () => (await activeNames(A.page)).length === 2, 10000);

    const current = A.page.locator('#active-devices li.current');
    // The name is rendered as text: the markup in it shows literally and creates no element.
    assert.match(await current.innerText(), /Work laptop <b>A<\/b>\s+This device/);
    assert.equal(await A.page.locator('#active-devices b').count(), 0);
    const other = A.page.locator('#active-devices li', { hasText: 'Pixel B' });
    assert.match(await other.innerText(), /Phone/);
    assert.match(await other.innerText(), /Last active (now|\d+ seconds? ago)/);
    assert.match(await other.innerText(), /IP /);
    assert.equal(await other.locator('svg use').getAttribute('href'), '#icon-phone');
    assert.match(await B.page.locator('#active-devices li.current').innerText(), /Pixel B\s+This device/);

    // The inspector checked A's own token in the browser.
    assert.equal(await A.page.locator('#inspector-verdict').innerText(), 'valid');
    assert.match(await A.page.locator('#inspector-claims').innerText(), /"sid"/);
    assert.match(await A.page.locator('#inspector-state').innerText(), /sequence \d+/);

    // Readable at 360 px: nothing wider than the phone's viewport.
    assert.ok(await B.page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling at 360 px');
    await shot(A.page, 'device-list');
    await shot(B.page, 'device-list-phone-360');
  });

  test('sign out of all devices with a wrong password shows the error and changes nothing', async () => {
    const tokenA = await storedToken(A.page);
    const tokenB = await storedToken(B.page);
    // Keyboard only: focus the button, Enter opens the dialog with focus in the password field.
    const opener = A.page.getByRole('button', { name: 'Sign out of all devices' });
    await opener.focus();
    await A.page.keyboard.press('Enter');
    const dialog = A.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    await dialog.waitFor();
    const text = await dialog.innerText();
    assert.match(text, /including\s+TVs, phones/);
    assert.match(text, /must sign in again/);
    assert.match(text, /profiles, settings and history are kept/);
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'reauth-password');
    await shot(A.page, 'sign-out-all-dialog', { fullPage: false });

    // Two-factor authentication is off: the password or an emailed code, no second factor offered.
    assert.equal(await dialog.getByLabel('Two-factor code').count(), 0);
    assert.equal(await dialog.getByRole('button', { name: 'Use a recovery code instead' }).count(), 0);
    assert.equal(await dialog.getByRole('button', { name: 'Email me a code instead' }).isVisible(), true);
    // Nothing entered: said before anything is sent.
    await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
    await dialog.getByText('Enter your password.').waitFor();
    assert.equal(await dialog.getByLabel('Your password').getAttribute('aria-invalid'), 'true');

    await dialog.getByLabel('Your password').fill('not the password');
    await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
    await dialog.getByText('That password or code is wrong. No device was signed out.').waitFor();
    assert.equal(await dialog.getByLabel('Your password').getAttribute('aria-invalid'), 'true');
    await shot(A.page, 'sign-out-all-wrong-password', { fullPage: false });

    // Escape closes it and focus returns to the button that opened it.
    await A.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'sign-out-all-button');
    assert.equal(await A.page.locator('#sign-out-all-button').evaluate((b) => getComputedStyle(b).outlineStyle), 'solid');

    // Nothing changed: both tokens still pass the edge, both devices still listed as active.
    for (const token of [tokenA, tokenB]) assert.equal((await call(w.base, 'GET', '/v1/me', { token })).status, 200);
    const { body } = await call(w.base, 'GET', '/v1/sessions', { token: tokenA });
    assert.deepEqual(body.sessions.map((s) => s.status), ['active', 'active']);
    await A.page.reload();
    await waitFor('two active devices', async () => (await activeNames(A.page)).length === 2, 10000);
    assert.equal(await B.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), true);
  });

  let oldTokenB;
  test('A signs out B from the device list and B leaves the account view by itself within 2 s', async () => {
    oldTokenB = await storedToken(B.page);
    const t0 = Date.now();
    await A.page.getByRole('button', { name: 'Sign out Pixel B' }).click();
    await B.page.getByText('This device was signed out from another device. Sign in again to continue.').waitFor({ timeout: 15000 });
    const elapsed = Date.now() - t0;
    console.log(`B left the account view ${elapsed} ms after A clicked Sign out`);
    assert.ok(elapsed <= 2000, `B took ${elapsed} ms`);
    assert.equal(await B.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    assert.equal(await storedToken(B.page), null);
    assert.equal(await B.page.getByRole('heading', { name: "You're signed out" }).isVisible(), true);
    // The inspector on B now judges B's last token on the newest revocation state.
    await waitFor('B inspector verdict', async () => (await B.page.locator('#inspector-verdict').innerText()) === 'revoked_device', 10000);
    await shot(B.page, 'signed-out-phone');

    await A.page.getByText('Pixel B was signed out.').waitFor();
    assert.deepEqual(await inactiveNames(A.page), ['Pixel B']);
    assert.equal((await activeNames(A.page)).length, 1);
    await shot(A.page, 'device-list-after-sign-out');
  });

  test('the inspector shows revoked_device for a stored old token, checked in the browser', async () => {
    // A pasted token: judged by the wasm validator with the pulled revocation updates.
    await A.page.getByLabel('Inspect another token').fill(oldTokenB);
    await A.page.getByRole('button', { name: 'Inspect', exact: true }).click();
    await waitFor('the verdict', async () => (await A.page.locator('#inspector-verdict').innerText()) === 'revoked_device', 10000);
    assert.match(await A.page.locator('#inspector-claims').innerText(), /"dev": \d+/);

    // The old token put back into B's storage: the page refuses it before rendering anything.
    await B.page.evaluate((token) => sessionStorage.setItem('epochgate.session', JSON.stringify({ token, email: 'x@example.com' })), oldTokenB);
    await B.page.reload();
    await B.page.getByText('This device was signed out (revoked_device, checked in this browser). Sign in again to continue.').waitFor();
    assert.equal(await B.page.locator('#inspector-verdict').innerText(), 'revoked_device');
    assert.equal(await B.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    await shot(B.page, 'inspector-revoked-device');
  });

  test('sign out of all devices with the right password and "keep me signed in": only A stays', async () => {
    await signIn(B, { name: 'Pixel B' });
    C = await device(browser, w.base, { viewport: { width: 960, height: 540 }, userAgent: TV_UA });
    assert.equal(await C.page.getByLabel('Device type').inputValue(), 'tv');
    await signIn(C, { name: 'Living room TV' });
    await A.page.reload();
    await waitFor('three active devices', async () => (await activeNames(A.page)).length === 3, 10000);
    assert.equal(await A.page.locator('#active-devices li', { hasText: 'Living room TV' }).locator('svg use').getAttribute('href'), '#icon-tv');
    const oldA = await storedToken(A.page);

    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    await dialog.getByLabel('Your password').fill(password);
    await dialog.getByLabel('Keep me signed in on this device').check();
    await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
    await A.page.getByText('Signed out of all other devices.').waitFor();
    await dialog.waitFor({ state: 'hidden' });

    for (const other of [B, C]) {
      await other.page.getByText('Your account was signed out of all devices from another device').waitFor({ timeout: 15000 });
      assert.equal(await other.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    }
    await waitFor('only A active', async () => (await activeNames(A.page)).length === 1, 10000);
    assert.match(await A.page.locator('#active-devices li').innerText(), /This device/);
    assert.equal((await inactiveNames(A.page)).length, 3);

    // A carries a fresh token; the old one is refused at the edge as revoked_all.
    const newA = await storedToken(A.page);
    assert.notEqual(newA, oldA);
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: newA })).status, 200);
    const refused = await waitFor('old A token refused', async () => {
      const r = await call(w.base, 'GET', '/v1/me', { token: oldA });
      return r.status === 401 ? r : null;
    });
    assert.equal(refused.body.error, 'revoked_all');
    await shot(A.page, 'after-sign-out-all');
    await shot(C.page, 'signed-out-tv');
  });

  test('password change keeps A, signs out B, and B must use the new password', async () => {
    // Signed out, B offers the name and type it used last.
    assert.equal(await B.page.getByLabel('Device name').inputValue(), 'Pixel B');
    assert.equal(await B.page.getByLabel('Device type').inputValue(), 'phone');
    await signIn(B);
    await A.page.getByText('Changing your password signs out every other device').waitFor();
    const form = A.page.locator('#password-form');
    await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await form.getByLabel('New password again').fill(NEW_PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    // Then the proof, in the re-auth dialog: the current password by default.
    const dialog = A.page.getByRole('dialog', { name: 'Change your password?' });
    await dialog.getByLabel('Your password').fill('wrong current password');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByText('That password or code is wrong. Your password was not changed.').waitFor();
    assert.equal(await B.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), true);

    await dialog.getByLabel('Your password').fill(password);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await A.page.getByText('Password changed. Every other device was signed out').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    await B.page.getByText('Your account was signed out of all devices from another device, or its password was changed or reset.').waitFor({ timeout: 15000 });
    assert.equal(await A.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), true);
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: await storedToken(A.page) })).status, 200);

    // The old password no longer signs in; the new one does.
    await B.page.locator('#auth-form').getByLabel('Email').fill(EMAIL);
    await B.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await B.page.getByRole('button', { name: 'Sign in' }).click();
    await B.page.getByText('Wrong email, password or code.').waitFor();
    password = NEW_PASSWORD;
    await signIn(B, { name: 'Pixel B' });
    await A.page.getByRole('button', { name: 'Refresh' }).click();
    await A.page.locator('#activity li', { hasText: 'Password changed' }).first().waitFor();
  });

  test('a server out of reach at load keeps the session and retries', async () => {
    await B.page.route('**/v1/me', (route) => route.abort('internetdisconnected'));
    await B.page.reload();
    await B.page.getByText('Your session could not be checked. Could not reach the server. Trying again in a few seconds').waitFor();
    assert.equal(await B.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    assert.equal(await B.page.getByRole('heading', { name: 'Sign in' }).isVisible(), false);
    assert.ok(await storedToken(B.page));
    await B.page.unroute('**/v1/me');
    await B.page.getByRole('heading', { name: 'Manage devices' }).waitFor({ timeout: 15000 });
    assert.equal(await B.page.locator('#page-error').innerText(), '');
  });

  test('an API 401 leaves the account view with its reason (WebSocket pushes blocked)', async () => {
    const E = await device(browser, w.base);
    // Hold /v1/events in the browser so that no push arrives: only the API answer can tell.
    await E.page.routeWebSocket(/\/v1\/events/, () => {});
    await signIn(E, { name: 'Quiet browser' });
    // Nor may the page learn it from the revocation updates: the answer of /v1/activity must.
    await E.page.route('**/v1/revocations*', (route) => route.abort('internetdisconnected'));
    const session = await E.page.locator('#active-devices li.current').getAttribute('data-session');
    await A.page.reload();
    await A.page.getByRole('button', { name: 'Sign out Quiet browser' }).click();
    await A.page.getByText('Quiet browser was signed out.').waitFor();
    assert.ok(session);
    await E.page.getByRole('button', { name: 'Refresh' }).click();
    await E.page.getByText('This device was signed out (revoked_device). Sign in again to continue.').waitFor({ timeout: 15000 });
    assert.equal(await E.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    await E.context.close();
  });

  let secret;
  test('two-factor enrolment shows the setup link as text and as a QR code, then confirms a code', async () => {
    await A.page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    // The password first: a session alone cannot turn two-factor authentication on.
    const reauth = A.page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    await reauth.waitFor();
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'reauth-password');
    await reauth.getByLabel('Your password').fill('not the password');
    await reauth.getByRole('button', { name: 'Continue' }).click();
    await reauth.getByText('That password or code is wrong. Two-factor authentication was not set up.').waitFor();
    assert.equal(await reauth.getByLabel('Your password').getAttribute('aria-invalid'), 'true');
    assert.equal(await A.page.locator('#totp-setup').isVisible(), false);
    await reauth.getByLabel('Your password').fill(password);
    await reauth.getByRole('button', { name: 'Continue' }).click();
    await A.page.getByText('Scan this code with your authenticator app').waitFor();
    assert.equal(await reauth.isVisible(), false);
    const uri = await A.page.getByRole('textbox', { name: 'Setup link' }).inputValue();
    assert.match(uri, /^otpauth:\/\/totp\/.+secret=[A-Z2-7]+/);
    secret = new URL(uri).searchParams.get('secret');
    const qr = A.page.getByRole('img', { name: 'QR code of the setup link' });
    await qr.waitFor();
    assert.ok((await qr.locator('path').getAttribute('d')).length > 1000, 'the QR path draws modules');
    await shot(A.page, 'totp-setup', { fullPage: false, clip: await A.page.locator('#totp-setup').boundingBox() });

    await A.page.getByLabel('Code from the app').fill('000000' === totpAt(secret, currentStep()) ? '111111' : '000000');
    await A.page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await A.page.getByText('That code does not match.').waitFor();
    await A.page.getByLabel('Code from the app').fill(totpAt(secret, currentStep()));
    await A.page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await A.page.getByText('Two-factor authentication is on: signing in asks for a code').waitFor();
    // B, signed in elsewhere, is told at once and stays signed in; its activity list shows it.
    await B.page.getByText('Two-factor authentication was turned on from another device.').waitFor({ timeout: 15000 });
    await B.page.locator('#activity li', { hasText: 'Two-factor authentication turned on' }).first().waitFor();
    assert.equal(await B.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), true);
    await B.page.getByText('Two-factor authentication is on: signing in asks for a code').waitFor();

    // Turning it off asks for the password and a current code (checked before anything is sent).
    await A.page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    const off = A.page.getByRole('dialog', { name: 'Turn off two-factor authentication?' });
    await off.waitFor();
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'reauth-password');
    await off.getByLabel('Your password').fill(password);
    await off.getByRole('button', { name: 'Turn it off' }).click();
    await off.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
    assert.equal(await off.getByLabel('Two-factor code').getAttribute('aria-invalid'), 'true');
    await off.getByRole('button', { name: 'Cancel' }).click();
    await off.waitFor({ state: 'hidden' });
    assert.equal(await A.page.evaluate(() => document.activeElement.id), 'totp-off');

    // Signing in now asks for a code (the next step's, since the current one was used).
    const D = await device(browser, w.base);
    await signIn(D, { name: 'Second browser', totp: () => totpAt(secret, currentStep() + 1) });
    await D.context.close();
  });

  test('network failure and rate limiting are explained in the dialog', async () => {
    await A.page.route('**/v1/sessions/sign-out-all', (route) => route.abort('internetdisconnected'));
    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    // 2FA is on now: any one proof, the codes of the second factor included.
    assert.equal(await dialog.getByRole('button', { name: 'Use a code from your authenticator app instead' }).isVisible(), true);
    assert.equal(await dialog.getByRole('button', { name: 'Use a recovery code instead' }).isVisible(), true);
    await dialog.getByLabel('Your password').fill(password);
    await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
    await dialog.getByText('Could not reach the server. Your devices may still be signed in').waitFor();
    await A.page.unroute('**/v1/sessions/sign-out-all');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();

    let sawRateLimit = false;
    for (let i = 0; i < 8 && !sawRateLimit; i++) {
      await dialog.getByLabel('Your password').fill(`wrong password ${i}`);
      await dialog.locator('#reauth-error').evaluate((e) => { e.textContent = ''; });
      await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
      await waitFor('an answer', async () => (await dialog.locator('#reauth-error').innerText()).length > 0 && await dialog.getByRole('button', { name: 'Sign out of all devices' }).isEnabled());
      const text = await dialog.locator('#reauth-error').innerText();
      if (/Too many failed attempts/.test(text)) {
        assert.match(text, /No device was signed out\. Try again in \d+ (seconds?|minutes?) \(at .+\)\./);
        sawRateLimit = true;
      } else {
        assert.match(text, /That password or code is wrong/);
      }
    }
    assert.ok(sawRateLimit, 'a 429 with Retry-After was shown');
    await shot(A.page, 'sign-out-all-rate-limited', { fullPage: false });
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: await storedToken(A.page) })).status, 200);
  });

  test('two-factor authentication turned off with the password and a current code (a fresh account)', async () => {
    const F = await device(browser, w.base);
    await F.page.locator('#auth-form').getByLabel('Email').fill(`page-off-${Date.now()}@example.com`);
    await F.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await F.page.getByRole('button', { name: 'Create account' }).click();
    await F.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    await F.page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const on = F.page.getByRole('dialog', { name: 'Set up two-factor authentication' });
    await on.getByLabel('Your password').fill(PASSWORD);
    await on.getByRole('button', { name: 'Continue' }).click();
    await F.page.getByText('Scan this code with your authenticator app').waitFor();
    const secretF = new URL(await F.page.getByRole('textbox', { name: 'Setup link' }).inputValue()).searchParams.get('secret');
    const step = currentStep();
    await F.page.getByLabel('Code from the app').fill(totpAt(secretF, step));
    await F.page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await F.page.getByText('Two-factor authentication is on: signing in asks for a code').waitFor();
    assert.equal(await F.page.getByRole('button', { name: 'Set up two-factor authentication' }).isVisible(), false);

    await F.page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    const off = F.page.getByRole('dialog', { name: 'Turn off two-factor authentication?' });
    const near = [step - 1, step, step + 1, step + 2].map((n) => totpAt(secretF, n));
    await off.getByLabel('Your password').fill(PASSWORD);
    await off.getByLabel('Two-factor code').fill(['000000', '111111', '222222'].find((c) => !near.includes(c)));
    await off.getByRole('button', { name: 'Turn it off' }).click();
    await off.getByText('That password or code is wrong. Two-factor authentication is still on.').waitFor();
    assert.equal(await off.getByLabel('Your password').getAttribute('aria-invalid'), 'true');
    // The next step's code: the current one was used to turn it on.
    await off.getByLabel('Two-factor code').fill(totpAt(secretF, step + 1));
    await off.getByRole('button', { name: 'Turn it off' }).click();
    await F.page.getByText('Add a code from an authenticator app to your password.').waitFor();
    await F.page.getByRole('button', { name: 'Set up two-factor authentication' }).waitFor();
    assert.equal(await off.isVisible(), false);
    await F.page.locator('#activity li', { hasText: 'Two-factor authentication turned off' }).first().waitFor();
    await F.page.locator('#activity li', { hasText: 'Two-factor authentication turned on' }).first().waitFor();
    assert.deepEqual(F.problems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp:')), []);
    await F.context.close();
  });

  test('no script errors and no Content-Security-Policy violations on any device', () => {
    for (const d of [A, B, C]) {
      // Refused WebSocket upgrades and 401s are expected network errors, not script errors.
      assert.deepEqual(d.problems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp:')), []);
    }
  });
});
