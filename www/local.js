// In-browser validation of this page's own token with the epochgate WebAssembly validator (the
// same core the edge runs): token keys from /.well-known/jwks.json, revocation state from the
// signed updates of /v1/revocations, verified with the published revocation-update key. Which
// update to ask for (a delta, or a snapshot after a gap or a since-ahead answer) and what a
// refused one does is the core's Follower rule, the same the edge follows; this file only fetches.

/** Where the revocation-update public key may be published, in order of preference. */
const REVOCATION_KEY_URLS = ['/.well-known/revocation-jwks.json'];

/** Verdicts that a wrong browser clock or a key rotation can cause: the edge decides those. */
const UNCERTAIN = new Set(['state_stale', 'unknown_key', 'not_yet_valid', 'issued_in_future']);

const nowSecs = () => Math.floor(Date.now() / 1000);

/** At most this many fetches per pull: a delta, then the snapshot the Follower may ask for. */
const MAX_FETCHES_PER_PULL = 3;

/** GET /v1/revocations?since=N as a Follower answer; `failure` says why a fetch failed. */
async function fetchUpdate(since) {
  try {
    const res = await fetch(`/v1/revocations?since=${since}`, { cache: 'no-store' });
    if (res.status === 409) return { answer: { sinceAhead: true } }; // the origin restarted behind us
    if (!res.ok) return { answer: { failed: true }, failure: `/v1/revocations answered ${res.status}` };
    return { answer: { update: new Uint8Array(await res.arrayBuffer()) } };
  } catch (e) {
    return { answer: { failed: true }, failure: e?.message ?? String(e) };
  }
}

async function fetchJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

export class LocalValidator {
  constructor({ issuer, audience, maxStateAge = 300 }) {
    this.issuer = issuer;
    this.audience = audience;
    this.maxStateAge = maxStateAge;
    this.validator = null;
    this.error = null;
    this.tokenKids = [];
    this.revocationSource = null;
    this.revocationError = null;
    this.follower = null;
    this.pulling = null;
    this.ready = this.load();
  }

  async load() {
    try {
      const mod = await import('./pkg/epochgate.js');
      await mod.default();
      const keys = await fetchJson('/.well-known/jwks.json');
      this.tokenKids = (keys.keys ?? []).map((k) => k.kid);
      let revocationKeys;
      for (const url of REVOCATION_KEY_URLS) {
        try {
          revocationKeys = await fetchJson(url);
          this.revocationSource = url;
          break;
        } catch { /* try the next place */ }
      }
      this.validator = new mod.Validator({
        issuer: this.issuer,
        audience: this.audience,
        keys,
        ...(revocationKeys ? { revocationKeys, maxStateAge: this.maxStateAge } : {}),
      });
      if (revocationKeys) {
        // A staleness target of 0: the page pulls when it wants the newest state (every 5 s, after
        // a push, before inspecting a token), so every pull fetches.
        this.follower = new mod.Follower({ stalenessTargetMs: 0 });
      } else {
        this.revocationError = 'the server publishes no revocation-update key, so revocations are not checked here';
      }
      await this.pull();
    } catch (e) {
      this.error = e?.message ?? String(e);
    }
  }

  /** Pulls and applies the revocation updates since the validator's sequence. */
  pull() {
    if (!this.validator || !this.revocationSource) return Promise.resolve();
    this.pulling ??= this.pullOnce().finally(() => { this.pulling = null; });
    return this.pulling;
  }

  async pullOnce() {
    try {
      const plan = this.follower.plan(this.validator, Date.now());
      // With a target of 0 the plan is "fetch" unless a refresh presumed lost is within its timeout.
      if (plan.action !== 'fetch') return;
      let since = plan.since;
      for (let i = 0; i < MAX_FETCHES_PER_PULL; i++) {
        const { answer, failure } = await fetchUpdate(since);
        const next = this.follower.answer(this.validator, answer, Date.now());
        if (next.next === 'fetch') {
          since = next.since;
          continue;
        }
        this.revocationError = next.next === 'done' ? null : (failure ?? `${next.error.code}: ${next.error.message}`);
        return;
      }
    } catch (e) {
      this.revocationError = e?.code ? `${e.code}: ${e.message}` : (e?.message ?? String(e));
    }
  }

  /**
   * `{checked: false, why}` when the validator is not available, else
   * `{checked: true, verdict, certain}`; `certain` is false for verdicts the edge may judge
   * differently (clock skew, unknown key after a rotation, stale revocation state).
   */
  check(token) {
    if (!this.validator) {
      return { checked: false, why: this.error ? `the validator could not load: ${this.error}` : 'the validator is still loading' };
    }
    const verdict = this.validator.validate(token, nowSecs());
    return { checked: true, verdict, certain: verdict.valid || !UNCERTAIN.has(verdict.reason) };
  }

  /** A sentence about the revocation state, for the inspector. */
  describeState() {
    if (!this.validator) return this.error ? 'not available' : 'loading';
    if (!this.revocationSource) return this.revocationError;
    // When the fetch of the newest applied update started; undefined before the first.
    const at = this.follower?.fetchedAtMs;
    const seq = at != null ? `sequence ${this.validator.revocationSeq}` : 'no update applied yet';
    const age = at != null ? `, pulled ${Math.max(0, Math.round((Date.now() - at) / 1000))} s ago` : '';
    const err = this.revocationError ? ` (last pull failed: ${this.revocationError})` : '';
    return `${seq}${age}${err}`;
  }
}
