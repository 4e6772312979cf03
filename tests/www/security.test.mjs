// The account-security parts of the Manage-devices page in Chromium against a real `wrangler dev`:
// the one re-auth dialog with each of its proofs (password, an emailed code, a code from the
// authenticator app, a recovery code), recovery codes shown once, two-factor authentication
// turned off, "Secure your account" from the mailed link, forgot-password and the email change.
// Mail is read from the development outbox (GET /v1/admin/outbox with the admin token).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  FAST_ARGON2, call, cleanup, codeFrom, currentStep, makeSecrets, newMail, readOutbox, secureAccountTokenFrom,
  sleep, startWorker, totpAt, waitFor,
} from '../e2e/helper.mjs';
import { device, launch, shot, stage, storedToken } from './browser.mjs';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'staple battery horse';
const PHONE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36';

const secrets = makeSecrets();
const ADMIN = secrets.vars.ADMIN_TOKEN;
let w;
let browser;
const devices = [];

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

let serial = 0;
const fresh = (tag) => `${tag}-${Date.now()}-${++serial}@example.com`;

/** A new browser (its own storage); every one is checked for script errors at the end. */
async function open(options) {
  const d = await device(browser, w.base, { viewport: { width: 1000, height: 900 }, ...options });
  devices.push(d);
  return d;
}

const authForm = (page) => page.locator('#auth-form');
const resetForm = (page) => page.locator('#reset-confirm-form');

/** Fills the sign-in form and presses `button`; does not wait for the outcome. */
async function submitSignIn(page, email, password, button = 'Sign in') {
  await authForm(page).getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: button, exact: true }).click();
}

async function signUp(page, email, password = PASSWORD) {
  await submitSignIn(page, email, password, 'Create account');
  await page.getByRole('heading', { name: 'Manage devices' }).waitFor();
}

async function signIn(page, email, password = PASSWORD) {
  await submitSignIn(page, email, password);
  await page.getByRole('heading', { name: 'Manage devices' }).waitFor();
}

/** TOTP codes for one account, each of a later step than the last one used (codes are single use). */
function authenticator(secret) {
  let last = 0;
  return async () => {
    await waitFor('a TOTP step not used yet', async () => currentStep() >= last, 40000, 200);
    last = Math.max(currentStep(), last + 1);
    return totpAt(secret, last);
  };
}

const clearStatus = (page) => page.locator('#status').evaluate((e) => { e.textContent = ''; });

/** Turns two-factor authentication on from the page (password only: it is off); returns the authenticator. */
async function enableTotp(page, password = PASSWORD) {
  await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  const dialog = page.getByRole('dialog', { name: 'Set up two-factor authentication' });
  // Strong proof with two-factor authentication off: the password or an emailed code only.
  assert.equal(await dialog.getByRole('button', { name: 'Use a recovery code instead' }).count(), 0);
  await dialog.getByLabel('Your password').fill(password);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('Scan this code with your authenticator app').waitFor();
  const secret = new URL(await page.getByRole('textbox', { name: 'Setup link' }).inputValue()).searchParams.get('secret');
  const code = authenticator(secret);
  await page.getByLabel('Code from the app').fill(await code());
  await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
  await page.getByText('Two-factor authentication is on: signing in asks for a code').waitFor();
  return code;
}

/**
 * In an open re-auth dialog: "Email me a code instead", then the code from the outbox. A 429
 * (one code per 30 s) is shown with its wait, which this honours before "Send another code".
 */
async function useEmailCode(dialog, email) {
  const seen = (await readOutbox(w.base, ADMIN, email)).map((m) => m.id);
  await dialog.getByRole('button', { name: 'Email me a code instead' }).click();
  for (let i = 0; ; i++) {
    const text = await waitFor('the code sent or refused', async () => {
      const t = await dialog.innerText();
      return /We sent a 6-digit code|No code was sent/.test(t) ? t : null;
    });
    const limited = /No code was sent: codes were asked for too often\. Try again in (\d+) (second|minute)/.exec(text);
    if (!limited) {
      assert.match(text, /We sent a 6-digit code to \S+@\S+\. It works once, for \d+ minutes\./);
      break;
    }
    assert.ok(i < 3, 'still refused after waiting');
    await sleep((Number(limited[1]) * (limited[2] === 'minute' ? 60 : 1) + 1) * 1000);
    await dialog.locator('#reauth-error').evaluate((e) => { e.textContent = ''; });
    await dialog.getByRole('button', { name: 'Send another code' }).click();
  }
  const mail = await newMail(w.base, ADMIN, email, seen, (m) => codeFrom(m.text) && !secureAccountTokenFrom(m.text));
  await dialog.getByLabel('Code from the email').fill(codeFrom(mail.text));
}

/** "Sign out of all devices", keeping this one, with the proof `prove(dialog)` enters. */
async function signOutOthers(page, prove) {
  await clearStatus(page);
  const before = await storedToken(page);
  await page.getByRole('button', { name: 'Sign out of all devices' }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign out of all devices?' });
  await dialog.waitFor();
  await prove(dialog);
  await dialog.getByLabel('Keep me signed in on this device').check();
  await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
  await page.getByText('Signed out of all other devices.').waitFor();
  await dialog.waitFor({ state: 'hidden' });
  assert.notEqual(await storedToken(page), before, 'a fresh token for this device');
}

async function securityEvents(page) {
  return page.locator('#security-events li').allInnerTexts();
}

describe('re-auth, recovery codes and two-factor authentication', () => {
  const email = fresh('reauth');
  let A;
  let code;
  let codes;
  const sockets = [];

  test('the page opens its WebSocket with a ticket, never with the token in the URL', async () => {
    A = await open();
    A.page.on('websocket', (ws) => sockets.push(ws.url()));
    await signUp(A.page, email);
    await waitFor('the events socket', async () => sockets.length > 0, 10000);
    for (const url of sockets) {
      assert.match(url, /\/v1\/events\?ticket=[^&]+$/);
      assert.doesNotMatch(url, /access_token|eyJ/);
    }
    // The account's state comes from GET /v1/account.
    await waitFor('the account loaded', async () => (await A.page.locator('#email-current').innerText()) === email, 10000);
    assert.equal(await A.page.locator('#whoami').innerText(), `Signed in as ${email}`);
    assert.match(await A.page.locator('#recovery-state').innerText(), /Turn on two-factor authentication to get them/);
    assert.equal(await A.page.getByRole('button', { name: /recovery codes/ }).count(), 0);
  });

  test('two-factor off: the dialog offers the password and an emailed code, and the emailed code works', async () => {
    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    assert.match(await dialog.innerText(), /your password or a code we email you/);
    assert.equal(await dialog.getByRole('button', { name: 'Use a code from your authenticator app instead' }).count(), 0);
    assert.equal(await dialog.getByRole('button', { name: 'Use a recovery code instead' }).count(), 0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await signOutOthers(A.page, (d) => useEmailCode(d, email));
    await shot(A.page, 'reauth-email-code-done', { fullPage: false });
  });

  test('two-factor on: strong proof asks for two things; recovery codes are shown once', async () => {
    code = await enableTotp(A.page);
    await A.page.getByText('You have no unused recovery codes.').waitFor();

    await A.page.getByRole('button', { name: 'Get recovery codes' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Get new recovery codes?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /two things/);
    assert.equal(await dialog.getByRole('group', { name: 'Step 1 of 2: your password or an emailed code' }).isVisible(), true);
    assert.equal(await dialog.getByRole('group', { name: 'Step 2 of 2: your authenticator app or a recovery code' }).isVisible(), true);
    // The password alone is not enough: said before anything is sent.
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Get new codes' }).click();
    await dialog.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
    assert.equal(await dialog.getByLabel('Two-factor code').getAttribute('aria-invalid'), 'true');
    // A wrong password with a right code: refused, nothing changed.
    await dialog.getByLabel('Your password').fill('not the password');
    await dialog.getByLabel('Two-factor code').fill(await code());
    await dialog.getByRole('button', { name: 'Get new codes' }).click();
    await dialog.getByText('That password or code is wrong. Your recovery codes were not changed.').waitFor();
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByLabel('Two-factor code').fill(await code());
    await dialog.getByRole('button', { name: 'Get new codes' }).click();

    const shown = A.page.locator('#recovery-show');
    await shown.waitFor();
    assert.match(await shown.innerText(), /they will not be shown again/);
    codes = await A.page.locator('#recovery-codes li').allInnerTexts();
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
    await A.page.getByText('You have 10 unused recovery codes.').waitFor();
    await shot(A.page, 'recovery-codes-shown', { fullPage: false, clip: await shown.boundingBox() });

    // Download as text: a file with every code on its own line.
    const [download] = await Promise.all([
      A.page.waitForEvent('download'),
      A.page.getByRole('button', { name: 'Download as a text file' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'epochgate-recovery-codes.txt');
    const file = readFileSync(await download.path(), 'utf8');
    for (const c of codes) assert.ok(file.split('\n').includes(c), `${c} in the file`);

    // Copy: the clipboard holds the codes.
    await A.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await A.page.getByRole('button', { name: 'Copy the codes' }).click();
    await A.page.getByText('The recovery codes were copied.').waitFor();
    assert.equal(await A.page.evaluate(() => navigator.clipboard.readText()), codes.join('\n'));

    // The page never stores them: not in any storage, and a reload does not show them again.
    const stored = await A.page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
    for (const c of codes) assert.ok(!stored.includes(c), 'a code in storage');
    await A.page.reload();
    await A.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    await A.page.getByText('You have 10 unused recovery codes.').waitFor();
    assert.equal(await A.page.locator('#recovery-show').isVisible(), false);
    assert.equal(await A.page.locator('#recovery-codes li').count(), 0);
    assert.ok(!(await A.page.content()).includes(codes[0]));
    assert.ok((await securityEvents(A.page)).some((t) => t.startsWith('New recovery codes created')));
  });

  test('any proof with two-factor on: a recovery code, then an app code, each works', async () => {
    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Sign out of all devices?' });
    for (const b of ['Email me a code instead', 'Use a code from your authenticator app instead', 'Use a recovery code instead']) {
      assert.equal(await dialog.getByRole('button', { name: b }).isVisible(), true, b);
    }
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // A recovery code as typed by a person (upper case, no dash) is normalised.
    await signOutOthers(A.page, async (d) => {
      await d.getByRole('button', { name: 'Use a recovery code instead' }).click();
      await d.getByLabel('Recovery code').fill(codes[0].replace('-', '').toUpperCase());
    });
    await A.page.getByText('You have 9 unused recovery codes.').waitFor();

    // The same recovery code again: used up.
    await A.page.getByRole('button', { name: 'Sign out of all devices' }).click();
    await dialog.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await dialog.getByLabel('Recovery code').fill(codes[0]);
    await dialog.getByRole('button', { name: 'Sign out of all devices' }).click();
    await dialog.getByText('That password or code is wrong. No device was signed out.').waitFor();
    assert.equal(await dialog.getByLabel('Recovery code').getAttribute('aria-invalid'), 'true');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await signOutOthers(A.page, async (d) => {
      await d.getByRole('button', { name: 'Use a code from your authenticator app instead' }).click();
      await d.getByLabel('Two-factor code').fill(await code());
    });
    const events = (await A.page.locator('#activity li').allInnerTexts()).join('\n');
    assert.match(events, /A recovery code was used/);
  });

  test('a recovery code signs in once in place of the app code', async () => {
    const D = await open({ userAgent: PHONE_UA });
    await submitSignIn(D.page, email, PASSWORD);
    await D.page.getByText('This account has two-factor authentication').waitFor();
    await authForm(D.page).getByRole('button', { name: 'Use a recovery code instead' }).click();
    assert.equal(await authForm(D.page).getByLabel('Two-factor code').isVisible(), false);
    await authForm(D.page).getByLabel('Recovery code').fill(codes[1]);
    await D.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await D.page.getByRole('heading', { name: 'Manage devices' }).waitFor();
    await D.page.getByText('You have 8 unused recovery codes.').waitFor();

    const E = await open();
    await submitSignIn(E.page, email, PASSWORD);
    await E.page.getByText('This account has two-factor authentication').waitFor();
    await authForm(E.page).getByRole('button', { name: 'Use a recovery code instead' }).click();
    await authForm(E.page).getByLabel('Recovery code').fill(codes[1]);
    await E.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await E.page.getByText('Wrong email, password or code.').waitFor();
    assert.equal(await E.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    await E.context.close();
    await D.context.close();
  });

  test('strong proof with an emailed code and a recovery code: new codes replace the old ones', async () => {
    await A.page.getByRole('button', { name: 'Get new recovery codes' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Get new recovery codes?' });
    await useEmailCode(dialog, email);
    await dialog.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await dialog.getByLabel('Recovery code').fill(codes[2]);
    await dialog.getByRole('button', { name: 'Get new codes' }).click();
    await A.page.locator('#recovery-show').waitFor();
    const next = await A.page.locator('#recovery-codes li').allInnerTexts();
    assert.equal(next.length, 10);
    assert.equal(next.filter((c) => codes.includes(c)).length, 0);
    await A.page.getByRole('button', { name: 'I saved them' }).click();
    assert.equal(await A.page.locator('#recovery-codes li').count(), 0);
    await A.page.getByText('You have 10 unused recovery codes.').waitFor();
    // An old, unused code no longer signs in.
    const r = await call(w.base, 'POST', '/v1/login', { body: { email, password: PASSWORD, recovery_code: codes[3], device: { name: 'x', type: 'other' } } });
    assert.equal(r.status, 401, JSON.stringify(r.body));
    codes = next;
  });

  test('two-factor authentication turned off with the password and a recovery code', async () => {
    await A.page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Turn off two-factor authentication?' });
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await dialog.getByLabel('Recovery code').fill(codes[0]);
    await dialog.getByRole('button', { name: 'Turn it off' }).click();
    await A.page.getByText('Two-factor authentication is off. Signing in asks for your password only.').waitFor();
    await A.page.getByRole('button', { name: 'Set up two-factor authentication' }).waitFor();
    await waitFor('the account reloaded', async () => /Turn on two-factor authentication/.test(await A.page.locator('#recovery-state').innerText()), 10000);
    assert.equal(await A.page.locator('#recovery-new').isVisible(), false);
    const account = await call(w.base, 'GET', '/v1/account', { token: await storedToken(A.page) });
    assert.equal(account.body.totp_enabled, false);
    await waitFor('the security events', async () => (await securityEvents(A.page)).some((t) => t.startsWith('Two-factor authentication turned off')), 10000);
    await shot(A.page, 'security-events');
  });
});

describe('secure your account from the mailed link', () => {
  const email = fresh('secure');
  let A;
  let B;
  let link;

  test('a sign-in from a new device mails a "not you?" link', async () => {
    A = await open();
    await signUp(A.page, email);
    const seen = (await readOutbox(w.base, ADMIN, email)).map((m) => m.id);
    B = await open({ userAgent: PHONE_UA, viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true });
    await signIn(B.page, email);
    const mail = await newMail(w.base, ADMIN, email, seen, (m) => secureAccountTokenFrom(m.text));
    link = secureAccountTokenFrom(mail.text);
    await A.page.getByRole('button', { name: 'Refresh' }).click();
    await waitFor('the new sign-in among the security events', async () => (await securityEvents(A.page)).some((t) => t.startsWith('Signed in from a new device or place')), 10000);
  });

  test('the link shows what will happen, leaves the address bar at once, and secures the account', async () => {
    const V = await open();
    await V.page.goto('about:blank');
    await V.page.goto(`${w.base}/#secure-account=${link}`);
    await V.page.getByRole('heading', { name: 'Secure your account' }).waitFor();
    assert.equal(V.page.url(), `${w.base}/`, 'the token is gone from the address');
    assert.equal(await V.page.evaluate(() => location.hash), '');
    const text = await V.page.locator('#secure-view').innerText();
    assert.match(text, /Every device signed in to your account is signed out/);
    assert.match(text, /until a new password is set/);
    assert.match(text, /We email you a code/);
    // Nothing happened yet: both devices are still signed in.
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: await storedToken(B.page) })).status, 200);
    await shot(V.page, 'secure-account-confirm');

    const seen = (await readOutbox(w.base, ADMIN, email)).map((m) => m.id);
    await V.page.getByRole('button', { name: 'Secure my account' }).click();
    await V.page.getByText('Your account is secured.').waitFor();
    assert.equal(await V.page.getByRole('heading', { name: 'Reset your password' }).isVisible(), true);
    for (const d of [A, B]) {
      await d.page.getByText('Your account was signed out of all devices').waitFor({ timeout: 15000 });
      assert.equal(await d.page.getByRole('heading', { name: 'Manage devices' }).isVisible(), false);
    }
    const mail = await newMail(w.base, ADMIN, email, seen, (m) => codeFrom(m.text) && !secureAccountTokenFrom(m.text));
    const resetCode = codeFrom(mail.text);

    // The right password is not enough now: the sign-in form moves to the reset.
    await submitSignIn(B.page, email, PASSWORD);
    await B.page.getByText('This account was secured').waitFor();
    assert.equal(await resetForm(B.page).getByLabel('Code from the email').isVisible(), true);
    assert.equal(await B.page.locator('#reset-confirm-email').inputValue(), email);
    assert.ok(await B.page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling at 360 px');
    await resetForm(B.page).getByLabel('Code from the email').fill(resetCode);
    await resetForm(B.page).getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await resetForm(B.page).getByLabel('New password again').fill(NEW_PASSWORD);
    await B.page.getByRole('button', { name: 'Set the new password' }).click();
    await B.page.getByText('Your password was reset.').waitFor();
    assert.equal(await authForm(B.page).getByLabel('Email').inputValue(), email);
    await signIn(B.page, email, NEW_PASSWORD);
    await waitFor('the security events', async () => {
      const events = await securityEvents(B.page);
      return events.some((t) => t.startsWith('Account secured')) && events.some((t) => t.startsWith('Password reset'));
    }, 10000);
    assert.ok(await B.page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal scrolling at 360 px');
    await shot(B.page, 'after-secure-account-phone');

    // The link works once.
    await V.page.goto('about:blank');
    await V.page.goto(`${w.base}/#secure-account=${link}`);
    await V.page.getByRole('button', { name: 'Secure my account' }).click();
    await V.page.getByText('This link is invalid, has expired or was already used.').waitFor();
    assert.equal((await call(w.base, 'GET', '/v1/me', { token: await storedToken(B.page) })).status, 200);
  });
});

describe('forgot password and email change', () => {
  const email = fresh('forgot');
  const newEmail = fresh('moved');

  test('"Forgot password?" mails a code; a wrong code is refused; the right one sets the password and signs out every device', async () => {
    const A = await open();
    await signUp(A.page, email);
    const B = await open();
    await authForm(B.page).getByLabel('Email').fill(email);
    await B.page.getByRole('button', { name: 'Forgot password?' }).click();
    await B.page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    assert.equal(await B.page.locator('#reset-email').inputValue(), email);
    const seen = (await readOutbox(w.base, ADMIN, email)).map((m) => m.id);
    await B.page.getByRole('button', { name: 'Email me a code' }).click();
    await B.page.getByText(`If ${email} belongs to an account, we emailed it a 6-digit code.`).waitFor();
    const mail = await newMail(w.base, ADMIN, email, seen, (m) => codeFrom(m.text));
    const resetCode = codeFrom(mail.text);

    await resetForm(B.page).getByLabel('Code from the email').fill(resetCode === '000000' ? '111111' : '000000');
    await resetForm(B.page).getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await resetForm(B.page).getByLabel('New password again').fill(NEW_PASSWORD);
    await B.page.getByRole('button', { name: 'Set the new password' }).click();
    await B.page.getByText('That code is wrong, has expired or was already used').waitFor();
    assert.equal(await resetForm(B.page).getByLabel('Code from the email').getAttribute('aria-invalid'), 'true');
    await shot(B.page, 'reset-wrong-code');

    await resetForm(B.page).getByLabel('Code from the email').fill(resetCode);
    await B.page.getByRole('button', { name: 'Set the new password' }).click();
    await B.page.getByText('Your password was reset. The one device signed in to your account was signed out.').waitFor();
    await A.page.getByText('Your account was signed out of all devices').waitFor({ timeout: 15000 });

    await submitSignIn(B.page, email, PASSWORD);
    await B.page.getByText('Wrong email, password or code.').waitFor();
    await signIn(B.page, email, NEW_PASSWORD);
  });

  test('an unknown email gets the same answer', async () => {
    const C = await open();
    await authForm(C.page).getByLabel('Email').fill(fresh('nobody'));
    await C.page.getByRole('button', { name: 'Forgot password?' }).click();
    await C.page.getByRole('button', { name: 'Email me a code' }).click();
    await C.page.getByText(/^If nobody-.* belongs to an account, we emailed it a 6-digit code\./).waitFor();
    await C.context.close();
  });

  test('the email change asks for the password and mails both addresses', async () => {
    const D = await open();
    await signIn(D.page, email, NEW_PASSWORD);
    const oldSeen = (await readOutbox(w.base, ADMIN, email)).map((m) => m.id);
    await D.page.getByLabel('New email address').fill(newEmail);
    await D.page.getByRole('button', { name: 'Change email address' }).click();
    const dialog = D.page.getByRole('dialog', { name: 'Change your email address?' });
    await dialog.getByLabel('Your password').fill(NEW_PASSWORD);
    await dialog.getByRole('button', { name: 'Change email address' }).click();
    await D.page.getByText(`Your email address is now ${newEmail}.`).waitFor();
    await waitFor('the new address shown', async () => (await D.page.locator('#whoami').innerText()) === `Signed in as ${newEmail}`, 10000);
    await newMail(w.base, ADMIN, email, oldSeen);
    assert.ok((await readOutbox(w.base, ADMIN, newEmail)).length >= 1, 'a notice to the new address');
    await waitFor('the security event', async () => (await securityEvents(D.page)).some((t) => t.startsWith('Email address changed')), 10000);
  });
});

test('no script errors and no Content-Security-Policy violations on any device', () => {
  for (const d of devices) {
    assert.deepEqual(d.problems.filter((p) => p.startsWith('pageerror') || p.startsWith('csp:')), []);
  }
});
