// The page's session machine (www/session.js) in Node: every transition, the refused ones, the
// in-flight guard and what reaches the storage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STATES, Session, createTokenStore } from '../../www/session.js';

/** A Web Storage stand-in that records its calls. */
function fakeStorage(initial = {}) {
  const data = new Map(Object.entries(initial));
  const log = [];
  return {
    data,
    log,
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => { log.push(['set', k]); data.set(k, String(v)); },
    removeItem: (k) => { log.push(['remove', k]); data.delete(k); },
  };
}

const KEY = 'epochgate.session';
const stored = (storage) => JSON.parse(storage.data.get(KEY) ?? 'null');

/** A session with a fake storage and the events it emitted. */
function make(initial) {
  const storage = fakeStorage(initial);
  const session = new Session({ store: createTokenStore(storage) });
  const events = [];
  session.on('stored', (token) => events.push(['stored', token]));
  session.on('left', (why) => events.push(['left', why]));
  return { storage, session, events };
}

/** A session signed in with `token`, its events cleared. */
function signedIn(token = 't1') {
  const m = make();
  assert.equal(m.session.signIn(token, { email: 'a@example.com', totp: false, device: { name: 'Laptop', type: 'laptop' } }), true);
  assert.equal(m.session.confirmed({ session: 's1' }), true);
  m.events.length = 0;
  return m;
}

const invalid = (reason, certain = true) => ({ checked: true, verdict: { valid: false, reason, message: reason }, certain });
const VALID = { checked: true, verdict: { valid: true }, certain: true };

test('the token store saves, loads and clears one JSON entry; unreadable data loads as null', () => {
  const storage = fakeStorage();
  const store = createTokenStore(storage);
  assert.equal(store.load(), null);
  store.save({ token: 't', email: 'e', totp: true });
  assert.deepEqual(JSON.parse(storage.data.get(KEY)), { token: 't', email: 'e', totp: true });
  assert.deepEqual(store.load(), { token: 't', email: 'e', totp: true });
  store.clear();
  assert.equal(storage.data.has(KEY), false);
  storage.data.set(KEY, '{not json');
  assert.equal(store.load(), null);
  const broken = createTokenStore({ getItem() { throw new Error('SecurityError'); } });
  assert.equal(broken.load(), null);
});

test('a new session is signed_out with no token', () => {
  const { session } = make();
  assert.equal(session.state, 'signed_out');
  assert.equal(session.token, null);
  assert.deepEqual(STATES, ['signed_out', 'checking', 'unreachable', 'signed_in', 'left']);
});

test('restore: signed_out → checking with the stored token, email and two-factor flag', () => {
  const { session, events, storage } = make({ [KEY]: JSON.stringify({ token: 'old', email: 'a@example.com', totp: 1 }) });
  assert.equal(session.restore(), true);
  assert.equal(session.state, 'checking');
  assert.equal(session.token, 'old');
  assert.equal(session.email, 'a@example.com');
  assert.equal(session.totp, true);
  assert.deepEqual(events, [], 'restoring stores nothing');
  assert.deepEqual(storage.log, []);
  assert.equal(session.restore(), false, 'only from signed_out');
});

test('restore without a stored token stays signed_out', () => {
  for (const initial of [{}, { [KEY]: 'null' }, { [KEY]: '{"email":"a@example.com"}' }, { [KEY]: 'garbage' }]) {
    const { session } = make(initial);
    assert.equal(session.restore(), false);
    assert.equal(session.state, 'signed_out');
    assert.equal(session.token, null);
  }
});

test('signIn: signed_out → checking, stored and announced', () => {
  const { session, events, storage } = make();
  assert.equal(session.signIn('t1', { email: 'a@example.com', totp: true, device: { name: 'TV', type: 'tv' } }), true);
  assert.equal(session.state, 'checking');
  assert.equal(session.token, 't1');
  assert.deepEqual(session.device, { name: 'TV', type: 'tv' });
  assert.deepEqual(stored(storage), { token: 't1', email: 'a@example.com', totp: true });
  assert.deepEqual(events, [['stored', 't1']]);
  assert.equal(session.signIn('t2'), false, 'not while a session is held');
  assert.equal(session.token, 't1');
});

test('confirmed: checking → signed_in with GET /v1/me', () => {
  const { session } = make();
  assert.equal(session.confirmed({ session: 's' }), false, 'nothing to confirm when signed out');
  session.signIn('t1');
  assert.equal(session.confirmed({ session: 's' }), true);
  assert.equal(session.state, 'signed_in');
  assert.deepEqual(session.me, { session: 's' });
  assert.equal(session.confirmed({ session: 'again' }), false);
  assert.deepEqual(session.me, { session: 's' });
});

test('server unreachable: checking → unreachable keeps the token; retry → checking', () => {
  const { session, storage } = make();
  session.signIn('t1', { email: 'a@example.com' });
  assert.equal(session.unreachable(), true);
  assert.equal(session.state, 'unreachable');
  assert.equal(session.token, 't1');
  assert.equal(stored(storage).token, 't1');
  assert.equal(session.confirmed({}), false, 'not confirmed without a new check');
  assert.equal(session.unreachable(), false);
  assert.equal(session.retry(), true);
  assert.equal(session.state, 'checking');
  assert.equal(session.retry(), false, 'retry only from unreachable');
  assert.equal(session.confirmed({ session: 's' }), true);
  assert.equal(session.unreachable(), false, 'a confirmed session is not checked again');
});

test('replaceToken: signed_in only; stores the new token', () => {
  const { session, events, storage } = signedIn('t1');
  assert.equal(session.replaceToken('t2'), true);
  assert.equal(session.state, 'signed_in');
  assert.equal(session.token, 't2');
  assert.equal(stored(storage).token, 't2');
  assert.deepEqual(events, [['stored', 't2']]);
  assert.equal(session.replaceToken(''), false);

  const checking = make();
  checking.session.signIn('t1');
  assert.equal(checking.session.replaceToken('t2'), false);
  assert.equal(checking.session.token, 't1');
  const out = make();
  assert.equal(out.session.replaceToken('t2'), false);
  assert.equal(out.session.token, null);
});

test('setTotp stores the flag while a session is held', () => {
  const { session, events, storage } = signedIn('t1');
  assert.equal(session.setTotp(true), true);
  assert.equal(stored(storage).totp, true);
  assert.deepEqual(events, [['stored', 't1']]);
  session.leave({ kind: 'self' });
  assert.equal(session.setTotp(false), false);
  assert.equal(session.totp, true);
});

test('leave: from checking, unreachable and signed_in → left, storage cleared, once', () => {
  const setups = {
    checking: (s) => s.signIn('t1'),
    unreachable: (s) => { s.signIn('t1'); s.unreachable(); },
    signed_in: (s) => { s.signIn('t1'); s.confirmed({ session: 's' }); },
  };
  for (const [name, setup] of Object.entries(setups)) {
    const { session, events, storage } = make();
    setup(session);
    assert.equal(session.state, name);
    events.length = 0;
    assert.equal(session.leave({ kind: 'device' }), true, name);
    assert.equal(session.state, 'left');
    assert.equal(session.token, null);
    assert.equal(session.lastToken, 't1');
    assert.equal(session.me, null);
    assert.equal(storage.data.has(KEY), false);
    assert.deepEqual(events, [['left', { kind: 'device' }]]);
    assert.equal(session.leave({ kind: 'all' }), false, 'idempotent');
    assert.deepEqual(events, [['left', { kind: 'device' }]]);
  }
  const { session, events } = make();
  assert.equal(session.leave({ kind: 'self' }), false, 'nothing to leave when signed out');
  assert.deepEqual(events, []);
});

test('left keeps what prefills the form; signIn starts over from left', () => {
  const { session, storage } = signedIn('t1');
  session.leave({ kind: 'self' });
  assert.equal(session.email, 'a@example.com');
  assert.deepEqual(session.device, { name: 'Laptop', type: 'laptop' });
  assert.equal(session.confirmed({}), false);
  assert.equal(session.unreachable(), false);
  assert.equal(session.restore(), false);
  assert.equal(session.signIn('t3', { email: 'a@example.com', device: session.device }), true);
  assert.equal(session.state, 'checking');
  assert.equal(stored(storage).token, 't3');
  assert.equal(session.lastToken, 't1');
});

test('local verdict: a certain refusal leaves with its reason; uncertain or valid ones keep', () => {
  const { session, events } = signedIn();
  assert.equal(session.localVerdict(VALID), 'kept');
  assert.equal(session.localVerdict({ checked: false, why: 'loading' }), 'kept');
  assert.equal(session.localVerdict(invalid('state_stale', false)), 'kept');
  assert.deepEqual(events, []);
  assert.equal(session.localVerdict(invalid('revoked_device')), 'left');
  assert.deepEqual(events, [['left', { kind: 'token', reason: 'revoked_device', local: true }]]);
  assert.equal(session.localVerdict(invalid('revoked_device')), 'none', 'no token, nothing to judge');
});

test('in-flight guard: no local verdict while a token-replacing request is in flight', () => {
  const { session, events } = signedIn('t1');
  const end = session.begin();
  assert.equal(session.inFlight, 1);
  assert.equal(session.expecting, null);
  assert.equal(session.localVerdict(invalid('revoked_all')), 'suppressed');
  assert.equal(session.state, 'signed_in');
  session.replaceToken('t2');
  end();
  end();
  assert.equal(session.inFlight, 0, 'ending twice counts once');
  assert.equal(session.localVerdict(VALID), 'kept');
  assert.equal(session.localVerdict(invalid('revoked_all')), 'left');
  assert.deepEqual(events.map((e) => e[0]), ['stored', 'left']);
});

test('in-flight guard: overlapping requests, the push ignored only while expecting', () => {
  const { session } = signedIn();
  const password = session.begin();
  // A password change does not expect a push about this device: the push still counts...
  const all = session.begin('self-all');
  assert.equal(session.inFlight, 2);
  assert.equal(session.expecting, 'self-all');
  // ...but while sign-out-all is in flight, the push about it is ours.
  assert.equal(session.signedOutElsewhere('all'), 'ignored');
  assert.equal(session.state, 'signed_in');
  all();
  assert.equal(session.expecting, null);
  assert.equal(session.localVerdict(invalid('revoked_all')), 'suppressed', 'the password change is still in flight');
  password();
  assert.equal(session.inFlight, 0);
});

test('push: signed_out leaves with the scope, unless expected', () => {
  const a = signedIn();
  assert.equal(a.session.signedOutElsewhere('device'), 'left');
  assert.deepEqual(a.events, [['left', { kind: 'device' }]]);
  assert.equal(a.session.signedOutElsewhere('device'), 'ignored', 'already left');

  const b = signedIn();
  assert.equal(b.session.signedOutElsewhere('all'), 'left');
  assert.deepEqual(b.events, [['left', { kind: 'all' }]]);

  const c = signedIn();
  const end = c.session.begin('self');
  assert.equal(c.session.signedOutElsewhere('device'), 'ignored');
  assert.equal(c.session.leave({ kind: 'self' }), true);
  end();
  assert.deepEqual(c.events, [['left', { kind: 'self' }]]);
});

test('listeners can be removed', () => {
  const { session } = make();
  const seen = [];
  const off = session.on('stored', (t) => seen.push(t));
  session.signIn('t1');
  off();
  session.confirmed({});
  session.replaceToken('t2');
  assert.deepEqual(seen, ['t1']);
});
