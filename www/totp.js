// Two-factor authentication: enrolment (strong proof first, then the setup link as text and as a
// QR code, then a code from the app to confirm), turning it off (strong proof: with 2FA on that is
// the password or an emailed code and a current or recovery code), and what the page does when
// another device turned it on or off.
import { errorText } from './api.js';
import { $, announce, el, setInvalid, showError } from './dom.js';

/**
 * `api`, `session` (its `totp` is the account's state, from GET /v1/account), `reauth`
 * (reauth.js); `onChanged()` runs after it was turned on or off (reloads the account, activity).
 */
export function createTotp({ api, session, reauth, onChanged = () => {} }) {
  /** The sentence and buttons for the account's two-factor state. */
  function render() {
    $('totp-state').textContent = session.totp
      ? 'Two-factor authentication is on: signing in asks for a code from your authenticator app.'
      : 'Add a code from an authenticator app to your password.';
    $('totp-start').hidden = session.totp;
    $('totp-off').hidden = !session.totp;
    if (session.totp) clearSetup();
  }

  function clearSetup() {
    $('totp-setup').hidden = true;
    $('totp-uri').value = '';
    $('totp-qr').replaceChildren();
  }

  /** Errors of the routes themselves; the dialog explains the re-auth ones. */
  function explain(err) {
    if (err.code === 'totp_already_enabled') {
      onChanged();
      return 'Two-factor authentication is already on (perhaps turned on from another device).';
    }
    if (err.code === 'totp_not_enabled') {
      onChanged();
      return 'Two-factor authentication is already off (perhaps turned off from another device).';
    }
    return undefined;
  }

  /** Step 1: strong proof, then POST /v1/totp; shows the secret. */
  async function start() {
    showError($('totp-error'), '');
    const res = await reauth.ask({
      action: 'totp-on',
      title: 'Set up two-factor authentication',
      strength: 'strong',
      confirm: 'Continue',
      nothingChanged: 'Two-factor authentication was not set up.',
      explain,
      opener: $('totp-start'),
      send: (proof) => api('POST', '/v1/totp', { body: proof }),
    });
    if (!res) return;
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
  }

  /** Step 2: the first code turns it on. */
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
      announce('Two-factor authentication is on. Now get recovery codes, so that you can still sign in without your phone.');
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

  /** Strong proof, then DELETE /v1/totp. */
  async function turnOff() {
    showError($('totp-error'), '');
    const done = await reauth.ask({
      action: 'totp-off',
      title: 'Turn off two-factor authentication?',
      strength: 'strong',
      confirm: 'Turn it off',
      danger: true,
      nothingChanged: 'Two-factor authentication is still on.',
      explain,
      opener: $('totp-off'),
      send: async (proof) => { await api('DELETE', '/v1/totp', { body: proof }); return true; },
    });
    if (!done) return;
    session.setTotp(false);
    render();
    announce('Two-factor authentication is off. Signing in asks for your password only.');
    onChanged();
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
      $('totp-start').addEventListener('click', start);
      $('totp-confirm-form').addEventListener('submit', confirm);
      $('totp-off').addEventListener('click', turnOff);
      $('totp-setup-cancel').addEventListener('click', () => { clearSetup(); showError($('totp-error'), ''); $('totp-start').focus(); });
    },
  };
}
