// Two-factor authentication: enrolment with the setup link as text and as a QR code, then a code
// from the app to confirm.
import { errorText } from './api.js';
import { $, announce, el, setInvalid, showError } from './dom.js';

/** `api`, `session`; `onEnabled()` runs after the API turned it on (e.g. to reload the activity). */
export function createTotp({ api, session, onEnabled = () => {} }) {
  /** The sentence and button for the session's current two-factor state. */
  function render() {
    $('totp-state').textContent = session.totp
      ? 'Two-factor authentication is on: signing in asks for a code from your authenticator app.'
      : 'Add a code from an authenticator app to your password.';
    $('totp-start').hidden = session.totp;
  }

  async function start() {
    showError($('totp-error'), '');
    try {
      const res = await api('POST', '/v1/totp', { body: {} });
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
      showError($('totp-error'), errorText(err));
    }
  }

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
      $('totp-setup').hidden = true;
      $('totp-uri').value = '';
      $('totp-qr').replaceChildren();
      session.setTotp(true);
      render();
      announce('Two-factor authentication is on.');
      onEnabled();
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

  return {
    render,
    wire() {
      $('totp-start').addEventListener('click', start);
      $('totp-confirm-form').addEventListener('submit', confirm);
    },
  };
}
