// Recent activity of the account: sign-ins, failed attempts, sign-outs, password, email, recovery,
// two-factor and passkey changes, newest first; and at the top of the page the last few security
// events, the ones an owner should notice if they were not theirs.
import { errorText } from './api.js';
import { $, el, timeEl } from './dom.js';

/** What each activity `type` of GET /v1/activity reads as; unknown types show as they are. */
export const EVENT_LABEL = Object.freeze({
  account_created: 'Account created',
  sign_in: 'Signed in',
  sign_in_new_device: 'Signed in from a new device or place',
  sign_in_failed: 'Failed sign-in attempt',
  sign_out: 'A device was signed out',
  sign_out_all: 'Signed out of all devices',
  password_changed: 'Password changed',
  password_reset: 'Password reset with an emailed code',
  reauth_failed: 'Wrong password or code when confirming a change',
  totp_enabled: 'Two-factor authentication turned on',
  totp_disabled: 'Two-factor authentication turned off',
  recovery_codes_generated: 'New recovery codes created',
  recovery_code_used: 'A recovery code was used',
  email_changed: 'Email address changed',
  account_secured: 'Account secured: every device signed out',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  passkey_counter_regressed: 'A passkey was refused: its counter went back, so it may have been copied',
});

/** The kinds shown under "Recent security events". */
export const SECURITY_KINDS = Object.freeze(['sign_in_new_device', 'totp_enabled', 'totp_disabled', 'password_changed',
  'password_reset', 'recovery_codes_generated', 'recovery_code_used', 'email_changed', 'account_secured',
  'passkey_added', 'passkey_removed', 'passkey_counter_regressed']);

/** The newest `count` security events of an activity list (newest first, as the API answers). */
export function securityEvents(events, count = 5) {
  return (events ?? []).filter((e) => SECURITY_KINDS.includes(e.type)).slice(0, count);
}

const ELSEWHERE = Object.freeze({
  recovery_codes_generated: 'New recovery codes were created from another device.',
  recovery_code_used: 'A recovery code was used on another device.',
  email_changed: 'The email address of your account was changed from another device.',
  passkey_added: 'A passkey was added to your account from another device.',
  passkey_removed: 'A passkey was removed from your account from another device.',
});

/**
 * What to tell the owner about a `security` push (a change made from another device), or null
 * when the push needs no sentence here (two-factor changes have their own, in totp.js).
 */
export function elsewhereText(event) {
  return Object.hasOwn(ELSEWHERE, event) ? `${ELSEWHERE[event]} If that was not you, change your password.` : null;
}

/** `api`, `session`; `deviceNames()`: session id → device name, to say which device it was. */
export function createActivity({ api, session, deviceNames }) {
  function item(e, names) {
    const li = el('li');
    let what = EVENT_LABEL[e.type] ?? e.type;
    if (e.session && names.has(e.session)) what += ` — ${names.get(e.session)}`;
    li.append(el('strong', '', what), ' ');
    const details = [e.location, e.ip].filter(Boolean).join(' · ');
    const when = el('span', 'when');
    when.append(timeEl(e.at), details ? ` · ${details}` : '');
    li.append(when);
    return li;
  }

  async function load() {
    if (!session.token) return;
    try {
      const { events } = await api('GET', '/v1/activity');
      if (!session.token) return;
      const names = deviceNames();
      $('activity').replaceChildren(...events.slice(0, 50).map((e) => item(e, names)));
      const security = securityEvents(events);
      $('security-events').replaceChildren(...security.map((e) => item(e, names)));
      $('security-events-empty').hidden = security.length > 0;
    } catch (err) {
      if (err.handled) return;
      const text = `Activity could not be loaded. ${errorText(err)}`;
      $('activity').replaceChildren(el('li', 'error', text));
      $('security-events').replaceChildren(el('li', 'error', text));
      $('security-events-empty').hidden = true;
    }
  }

  return {
    load,
    wire() {
      $('activity-refresh').addEventListener('click', () => load());
    },
  };
}
