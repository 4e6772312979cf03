// "Sign out of all devices": the consequences, a choice to keep this device signed in, and the
// proof of who is asking (any one proof: the re-auth dialog of reauth.js).
import { $, announce } from './dom.js';

/** `api`, `session`, `reauth` (reauth.js); `refresh()` reloads the device list, the activity and the account. */
export function createSignOutAll({ api, session, reauth, refresh }) {
  async function open() {
    $('soa-keep').checked = false;
    const res = await reauth.ask({
      action: 'sign-out-all',
      title: 'Sign out of all devices?',
      strength: 'any',
      confirm: 'Sign out of all devices',
      danger: true,
      nothingChanged: 'No device was signed out.',
      network: 'Your devices may still be signed in; check your connection and try again.',
      opener: $('sign-out-all-button'),
      send: async (proof) => {
        const keep = $('soa-keep').checked;
        // Our own push and the old token's local verdict must not end the session: the answer says.
        const end = session.begin('self-all');
        try {
          const answer = await api('POST', '/v1/sessions/sign-out-all', { body: { ...proof, keep_current: keep } });
          if (answer?.token) session.replaceToken(answer.token);
          else session.leave({ kind: 'self-all' });
          return answer ?? {};
        } finally {
          end();
        }
      },
    });
    if (res?.token) {
      announce('Signed out of all other devices. They must sign in again; this device stays signed in. Your profiles and history are kept.');
      await refresh();
    }
  }

  return {
    wire() {
      $('sign-out-all-button').addEventListener('click', open);
    },
  };
}
