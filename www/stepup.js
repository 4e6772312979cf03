// Step-up: a request the edge refused because this session's last confirmation is too old, or was
// not made with the method asked for (a 401 `insufficient_user_authentication`, read by api.js),
// opens the re-auth dialog — with only a passkey when the rule asks for one (`hwk`), saying why.
// The proof goes to POST /v1/reauth, which re-mints this session's token with the new
// confirmation's time and methods (same session, same device: nothing is signed out); the session
// swaps it in, as after a password change, and api.js sends the request once more.
import { $ } from './dom.js';
import { stepUpPlan, stepUpText } from './proof.js';

/** `api`, `session`, `reauth` (reauth.js). */
export function createStepUp({ api, session, reauth }) {
  /** The dialog open for a step-up: requests refused meanwhile wait for the same answer. */
  let pending = null;

  async function ask(requirement) {
    if (!session.token || $('account-view').hidden) return false;
    const plan = stepUpPlan(requirement);
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const done = await reauth.ask({
      action: 'step-up',
      title: 'Confirm it is you',
      strength: plan.strength,
      passkeyOnly: plan.passkeyOnly,
      why: stepUpText(requirement),
      confirm: 'Continue',
      nothingChanged: 'Nothing was done.',
      opener,
      send: async (proof) => {
        const answer = await api('POST', '/v1/reauth', { body: proof });
        if (!session.replaceToken(answer?.token)) throw Object.assign(new Error('The confirmation gave no new token. Nothing was done.'), { code: 'no_token' });
        return true;
      },
    });
    return Boolean(done);
  }

  return {
    /** Resolves true once the session holds a token from a fresh confirmation, false when not given. */
    confirm(requirement) {
      pending ??= ask(requirement).finally(() => { pending = null; });
      return pending;
    },
  };
}
