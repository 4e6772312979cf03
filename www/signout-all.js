// "Sign out of all devices": a confirmation dialog that asks for the password (or a TOTP code) and
// offers to keep this device signed in.
import { errorText } from './api.js';
import { $, announce, setInvalid, showError } from './dom.js';

/** `api`, `session`; `refresh()` reloads the device list and the activity. */
export function createSignOutAll({ api, session, refresh }) {
  function open() {
    const d = $('sign-out-all-dialog');
    $('sign-out-all-form').reset();
    showError($('soa-error'), '');
    setInvalid($('soa-password'), false);
    setInvalid($('soa-totp'), false);
    $('soa-totp-field').hidden = !session.totp;
    $('soa-use-totp').hidden = session.totp;
    $('soa-confirm').disabled = false;
    d.showModal();
    $('soa-password').focus();
  }

  function close() {
    const d = $('sign-out-all-dialog');
    if (d.open) d.close();
  }

  function offerTotp() {
    $('soa-totp-field').hidden = false;
    $('soa-use-totp').hidden = true;
  }

  async function confirm(event) {
    event.preventDefault();
    const password = $('soa-password').value;
    const totp = $('soa-totp').value.trim();
    const keep = $('soa-keep').checked;
    const body = { keep_current: keep };
    if (password) body.password = password;
    else if (totp) body.totp = totp;
    $('soa-confirm').disabled = true;
    showError($('soa-error'), '');
    const end = session.begin('self-all');
    try {
      const res = await api('POST', '/v1/sessions/sign-out-all', { body });
      if (res?.token) {
        session.replaceToken(res.token);
        $('sign-out-all-dialog').close();
        announce('Signed out of all other devices. They must sign in again; this device stays signed in. Your profiles and history are kept.');
        await refresh();
      } else {
        session.leave({ kind: 'self-all' });
      }
    } catch (err) {
      if (err.handled) return;
      const nothing = 'No device was signed out.';
      let text = errorText(err, {
        reauthFailed: `That password or code is wrong. ${nothing}`,
        rateLimited: `${nothing} `,
        network: 'Your devices may still be signed in; check your connection and try again.',
      });
      if (err.code === 'reauth_required') {
        text = 'Enter your password, or the code from your authenticator app if two-factor authentication is on.';
        offerTotp();
      }
      showError($('soa-error'), text);
      const field = !$('soa-totp-field').hidden && !password ? $('soa-totp') : $('soa-password');
      setInvalid(field, err.code === 'reauth_failed' || err.code === 'reauth_required');
      $('soa-confirm').disabled = false;
      field.focus();
    } finally {
      end();
    }
  }

  return {
    close,
    wire() {
      $('sign-out-all-button').addEventListener('click', open);
      $('sign-out-all-form').addEventListener('submit', confirm);
      $('soa-cancel').addEventListener('click', () => $('sign-out-all-dialog').close());
      $('soa-use-totp').addEventListener('click', () => {
        offerTotp();
        $('soa-totp').focus();
      });
      // Focus goes back to the button that opened the dialog, however it was closed.
      $('sign-out-all-dialog').addEventListener('close', () => {
        if (!$('account-view').hidden) $('sign-out-all-button').focus();
      });
    },
  };
}
