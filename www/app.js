// The Manage-devices page: sign up / sign in (with a second factor or a recovery code, or a
// password reset, or with a passkey), the device list with per-device and all-device sign-out,
// the account's security (recent security events, password and email change, two-factor
// authentication, recovery codes, passkeys — each confirmed in the one re-auth dialog, where a
// passkey also confirms), "Secure your account" from a mailed link, a demo payment guarded by a
// step-up rule, activity, live sign-out (and security notices) over /v1/events and a token
// inspector backed by the in-browser validator. Plain ES modules, no framework.
//
// This module only wires: the session machine (session.js) holds the token and decides when the
// session ends; the API client (api.js) reports token refusals to it; each feature module gets
// what it needs as arguments and never imports this one. The module map is in docs/DESIGN.md.
import { createAccount } from './account.js';
import { createActivity, elsewhereText } from './activity.js';
import { createApi, errorText } from './api.js';
import { createAuthForm } from './auth.js';
import { createDevices } from './devices.js';
import { $, announce, meta, refreshTimes, showError, showView } from './dom.js';
import { createInspector } from './inspector.js';
import { createLive } from './live.js';
import { LocalValidator } from './local.js';
import { createPasskeys } from './passkeys.js';
import { createPasswordForm } from './password.js';
import { createPayments } from './payments.js';
import { createReauth } from './reauth.js';
import { createRecovery } from './recovery.js';
import { createReset, takeSecureToken } from './reset.js';
import { Session, createTokenStore } from './session.js';
import { createSignOutAll } from './signout-all.js';
import { createStepUp } from './stepup.js';
import { createTotp } from './totp.js';
import { passkeySupport } from './webauthn.js';

// Before anything else: the token of a secure-account link leaves the address bar and history.
const secureLink = takeSecureToken();

const session = new Session({ store: createTokenStore(sessionStorage) });
const local = new LocalValidator({ issuer: meta('epochgate-issuer'), audience: meta('epochgate-audience') });
const api = createApi({
  getToken: () => session.token,
  onTokenRefused: ({ reason, detail }) => session.leave({ kind: 'token', reason, detail }),
  onStepUp: (requirement) => stepUp.confirm(requirement),
});
const support = passkeySupport();

const inspector = createInspector({ local, session });
const reauth = createReauth({
  api,
  session,
  onStale: () => account.load(),
  passkeys: {
    offered: () => passkeys.offered(),
    unavailableText: () => passkeys.unavailableText(),
    changed: () => passkeys.load(),
  },
});
const stepUp = createStepUp({ api, session, reauth });
const account = createAccount({
  api,
  session,
  reauth,
  onChange: (info) => { totp.render(); recovery.render(info); },
  onEmailChanged: () => activity.load(),
});
const live = createLive({ api, session, onSecurity: changedElsewhere });
const devices = createDevices({ api, session, check: checkLocally, refresh });
const activity = createActivity({ api, session, deviceNames: () => devices.names() });
const signOutAll = createSignOutAll({ api, session, reauth, refresh });
const password = createPasswordForm({ api, session, reauth, refresh });
const totp = createTotp({ api, session, reauth, onChanged: accountChanged });
const recovery = createRecovery({ api, session, reauth, account, onChanged: accountChanged });
const passkeys = createPasskeys({ api, session, reauth, support, onChanged: () => activity.load() });
const payments = createPayments({ api });
const reset = createReset({ api, showSignIn, cancel: leaveSecurePage });
const auth = createAuthForm({ api, session, enter: enterAccount, reset, support });

/** Reloads the device list, the activity, the account (a recovery code may have been used) and the passkeys. */
function refresh() {
  return Promise.all([devices.load(), activity.load(), account.load(), passkeys.load()]);
}

/** Reloads the account (two-factor state, recovery codes left, email) and the activity. */
function accountChanged() {
  return Promise.all([account.load(), activity.load()]);
}

/** A `security` push: a change made from another device. Nobody was signed out. */
function changedElsewhere(event) {
  if (event === 'totp_enabled' || event === 'totp_disabled') {
    totp.changedElsewhere(event);
    return;
  }
  const text = elsewhereText(event);
  if (text) announce(text);
  accountChanged();
  if (event === 'passkey_added' || event === 'passkey_removed') passkeys.load();
}

/** The sign-in form with `email` filled in, after a password reset; `text` is announced. */
function showSignIn(email, text) {
  auth.hideSignedOut();
  auth.show(email);
  if (text) announce(text);
  $(email ? 'auth-password' : 'auth-email').focus();
}

/** Cancel on the secure-account page: back to where this tab was. */
function leaveSecurePage() {
  if (session.state === 'signed_in') {
    showView('account');
    $('devices-title').focus();
  } else {
    start();
  }
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
  // The stored two-factor state until GET /v1/account answers.
  totp.render();
  recovery.render(null);
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
  reauth.close();
  recovery.hide();
  account.clear();
  passkeys.clear();
  payments.clear();
  auth.showSignedOut(why);
  $('status').textContent = '';
  // A password reset or the secure-account page in progress stays: it is why we were signed out.
  if ($('reset-view').hidden && $('secure-view').hidden) auth.show();
  inspector.render(session.lastToken);
  // The push can outrun the revocation updates: show the verdict on the newest state.
  local.pull().then(() => { if (!session.token) inspector.render(session.lastToken); });
  $('signed-out-title').focus();
});
session.on('stored', (token) => inspector.render(token));

function wire() {
  auth.wire();
  reset.wire();
  reauth.wire();
  account.wire();
  devices.wire();
  signOutAll.wire();
  password.wire();
  totp.wire();
  recovery.wire();
  passkeys.wire();
  payments.wire();
  activity.wire();
  inspector.wire();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && session.token) { local.pull().then(checkLocally); devices.load(); }
  });
  // A secure-account link opened in a tab that already shows the page.
  window.addEventListener('hashchange', () => {
    const link = takeSecureToken();
    if (link !== null) { reauth.close(); reset.showSecure(link); }
  });
}

/** The stored session if there is one, else the sign-in form. */
async function start() {
  if (session.restore()) {
    await enterAccount();
  } else {
    auth.show();
    local.ready.then(() => inspector.render(null));
  }
}

async function main() {
  wire();
  if (secureLink !== null) {
    reset.showSecure(secureLink);
    local.ready.then(() => inspector.render(null));
    return;
  }
  await start();
}

main();
