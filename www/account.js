// The account as GET /v1/account describes it — its email, whether two-factor authentication is
// on, how many recovery codes are left — and the email change (strong proof, POST /v1/email).
// The two-factor state is learnt here, not from how the sign-in went: another device may have
// changed it since.
import { errorText } from './api.js';
import { $, announce, setInvalid, showError } from './dom.js';

export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * `api`, `session`, `reauth` (reauth.js); `onChange(info)` runs after every load, `onEmailChanged()`
 * after the email was changed (e.g. to reload the activity).
 */
export function createAccount({ api, session, reauth, onChange = () => {}, onEmailChanged = () => {} }) {
  let info = null;

  function render() {
    const email = info?.email ?? session.email;
    $('whoami').textContent = email ? `Signed in as ${email}` : 'Signed in';
    $('email-current').textContent = email || 'unknown';
  }

  /** GET /v1/account; the answer (also kept), or null when it could not be loaded. */
  async function load() {
    if (!session.token) return null;
    try {
      const answer = await api('GET', '/v1/account');
      if (!session.token) return null;
      info = answer;
      session.setTotp(answer.totp_enabled);
      if (answer.email) session.setEmail(answer.email);
      showError($('account-error'), '');
      render();
      onChange(info);
      return info;
    } catch (err) {
      if (!err.handled) showError($('account-error'), `Your account details could not be loaded. ${errorText(err)}`);
      render();
      return null;
    }
  }

  async function changeEmail(event) {
    event.preventDefault();
    const input = $('new-email');
    const error = $('email-error');
    const next = input.value.trim();
    setInvalid(input, false);
    if (!EMAIL_PATTERN.test(next)) { showError(error, 'Enter the new email address, like name@example.com.'); setInvalid(input, true); input.focus(); return; }
    if (next.toLowerCase() === (info?.email ?? '').toLowerCase()) { showError(error, 'That is already your email address.'); setInvalid(input, true); input.focus(); return; }
    showError(error, '');
    const res = await reauth.ask({
      action: 'email',
      title: 'Change your email address?',
      strength: 'strong',
      confirm: 'Change email address',
      nothingChanged: 'Your email address was not changed.',
      explain: (err) => (err.code === 'account_exists'
        ? 'Another account already uses that email address. Your email address was not changed.'
        : undefined),
      opener: $('email-submit'),
      send: (proof) => api('POST', '/v1/email', { body: { new_email: next, ...proof } }),
    });
    if (!res) return;
    $('email-form').reset();
    announce(`Your email address is now ${res.email ?? next}. Sign in with it from now on. We sent a notice to the old and the new address.`);
    await Promise.all([load(), onEmailChanged()]);
  }

  return {
    load,
    get info() { return info; },
    /** Forgets what was loaded (the session ended). */
    clear() { info = null; },
    wire() {
      $('email-form').addEventListener('submit', changeEmail);
    },
  };
}
