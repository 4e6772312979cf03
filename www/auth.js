// Sign in and sign up (with a code from the authenticator app or a recovery code when the account
// asks for a second factor, and the way to a password reset), sign-in with a passkey (no email,
// no password: the passkey names the account), and the notice that says why this tab was signed
// out.
import { errorText } from './api.js';
import { describeDevice } from './device.js';
import { $, announce, setInvalid, showError, showView } from './dom.js';
import { renderUnavailable } from './passkeys.js';
import { normaliseRecoveryCode } from './proof.js';
import { retryText } from './time.js';
import { PasskeyError, getPasskey } from './webauthn.js';

const LEAVE_TEXT = {
  device: 'This device was signed out from another device.',
  all: 'Your account was signed out of all devices from another device, or its password was changed or reset.',
  self: 'You signed out of this device.',
  'self-all': 'You signed out of all devices, including this one. Every device must sign in again.',
};
const TOKEN_TEXT = {
  revoked_device: 'This device was signed out',
  revoked_all: 'Your account was signed out of all devices',
  expired: 'Your session expired',
};

/** The sentence for a session's end (`why` as given to Session.leave). */
export function leaveText(why) {
  let text = LEAVE_TEXT[why.kind] ?? '';
  if (why.kind === 'token') {
    text = `${TOKEN_TEXT[why.reason] ?? 'Your session is no longer valid'} (${why.reason}${why.local ? ', checked in this browser' : ''}).`;
  }
  return `${text} Sign in again to continue.`;
}

/** What a failed passkey sign-in reads as (`err`: an ApiError or a PasskeyError). */
export function passkeySignInText(err) {
  if (err instanceof PasskeyError) return `${err.message} You are not signed in.`;
  if (err.status === 429) return `Too many passkey sign-ins were tried. ${retryText(err.retryAfter)}`;
  switch (err.code) {
    case 'invalid_credentials': return 'That passkey was not accepted: it may have been removed from your account. Sign in with your email and password instead.';
    case 'invalid_challenge': return 'The passkey sign-in took too long or was already used. Try again.';
    default: return `You are not signed in. ${errorText(err)}`;
  }
}

/**
 * `api`, `session`; `enter()`: checks the new session and opens the account view (awaited, so
 * the buttons stay disabled until then); `reset` (reset.js): the forgot-password forms;
 * `support`: whether passkeys work here (webauthn.js passkeySupport()).
 */
export function createAuthForm({ api, session, enter, reset, support = { state: 'unsupported' } }) {
  /** Shows the form, prefilled with the device and `email` (else the one this tab used last). */
  function show(email = '') {
    showView('auth');
    $('auth-passkey').hidden = support.state === 'unsupported';
    $('auth-passkey-button').disabled = support.state !== 'ok';
    if (support.state !== 'ok') renderUnavailable($('auth-passkey-hint'), support);
    // The name and type this browser used last, else a guess the user can edit.
    const d = session.device ?? describeDevice();
    if (!$('device-name').value) $('device-name').value = d.name;
    $('device-type').value = d.type;
    if (email || session.email) $('auth-email').value = email || session.email;
  }

  /** The second-factor field the form shows: 'totp', 'recovery_code' or null (none asked for yet). */
  let factor = null;

  function showFactor(which) {
    factor = which;
    $('auth-totp-field').hidden = which !== 'totp';
    $('auth-recovery-field').hidden = which !== 'recovery_code';
  }

  function showSignedOut(why) {
    $('signed-out-reason').textContent = leaveText(why);
    $('signed-out').hidden = false;
  }

  function hideSignedOut() {
    $('signed-out').hidden = true;
  }

  async function submit(event) {
    event.preventDefault();
    const action = event.submitter?.value ?? 'sign-in';
    const email = $('auth-email');
    const password = $('auth-password');
    const name = $('device-name');
    const error = $('auth-error');
    for (const i of [email, password, name]) setInvalid(i, false);
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim())) { showError(error, 'Enter your email address, like name@example.com.'); setInvalid(email, true); email.focus(); return; }
    if (password.value.length < 8) { showError(error, 'The password needs at least 8 characters.'); setInvalid(password, true); password.focus(); return; }
    if (!name.value.trim()) { showError(error, 'Give this device a name.'); setInvalid(name, true); name.focus(); return; }
    showError(error, '');
    const buttons = [$('sign-in-button'), $('sign-up-button')];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      if (action === 'sign-up') {
        await api('POST', '/v1/accounts', { auth: false, body: { email: email.value.trim(), password: password.value } });
      }
      const second = {};
      if (factor === 'totp' && $('auth-totp').value.trim()) second.totp = $('auth-totp').value.replace(/\s/g, '');
      if (factor === 'recovery_code' && $('auth-recovery').value.trim()) {
        second.recovery_code = normaliseRecoveryCode($('auth-recovery').value) ?? $('auth-recovery').value.trim();
      }
      const res = await api('POST', '/v1/login', {
        auth: false,
        body: {
          email: email.value.trim(),
          password: password.value,
          device: { name: name.value.trim(), type: $('device-type').value },
          ...second,
        },
      });
      // Whether two-factor authentication is on comes from GET /v1/account once inside.
      const signedIn = session.signIn(res.token, {
        email: email.value.trim(),
        device: { name: name.value.trim(), type: $('device-type').value },
      });
      if (!signedIn) return;
      $('auth-form').reset();
      showFactor(null);
      hideSignedOut();
      announce(action === 'sign-up' ? 'Account created. You are signed in.'
        : second.recovery_code ? 'You are signed in. The recovery code you used will not work again.' : 'You are signed in.');
      await enter();
    } catch (err) {
      if (err.code === 'totp_required') {
        if (!factor) showFactor('totp');
        showError(error, factor === 'totp'
          ? 'This account has two-factor authentication: enter the 6-digit code from your authenticator app, or use a recovery code.'
          : 'This account has two-factor authentication: enter one of your recovery codes, or use your authenticator app.');
        $(factor === 'totp' ? 'auth-totp' : 'auth-recovery').focus();
      } else if (err.code === 'password_reset_required') {
        // Only said once the password was right: the account was secured and needs a new one.
        reset.showConfirm(email.value.trim(), 'This account was secured after a sign-in its owner did not recognise: choose a new password before signing in. We emailed a code when it was secured; if you cannot find it, send a new one.');
      } else {
        showError(error, errorText(err));
        if (err.code === 'invalid_credentials') { setInvalid(password, true); password.focus(); }
        if (err.code === 'account_exists') email.focus();
      }
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  /**
   * "Use a passkey" on the sign-in form: POST /v1/login/passkey-options, the browser's passkey
   * prompt (any passkey of this site: the account is the passkey's), then POST /v1/login/passkey
   * with the device name and type of the form.
   */
  async function signInWithPasskey() {
    const name = $('device-name');
    const error = $('auth-error');
    for (const i of [$('auth-email'), $('auth-password'), name]) setInvalid(i, false);
    if (!name.value.trim()) { showError(error, 'Give this device a name.'); setInvalid(name, true); name.focus(); return; }
    showError(error, '');
    const buttons = [$('sign-in-button'), $('sign-up-button'), $('auth-passkey-button')];
    buttons.forEach((b) => { b.disabled = true; });
    const device = { name: name.value.trim(), type: $('device-type').value };
    try {
      const { publicKey } = await api('POST', '/v1/login/passkey-options', { auth: false, body: {} });
      const credential = await getPasskey(publicKey, { mediation: 'optional' });
      const res = await api('POST', '/v1/login/passkey', { auth: false, body: { credential, device } });
      // The email comes from GET /v1/account once inside.
      if (!session.signIn(res.token, { device })) return;
      $('auth-form').reset();
      showFactor(null);
      hideSignedOut();
      announce('You are signed in with your passkey.');
      await enter();
    } catch (err) {
      if (err.code === 'password_reset_required') {
        reset.showConfirm('', 'This account was secured after a sign-in its owner did not recognise: choose a new password before signing in. We emailed a code when it was secured; enter your email address with it, or send a new one.');
        return;
      }
      showError(error, passkeySignInText(err));
      $('auth-passkey-button').focus();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      $('auth-passkey-button').disabled = support.state !== 'ok';
    }
  }

  return {
    show,
    showSignedOut,
    hideSignedOut,
    wire() {
      $('auth-form').addEventListener('submit', submit);
      $('auth-passkey-button').addEventListener('click', signInWithPasskey);
      $('auth-use-recovery').addEventListener('click', () => { showFactor('recovery_code'); $('auth-recovery').focus(); });
      $('auth-use-totp').addEventListener('click', () => { showFactor('totp'); $('auth-totp').focus(); });
      $('auth-forgot').addEventListener('click', () => reset.showRequest($('auth-email').value.trim()));
    },
  };
}
