// Getting back into an account without its password. "Forgot password?": a code mailed to the
// address, then the code and a new password, which also signs out every device. "Secure your
// account", from the link in a "New sign-in — not you?" email: it says what will happen, and on
// confirmation every device is signed out, a new password becomes required and a code is mailed;
// it ends in the same reset form. A sign-in refused with `password_reset_required` lands there too.
import { errorText } from './api.js';
import { $, setInvalid, showError, showView } from './dom.js';

const LINK_PREFIX = '#secure-account=';

/** The token of a secure-account link's fragment; '' for a malformed one, null for no link. */
export function secureAccountToken(hash) {
  if (!hash?.startsWith(LINK_PREFIX)) return null;
  const token = hash.slice(LINK_PREFIX.length);
  return /^[A-Za-z0-9._~-]+$/.test(token) ? token : '';
}

/**
 * Reads a secure-account link from the address and takes it out of the address bar and of this
 * history entry at once, so the token is not left to the history, a bookmark or a shared screen.
 */
export function takeSecureToken(loc = globalThis.location, hist = globalThis.history) {
  const token = secureAccountToken(loc.hash);
  if (token !== null) hist.replaceState(hist.state, '', `${loc.pathname}${loc.search}`);
  return token;
}

/** "every device (3)" style count of a `signed_out` answer. */
export function signedOutText(n) {
  if (!Number.isInteger(n) || n < 0) return 'Every device signed in to your account was signed out.';
  if (n === 0) return 'No device was signed in.';
  return `${n === 1 ? 'The one device' : `All ${n} devices`} signed in to your account ${n === 1 ? 'was' : 'were'} signed out.`;
}

/**
 * `api`; `showSignIn(email, text)`: back to the sign-in form with the email filled in and
 * `text` announced; `cancel()`: leave the secure-account page without doing anything.
 */
export function createReset({ api, showSignIn, cancel }) {
  let secureToken = null;

  /** The form asking for a code. `intro` says why the page is here. */
  function showRequest(email = '', intro = 'Enter the email address of your account. We will email you a code to choose a new password.') {
    showView('reset');
    $('reset-intro').textContent = intro;
    $('reset-request-form').hidden = false;
    $('reset-confirm-form').hidden = true;
    showError($('reset-request-error'), '');
    if (email) $('reset-email').value = email;
    $('reset-title').focus();
  }

  /** The form taking the mailed code and a new password. */
  function showConfirm(email = '', intro = '') {
    showView('reset');
    $('reset-intro').textContent = intro;
    $('reset-request-form').hidden = true;
    $('reset-confirm-form').hidden = false;
    showError($('reset-error'), '');
    $('reset-confirm-email').value = email;
    $('reset-title').focus();
  }

  async function request(event) {
    event?.preventDefault();
    const input = $('reset-request-form').hidden ? $('reset-confirm-email') : $('reset-email');
    const error = $('reset-request-form').hidden ? $('reset-error') : $('reset-request-error');
    const email = input.value.trim();
    setInvalid(input, false);
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) { showError(error, 'Enter your email address, like name@example.com.'); setInvalid(input, true); input.focus(); return; }
    showError(error, '');
    try {
      // 202 whether or not the address has an account: the answer tells nobody which emails exist.
      await api('POST', '/v1/password/reset', { auth: false, body: { email } });
      showConfirm(email, `If ${email} belongs to an account, we emailed it a 6-digit code. Enter it here with a new password. Nothing changes until you do.`);
      $('reset-code').focus();
    } catch (err) {
      showError(error, `No code was sent. ${errorText(err)}`);
    }
  }

  async function confirm(event) {
    event.preventDefault();
    const email = $('reset-confirm-email');
    const code = $('reset-code');
    const next = $('reset-password');
    const again = $('reset-password-again');
    const error = $('reset-error');
    for (const i of [email, code, next, again]) setInvalid(i, false);
    const digits = code.value.replace(/\s/g, '');
    const problem = !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim()) ? [email, 'Enter your email address, like name@example.com.']
      : !/^\d{6}$/.test(digits) ? [code, 'Enter the 6-digit code from the email.']
        : next.value.length < 8 ? [next, 'The new password needs at least 8 characters.']
          : next.value !== again.value ? [again, 'The two new passwords differ.'] : null;
    if (problem) { showError(error, problem[1]); setInvalid(problem[0], true); problem[0].focus(); return; }
    showError(error, '');
    const button = $('reset-submit');
    button.disabled = true;
    try {
      const res = await api('POST', '/v1/password/reset/confirm', {
        auth: false,
        body: { email: email.value.trim(), code: digits, new_password: next.value },
      });
      const address = email.value.trim();
      $('reset-confirm-form').reset();
      showSignIn(address, `Your password was reset. ${signedOutText(res?.signed_out)} Sign in with your new password.`);
    } catch (err) {
      if (err.code === 'invalid_code') {
        showError(error, 'That code is wrong, has expired or was already used (or the email address is not the one it was sent to). Check it, or send a new code. Your password was not changed.');
        setInvalid(code, true);
        code.focus();
      } else {
        showError(error, `Your password was not changed. ${errorText(err, { rateLimited: '' })}`);
      }
    } finally {
      button.disabled = false;
    }
  }

  /** The secure-account page for a link's token ('' for a malformed link). */
  function showSecure(token) {
    secureToken = token;
    showView('secure');
    $('secure-confirm').disabled = !token;
    showError($('secure-error'), token ? '' : 'This link is not complete. Open it again from the email, or sign in and change your password.');
    $('secure-title').focus();
  }

  async function secure() {
    if (!secureToken) return;
    const button = $('secure-confirm');
    button.disabled = true;
    showError($('secure-error'), '');
    try {
      const res = await api('POST', '/v1/secure-account', { auth: false, body: { token: secureToken } });
      secureToken = null;
      showConfirm('', `Your account is secured. ${signedOutText(res?.signed_out)} Nobody can sign in until a new password is set: we emailed you a code for it. Enter your email address, that code and a new password.`);
      $('reset-confirm-email').focus();
    } catch (err) {
      if (err.code === 'invalid_link') {
        secureToken = null;
        showError($('secure-error'), 'This link is invalid, has expired or was already used. If you still think someone else is using your account, reset your password.');
        $('secure-reset').hidden = false;
      } else {
        button.disabled = false;
        showError($('secure-error'), `Nothing was changed. ${errorText(err)}`);
      }
    }
  }

  return {
    showRequest,
    showConfirm,
    showSecure,
    wire() {
      $('reset-request-form').addEventListener('submit', request);
      $('reset-confirm-form').addEventListener('submit', confirm);
      $('reset-resend').addEventListener('click', () => request());
      for (const id of ['reset-back', 'reset-back-2']) {
        $(id).addEventListener('click', () => showSignIn($('reset-confirm-email').value.trim() || $('reset-email').value.trim(), ''));
      }
      $('secure-confirm').addEventListener('click', secure);
      $('secure-cancel').addEventListener('click', () => { secureToken = null; cancel(); });
      $('secure-reset').addEventListener('click', () => showRequest());
    },
  };
}
