// The Manage-devices page: sign up / sign in, the device list with per-device and all-device
// sign-out, password change, TOTP enrolment, activity, live sign-out over /v1/events and a
// token inspector backed by the in-browser validator. Plain ES modules, no framework.
//
// Everything that came from a user or the server (device names, user agents, locations,
// messages) is written with textContent or setAttribute, never parsed as HTML.
import { describeDevice } from './device.js';
import { LocalValidator } from './local.js';
import { absolute, clock, relativeTime, retryText } from './time.js';

const $ = (id) => document.getElementById(id);
const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';

// Token storage: sessionStorage, not localStorage. The token is a bearer credential valid for
// weeks; sessionStorage keeps it to this tab's lifetime, so closing the window on a shared
// computer ends the session there, and a tab opened later signs in as a new, visible device.
// Either storage is readable by a script injected into this origin, which is why the page never
// renders data as HTML and loads no third-party script. Not a cookie: the API takes
// `Authorization: Bearer`, and a cookie would need the worker's CSRF defences.
const STORE_KEY = 'epochgate.session';
const store = {
  load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY) ?? 'null'); } catch { return null; }
  },
  save(s) { sessionStorage.setItem(STORE_KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(STORE_KEY); },
};

/** Token reasons of CONTRACTS section 3: a 401 carrying one means this session is over. */
const TOKEN_REASONS = new Set(['malformed', 'too_large', 'unsupported_algorithm', 'forbidden_header',
  'unknown_key', 'bad_signature', 'wrong_type', 'missing_claim', 'expired', 'not_yet_valid',
  'issued_in_future', 'wrong_issuer', 'wrong_audience', 'revoked_all', 'revoked_device', 'state_stale']);

const state = {
  token: null,
  email: '',
  totp: false,
  device: null,
  me: null,
  lastToken: null,
  sessions: [],
  socket: null,
  socketRetry: 0,
  timers: [],
  // While a request that replaces or ends our own token is in flight, the page must not act on
  // the verdict of the old token (or on the push about it): the response decides.
  inFlight: 0,
  expecting: null,
};

const local = new LocalValidator({ issuer: meta('epochgate-issuer'), audience: meta('epochgate-audience') });

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date). */
function retryAfterSeconds(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - Date.now()) / 1000));
}

async function api(method, path, { body, auth = true } = {}) {
  const headers = { accept: 'application/json' };
  if (auth) headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (res.ok) return data;
  const err = new ApiError(res.status, data?.error ?? `http_${res.status}`, data?.message ?? res.statusText);
  if (res.status === 429) err.retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
  // A 401 about the token itself (the edge's WWW-Authenticate, or a token reason code) ends the
  // session here. Other 401s (wrong password when re-authenticating) are answers to a form.
  const challenge = res.headers.get('www-authenticate') ?? '';
  if (auth && res.status === 401 && (/invalid_token/.test(challenge) || TOKEN_REASONS.has(err.code))) {
    leaveAccount({ kind: 'token', reason: err.code, detail: err.message });
    err.handled = true;
  }
  throw err;
}

// ---------------------------------------------------------------------------------------------
// Time

/** A <time> element showing relative time, refreshed by refreshTimes(). */
function timeEl(secs) {
  const t = document.createElement('time');
  const d = new Date(secs * 1000);
  t.dateTime = d.toISOString();
  t.title = absolute.format(d);
  t.dataset.secs = String(secs);
  t.textContent = relativeTime(secs);
  return t;
}

function refreshTimes() {
  for (const t of document.querySelectorAll('time[data-secs]')) t.textContent = relativeTime(Number(t.dataset.secs));
}

// ---------------------------------------------------------------------------------------------
// Feedback

function announce(text) {
  const s = $('status');
  s.textContent = '';
  // A fresh node so screen readers announce the same text twice in a row too.
  requestAnimationFrame(() => { s.textContent = text; });
}

function showError(el, text) { el.textContent = text; }

function setInvalid(input, invalid) {
  if (invalid) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** The user-facing sentence for a failed request. */
function errorText(err, context = {}) {
  switch (err.code) {
    case 'network': return `Could not reach the server. ${context.network ?? 'Check your connection and try again.'}`;
    case 'rate_limited': return `Too many failed attempts on this account. ${context.rateLimited ?? ''}${retryText(err.retryAfter)}`;
    case 'reauth_failed': return context.reauthFailed ?? 'That password or code is wrong.';
    case 'invalid_credentials': return 'Wrong email, password or code.';
    case 'account_exists': return 'An account with this email already exists. Sign in instead.';
    default: return err.message || `Something went wrong (${err.code}).`;
  }
}

// ---------------------------------------------------------------------------------------------
// Views

function show(view) {
  $('auth-view').hidden = view !== 'auth';
  $('account-view').hidden = view !== 'account';
  $('whoami').hidden = view !== 'account';
}

const LEAVE_TEXT = {
  device: 'This device was signed out from another device.',
  all: 'Your account was signed out of all devices from another device, or its password was changed.',
  self: 'You signed out of this device.',
  'self-all': 'You signed out of all devices, including this one. Every device must sign in again.',
};
const TOKEN_TEXT = {
  revoked_device: 'This device was signed out',
  revoked_all: 'Your account was signed out of all devices',
  expired: 'Your session expired',
};

/** Leaves the account view at once, says why, forgets the token. Idempotent. */
function leaveAccount(why) {
  if (!state.token) return;
  state.lastToken = state.token;
  state.token = null;
  state.me = null;
  store.clear();
  closeSocket();
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
  const dialog = $('sign-out-all-dialog');
  if (dialog.open) dialog.close();
  let text = LEAVE_TEXT[why.kind] ?? '';
  if (why.kind === 'token') {
    text = `${TOKEN_TEXT[why.reason] ?? 'Your session is no longer valid'} (${why.reason}${why.local ? ', checked in this browser' : ''}).`;
  }
  $('signed-out-reason').textContent = `${text} Sign in again to continue.`;
  $('signed-out').hidden = false;
  $('status').textContent = '';
  showAuth();
  renderInspector(state.lastToken);
  // The push can outrun the revocation updates: show the verdict on the newest state.
  local.pull().then(() => { if (!state.token) renderInspector(state.lastToken); });
  $('signed-out-title').focus();
}

function showAuth() {
  show('auth');
  // The name and type this browser used last, else a guess the user can edit.
  const d = state.device ?? describeDevice();
  if (!$('device-name').value) $('device-name').value = d.name;
  $('device-type').value = d.type;
  if (state.email) $('auth-email').value = state.email;
}

/**
 * The local verdict on the current token; leaves the account view when it is certainly
 * invalid. Returns false when the session is over.
 */
function checkLocally() {
  if (!state.token) return false;
  const r = local.check(state.token);
  renderInspector(state.token, r);
  if (state.inFlight > 0) return true;
  if (r.checked && !r.verdict.valid && r.certain) {
    leaveAccount({ kind: 'token', reason: r.verdict.reason, local: true });
    return false;
  }
  return true;
}

async function enterAccount() {
  // A revoked token must not flash the account view: wait (briefly) for the local validator.
  await Promise.race([local.ready, new Promise((r) => setTimeout(r, 3000))]);
  if (!checkLocally()) return;
  try {
    state.me = await api('GET', '/v1/me');
  } catch (err) {
    if (!err.handled) {
      // The session may be fine and the server out of reach: keep it and try again.
      show('none');
      showError($('page-error'), `Your session could not be checked. ${errorText(err, { network: 'Trying again in a few seconds…' })}`);
      setTimeout(() => { if (state.token && !state.me) enterAccount(); }, 5000);
    }
    return;
  }
  showError($('page-error'), '');
  $('signed-out').hidden = true;
  $('whoami').textContent = state.email ? `Signed in as ${state.email}` : 'Signed in';
  show('account');
  renderTotpState();
  $('devices-title').focus();
  openSocket();
  await Promise.all([loadSessions(), loadActivity()]);
  state.timers.push(setInterval(async () => {
    await local.pull();
    checkLocally();
  }, 5000));
  state.timers.push(setInterval(refreshTimes, 30000));
  state.timers.push(setInterval(() => { if (!document.hidden) loadSessions(); }, 60000));
}

function setToken(token, extra = {}) {
  state.token = token;
  Object.assign(state, extra);
  store.save({ token, email: state.email, totp: state.totp });
  renderInspector(token);
}

// ---------------------------------------------------------------------------------------------
// Devices

const TYPE_LABEL = { desktop: 'Computer', laptop: 'Laptop', phone: 'Phone', tablet: 'Tablet', tv: 'TV' };

function icon(type) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'device-icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(ns, 'use');
  // Only known ids: the type is user input.
  use.setAttribute('href', `#icon-${Object.hasOwn(TYPE_LABEL, type) ? type : 'other'}`);
  svg.append(use);
  return svg;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function deviceItem(s) {
  const li = el('li', `device${s.current ? ' current' : ''}`);
  li.dataset.session = s.id;
  li.append(icon(s.type));
  const body = el('div', 'device-body');
  const name = el('p', 'device-name', s.name);
  if (s.current) name.append(' ', el('span', 'badge', 'This device'));
  body.append(name);
  const where = [TYPE_LABEL[s.type] ?? s.type, s.location || 'Unknown location', s.ip ? `IP ${s.ip}` : null].filter(Boolean);
  body.append(el('p', 'device-meta', where.join(' · ')));
  const when = el('p', 'device-meta');
  if (s.status === 'active') {
    when.append(s.current ? 'Active now · signed in ' : 'Last active ', timeEl(s.current ? s.created_at : s.last_seen_at));
  } else {
    when.append('Signed out · last active ', timeEl(s.last_seen_at));
  }
  body.append(when);
  if (s.user_agent) body.append(el('p', 'device-ua', s.user_agent));
  li.append(body);
  if (s.status === 'active') {
    const actions = el('div', 'actions');
    const b = el('button', '', 'Sign out');
    b.type = 'button';
    b.setAttribute('aria-label', s.current ? `Sign out of this device (${s.name})` : `Sign out ${s.name}`);
    b.addEventListener('click', () => (s.current ? signOutHere() : signOutDevice(s, b)));
    actions.append(b);
    li.append(actions);
  }
  return li;
}

function renderSessions() {
  const active = state.sessions.filter((s) => s.status === 'active');
  const inactive = state.sessions.filter((s) => s.status !== 'active');
  active.sort((a, b) => Number(b.current) - Number(a.current));
  $('active-devices').replaceChildren(...active.map(deviceItem));
  $('inactive-devices').replaceChildren(...inactive.map(deviceItem));
  $('active-count').textContent = `(${active.length})`;
  $('inactive-count').textContent = `(${inactive.length})`;
  $('inactive-empty').hidden = inactive.length > 0;
}

async function loadSessions() {
  if (!checkLocally()) return;
  try {
    const { sessions } = await api('GET', '/v1/sessions');
    if (!state.token) return;
    state.sessions = sessions;
    showError($('devices-error'), '');
    renderSessions();
  } catch (err) {
    if (!err.handled) showError($('devices-error'), `The device list could not be loaded. ${errorText(err)}`);
  }
}

async function signOutDevice(s, button) {
  button.disabled = true;
  try {
    await api('DELETE', `/v1/sessions/${encodeURIComponent(s.id)}`);
    announce(`${s.name} was signed out. It must sign in again to use your account.`);
    await Promise.all([loadSessions(), loadActivity()]);
    $('devices-title').focus();
  } catch (err) {
    if (!err.handled) showError($('devices-error'), `${s.name} was not signed out. ${errorText(err)}`);
    button.disabled = false;
  }
}

async function signOutHere() {
  const me = state.me;
  state.inFlight++;
  state.expecting = 'self';
  try {
    await api('DELETE', `/v1/sessions/${encodeURIComponent(me.session)}`);
    leaveAccount({ kind: 'self' });
  } catch (err) {
    if (!err.handled) showError($('devices-error'), `This device was not signed out. ${errorText(err)}`);
  } finally {
    state.inFlight--;
    state.expecting = null;
  }
}

// ---------------------------------------------------------------------------------------------
// Sign out of all devices

function openSignOutAll() {
  const d = $('sign-out-all-dialog');
  $('sign-out-all-form').reset();
  showError($('soa-error'), '');
  setInvalid($('soa-password'), false);
  setInvalid($('soa-totp'), false);
  $('soa-totp-field').hidden = !state.totp;
  $('soa-use-totp').hidden = state.totp;
  $('soa-confirm').disabled = false;
  d.showModal();
  $('soa-password').focus();
}

async function confirmSignOutAll(event) {
  event.preventDefault();
  const password = $('soa-password').value;
  const totp = $('soa-totp').value.trim();
  const keep = $('soa-keep').checked;
  const body = { keep_current: keep };
  if (password) body.password = password;
  else if (totp) body.totp = totp;
  $('soa-confirm').disabled = true;
  showError($('soa-error'), '');
  state.inFlight++;
  state.expecting = 'self-all';
  try {
    const res = await api('POST', '/v1/sessions/sign-out-all', { body });
    if (res?.token) {
      setToken(res.token);
      $('sign-out-all-dialog').close();
      announce('Signed out of all other devices. They must sign in again; this device stays signed in. Your profiles and history are kept.');
      await Promise.all([loadSessions(), loadActivity()]);
    } else {
      leaveAccount({ kind: 'self-all' });
    }
  } catch (err) {
    if (err.handled) return;
    const nothing = 'No device was signed out.';
    let text = errorText(err, {
      reauthFailed: `That password or code is wrong. ${nothing}`,
      rateLimited: `${nothing} `,
      network: 'Your devices may still be signed in; check your connection and try again.',
    });
    if (err.code === 'reauth_required') {
      text = 'Enter your password, or the code from your authenticator app if two-factor authentication is on.';
      $('soa-totp-field').hidden = false;
      $('soa-use-totp').hidden = true;
    }
    showError($('soa-error'), text);
    const field = !$('soa-totp-field').hidden && !password ? $('soa-totp') : $('soa-password');
    setInvalid(field, err.code === 'reauth_failed' || err.code === 'reauth_required');
    $('soa-confirm').disabled = false;
    field.focus();
  } finally {
    state.inFlight--;
    state.expecting = null;
  }
}

// ---------------------------------------------------------------------------------------------
// Password, TOTP, activity

async function changePassword(event) {
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
  state.inFlight++;
  try {
    const res = await api('POST', '/v1/password', { body: { current_password: current.value, new_password: next.value, keep_current: true } });
    if (res?.token) setToken(res.token);
    $('password-form').reset();
    announce('Password changed. Every other device was signed out and must sign in with the new password.');
    await Promise.all([loadSessions(), loadActivity()]);
  } catch (err) {
    if (!err.handled) {
      showError(error, errorText(err, { reauthFailed: 'The current password is wrong. Your password was not changed.' }));
      if (err.code === 'reauth_failed') { setInvalid(current, true); current.focus(); }
    }
  } finally {
    state.inFlight--;
    button.disabled = false;
  }
}

function renderTotpState() {
  $('totp-state').textContent = state.totp
    ? 'Two-factor authentication is on: signing in asks for a code from your authenticator app.'
    : 'Add a code from an authenticator app to your password.';
  $('totp-start').hidden = state.totp;
}

async function startTotp() {
  showError($('totp-error'), '');
  try {
    const res = await api('POST', '/v1/totp', { body: {} });
    $('totp-uri').value = res.otpauth_uri;
    const box = $('totp-qr');
    box.replaceChildren();
    if (typeof res.qr_svg === 'string' && res.qr_svg) {
      // As an image, so the markup cannot run script or touch the page.
      const img = document.createElement('img');
      img.alt = 'QR code of the setup link';
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(res.qr_svg)}`;
      box.append(img);
    } else {
      try {
        // Loaded on demand: most visits never enrol.
        const { encodeQr, qrSvg } = await import('./qr.js');
        box.append(qrSvg(document, encodeQr(res.otpauth_uri), { label: 'QR code of the setup link' }));
      } catch {
        box.append(el('p', 'hint', 'The link is too long for a QR code here: copy it into the app instead.'));
      }
    }
    $('totp-setup').hidden = false;
    $('totp-code').focus();
  } catch (err) {
    if (err.handled) return;
    if (err.code === 'totp_already_enabled') {
      state.totp = true;
      setToken(state.token);
      renderTotpState();
    }
    showError($('totp-error'), errorText(err));
  }
}

async function confirmTotp(event) {
  event.preventDefault();
  const code = $('totp-code');
  if (!/^\d{6}$/.test(code.value.trim())) {
    showError($('totp-error'), 'Enter the 6-digit code shown in your authenticator app.');
    setInvalid(code, true);
    code.focus();
    return;
  }
  try {
    await api('POST', '/v1/totp/confirm', { body: { code: code.value.trim() } });
    setInvalid(code, false);
    showError($('totp-error'), '');
    $('totp-setup').hidden = true;
    $('totp-uri').value = '';
    $('totp-qr').replaceChildren();
    state.totp = true;
    setToken(state.token);
    renderTotpState();
    announce('Two-factor authentication is on.');
    loadActivity();
  } catch (err) {
    if (err.handled) return;
    const text = err.code === 'invalid_code'
      ? 'That code does not match. Check that your phone shows the right time and enter the newest code.'
      : errorText(err);
    showError($('totp-error'), text);
    setInvalid(code, true);
    code.focus();
  }
}

const EVENT_LABEL = {
  account_created: 'Account created',
  sign_in: 'Signed in',
  sign_in_failed: 'Failed sign-in attempt',
  sign_out: 'A device was signed out',
  sign_out_all: 'Signed out of all devices',
  password_changed: 'Password changed',
  reauth_failed: 'Wrong password when confirming a change',
  totp_enabled: 'Two-factor authentication turned on',
};

async function loadActivity() {
  if (!state.token) return;
  try {
    const { events } = await api('GET', '/v1/activity');
    if (!state.token) return;
    const names = new Map(state.sessions.map((s) => [s.id, s.name]));
    $('activity').replaceChildren(...events.slice(0, 50).map((e) => {
      const li = el('li');
      let what = EVENT_LABEL[e.type] ?? e.type;
      if (e.session && names.has(e.session)) what += ` — ${names.get(e.session)}`;
      li.append(el('strong', '', what), ' ');
      const details = [e.location, e.ip].filter(Boolean).join(' · ');
      const when = el('span', 'when');
      when.append(timeEl(e.at), details ? ` · ${details}` : '');
      li.append(when);
      return li;
    }));
  } catch (err) {
    if (!err.handled) $('activity').replaceChildren(el('li', 'error', `Activity could not be loaded. ${errorText(err)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Live sign-out

function openSocket() {
  closeSocket();
  if (!state.token) return;
  // Browsers cannot set headers on a WebSocket, so the token goes in the query, as the API
  // allows; the connection is same-origin.
  const url = new URL('/v1/events', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('access_token', state.token);
  const ws = new WebSocket(url);
  state.socket = ws;
  ws.addEventListener('open', () => { state.socketRetry = 0; });
  ws.addEventListener('message', (e) => {
    let msg;
    try { msg = JSON.parse(e.data); } catch { return; }
    if (msg?.type !== 'signed_out') return;
    if (state.expecting) return; // our own request ends or renews the session; its answer says how
    leaveAccount({ kind: msg.scope === 'all' ? 'all' : 'device' });
  });
  ws.addEventListener('close', async () => {
    if (state.socket !== ws) return;
    state.socket = null;
    if (!state.token) return;
    // Closed without a push (refused upgrade, network, restart): a 401 from /v1/me leaves
    // with its reason; otherwise reconnect with backoff.
    try { await api('GET', '/v1/me'); } catch { /* handled or offline */ }
    if (!state.token) return;
    const delay = Math.min(30000, 500 * 2 ** state.socketRetry++);
    setTimeout(() => { if (state.token && !state.socket) openSocket(); }, delay);
  });
}

function closeSocket() {
  const ws = state.socket;
  state.socket = null;
  if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
}

// ---------------------------------------------------------------------------------------------
// Token inspector

function decodePart(part) {
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const json = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return '(not a JSON object)';
  }
}

/** Sets text only when it changed, so live regions announce changes, not the 5 s re-checks. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function renderInspector(token, result) {
  const verdictEl = $('inspector-verdict');
  if (!token) {
    setText(verdictEl, 'no token');
    verdictEl.className = '';
    setText($('inspector-message'), '—');
    $('inspector-header').textContent = '—';
    $('inspector-claims').textContent = '—';
  } else {
    const parts = token.split('.');
    $('inspector-header').textContent = decodePart(parts[0] ?? '');
    $('inspector-claims').textContent = parts.length === 3 ? decodePart(parts[1]) : '(not a compact JWS)';
    const r = result ?? local.check(token);
    if (!r.checked) {
      setText(verdictEl, 'not checked');
      verdictEl.className = '';
      setText($('inspector-message'), r.why);
    } else if (r.verdict.valid) {
      const v = r.verdict;
      setText(verdictEl, 'valid');
      verdictEl.className = 'verdict-valid';
      setText($('inspector-message'), `Signature, claims and revocation state check out: device ${v.device}, epoch ${v.epoch}, expires ${absolute.format(new Date(v.expiresAt * 1000))}.`);
    } else {
      setText(verdictEl, r.verdict.reason);
      verdictEl.className = 'verdict-invalid';
      setText($('inspector-message'), r.verdict.message);
    }
  }
  const kids = local.tokenKids.length ? ` · token keys: ${local.tokenKids.join(', ')}` : '';
  $('inspector-state').textContent = `${local.describeState()}${kids}`;
  $('inspector-checked').textContent = token ? clock.format(new Date()) : '—';
}

async function inspectOther(event) {
  event.preventDefault();
  const token = $('inspector-token').value.trim();
  if (!token) { $('inspector-token').focus(); return; }
  await local.ready;
  await local.pull();
  renderInspector(token);
}

async function inspectOwn() {
  $('inspector-token').value = '';
  await local.ready;
  renderInspector(state.token ?? state.lastToken);
}

// ---------------------------------------------------------------------------------------------
// Sign in / sign up

async function submitAuth(event) {
  event.preventDefault();
  const action = event.submitter?.value ?? 'sign-in';
  const email = $('auth-email');
  const password = $('auth-password');
  const name = $('device-name');
  const error = $('auth-error');
  for (const i of [email, password, name]) setInvalid(i, false);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim())) { showError(error, 'Enter your email address, like name@example.com.'); setInvalid(email, true); email.focus(); return; }
  if (password.value.length < 8) { showError(error, 'The password needs at least 8 characters.'); setInvalid(password, true); password.focus(); return; }
  if (!name.value.trim()) { showError(error, 'Give this device a name.'); setInvalid(name, true); name.focus(); return; }
  showError(error, '');
  const buttons = [$('sign-in-button'), $('sign-up-button')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    if (action === 'sign-up') {
      await api('POST', '/v1/accounts', { auth: false, body: { email: email.value.trim(), password: password.value } });
    }
    const totp = $('auth-totp').value.trim();
    const res = await api('POST', '/v1/login', {
      auth: false,
      body: {
        email: email.value.trim(),
        password: password.value,
        device: { name: name.value.trim(), type: $('device-type').value },
        ...(totp ? { totp } : {}),
      },
    });
    state.email = email.value.trim();
    state.totp = Boolean(totp);
    state.device = { name: name.value.trim(), type: $('device-type').value };
    setToken(res.token);
    $('auth-form').reset();
    $('auth-totp-field').hidden = true;
    $('signed-out').hidden = true;
    announce(action === 'sign-up' ? 'Account created. You are signed in.' : 'You are signed in.');
    await enterAccount();
  } catch (err) {
    if (err.code === 'totp_required') {
      $('auth-totp-field').hidden = false;
      showError(error, 'This account has two-factor authentication: enter the 6-digit code from your authenticator app.');
      $('auth-totp').focus();
    } else {
      showError(error, errorText(err));
      if (err.code === 'invalid_credentials') { setInvalid(password, true); password.focus(); }
      if (err.code === 'account_exists') email.focus();
    }
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('auth-form').addEventListener('submit', submitAuth);
  $('sign-out-all-button').addEventListener('click', openSignOutAll);
  $('sign-out-all-form').addEventListener('submit', confirmSignOutAll);
  $('soa-cancel').addEventListener('click', () => $('sign-out-all-dialog').close());
  $('soa-use-totp').addEventListener('click', () => {
    $('soa-totp-field').hidden = false;
    $('soa-use-totp').hidden = true;
    $('soa-totp').focus();
  });
  // Focus goes back to the button that opened the dialog, however it was closed.
  $('sign-out-all-dialog').addEventListener('close', () => {
    if (!$('account-view').hidden) $('sign-out-all-button').focus();
  });
  $('sign-out-here').addEventListener('click', signOutHere);
  $('password-form').addEventListener('submit', changePassword);
  $('totp-start').addEventListener('click', startTotp);
  $('totp-confirm-form').addEventListener('submit', confirmTotp);
  $('activity-refresh').addEventListener('click', loadActivity);
  $('inspector-form').addEventListener('submit', inspectOther);
  $('inspector-own').addEventListener('click', inspectOwn);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.token) { local.pull().then(checkLocally); loadSessions(); }
  });
}

async function main() {
  wire();
  const saved = store.load();
  if (saved?.token) {
    state.token = saved.token;
    state.email = saved.email ?? '';
    state.totp = Boolean(saved.totp);
    await enterAccount();
  } else {
    showAuth();
    local.ready.then(() => renderInspector(null));
  }
}

main();
