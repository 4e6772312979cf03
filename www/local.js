// In-browser validation of this page's own token with the epochgate WebAssembly validator (the
// same core the edge runs): token keys from /.well-known/jwks.json, revocation state from the
// signed updates of /v1/revocations, verified with the published revocation-update key.

/** Where the revocation-update public key may be published, in order of preference. */
const REVOCATION_KEY_URLS = ['/.well-known/revocation-jwks.json'];

/** Verdicts that a wrong browser clock or a key rotation can cause: the edge decides those. */
const UNCERTAIN = new Set(['state_stale', 'unknown_key', 'not_yet_valid', 'issued_in_future']);

const nowSecs = () => Math.floor(Date.now() / 1000);

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
    this.appliedAt = null;
    this.applied = false;
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
      if (!revocationKeys) this.revocationError = 'the server publishes no revocation-update key, so revocations are not checked here';
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
    const fetchUpdate = async (since) => {
      const res = await fetch(`/v1/revocations?since=${since}`, { cache: 'no-store' });
      if (res.status === 409) return null; // the origin restarted behind us: take a snapshot
      if (!res.ok) throw new Error(`/v1/revocations answered ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    try {
      const since = this.applied ? this.validator.revocationSeq : 0;
      let bytes = await fetchUpdate(since);
      try {
        if (bytes === null) throw Object.assign(new Error('since is ahead'), { code: 'update_gap' });
        this.validator.applyRevocation(bytes, nowSecs());
      } catch (e) {
        if (e?.code !== 'update_gap' || since === 0) throw e;
        bytes = await fetchUpdate(0);
        if (bytes === null) throw new Error('the origin refused a snapshot');
        this.validator.applyRevocation(bytes, nowSecs());
      }
      this.applied = true;
      this.appliedAt = Date.now();
      this.revocationError = null;
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
    const seq = this.applied ? `sequence ${this.validator.revocationSeq}` : 'no update applied yet';
    const age = this.appliedAt ? `, pulled ${Math.max(0, Math.round((Date.now() - this.appliedAt) / 1000))} s ago` : '';
    const err = this.revocationError ? ` (last pull failed: ${this.revocationError})` : '';
    return `${seq}${age}${err}`;
  }
}
