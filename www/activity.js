// Recent activity of the account: sign-ins, failed attempts, sign-outs, password and two-factor
// changes, newest first.
import { errorText } from './api.js';
import { $, el, timeEl } from './dom.js';

/** What each activity `type` of GET /v1/activity reads as; unknown types show as they are. */
export const EVENT_LABEL = Object.freeze({
  account_created: 'Account created',
  sign_in: 'Signed in',
  sign_in_failed: 'Failed sign-in attempt',
  sign_out: 'A device was signed out',
  sign_out_all: 'Signed out of all devices',
  password_changed: 'Password changed',
  reauth_failed: 'Wrong password when confirming a change',
  totp_enabled: 'Two-factor authentication turned on',
  totp_disabled: 'Two-factor authentication turned off',
});

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
    } catch (err) {
      if (!err.handled) $('activity').replaceChildren(el('li', 'error', `Activity could not be loaded. ${errorText(err)}`));
    }
  }

  return {
    load,
    wire() {
      $('activity-refresh').addEventListener('click', () => load());
    },
  };
}
