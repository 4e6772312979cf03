// The session of this tab as an explicit state machine, with the token storage behind it. No
// DOM: the page listens for its events ('stored', 'left') and renders; tests/www/session.test.mjs
// drives every transition in Node.
//
//   signed_out ──restore() / signIn()──▶ checking ──confirmed()──▶ signed_in
//                                          │  ▲                       │
//                              unreachable()│  │retry()               │ replaceToken(), setTotp(), setEmail()
//                                          ▼  │                       │
//                                        unreachable                  │
//   checking, unreachable, signed_in ──leave(why)──▶ left ──signIn()──▶ checking
//
// A transition asked for in a state that does not allow it is refused: it returns false and
// changes nothing. `leave` is therefore idempotent, which the page relies on: the push, a 401 and
// the local check may all report the same sign-out.

/**
 * Token storage: sessionStorage, not localStorage. The token is a bearer credential valid for
 * weeks; sessionStorage keeps it to this tab's lifetime, so closing the window on a shared
 * computer ends the session there, and a tab opened later signs in as a new, visible device.
 * Either storage is readable by a script injected into this origin, which is why the page never
 * renders data as HTML and loads no third-party script. Not a cookie: the API takes
 * `Authorization: Bearer`, and a cookie would need the worker's CSRF defences.
 *
 * `storage` is anything with the Web Storage methods getItem/setItem/removeItem.
 */
export function createTokenStore(storage, key = 'epochgate.session') {
  return {
    /** `{token, email, totp}` or null (nothing stored, unreadable, or storage unavailable). */
    load() {
      try { return JSON.parse(storage.getItem(key) ?? 'null'); } catch { return null; }
    },
    save(saved) { storage.setItem(key, JSON.stringify(saved)); },
    clear() { storage.removeItem(key); },
  };
}

/** The states, in the order a session usually goes through them. */
export const STATES = Object.freeze(['signed_out', 'checking', 'unreachable', 'signed_in', 'left']);

/** States that hold a token. */
const HOLDING = ['checking', 'unreachable', 'signed_in'];

export class Session {
  /** `store`: a createTokenStore() (or anything with load/save/clear). */
  constructor({ store }) {
    this.store = store;
    this.state = 'signed_out';
    this.token = null;
    /** The token the session ended with, for the inspector. */
    this.lastToken = null;
    /** Kept after leaving, to prefill the sign-in form. */
    this.email = '';
    this.totp = false;
    /** `{name, type}` this tab signed in with last (not stored). */
    this.device = null;
    /** The answer of GET /v1/me once confirmed. */
    this.me = null;
    // While a request that replaces or ends our own token is in flight, the page must not act on
    // the verdict of the old token (or on the push about it): the response decides.
    this.inFlight = 0;
    this.expecting = null;
    this.listeners = new Map();
  }

  /** Calls `fn(detail)` on 'stored' (the token or what is stored with it changed) or 'left' (why). */
  on(event, fn) {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  emit(event, detail) {
    for (const fn of [...(this.listeners.get(event) ?? [])]) fn(detail);
  }

  /** Moves to `to` when the current state is one of `from`; false (and nothing changed) otherwise. */
  move(from, to) {
    if (!from.includes(this.state)) return false;
    this.state = to;
    return true;
  }

  save() {
    this.store.save({ token: this.token, email: this.email, totp: this.totp });
    this.emit('stored', this.token);
  }

  /** signed_out → checking with the token this tab stored earlier; false when there is none. */
  restore() {
    if (this.state !== 'signed_out') return false;
    const saved = this.store.load();
    if (!saved?.token) return false;
    this.token = saved.token;
    this.email = saved.email ?? '';
    this.totp = Boolean(saved.totp);
    return this.move(['signed_out'], 'checking');
  }

  /** signed_out or left → checking with a new token from the sign-in form; stores it. */
  signIn(token, { email = '', totp = false, device = null } = {}) {
    if (!this.move(['signed_out', 'left'], 'checking')) return false;
    this.token = token;
    this.email = email;
    this.totp = Boolean(totp);
    this.device = device;
    this.me = null;
    this.save();
    return true;
  }

  /** checking → signed_in: the server accepted the token (`me` is GET /v1/me's answer). */
  confirmed(me) {
    if (!this.move(['checking'], 'signed_in')) return false;
    this.me = me;
    return true;
  }

  /** checking → unreachable: the token could not be checked; it is kept, to retry later. */
  unreachable() {
    return this.move(['checking'], 'unreachable');
  }

  /** unreachable → checking: time to check the kept token again. */
  retry() {
    return this.move(['unreachable'], 'checking');
  }

  /** signed_in → signed_in with the token a password change or sign-out-all answered; stores it. */
  replaceToken(token) {
    if (this.state !== 'signed_in' || !token) return false;
    this.token = token;
    this.save();
    return true;
  }

  /** Records whether two-factor authentication is on (stored with the token). */
  setTotp(on) {
    if (!HOLDING.includes(this.state)) return false;
    this.totp = Boolean(on);
    this.save();
    return true;
  }

  /** Records the account's email (it can change: POST /v1/email); stored with the token. */
  setEmail(email) {
    if (!HOLDING.includes(this.state) || typeof email !== 'string' || !email) return false;
    if (email === this.email) return true;
    this.email = email;
    this.save();
    return true;
  }

  /**
   * checking, unreachable or signed_in → left: forgets the token (kept as `lastToken`), clears
   * the storage and emits 'left' with `why` ({kind: 'device'|'all'|'self'|'self-all'} or
   * {kind: 'token', reason, detail?, local?}). False when there is no session to leave.
   */
  leave(why) {
    if (!this.move(HOLDING, 'left')) return false;
    this.lastToken = this.token;
    this.token = null;
    this.me = null;
    this.store.clear();
    this.emit('left', why);
    return true;
  }

  /**
   * Marks a request that replaces or ends this session's token as in flight until the returned
   * function is called (once; later calls do nothing). `expecting` ('self', 'self-all') also
   * silences the push about it. Requests may overlap.
   */
  begin(expecting = null) {
    this.inFlight++;
    if (expecting) this.expecting = expecting;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (expecting) this.expecting = null;
    };
  }

  /**
   * Acts on the in-browser validator's result for the current token (LocalValidator.check):
   * a certain refusal leaves with its reason. 'none' without a token, 'suppressed' while a
   * token-replacing request is in flight, 'left' or 'kept'.
   */
  localVerdict(result) {
    if (!this.token) return 'none';
    if (this.inFlight > 0) return 'suppressed';
    if (result?.checked && !result.verdict.valid && result.certain) {
      this.leave({ kind: 'token', reason: result.verdict.reason, local: true });
      return 'left';
    }
    return 'kept';
  }

  /**
   * Acts on a `signed_out` push from /v1/events (`scope` 'all' or 'device'): leaves, unless our
   * own request is ending or renewing the session (its answer says how). 'left' or 'ignored'.
   */
  signedOutElsewhere(scope) {
    if (this.expecting) return 'ignored';
    return this.leave({ kind: scope === 'all' ? 'all' : 'device' }) ? 'left' : 'ignored';
  }
}
