// The package's `Validator`: the wasm one with a verdict cache in front of it, keyed by the token
// string, so a repeated token is answered without crossing into WebAssembly at all (no copy of
// the token into wasm memory, no hash, no verdict built by JSON.parse). The wasm validator keeps
// every rule; this only remembers what it said and for how long that answer stays true:
//
// - a VALID verdict judged at second `t` stays true for every second from `t` (the not-before,
//   issued-at and auth_time checks only ever pass more as time goes on) up to the first of
//   `expiresAt + clockTolerance - 1`, the view's freshness deadline (`freshUntil`: the newest
//   update's signed time + maxStateAge) and, with `maxAuthAge` in the options, `authTime +
//   maxAuthAge`; and only while the revocation view is the one it was judged against
//   (`viewGeneration`, which every applied update changes, whoever applied it);
// - a refusal that depends on nothing but the token and the validator's keys and options
//   (malformed, bad_signature, wrong_issuer, ...) stays true forever;
// - nothing else is cached: expired, not_yet_valid, issued_in_future, revoked_*, state_stale
//   and insufficient_user_authentication all depend on the time or the view.
//
// A call with a per-call `stepUp` goes to wasm uncached. Verdicts that may be shared between
// callers are frozen, deeply.
import { Validator as WasmValidator } from './glue.mjs';

// Refusals decided before the time, the view or the step-up is looked at (the token path of
// the core's validator), so a token refused for one of these is refused for it forever.
const PERMANENT = new Set([
  'malformed', 'unsupported_algorithm', 'forbidden_header', 'wrong_type', 'unknown_key',
  'bad_signature', 'missing_claim', 'wrong_issuer', 'wrong_audience',
]);
// V8 hashes at most this many characters of a string and hashes a longer one by its length
// alone, so a map of longer keys could be flooded with collisions; such tokens (only possible
// with a raised maxTokenBytes) are not cached.
const MAX_CACHED_LENGTH = 16383;

// A map of at most `capacity` entries that forgets the oldest key first. The order is kept in a
// ring of keys beside the map, not by iterating the Map: V8 leaves a deleted entry in place until
// the table is rebuilt, so `map.keys().next()` after many deletions from the front walks every
// one of them, and a full cache of new tokens paid microseconds per insertion for it. Entries are
// only ever removed by eviction, so the ring and the map hold the same keys.
class Fifo {
  #map = new Map();
  #ring = [];
  #next = 0;
  #capacity;

  constructor(capacity) {
    this.#capacity = capacity;
  }

  get(key) {
    return this.#map.get(key);
  }

  /** Sets `key`; a key not held yet takes the place of the oldest one when the map is full. */
  set(key, value) {
    const map = this.#map;
    if (!map.has(key)) {
      const ring = this.#ring;
      if (ring.length < this.#capacity) {
        ring.push(key);
      } else {
        map.delete(ring[this.#next]);
        ring[this.#next] = key;
        this.#next = this.#next + 1 === ring.length ? 0 : this.#next + 1;
      }
    }
    map.set(key, value);
  }

  get size() {
    return this.#map.size;
  }

  clear() {
    this.#map.clear();
    this.#ring = [];
    this.#next = 0;
  }
}

function deepFreeze(value) {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

export class Validator extends WasmValidator {
  #size;
  #tolerance;
  #maxAuthAge;
  // token -> { verdict, generation, from, until } for valid verdicts; token -> verdict for
  // permanent refusals. Two maps, so that a flood of junk tokens cannot evict valid sessions.
  // Both evict the oldest entry first. An entry that stopped being current stays until it is
  // judged again (and replaced) or evicted.
  #valid;
  #refused;
  #verification;

  constructor(options) {
    super(options);
    const plain = options !== null && typeof options === 'object' && Object.getPrototypeOf(options) === Object.prototype;
    this.#verification = plain && typeof options.ed25519Verify === 'function' ? 'host' : 'wasm';
    this.#size = this.cacheSize;
    this.#valid = new Fifo(this.#size);
    this.#refused = new Fifo(this.#size);
    this.#tolerance = this.clockTolerance;
    this.#maxAuthAge = this.maxAuthAge;
  }

  validate(token, now, stepUp) {
    if (this.#size === 0 || stepUp != null || typeof token !== 'string' || token.length > MAX_CACHED_LENGTH) {
      return super.validate(token, now, stepUp);
    }
    let t;
    if (now === undefined || now === null) t = Math.floor(Date.now() / 1000);
    else if (typeof now === 'number' && Number.isFinite(now)) t = Math.floor(now);
    // Anything else is the wasm validator's to refuse (invalid_argument).
    else return super.validate(token, now, stepUp);

    const hit = this.#valid.get(token);
    if (hit !== undefined && t >= hit.from && t <= hit.until && hit.generation === this.viewGeneration) {
      return hit.verdict;
    }
    const refusal = this.#refused.get(token);
    if (refusal !== undefined) return refusal;

    // Judged at the same whole second the cache entry will be bounded by.
    const verdict = super.validate(token, t);
    if (verdict.valid) {
      const until = Math.min(
        verdict.expiresAt + this.#tolerance - 1,
        this.freshUntil,
        this.#maxAuthAge === undefined ? Infinity : verdict.authTime + this.#maxAuthAge,
      );
      // Times beyond 2^53 are not exact in a JS number: those verdicts are not cached.
      if (Number.isSafeInteger(t) && Number.isSafeInteger(until) && until >= t) {
        this.#valid.set(token, { verdict: deepFreeze(verdict), generation: this.viewGeneration, from: t, until });
        return verdict;
      }
    }
    if (PERMANENT.has(verdict.reason)) {
      this.#refused.set(token, deepFreeze(verdict));
    }
    return verdict;
  }

  /** Who computes signatures' equations: `"host"` (Node's node:crypto, or `ed25519Verify`) or `"wasm"`. */
  get verification() {
    return this.#verification;
  }

  /** How many verdicts the JavaScript cache holds: valid ones and permanent refusals. */
  get cachedVerdicts() {
    return this.#valid.size + this.#refused.size;
  }

  free() {
    this.#valid.clear();
    this.#refused.clear();
    super.free();
  }
}
if (Symbol.dispose) Validator.prototype[Symbol.dispose] = Validator.prototype.free;
