// Recovery codes: with two-factor authentication on, ten single-use codes that stand in for the
// authenticator app (at sign-in and when confirming a change). New ones need strong proof and
// replace the old set; they are shown once, to copy or download, and never stored by the page —
// not in storage, not after "Done", not after a reload.
import { $, announce, el, showError } from './dom.js';

/** The text file offered for download: a header that says what the codes are, then one a line. */
export function codesText(codes, { email = '', at = new Date() } = {}) {
  return [
    `epochgate recovery codes${email ? ` for ${email}` : ''}`,
    `Created ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC. Creating new codes makes these stop working.`,
    'Each code signs you in once instead of a code from your authenticator app.',
    '',
    ...codes,
    '',
  ].join('\n');
}

/** The sentence for how many codes are left (`info`: GET /v1/account's answer, null before it). */
export function remainingText(info) {
  if (!info) return 'Recovery codes let you sign in when you cannot use your authenticator app.';
  if (!info.totp_enabled) return 'Recovery codes let you sign in when you cannot use your authenticator app. Turn on two-factor authentication to get them.';
  const n = info.recovery_codes_remaining ?? 0;
  if (n === 0) return 'You have no unused recovery codes. Get new ones, so that you can still sign in without your phone.';
  return `You have ${n} unused recovery ${n === 1 ? 'code' : 'codes'}.`;
}

/** `api`, `session`, `reauth` (reauth.js), `account` (account.js); `onChanged()` reloads the account and activity. */
export function createRecovery({ api, session, reauth, account, onChanged = () => {} }) {
  let shown = [];

  function render(info = account.info) {
    $('recovery-state').textContent = remainingText(info);
    $('recovery-new').hidden = !info?.totp_enabled;
    $('recovery-new').textContent = info?.recovery_codes_remaining ? 'Get new recovery codes' : 'Get recovery codes';
  }

  /** Removes the codes from the page. */
  function hide() {
    shown = [];
    $('recovery-codes').replaceChildren();
    $('recovery-show').hidden = true;
    showError($('recovery-error'), '');
  }

  async function generate() {
    hide();
    const res = await reauth.ask({
      action: 'recovery',
      title: 'Get new recovery codes?',
      strength: 'strong',
      confirm: 'Get new codes',
      nothingChanged: 'Your recovery codes were not changed.',
      explain: (err) => {
        if (err.code !== 'totp_not_enabled') return undefined;
        onChanged();
        return 'Two-factor authentication is off, so there are no recovery codes to get. Turn it on first.';
      },
      opener: $('recovery-new'),
      send: (proof) => api('POST', '/v1/recovery-codes', { body: proof }),
    });
    if (!res || !session.token) return;
    shown = Array.isArray(res.codes) ? res.codes.map(String) : [];
    $('recovery-codes').replaceChildren(...shown.map((c) => el('li', '', c)));
    $('recovery-show').hidden = false;
    $('recovery-show-title').focus();
    onChanged();
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(shown.join('\n'));
      announce('The recovery codes were copied.');
    } catch {
      showError($('recovery-error'), 'The codes could not be copied here: select them and copy them, or download them.');
    }
  }

  function download() {
    const blob = new Blob([codesText(shown, { email: account.info?.email ?? session.email })], { type: 'text/plain;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = el('a');
    a.href = url;
    a.download = 'epochgate-recovery-codes.txt';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  return {
    render,
    hide,
    wire() {
      $('recovery-new').addEventListener('click', generate);
      $('recovery-copy').addEventListener('click', copy);
      $('recovery-download').addEventListener('click', download);
      $('recovery-done').addEventListener('click', () => {
        hide();
        announce('The recovery codes are hidden and will not be shown again.');
        $('recovery-new').focus();
      });
    },
  };
}
