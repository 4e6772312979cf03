// Two-factor authentication: enrolment (the password first, then the setup link as text and as a
// QR code, then a code from the app to confirm), turning it off (the password and a current
// code), and what the page does when another device turned it on or off.
import { errorText } from './api.js';
import { $, announce, el, setInvalid, showError } from './dom.js';

/** `api`, `session`; `onChanged()` runs after it was turned on or off (e.g. to reload the activity). */
export function createTotp({ api, session, onChanged = () => {} }) {
  /** The sentence and buttons for the session's current two-factor state; closes open forms. */
  function render() {
    $('totp-state').textContent = session.totp
      ? 'Two-factor authentication is on: signing in asks for a code from your authenticator app.'
      : 'Add a code from an authenticator app to your password.';
    $('totp-start').hidden = session.totp;
    $('totp-off').hidden = !session.totp;
    $('totp-reauth-form').hidden = true;
    $('totp-off-form').hidden = true;
    if (session.totp) clearSetup();
  }

  function clearSetup() {
    $('totp-setup').hidden = true;
    $('totp-uri').value = '';
    $('totp-qr').replaceChildren();
  }

  /** Step 1: the password. */
  function ask() {
    showError($('totp-error'), '');
    $('totp-reauth-form').reset();
    setInvalid($('totp-password'), false);
    $('totp-reauth-form').hidden = false;
    $('totp-password').focus();
  }

  /** Step 2: POST /v1/totp with the password; shows the secret. */
  async function start(event) {
    event.preventDefault();
    const password = $('totp-password');
    showError($('totp-error'), '');
    if (!password.value) {
      showError($('totp-error'), 'Enter your password to set up two-factor authentication.');
      setInvalid(password, true);
      password.focus();
      return;
    }
    try {
      const res = await api('POST', '/v1/totp', { body: { password: password.value } });
      setInvalid(password, false);
      $('totp-reauth-form').reset();
      $('totp-reauth-form').hidden = true;
      $('totp-uri').value = res.otpauth_uri;
      const box = $('totp-qr');
      box.replaceChildren();
      if (typeof res.qr_svg === 'string' && res.qr_svg) {
        // As an image, so the markup cannot run script or touch the page.
        const img = document.createElement('img');
        img.alt = 'QR code of the setup link';
        img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(res.qr_svg)}`;
        box.append(img);
      } else {
        try {
          // Loaded on demand: most visits never enrol.
          const { encodeQr, qrSvg } = await import('./qr.js');
          box.append(qrSvg(document, encodeQr(res.otpauth_uri), { label: 'QR code of the setup link' }));
        } catch {
          box.append(el('p', 'hint', 'The link is too long for a QR code here: copy it into the app instead.'));
        }
      }
      $('totp-setup').hidden = false;
      $('totp-code').focus();
    } catch (err) {
      if (err.handled) return;
      if (err.code === 'totp_already_enabled') {
        session.setTotp(true);
        render();
      }
      const wrong = err.code === 'reauth_failed' || err.code === 'reauth_required';
      showError($('totp-error'), errorText(err, {
        reauthFailed: 'That password is wrong. Two-factor authentication was not set up.',
      }));
      if (wrong) {
        setInvalid(password, true);
        password.focus();
      }
    }
  }

  /** Step 3: the first code turns it on. */
  async function confirm(event) {
    event.preventDefault();
    const code = $('totp-code');
    if (!/^\d{6}$/.test(code.value.trim())) {
      showError($('totp-error'), 'Enter the 6-digit code shown in your authenticator app.');
      setInvalid(code, true);
      code.focus();
      return;
    }
    try {
      await api('POST', '/v1/totp/confirm', { body: { code: code.value.trim() } });
      setInvalid(code, false);
      showError($('totp-error'), '');
      code.value = '';
      session.setTotp(true);
      render();
      announce('Two-factor authentication is on.');
      onChanged();
    } catch (err) {
      if (err.handled) return;
      const text = err.code === 'invalid_code'
        ? 'That code does not match. Check that your phone shows the right time and enter the newest code.'
        : errorText(err);
      showError($('totp-error'), text);
      setInvalid(code, true);
      code.focus();
    }
  }

  function askOff() {
    showError($('totp-error'), '');
    $('totp-off-form').reset();
    setInvalid($('totp-off-password'), false);
    setInvalid($('totp-off-code'), false);
    $('totp-off-form').hidden = false;
    $('totp-off-password').focus();
  }

  /** DELETE /v1/totp with the password and a current code. */
  async function turnOff(event) {
    event.preventDefault();
    const password = $('totp-off-password');
    const code = $('totp-off-code');
    setInvalid(password, false);
    setInvalid(code, false);
    const missing = !password.value ? password : !/^\d{6}$/.test(code.value.trim()) ? code : null;
    if (missing) {
      showError($('totp-error'), 'Enter your password and the 6-digit code shown in your authenticator app.');
      setInvalid(missing, true);
      missing.focus();
      return;
    }
    showError($('totp-error'), '');
    try {
      await api('DELETE', '/v1/totp', { body: { password: password.value, totp: code.value.trim() } });
      $('totp-off-form').reset();
      session.setTotp(false);
      render();
      announce('Two-factor authentication is off. Signing in asks for your password only.');
      onChanged();
    } catch (err) {
      if (err.handled) return;
      if (err.code === 'totp_not_enabled') {
        session.setTotp(false);
        render();
      }
      showError($('totp-error'), errorText(err, {
        reauthFailed: 'That password or code is wrong. Two-factor authentication is still on.',
      }));
      if (err.code === 'reauth_failed' || err.code === 'reauth_required') {
        setInvalid(password, true);
        setInvalid(code, true);
        password.focus();
      }
    }
  }

  /**
   * A `security` push: another device turned two-factor authentication on or off. Nobody was
   * signed out; the owner is told, in case it was not them.
   */
  function changedElsewhere(event) {
    const on = event === 'totp_enabled';
    if (!on && event !== 'totp_disabled') return;
    session.setTotp(on);
    render();
    announce(on
      ? 'Two-factor authentication was turned on from another device. If that was not you, change your password.'
      : 'Two-factor authentication was turned off from another device. If that was not you, change your password.');
    onChanged();
  }

  return {
    render,
    changedElsewhere,
    wire() {
      $('totp-start').addEventListener('click', ask);
      $('totp-reauth-form').addEventListener('submit', start);
      $('totp-reauth-cancel').addEventListener('click', () => { $('totp-reauth-form').hidden = true; showError($('totp-error'), ''); });
      $('totp-confirm-form').addEventListener('submit', confirm);
      $('totp-off').addEventListener('click', askOff);
      $('totp-off-form').addEventListener('submit', turnOff);
      $('totp-off-cancel').addEventListener('click', () => { $('totp-off-form').hidden = true; showError($('totp-error'), ''); });
    },
  };
}
