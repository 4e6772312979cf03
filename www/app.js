// The Manage-devices page: sign up / sign in, the device list with per-device and all-device
// sign-out, password change, two-factor authentication, activity, live sign-out (and security
// notices) over /v1/events and a token inspector backed by the in-browser validator. Plain ES
// modules, no framework.
//
// This module only wires: the session machine (session.js) holds the token and decides when the
// session ends; the API client (api.js) reports token refusals to it; each feature module gets
// what it needs as arguments and never imports this one. The module map is in docs/DESIGN.md.
import { createActivity } from './activity.js';
import { createApi, errorText } from './api.js';
import { createAuthForm } from './auth.js';
import { createDevices } from './devices.js';
import { $, meta, refreshTimes, showError, showView } from './dom.js';
import { createInspector } from './inspector.js';
import { createLive } from './live.js';
import { LocalValidator } from './local.js';
import { createPasswordForm } from './password.js';
import { Session, createTokenStore } from './session.js';
import { createSignOutAll } from './signout-all.js';
import { createTotp } from './totp.js';

const session = new Session({ store: createTokenStore(sessionStorage) });
const local = new LocalValidator({ issuer: meta('epochgate-issuer'), audience: meta('epochgate-audience') });
const api = createApi({
  getToken: () => session.token,
  onTokenRefused: ({ reason, detail }) => session.leave({ kind: 'token', reason, detail }),
});

const inspector = createInspector({ local, session });
const live = createLive({ api, session, onSecurity: (event) => totp.changedElsewhere(event) });
const devices = createDevices({ api, session, check: checkLocally, refresh });
const activity = createActivity({ api, session, deviceNames: () => devices.names() });
const signOutAll = createSignOutAll({ api, session, refresh });
const password = createPasswordForm({ api, session, refresh });
const totp = createTotp({ api, session, onChanged: () => activity.load() });
const auth = createAuthForm({ api, session, enter: enterAccount });

/** Reloads the device list and the activity. */
function refresh() {
  return Promise.all([devices.load(), activity.load()]);
}

/**
 * The local verdict on the current token, shown in the inspector; the session machine leaves
 * when it is certainly invalid. Returns false when the session is over.
 */
function checkLocally() {
  if (!session.token) return false;
  const r = local.check(session.token);
  inspector.render(session.token, r);
  return session.localVerdict(r) !== 'left';
}

let timers = [];

function startTimers() {
  timers.push(setInterval(async () => {
    await local.pull();
    checkLocally();
  }, 5000));
  timers.push(setInterval(refreshTimes, 30000));
  timers.push(setInterval(() => { if (!document.hidden) devices.load(); }, 60000));
}

function stopTimers() {
  for (const t of timers) clearInterval(t);
  timers = [];
}

/** checking → signed_in: the local check, then GET /v1/me; keeps the token when unreachable. */
async function enterAccount() {
  // A revoked token must not flash the account view: wait (briefly) for the local validator.
  await Promise.race([local.ready, new Promise((r) => setTimeout(r, 3000))]);
  if (!checkLocally()) return;
  let me;
  try {
    me = await api('GET', '/v1/me');
  } catch (err) {
    if (!err.handled && session.unreachable()) {
      // The session may be fine and the server out of reach: keep it and try again.
      showView('none');
      showError($('page-error'), `Your session could not be checked. ${errorText(err, { network: 'Trying again in a few seconds…' })}`);
      setTimeout(() => { if (session.retry()) enterAccount(); }, 5000);
    }
    return;
  }
  if (!session.confirmed(me)) return;
  showError($('page-error'), '');
  auth.hideSignedOut();
  $('whoami').textContent = session.email ? `Signed in as ${session.email}` : 'Signed in';
  showView('account');
  totp.render();
  $('devices-title').focus();
  live.open();
  await refresh();
  if (session.state === 'signed_in') startTimers();
}

// Whatever ended the session (push, 401, local verdict, our own sign-out): leave the account view
// at once, say why, and show the verdict on the last token.
session.on('left', (why) => {
  live.close();
  stopTimers();
  signOutAll.close();
  auth.showSignedOut(why);
  $('status').textContent = '';
  auth.show();
  inspector.render(session.lastToken);
  // The push can outrun the revocation updates: show the verdict on the newest state.
  local.pull().then(() => { if (!session.token) inspector.render(session.lastToken); });
  $('signed-out-title').focus();
});
session.on('stored', (token) => inspector.render(token));

function wire() {
  auth.wire();
  devices.wire();
  signOutAll.wire();
  password.wire();
  totp.wire();
  activity.wire();
  inspector.wire();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && session.token) { local.pull().then(checkLocally); devices.load(); }
  });
}

async function main() {
  wire();
  if (session.restore()) {
    await enterAccount();
  } else {
    auth.show();
    local.ready.then(() => inspector.render(null));
  }
}

main();
