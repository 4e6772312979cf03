// `RevocationFollower`: keeps one Validator's revocation view following the origin's
// /v1/revocations, in any runtime (Workers, Node, browsers, Deno, Bun). The schedule and the
// fetch rule — when to refresh, a delta or a snapshot, what a refused update does, who waits —
// are the core's `Follower`, the same the Worker edge drives (edge/fresh.rs); this file only
// fetches, caches and schedules. It neither initialises the wasm (the entry point does) nor
// imports anything runtime-specific.
//
// No ETag / If-None-Match: a 304 carries no newly signed creation time, so it could not keep the
// view from going stale under the Validator's maxStateAge; every refresh reads a signed update.
import { Follower, UpdateBytes, Validator } from './glue.mjs';

/** How often a request with no usable view looks again while another refresh runs (ms). */
const POLL_MS = 10;
/** Fetches per refresh: a delta, then the snapshot the core asks for; one spare. */
const MAX_FETCHES_PER_REFRESH = 3;
/** Seconds a cached update may be kept; its key changes every slot, so this only bounds storage. */
const CACHE_MAX_AGE_S = 5;
/** The largest update an UpdateBytes holds (the core's limit). */
const MAX_UPDATE_BYTES = 134_217_728;
/** The core Follower's bound on its durations (a day, ms); the same for this file's own. */
const MAX_MS = 86_400_000;

const OPTION_NAMES = new Set([
  'origin', 'updatesUrl', 'fetch', 'stalenessTargetMs', 'refreshTimeoutMs', 'maxWaitMs', 'cache',
  'cacheSlotMs', 'now',
]);

function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

const optionError = (message) => codedError('invalid_option', `new RevocationFollower: ${message}`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to `undefined` when `signal` aborts, so no cache call can hold a refresh past its timeout. */
function untilAborted(promise, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function duration(options, name, fallback, min) {
  const value = options[name];
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > MAX_MS) {
    throw optionError(`${name} must be a whole number of milliseconds from ${min} to ${MAX_MS}, got ${String(value)}`);
  }
  return value;
}

function httpUrl(value, name) {
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw optionError(`${name} must be a URL string or a URL, got ${typeof value}`);
  }
  let url;
  try {
    url = new URL(String(value));
  } catch {
    throw optionError(`${name} is not an absolute URL: ${String(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw optionError(`${name} must be an http: or https: URL, got ${url.protocol}`);
  }
  if (url.hash) throw optionError(`${name} must have no #fragment`);
  return url;
}

/** The updates endpoint from exactly one of `origin` and `updatesUrl`. */
function updatesEndpoint(options) {
  const hasOrigin = options.origin !== undefined && options.origin !== null;
  const hasUrl = options.updatesUrl !== undefined && options.updatesUrl !== null;
  if (hasOrigin === hasUrl) {
    throw optionError('give exactly one of origin (the epochgate origin) and updatesUrl (its /v1/revocations)');
  }
  if (hasUrl) return httpUrl(options.updatesUrl, 'updatesUrl');
  const origin = httpUrl(options.origin, 'origin');
  if (origin.search) throw optionError('origin must have no ?query: /v1/revocations is added to its path');
  origin.pathname = `${origin.pathname.replace(/\/+$/, '')}/v1/revocations`;
  return origin;
}

/** The Content-Length to reserve, when there is a usable one. */
function contentLength(response) {
  const raw = response.headers?.get?.('content-length');
  if (typeof raw !== 'string' || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const length = Number(raw);
  return length <= MAX_UPDATE_BYTES ? length : undefined;
}

/** Appends `chunk`; false when the update would pass the size limit (nothing appended). */
function append(received, chunk) {
  try {
    received.push(chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk));
    return true;
  } catch (error) {
    if (error?.code === 'update_malformed') return false;
    throw error;
  }
}

/**
 * Reads an update's body piece by piece into an UpdateBytes sized by its Content-Length, so a
 * large snapshot is never whole in JS memory and in the module's at once. A body past the size
 * limit is cut off: the core then refuses what arrived as malformed.
 */
async function readUpdate(response) {
  const received = new UpdateBytes(contentLength(response));
  try {
    const body = response.body;
    if (body && typeof body.getReader === 'function') {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!append(received, value)) {
          reader.cancel().catch(() => {});
          break;
        }
      }
    } else {
      append(received, await response.arrayBuffer());
    }
    return received;
  } catch (error) {
    received.free();
    throw error;
  }
}

function discard(response) {
  try {
    response.body?.cancel?.().catch(() => {});
  } catch {
    // A body already used or locked holds nothing to release.
  }
}

function describe(error) {
  const cause = error?.cause?.code ?? error?.cause?.message;
  const message = error?.message ?? String(error);
  return cause ? `${message} (${cause})` : message;
}

/** Keeps one Validator's revocation view following the origin; see the top of this file. */
export class RevocationFollower {
  #validator;
  #follower;
  #url;
  #fetch;
  #now;
  #cache;
  #cacheSlotMs;
  #maxWaitMs;
  #refreshTimeoutMs;
  #stalenessTargetMs;
  /** Whether fetch takes `cache: 'no-store'`; Workers without the compatibility flag refuse it. */
  #noStore = true;
  #closed = false;
  #timer = null;
  #unsubscribes = new Set();
  #pushing = false;
  #pushAgain = false;
  /** Fetches made outside the core's plan (a forced refresh's first one), for `stats`. */
  #unplanned = { fetches: 0, snapshots: 0 };
  #cacheHits = 0;
  #cacheMisses = 0;
  #lastError = null;

  constructor(validator, options) {
    if (!(validator instanceof Validator)) {
      throw codedError('invalid_argument', 'new RevocationFollower(validator, options): validator must be a Validator of this package');
    }
    if (options === null || typeof options !== 'object') {
      throw optionError('options must be an object with origin or updatesUrl');
    }
    for (const name of Object.keys(options)) {
      if (!OPTION_NAMES.has(name)) throw optionError(`unknown option ${JSON.stringify(name)}`);
    }
    this.#url = updatesEndpoint(options);
    if (options.fetch !== undefined) {
      if (typeof options.fetch !== 'function') throw optionError(`fetch must be a function, got ${typeof options.fetch}`);
      this.#fetch = options.fetch;
    } else if (typeof globalThis.fetch === 'function') {
      this.#fetch = globalThis.fetch.bind(globalThis);
    } else {
      throw optionError('this runtime has no global fetch; pass options.fetch');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw optionError(`now must be a function returning Unix milliseconds, got ${typeof options.now}`);
    }
    this.#now = options.now ?? Date.now;
    this.#stalenessTargetMs = duration(options, 'stalenessTargetMs', 1000, 0);
    this.#refreshTimeoutMs = duration(options, 'refreshTimeoutMs', 5000, 1);
    this.#maxWaitMs = duration(options, 'maxWaitMs', 5000, 0);
    this.#cacheSlotMs = duration(options, 'cacheSlotMs', 250, 0);
    if (options.cache === undefined) {
      this.#cache = globalThis.caches?.default ?? null;
    } else if (options.cache === null) {
      this.#cache = null;
    } else if (typeof options.cache?.match === 'function' && typeof options.cache?.put === 'function') {
      this.#cache = options.cache;
    } else {
      throw optionError('cache must have match(key) and put(key, response), or be null');
    }
    // An empty update is refused without a change to the view: for want of revocation keys
    // first, else as malformed. Following without keys could never apply anything.
    try {
      validator.applyRevocation(new Uint8Array(0), 0);
    } catch (error) {
      if (error?.code === 'no_revocation_keys') {
        throw codedError('no_revocation_keys', 'new RevocationFollower: the validator has no revocationKeys, so it cannot apply updates');
      }
      if (error?.code !== 'update_malformed') {
        throw codedError('invalid_argument', `new RevocationFollower: the validator is not usable: ${describe(error)}`);
      }
    }
    this.#validator = validator;
    this.#follower = new Follower({
      stalenessTargetMs: this.#stalenessTargetMs,
      refreshTimeoutMs: this.#refreshTimeoutMs,
    });
  }

  get validator() {
    return this.#validator;
  }

  /**
   * Call before each validation. Resolves when the request may validate: at once with a view
   * that is fresh, or usable while a refresh runs in the background (passed to `waitUntil`);
   * after the refresh when there is no usable view. Never rejects for fetch or update failures:
   * failing closed is the Validator's maxStateAge.
   */
  async ready(options) {
    const waitUntil = options?.waitUntil;
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw codedError('invalid_argument', 'ready(options): options must be an object');
    }
    if (waitUntil !== undefined && typeof waitUntil !== 'function') {
      throw codedError('invalid_argument', 'ready(options): waitUntil must be a function');
    }
    const started = this.#now();
    // Workers forbid awaiting a promise another request made: a request with no usable view
    // polls the plan instead of awaiting the refresh in flight.
    for (let polls = 0; !this.#closed; polls++) {
      const now = this.#now();
      let plan;
      try {
        plan = this.#follower.plan(this.#validator, now);
      } catch {
        return; // A freed validator or follower: the validation itself reports it.
      }
      if (plan.action === 'use') return;
      if (plan.action === 'fetch') {
        // With the refresh now in flight, the plan at the same instant is the core's word on
        // whether the current view may serve meanwhile ("use") or not ("wait"): nothing applied
        // yet, or past the Validator's maxStateAge.
        const usable = this.#follower.plan(this.#validator, now).action === 'use';
        const refresh = this.#refresh(plan.since, true);
        if (!usable) {
          await refresh;
          return;
        }
        try {
          waitUntil?.(refresh);
        } catch {
          // A context that no longer takes work: the refresh runs on as far as it can.
        }
        return;
      }
      if (now - started >= this.#maxWaitMs || polls * POLL_MS >= this.#maxWaitMs) return;
      await sleep(POLL_MS);
    }
  }

  /**
   * One refresh now, whether or not the view is due: a delta, or a snapshot when the core asks
   * for one. Waits (polling) for a refresh already in flight to end first.
   */
  async refresh() {
    if (this.#closed) return this.#closedOutcome();
    for (let polls = 0; ; polls++) {
      const now = this.#now();
      let plan;
      try {
        if (!this.#follower.inFlight(now)) {
          plan = this.#follower.plan(this.#validator, now);
          if (plan.action === 'fetch') return this.#refresh(plan.since, true);
          // The view is fresh, so the plan asks for nothing; the core takes an answer with no
          // refresh in flight as the answer to the fetch it would ask for now: this one.
          return this.#refresh(this.#follower.fetchedAtMs === undefined ? 0 : this.#validator.revocationSeq, false);
        }
      } catch (error) {
        return this.#failedOutcome({ code: error?.code ?? 'invalid_argument', message: describe(error) });
      }
      if (polls * POLL_MS >= this.#refreshTimeoutMs) {
        return this.#failedOutcome({ code: 'update_unavailable', message: 'another refresh is still running' });
      }
      await sleep(POLL_MS);
      if (this.#closed) return this.#closedOutcome();
    }
  }

  /**
   * Node and browsers: refreshes without traffic until close(). It asks the plan ten times per
   * staleness target, so the refresh comes when the core has it due (a little before the
   * target); in Node the timer does not keep the process alive.
   */
  start() {
    if (this.#closed || this.#timer !== null) return this;
    this.#schedule();
    return this;
  }

  #schedule() {
    this.#timer = setTimeout(() => this.#tick(), Math.max(POLL_MS, Math.floor(this.#stalenessTargetMs / 10)));
    this.#timer?.unref?.();
  }

  async #tick() {
    if (this.#closed) return;
    try {
      const plan = this.#follower.plan(this.#validator, this.#now());
      if (plan.action === 'fetch') await this.#refresh(plan.since, true);
    } catch {
      // A freed validator: nothing to follow; close() ends the timer.
    }
    if (!this.#closed) this.#schedule();
  }

  /**
   * Browsers: the page's /v1/events WebSocket says when something was revoked; any message
   * refreshes at once. Messages during a refresh make one more refresh after it, not one each.
   */
  listen(socket) {
    if (typeof socket?.addEventListener !== 'function' || typeof socket?.removeEventListener !== 'function') {
      throw codedError('invalid_argument', 'listen(socket): socket must have addEventListener and removeEventListener');
    }
    if (this.#closed) return () => {};
    const onMessage = () => {
      this.#push();
    };
    socket.addEventListener('message', onMessage);
    const unsubscribe = () => {
      if (!this.#unsubscribes.delete(unsubscribe)) return;
      socket.removeEventListener('message', onMessage);
    };
    this.#unsubscribes.add(unsubscribe);
    return unsubscribe;
  }

  async #push() {
    if (this.#pushing) {
      this.#pushAgain = true;
      return;
    }
    this.#pushing = true;
    try {
      do {
        this.#pushAgain = false;
        await this.refresh();
      } while (this.#pushAgain && !this.#closed);
    } finally {
      this.#pushing = false;
    }
  }

  get stats() {
    const core = this.#follower.stats;
    const fetchedAt = this.#follower.fetchedAtMs;
    return {
      fetches: core.fetches + this.#unplanned.fetches,
      snapshots: core.snapshots + this.#unplanned.snapshots,
      applied: core.applied,
      refused: core.refused,
      failures: core.failures,
      cacheHits: this.#cacheHits,
      cacheMisses: this.#cacheMisses,
      seq: this.#validator.revocationSeq,
      ageMs: fetchedAt === undefined ? null : Math.max(0, this.#now() - fetchedAt),
      lastError: this.#lastError && { ...this.#lastError },
    };
  }

  /** Stops the timer and the listeners; ready() then resolves at once without fetching. */
  close() {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const unsubscribe of [...this.#unsubscribes]) unsubscribe();
  }

  #closedOutcome() {
    return { applied: false, error: { code: 'follower_closed', message: 'the follower was closed' } };
  }

  #failedOutcome(error) {
    this.#lastError = error;
    return { applied: false, error: { ...error } };
  }

  /**
   * One refresh from `since`: fetches and answers until the core is done. Every fetch of it
   * is aborted once the refresh is older than refreshTimeoutMs, when the core presumes it lost
   * and lets another request start one. Never rejects.
   */
  async #refresh(since, planned) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#refreshTimeoutMs);
    try {
      if (!planned) {
        this.#unplanned.fetches++;
        if (since === 0) this.#unplanned.snapshots++;
      }
      for (let i = 0; ; i++) {
        const { answer, failure } = await this.#fetchUpdate(since, abort.signal);
        const next = this.#answer(answer);
        if (next.next === 'done') {
          this.#lastError = null;
          return { applied: true, seq: next.seq };
        }
        if (next.next === 'fetch' && i + 1 < MAX_FETCHES_PER_REFRESH) {
          since = next.since;
          continue;
        }
        if (next.next === 'fetch') {
          // The core still has a refresh in flight; end it as failed rather than leave it to time out.
          this.#answer({ failed: true });
          return this.#failedOutcome({ code: 'update_unavailable', message: `no usable update after ${MAX_FETCHES_PER_REFRESH} fetches` });
        }
        const error = next.error.code === 'update_unavailable' && failure
          ? { code: next.error.code, message: `${failure}; ${next.error.message}` }
          : next.error;
        return this.#failedOutcome(error);
      }
    } catch (error) {
      return this.#failedOutcome({ code: error?.code ?? 'update_unavailable', message: describe(error) });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The core's next step after `answer`; a throw (a freed validator) ends the refresh. */
  #answer(answer) {
    try {
      return this.#follower.answer(this.#validator, answer, this.#now());
    } catch (error) {
      return { next: 'failed', error: { code: error?.code ?? 'invalid_argument', message: describe(error) } };
    }
  }

  /**
   * GET `${updatesUrl}?since=S` as a core answer: 200 `{update}`, 409 `{sinceAhead}`, anything
   * else `{failed}` with `failure` saying what. Through the cache when there is one: an update
   * read by another isolate of the location in the same time slot is taken from there.
   */
  async #fetchUpdate(since, signal) {
    const url = new URL(this.#url);
    url.searchParams.set('since', String(since));
    let key = null;
    if (this.#cache && this.#cacheSlotMs > 0) {
      const keyUrl = new URL(url);
      keyUrl.searchParams.set('slot', String(Math.floor(Math.max(0, this.#now()) / this.#cacheSlotMs)));
      key = keyUrl.href;
      try {
        const hit = await untilAborted(this.#cache.match(key), signal);
        if (hit && hit.status === 200) {
          const update = await readUpdate(hit);
          this.#cacheHits++;
          return { answer: { update } };
        }
      } catch {
        // A cache that fails to read is a miss: the origin answers.
      }
      this.#cacheMisses++;
    }
    let response;
    try {
      response = await this.#get(url.href, signal);
    } catch (error) {
      const failure = signal.aborted
        ? `GET ${url.href} timed out after ${this.#refreshTimeoutMs} ms`
        : `GET ${url.href} failed: ${describe(error)}`;
      return { answer: { failed: true }, failure };
    }
    if (!response || typeof response.status !== 'number') {
      return { answer: { failed: true }, failure: `GET ${url.href}: fetch returned no Response` };
    }
    if (response.status === 409) {
      discard(response);
      return { answer: { sinceAhead: true } };
    }
    if (response.status !== 200) {
      discard(response);
      return { answer: { failed: true }, failure: `GET ${url.href} answered ${response.status}` };
    }
    try {
      if (key === null) return { answer: { update: await readUpdate(response) } };
      // The body goes to the cache and into the view side by side (a tee), so neither side
      // holds the whole of it waiting for the other.
      const headers = new Headers({
        'content-type': 'application/octet-stream',
        'cache-control': `public, max-age=${CACHE_MAX_AGE_S}`,
      });
      const length = response.headers.get('content-length');
      if (length !== null) headers.set('content-length', length);
      const copy = new Response(response.clone().body, { status: 200, headers });
      const put = untilAborted(this.#cache.put(key, copy), signal).catch(() => {});
      const [update] = await Promise.all([readUpdate(response), put]);
      return { answer: { update } };
    } catch (error) {
      const failure = signal.aborted
        ? `GET ${url.href} timed out after ${this.#refreshTimeoutMs} ms reading the body`
        : `GET ${url.href}: reading the body failed: ${describe(error)}`;
      return { answer: { failed: true }, failure };
    }
  }

  async #get(href, signal) {
    if (this.#noStore) {
      try {
        return await this.#fetch(href, { cache: 'no-store', signal });
      } catch (error) {
        // Workers without the cache-option compatibility flag throw for `cache`; ask again without.
        if (!(error instanceof TypeError) || !/\bcache\b/i.test(error.message) || signal.aborted) throw error;
        this.#noStore = false;
      }
    }
    return this.#fetch(href, { signal });
  }
}
