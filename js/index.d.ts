// Types of the `epochgate` package, the same for every entry point (Node ESM and CommonJS,
// Workers, bundlers, `epochgate/web`). The wasm face's types are hand-written in
// crates/epochgate-wasm (docs/CONTRACT.md section 3); the JavaScript layer's are here.

import type { JWK, JWKS, StepUp, ValidatorOptions, ValidVerdict, Verdict } from './dist/glue.mjs';
import { Validator as WasmValidator } from './dist/glue.mjs';

export { Follower, Issuer, RevocationLog, UpdateBytes, generateKeyPair } from './dist/glue.mjs';
export type {
  EpochgateError, ErrorCode, FollowerAnswer, FollowerNext, FollowerOptions, FollowerPlan, FollowerStats,
  IssuerOptions, JWK, JWKS, KeyPair, MintRequest, PrivateJWK, Reason, RefusedVerdict, RevocationLogOptions,
  SessionClaims, StepUp, ValidatorOptions, ValidVerdict, Verdict,
} from './dist/glue.mjs';

/**
 * The wasm `Validator` with a verdict cache in JavaScript in front of it (keyed by the token
 * string): a repeated token is answered without entering WebAssembly, and every revocation,
 * expiry, `maxStateAge` deadline and the options' step-up is still honoured on every hit.
 * Verdicts it may hand to more than one caller — valid ones, and refusals that depend on the
 * token alone (`malformed`, `bad_signature`, ...) — are frozen, deeply: copy one to change it.
 * A call with a per-call `stepUp` is not cached. `cacheSize: 0` turns this cache off too.
 * Signatures are verified in WebAssembly unless `ed25519Verify` is given (see
 * {@link hostEd25519Verify}); every strict check stays in Rust either way.
 */
export declare class Validator extends WasmValidator {
  /**
   * How many verdicts the JavaScript cache holds: valid ones and token-only refusals, at most
   * `cacheSize` of each, including entries no longer current that wait to be judged again or
   * forgotten (oldest in, first out).
   */
  readonly cachedVerdicts: number;
  /** Who computes signatures' equations: `"host"` (the `ed25519Verify` it was given) or `"wasm"`. */
  readonly verification: 'host' | 'wasm';
}

/**
 * The runtime's own synchronous Ed25519 equation, for {@link ValidatorOptions.ed25519Verify}:
 * OpenSSL's through `node:crypto` in Node (also Bun and Deno), BoringSSL's through workerd's
 * `node:crypto` in Workers with `nodejs_compat`; `null` where there is none (browsers, Workers
 * without the flag). Checked at load against RFC 8032's first test vector. Validators do not use
 * it unless given it: the WebAssembly verification measured about twice as fast as OpenSSL's in
 * Node and level with BoringSSL's in workerd (docs/BENCHMARKS.md).
 */
export declare const hostEd25519Verify:
  | ((publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean)
  | null;

/** The `fetch` a follower or an authenticator uses: `globalThis.fetch` unless given. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** A place to share update reads between isolates of one location: `caches.default` in Workers. */
export interface CacheLike {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

/** How a {@link RevocationFollower} reaches the origin and how fresh it keeps the view. */
export interface RevocationFollowerOptions {
  /** The epochgate origin's base URL; updates come from `${origin}/v1/revocations`. */
  origin?: string | URL;
  /** The updates endpoint itself, instead of `origin`. */
  updatesUrl?: string | URL;
  /** Default: `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Refresh when the newest applied update was fetched longer ago than this (ms). Default 1000. */
  stalenessTargetMs?: number;
  /** A refresh running longer than this (ms) is abandoned and presumed lost. Default 5000. */
  refreshTimeoutMs?: number;
  /** How long a request with no usable view waits for another request's refresh (ms). Default 5000. */
  maxWaitMs?: number;
  /** Default: `caches.default` where it exists (Workers), else none. `null`: none. */
  cache?: CacheLike | null;
  /** The time slot of a cached read (ms); 0 turns the cache off. Default 250. */
  cacheSlotMs?: number;
  /** Unix milliseconds; default `Date.now`. */
  now?: () => number;
}

/** What one refresh came to. */
export type RefreshOutcome =
  | { applied: true; seq: number }
  | { applied: false; error: { code: string; message: string } };

/** What a {@link RevocationFollower} counted. */
export interface RevocationFollowerStats {
  fetches: number;
  snapshots: number;
  applied: number;
  refused: number;
  failures: number;
  cacheHits: number;
  cacheMisses: number;
  /** The view's sequence. */
  seq: number;
  /** Milliseconds since the fetch of the newest applied update started; null before the first. */
  ageMs: number | null;
  lastError: { code: string; message: string } | null;
}

/** A WebSocket, or anything that delivers `message` events. */
export interface MessageSource {
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** Keeps one {@link Validator}'s revocation view following the origin. */
export class RevocationFollower {
  constructor(validator: Validator, options: RevocationFollowerOptions);
  readonly validator: Validator;
  /** Resolves when a request may validate; never rejects for fetch or update failures. */
  ready(options?: { waitUntil?: (promise: Promise<unknown>) => void }): Promise<void>;
  /** One refresh now. After `close()`: `{applied: false, error: {code: 'follower_closed'}}`. */
  refresh(): Promise<RefreshOutcome>;
  /** Refreshes on a timer every staleness target until {@link close} (Node, browsers). */
  start(): this;
  /** Refreshes at once on every message of `socket` (the page's `/v1/events`); returns an unsubscribe. */
  listen(socket: MessageSource): () => void;
  readonly stats: RevocationFollowerStats;
  close(): void;
}

/** A Fetch API request, or anything with its headers: a `node:http` IncomingMessage fits. */
export type RequestLike = Request | { headers: Headers | Record<string, string | string[] | undefined> };

/** A request with a valid token. */
export interface AuthSuccess {
  ok: true;
  token: string;
  session: ValidVerdict;
}

/** A request refused, with everything its answer needs. */
export interface AuthFailure {
  ok: false;
  status: 400 | 401 | 503;
  /** A token reason, or `invalid_request`, `missing_token`, `keys_unavailable`. */
  error: string;
  message: string;
  verdict: Verdict | null;
  /** The RFC 6750 `WWW-Authenticate` value (RFC 9470 for step-up). */
  wwwAuthenticate: string;
  body: { error: string; message: string; max_age?: number; required_amr?: string[] };
}

export type AuthResult = AuthSuccess | AuthFailure;

/** Reads `Authorization: Bearer` and validates it with `validator`, as the view is now. */
export function authenticate(
  request: RequestLike,
  validator: Validator,
  options?: { stepUp?: StepUp; now?: number },
): AuthResult;

/** The 4xx/5xx `Response` for a failure: status, `WWW-Authenticate`, no-store, JSON body. */
export function unauthorized(failure: AuthFailure): Response;

/** Where keys and revocations come from, and how tokens are judged. */
export interface AuthenticatorOptions
  extends Omit<RevocationFollowerOptions, 'now'>,
    Pick<ValidatorOptions, 'clockTolerance' | 'cacheSize' | 'maxAuthAge' | 'requiredAmr' | 'maxTokenBytes' | 'type'> {
  issuer: string;
  audience: string;
  /** Default: `${origin}/.well-known/jwks.json`. */
  keys?: JWKS | JWK | string;
  /** Default: `${origin}/.well-known/revocation-jwks.json`. */
  revocationKeys?: JWKS | JWK | string;
  /**
   * Seconds since the newest update's signed time after which valid tokens fail closed.
   * Default 30 when revocations are followed (or `revocationKeys` given), else 0.
   */
  maxStateAge?: number;
  /**
   * A token naming a key id the validator lacks reloads the keys from the origin (a rotation),
   * at most once per this many ms. Default 60000; 0 never reloads.
   */
  keyReloadMs?: number;
  /** Follow revocations. Default true when `origin`, `updatesUrl` or `revocationKeys` is given. */
  follow?: boolean;
}

/** A validator that loads its keys and follows revocations by itself: one per isolate or process. */
export class Authenticator {
  /** No I/O here: keys load on the first request. */
  constructor(options: AuthenticatorOptions);
  authenticate(
    request: RequestLike,
    options?: { stepUp?: StepUp; waitUntil?: (promise: Promise<unknown>) => void },
  ): Promise<AuthResult>;
  readonly validator: Validator | null;
  readonly follower: RevocationFollower | null;
  close(): void;
}
