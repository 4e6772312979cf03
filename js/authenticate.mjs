// Turning a request into a verdict: `authenticate(request, validator)` reads the Bearer token
// (RFC 6750) and validates it as the view is now; `Authenticator` adds what a server needs around
// it — the keys loaded from the origin on first use and a RevocationFollower that keeps the view
// fresh; `unauthorized(failure)` is the answer to a refusal, shaped like the epochgate edge's own
// (docs/CONTRACT.md section 4), so a client handles both alike.
//
// Runs in Workers, Node, browsers, Deno and Bun: no node: import, no wasm initialisation (the
// entry point did it), no I/O before the first request (Workers forbid it at global scope).
import { Validator as WasmValidator } from './glue.mjs';
import { Validator } from './verdict-cache.mjs';
import { RevocationFollower } from './follower.mjs';

function coded(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

// RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token. The charset leaves out ',' and
// whitespace, so two headers folded into one by a Fetch `Headers` ("Bearer a, Bearer b") fail it.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

const NO_TOKEN = 'no token: send Authorization: Bearer <token>';

function failure(status, error, message, wwwAuthenticate, verdict = null, extra = {}) {
  return { ok: false, status, error, message, verdict, wwwAuthenticate, body: { error, message, ...extra } };
}

// A malformed Authorization header is a client bug, not a refused token: 400 (RFC 6750 3.1).
// Descriptions are fixed text, so the header never echoes what the client sent.
function invalidRequest(description) {
  return failure(400, 'invalid_request', description,
    `Bearer error="invalid_request", error_description="${description}"`);
}

// The Authorization values of a request: [] when absent, more than one when it was repeated.
function authorizationValues(request) {
  const headers = request?.headers;
  if (headers === null || typeof headers !== 'object') {
    throw coded('invalid_argument', 'authenticate(request, ...): request must be a Request or have headers (a Headers or a plain object)');
  }
  if (typeof headers.get === 'function') {
    const v = headers.get('authorization');
    return v === null ? [] : [v];
  }
  // node:http keeps only the first of repeated Authorization headers in `headers`; its
  // `headersDistinct` keeps them all, so a repeat is caught rather than silently dropped.
  const distinct = request.headersDistinct?.authorization;
  if (Array.isArray(distinct) && distinct.length > 1) return distinct;
  const values = [];
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() !== 'authorization') continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) values.push(...v);
    else values.push(v);
  }
  return values;
}

// The token of `request`, or the failure its Authorization header earns.
function bearerToken(request) {
  const values = authorizationValues(request);
  if (values.length === 0) return { failure: failure(401, 'missing_token', NO_TOKEN, 'Bearer') };
  if (values.length > 1) return { failure: invalidRequest('send one Authorization header') };
  const [value] = values;
  if (typeof value !== 'string') return { failure: invalidRequest('the Authorization header is not text') };
  // Header values carry no leading or trailing whitespace (RFC 9110 5.5); a plain object may.
  const m = BEARER.exec(value.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (!m) {
    return {
      failure: invalidRequest('send Authorization: Bearer <token>, one token of letters, digits and -._~+/ with = only at its end'),
    };
  }
  return { token: m[1] };
}

// The failure for a refused verdict, with the edge's WWW-Authenticate (RFC 6750, and RFC 9470
// for a step-up: what the client must do differs, so the error differs).
function refusal(verdict) {
  const reason = verdict.reason;
  if (reason !== 'insufficient_user_authentication') {
    return failure(401, reason, verdict.message, `Bearer error="invalid_token", error_description="${reason}"`, verdict);
  }
  const amr = Array.isArray(verdict.requiredAmr) ? verdict.requiredAmr : [];
  let header = `Bearer error="${reason}", error_description="authenticate again${amr.length ? ` with ${amr.join(' and ')}` : ''}"`;
  const extra = {};
  if (typeof verdict.maxAge === 'number') {
    header += `, max_age=${verdict.maxAge}`;
    extra.max_age = verdict.maxAge;
  }
  extra.required_amr = amr;
  return failure(401, reason, verdict.message, header, verdict, extra);
}

/**
 * Reads `Authorization: Bearer <token>` from `request` and validates it with `validator` as its
 * view is now. Synchronous, and pure over the validator: keeping the view fresh is the caller's
 * (or an Authenticator's) job.
 */
export function authenticate(request, validator, options = {}) {
  if (!(validator instanceof WasmValidator)) {
    throw coded('invalid_argument', 'authenticate(request, validator): validator must be an epochgate Validator');
  }
  if (options === null || typeof options !== 'object') {
    throw coded('invalid_argument', 'authenticate(request, validator, options): options must be an object');
  }
  const parsed = bearerToken(request);
  if (parsed.failure) return parsed.failure;
  return judge(parsed.token, validator, options);
}

// The verdict on a token already read from its header, as an AuthSuccess or AuthFailure. The
// core checks `now` and `stepUp` and throws its own coded errors for bad ones.
function judge(token, validator, { now, stepUp }) {
  const verdict = validator.validate(token, now ?? undefined, stepUp ?? undefined);
  if (verdict.valid) return { ok: true, token, session: verdict };
  return refusal(verdict);
}

/**
 * The Response for a failure of `authenticate`: its status, `WWW-Authenticate`, `Cache-Control:
 * no-store` (an answer about one token must not be reused for another) and the JSON body.
 */
export function unauthorized(failure) {
  if (failure === null || typeof failure !== 'object' || failure.ok !== false || typeof failure.status !== 'number') {
    throw coded('invalid_argument', 'unauthorized(failure): give the failure that authenticate() returned (ok: false)');
  }
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (failure.wwwAuthenticate) headers['www-authenticate'] = failure.wwwAuthenticate;
  if (failure.status === 503) headers['retry-after'] = '1';
  return new Response(JSON.stringify(failure.body), { status: failure.status, headers });
}

// A failed key load is tried again by the first request at least this long after it; the ones
// in between are answered 503 at once instead of each hitting an origin that is down.
const KEYS_RETRY_MS = 1000;
// Polling interval of requests that wait for another request's key load (Workers forbid
// awaiting a promise another request created).
const POLL_MS = 10;
// A JWKS larger than this is not a JWKS worth parsing.
const MAX_JWKS_BYTES = 1 << 20;
// Token keys rotate: the origin starts signing with a key id it has just published. A token that
// names a key id the validator lacks makes the keys reload, at most once per this interval by
// default, so tokens naming made-up key ids cost the origin one JWKS read per interval, not one
// per request.
const KEY_RELOAD_MS = 60_000;
const MAX_MS = 86_400_000;

// Stand-in keys (the public keys of RFC 8032's test vectors 1 and 2), only so the constructor
// can hand the options to a real Validator and RevocationFollower and fail at once on a bad one,
// rather than on the first request after the real keys arrive. Nothing is ever validated with them.
const PROBE_KEY = { kty: 'OKP', crv: 'Ed25519', kid: 'probe', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const PROBE_REVOCATION_KEY = { kty: 'OKP', crv: 'Ed25519', kid: 'probe-revocation', x: 'PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw' };

const VALIDATOR_OPTIONS = ['clockTolerance', 'cacheSize', 'maxAuthAge', 'requiredAmr', 'maxTokenBytes', 'type'];
const FOLLOWER_OPTIONS = ['updatesUrl', 'fetch', 'stalenessTargetMs', 'refreshTimeoutMs', 'maxWaitMs', 'cache', 'cacheSlotMs'];
// Follower options that also apply to loading the keys, so they stay allowed with follow: false.
const KEY_LOADING_OPTIONS = new Set(['fetch', 'refreshTimeoutMs', 'maxWaitMs']);
const KNOWN = new Set(['issuer', 'audience', 'origin', 'keys', 'revocationKeys', 'maxStateAge', 'follow', 'keyReloadMs',
  ...VALIDATOR_OPTIONS, ...FOLLOWER_OPTIONS]);

function optionError(message) {
  return coded('invalid_option', `new Authenticator(options): ${message}`);
}

/** The two key sets as one comparable text. */
function keyText(keys, revocationKeys) {
  const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
  return `${text(keys)}\n${text(revocationKeys)}`;
}

function isKeys(v) {
  return typeof v === 'string' || (v !== null && typeof v === 'object');
}

/**
 * One Validator with its keys loaded from the origin and its revocation view followed: one per
 * isolate or process. The constructor does no I/O (Workers forbid it at global scope); the first
 * request loads what is missing.
 */
export class Authenticator {
  #validatorOptions;
  #followerOptions = null;
  #keysSource;
  #revocationKeysSource;
  #fetch;
  #loadTimeoutMs;
  #maxWaitMs;
  #validator = null;
  #follower = null;
  #loading = null; // { startedAt, generation } while one request loads the keys
  #generation = 0;
  #failedAt = -Infinity;
  #keyReloadMs;
  #keysLoadedAt = -Infinity; // when keys were last read from the origin (or tried)
  #keysText = null; // the two key sets as last read, to tell a rotation from a repeat
  #reloading = false;
  #lastError = null;
  #closed = false;

  constructor(options) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw optionError('options must be an object with issuer, audience and origin (or keys)');
    }
    for (const name of Object.keys(options)) {
      if (!KNOWN.has(name)) throw optionError(`unknown member "${name}"; the known ones are ${[...KNOWN].join(', ')}`);
    }
    const { issuer, audience, origin, keys, revocationKeys, follow } = options;
    if (typeof issuer !== 'string' || issuer === '') throw optionError('issuer must be a non-empty string');
    if (typeof audience !== 'string' || audience === '') throw optionError('audience must be a non-empty string');
    let base = null;
    if (origin !== undefined) {
      let url;
      try {
        url = new URL(String(origin));
      } catch {
        throw optionError(`origin must be an absolute http(s) URL, got ${JSON.stringify(String(origin))}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw optionError(`origin must be an http(s) URL, got ${url.protocol}`);
      if (url.search || url.hash) throw optionError('origin is a base URL: no query and no fragment');
      base = url.href.replace(/\/+$/, '');
    }
    if (keys !== undefined && !isKeys(keys)) throw optionError('keys must be a JWKS, a JWK or either as JSON text');
    if (revocationKeys !== undefined && !isKeys(revocationKeys)) throw optionError('revocationKeys must be a JWKS, a JWK or either as JSON text');
    if (follow !== undefined && typeof follow !== 'boolean') throw optionError('follow must be true or false');
    if (keys === undefined && base === null) throw optionError('give origin (keys are then loaded from it) or keys');
    const following = follow ?? (base !== null || options.updatesUrl !== undefined || revocationKeys !== undefined);
    if (following && base === null && options.updatesUrl === undefined) {
      throw optionError('follow needs origin or updatesUrl: where revocation updates come from');
    }
    if (following && revocationKeys === undefined && base === null) {
      throw optionError('follow needs revocationKeys, or origin to load them from');
    }
    if (!following) {
      for (const name of FOLLOWER_OPTIONS) {
        if (options[name] !== undefined && !KEY_LOADING_OPTIONS.has(name)) {
          throw optionError(`${name} is for following revocations, and follow is false`);
        }
      }
    }
    const { keyReloadMs } = options;
    if (keyReloadMs !== undefined && !(Number.isSafeInteger(keyReloadMs) && keyReloadMs >= 0 && keyReloadMs <= MAX_MS)) {
      throw optionError(`keyReloadMs must be a whole number of milliseconds from 0 (never) to ${MAX_MS}, got ${String(keyReloadMs)}`);
    }
    if (keyReloadMs !== undefined && keys !== undefined && revocationKeys !== undefined) {
      throw optionError('keyReloadMs is for keys loaded from the origin, and both key sets are given');
    }
    this.#keyReloadMs = keyReloadMs ?? KEY_RELOAD_MS;
    // These also govern the key load, which happens with or without a follower.
    for (const name of ['refreshTimeoutMs', 'maxWaitMs']) {
      const v = options[name];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
        throw optionError(`${name} must be a positive number of milliseconds, got ${String(v)}`);
      }
    }

    // Fail closed by default wherever updates can arrive; without revocation keys no update can
    // ever be applied, so a maximum state age would refuse every token.
    const revocable = following || revocationKeys !== undefined;
    const maxStateAge = options.maxStateAge ?? (revocable ? 30 : 0);
    this.#validatorOptions = { issuer, audience, maxStateAge };
    for (const name of VALIDATOR_OPTIONS) {
      if (options[name] !== undefined) this.#validatorOptions[name] = options[name];
    }
    if (following) {
      this.#followerOptions = {};
      if (options.updatesUrl === undefined) this.#followerOptions.origin = base;
      for (const name of FOLLOWER_OPTIONS) {
        if (options[name] !== undefined) this.#followerOptions[name] = options[name];
      }
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw optionError('fetch must be a function');
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#loadTimeoutMs = options.refreshTimeoutMs ?? 5000;
    this.#maxWaitMs = options.maxWaitMs ?? 5000;
    this.#keysSource = keys !== undefined ? { value: keys } : { url: `${base}/.well-known/jwks.json` };
    this.#revocationKeysSource = revocationKeys !== undefined ? { value: revocationKeys }
      : following ? { url: `${base}/.well-known/revocation-jwks.json` } : { value: undefined };

    const keysGiven = keys !== undefined && (revocationKeys !== undefined || !following);
    if (keysGiven) {
      // Everything is here: build it now, so a bad key fails the constructor too.
      this.#install(keys, revocationKeys);
    } else {
      this.#probe(revocable);
    }
  }

  /** The Validator, once its keys are loaded (null before). */
  get validator() {
    return this.#validator;
  }

  /** The RevocationFollower, once the keys are loaded, when following (null otherwise). */
  get follower() {
    return this.#follower;
  }

  /**
   * Authenticates `request`: loads the keys on first use, lets the follower make the view fresh
   * enough (`waitUntil`: the Workers ExecutionContext's, for a refresh that outlives the
   * response), then validates. Resolves to an AuthSuccess or an AuthFailure; rejects only for a
   * request without headers or a bad `stepUp` (a bug of the caller, with a `.code`).
   */
  async authenticate(request, options = {}) {
    if (options === null || typeof options !== 'object') {
      throw coded('invalid_argument', 'authenticator.authenticate(request, options): options must be an object');
    }
    const { stepUp, waitUntil } = options;
    if (waitUntil !== undefined && typeof waitUntil !== 'function') {
      throw coded('invalid_argument', 'authenticator.authenticate(request, options): waitUntil must be a function');
    }
    // A request with no usable header is answered without keys: it needs none, and it must not
    // turn into a 503 while the origin is down.
    const parsed = bearerToken(request);
    if (parsed.failure) return parsed.failure;
    if (!(await this.#keysReady())) {
      return failure(503, 'keys_unavailable',
        `the token keys could not be loaded (${this.#lastError}); the next try is at most ${KEYS_RETRY_MS / 1000} s away`, '');
    }
    if (this.#follower) await this.#follower.ready(waitUntil ? { waitUntil } : undefined);
    // The header was read above; only the token is judged from here on.
    const result = judge(parsed.token, this.#validator, { stepUp });
    if (result.ok || result.error !== 'unknown_key' || !(await this.#reloadKeys())) return result;
    if (this.#follower) await this.#follower.ready(waitUntil ? { waitUntil } : undefined);
    return judge(parsed.token, this.#validator, { stepUp });
  }

  // After a token named an unknown key: reads the key sets again (at most once per
  // keyReloadMs, one request at a time; the others keep their unknown_key answer) and, when
  // they changed, swaps in a new validator — only once its view is as usable as the old one, so
  // no request in between is judged on an empty view. True when the keys were swapped.
  async #reloadKeys() {
    if (this.#reloading || this.#keyReloadMs === 0 || this.#closed) return false;
    if (this.#keysSource.url === undefined && this.#revocationKeysSource.url === undefined) return false;
    if (Date.now() - this.#keysLoadedAt < this.#keyReloadMs) return false;
    this.#reloading = true;
    this.#keysLoadedAt = Date.now();
    try {
      const [keys, revocationKeys] = await Promise.all([
        this.#fetchKeys(this.#keysSource),
        this.#fetchKeys(this.#revocationKeysSource),
      ]);
      const text = keyText(keys, revocationKeys);
      if (text === this.#keysText) return false;
      const next = this.#build(keys, revocationKeys);
      if (next.follower) {
        await next.follower.ready();
        if (next.follower.stats.applied === 0) {
          // The new view could not be loaded: keep judging on the old one.
          next.follower.close();
          return false;
        }
      }
      if (this.#closed) {
        next.follower?.close();
        return false;
      }
      this.#follower?.close();
      this.#validator = next.validator;
      this.#follower = next.follower;
      this.#keysText = text;
      return true;
    } catch (e) {
      this.#lastError = e.message;
      return false;
    } finally {
      this.#reloading = false;
    }
  }

  /** Stops following (timers, listeners); tokens are then judged on the view as it was. */
  close() {
    this.#closed = true;
    this.#follower?.close();
  }

  #probe(revocable) {
    const probe = new Validator({
      ...this.#validatorOptions,
      keys: PROBE_KEY,
      ...(revocable ? { revocationKeys: PROBE_REVOCATION_KEY } : {}),
      cacheSize: 0,
    });
    try {
      if (this.#followerOptions) new RevocationFollower(probe, { ...this.#followerOptions }).close();
    } finally {
      probe.free();
    }
  }

  #install(keys, revocationKeys) {
    const { validator, follower } = this.#build(keys, revocationKeys);
    if (this.#closed) follower?.close();
    this.#validator = validator;
    this.#follower = follower;
    this.#keysText = keyText(keys, revocationKeys);
  }

  #build(keys, revocationKeys) {
    const validator = new Validator({
      ...this.#validatorOptions,
      keys,
      ...(revocationKeys !== undefined ? { revocationKeys } : {}),
    });
    let follower = null;
    try {
      if (this.#followerOptions) {
        follower = new RevocationFollower(validator, { ...this.#followerOptions });
      }
    } catch (e) {
      validator.free();
      throw e;
    }
    return { validator, follower };
  }

  // True once the validator exists. One request loads at a time; the others poll, since
  // awaiting the loader's promise from another request is what Workers forbid.
  async #keysReady() {
    const deadline = Date.now() + this.#maxWaitMs;
    for (;;) {
      if (this.#validator) return true;
      const now = Date.now();
      // A loader whose request was cancelled mid-load never finishes: past its timeout it is
      // presumed lost and another request loads instead.
      if (this.#loading && now - this.#loading.startedAt > this.#loadTimeoutMs + KEYS_RETRY_MS) this.#loading = null;
      if (!this.#loading) {
        if (now - this.#failedAt < KEYS_RETRY_MS) return false;
        return this.#load();
      }
      if (now >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async #load() {
    const generation = ++this.#generation;
    this.#loading = { startedAt: Date.now(), generation };
    try {
      const [keys, revocationKeys] = await Promise.all([
        this.#fetchKeys(this.#keysSource),
        this.#fetchKeys(this.#revocationKeysSource),
      ]);
      if (this.#validator) return true;
      this.#keysLoadedAt = Date.now();
      try {
        this.#install(keys, revocationKeys);
      } catch (e) {
        throw new Error(`the keys were refused: ${e.code ?? 'error'}: ${e.message}`);
      }
      return true;
    } catch (e) {
      this.#lastError = e.message;
      this.#failedAt = Date.now();
      return false;
    } finally {
      if (this.#loading?.generation === generation) this.#loading = null;
    }
  }

  // Keys given in the options are passed through; the others are fetched.
  async #fetchKeys({ value, url: source }) {
    if (source === undefined) return value;
    let res;
    try {
      res = await this.#fetch(source, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#loadTimeoutMs),
      });
    } catch (e) {
      throw new Error(`GET ${source} failed: ${e?.message ?? e}`);
    }
    if (res.status !== 200) {
      await res.body?.cancel?.().catch(() => {});
      throw new Error(`GET ${source} answered ${res.status}`);
    }
    try {
      return await readCapped(res, MAX_JWKS_BYTES);
    } catch (e) {
      throw new Error(`GET ${source}: the body could not be read: ${e?.message ?? e}`);
    }
  }
}

// A response's text, read piece by piece and abandoned past `cap` bytes: an origin (or whatever
// answers in its place) that sends a body without end costs at most `cap` bytes of memory, not
// everything it manages to send before the timeout.
async function readCapped(res, cap) {
  if (!res.body || typeof res.body.getReader !== 'function') {
    const text = await res.text();
    if (text.length > cap) throw new Error(`it is over ${cap} bytes`);
    return text;
  }
  const reader = res.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      reader.cancel().catch(() => {});
      throw new Error(`it is over ${cap} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
