// Change password: the new password twice here, then any one proof of who is asking (the re-auth
// dialog: the current password, an emailed code, or a second factor). This device stays signed
// in with the new token the API answers; every other device is signed out.
import { $, announce, setInvalid, showError } from './dom.js';

/** `api`, `session`, `reauth` (reauth.js); `refresh()` reloads the device list, the activity and the account. */
export function createPasswordForm({ api, session, reauth, refresh }) {
  async function change(event) {
    event.preventDefault();
    const next = $('new-password');
    const again = $('new-password-again');
    const error = $('password-error');
    for (const i of [next, again]) setInvalid(i, false);
    if (next.value.length < 8) { showError(error, 'The new password needs at least 8 characters.'); setInvalid(next, true); next.focus(); return; }
    if (next.value !== again.value) { showError(error, 'The two new passwords differ.'); setInvalid(again, true); again.focus(); return; }
    showError(error, '');
    const button = $('password-submit');
    const done = await reauth.ask({
      action: 'password',
      title: 'Change your password?',
      strength: 'any',
      confirm: 'Change password',
      passwordField: 'current_password',
      nothingChanged: 'Your password was not changed.',
      opener: button,
      send: async (proof) => {
        // The new token replaces ours: the old one's local verdict must not end the session meanwhile.
        const end = session.begin();
        try {
          const res = await api('POST', '/v1/password', { body: { ...proof, new_password: next.value, keep_current: true } });
          if (res?.token) session.replaceToken(res.token);
          return true;
        } finally {
          end();
        }
      },
    });
    if (!done) return;
    $('password-form').reset();
    announce('Password changed. Every other device was signed out and must sign in with the new password.');
    await refresh();
  }

  return {
    wire() {
      $('password-form').addEventListener('submit', change);
    },
  };
}
