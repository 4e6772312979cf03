// Change password: keeps this device signed in with the new token the API answers and signs out
// every other device.
import { errorText } from './api.js';
import { $, announce, setInvalid, showError } from './dom.js';

/** `api`, `session`; `refresh()` reloads the device list and the activity. */
export function createPasswordForm({ api, session, refresh }) {
  async function change(event) {
    event.preventDefault();
    const current = $('current-password');
    const next = $('new-password');
    const again = $('new-password-again');
    const error = $('password-error');
    for (const i of [current, next, again]) setInvalid(i, false);
    if (!current.value) { showError(error, 'Enter your current password.'); setInvalid(current, true); current.focus(); return; }
    if (next.value.length < 8) { showError(error, 'The new password needs at least 8 characters.'); setInvalid(next, true); next.focus(); return; }
    if (next.value !== again.value) { showError(error, 'The two new passwords differ.'); setInvalid(again, true); again.focus(); return; }
    showError(error, '');
    const button = event.submitter ?? $('password-form').querySelector('button');
    button.disabled = true;
    // The new token replaces ours: the old one's local verdict must not end the session meanwhile.
    const end = session.begin();
    try {
      const res = await api('POST', '/v1/password', { body: { current_password: current.value, new_password: next.value, keep_current: true } });
      if (res?.token) session.replaceToken(res.token);
      $('password-form').reset();
      announce('Password changed. Every other device was signed out and must sign in with the new password.');
      await refresh();
    } catch (err) {
      if (!err.handled) {
        showError(error, errorText(err, { reauthFailed: 'The current password is wrong. Your password was not changed.' }));
        if (err.code === 'reauth_failed') { setInvalid(current, true); current.focus(); }
      }
    } finally {
      end();
      button.disabled = false;
    }
  }

  return {
    wire() {
      $('password-form').addEventListener('submit', change);
    },
  };
}
