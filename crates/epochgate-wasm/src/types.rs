//! The TypeScript types of the package, written by hand so options, keys and verdicts are
//! precise; the exported functions name them through `unchecked_param_type` and
//! `unchecked_return_type`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** An Ed25519 public key as a JSON Web Key (RFC 8037 OKP key). */
export interface JWK {
  kty: "OKP";
  crv: "Ed25519";
  /** Key id, 1 to 64 bytes; tokens name their key by it. */
  kid: string;
  /** The 32-byte public key, unpadded base64url. */
  x: string;
  alg?: "EdDSA" | "Ed25519";
  use?: "sig";
  /** The 32-byte private key, unpadded base64url; only in private JWKs. Keep it secret. */
  d?: string;
}

/** A private Ed25519 JWK: a {@link JWK} with `d`. */
export interface PrivateJWK extends JWK {
  d: string;
}

/** A JSON Web Key Set (RFC 7517). When read, members of other key types are skipped. */
export interface JWKS {
  keys: JWK[];
}

/** What {@link generateKeyPair} returns. */
export interface KeyPair {
  privateJwk: PrivateJWK;
  publicJwk: JWK;
}

/** Options of `new Validator(options)`. Unknown members are refused (`invalid_option`). */
export interface ValidatorOptions {
  /** The `iss` every token must carry. */
  issuer: string;
  /** A value every token's `aud` must contain. */
  audience: string;
  /** Token keys: a JWKS, one public JWK, or either as JSON text. */
  keys: JWKS | JWK | string;
  /** Keys that sign revocation updates (never token keys); needed by `applyRevocation`. */
  revocationKeys?: JWKS | JWK | string;
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`; default 30, at most 60. */
  clockTolerance?: number;
  /** Longest accepted token in bytes, 64 to 1048576; default 4096. */
  maxTokenBytes?: number;
  /** Required header `typ`; default "session+jwt". */
  type?: string;
  /**
   * Seconds: when the newest applied revocation update was created longer ago than this (by its
   * signed time), valid tokens are refused with "state_stale". 0 turns it off (default).
   */
  maxStateAge?: number;
  /** Verified-token cache entries; default 10000, 0 turns the cache off. */
  cacheSize?: number;
  /**
   * Step-up for every token: seconds the user's authentication (`auth_time`) may be old, else
   * "insufficient_user_authentication". Omitted: no age is asked.
   */
  maxAuthAge?: number;
  /**
   * Step-up for every token: methods (RFC 8176, such as "hwk") that must all be in its `amr`,
   * else "insufficient_user_authentication". 1 to 16 distinct names of 1 to 32 bytes of
   * printable ASCII; omitted or empty: none.
   */
  requiredAmr?: string[];
  /**
   * The host's Ed25519 verification, trusted for RFC 8032's equation only: every refusal of
   * ed25519-dalek's `verify_strict` beyond it (non-canonical `S`, small-order `R`, weak keys) is
   * made in Rust before it is asked; anything but `true`, or a throw, refuses. The package
   * exports one built on the runtime's `node:crypto` as `hostEd25519Verify` (Node, and workerd
   * under `nodejs_compat`; `null` elsewhere). Absent or `null`: the WebAssembly verification,
   * about twice as fast as Node's in the measurements and level with workerd's. Its arguments
   * are copies, its to keep; a function that only reads them during the call and keeps none may
   * say so with `true` under `Symbol.for('epochgate.borrowsArguments')` and is handed views of
   * the module's memory instead (the package's own functions do).
   */
  ed25519Verify?: ((publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean) | null;
}

/**
 * A step-up for one `validator.validate` call, on top of the validator's own (the smaller age and
 * every method of either). Unknown members are refused (`invalid_option`).
 */
export interface StepUp {
  /** Seconds the user's authentication (`auth_time`) may be old. */
  maxAuthAge?: number;
  /** Methods that must all be in the token's `amr`. */
  requiredAmr?: string[];
}

/** Why a token was refused. Stable codes. */
export type Reason =
  | "malformed" | "too_large" | "unsupported_algorithm" | "forbidden_header" | "unknown_key"
  | "bad_signature" | "wrong_type" | "missing_claim" | "expired" | "not_yet_valid"
  | "issued_in_future" | "wrong_issuer" | "wrong_audience" | "revoked_all" | "revoked_device"
  | "state_stale" | "insufficient_user_authentication";

/** The claims of a valid token; other claims it carries are kept too. */
export interface SessionClaims {
  iss: string;
  aud: string | string[];
  /** Account id. */
  sub: string;
  /** Session id. */
  sid: string;
  /** Device slot. */
  dev: number;
  /** Account epoch at issue. */
  epo: number;
  iat: number;
  exp: number;
  nbf?: number;
  jti?: string;
  /** When the user last authenticated. */
  auth_time?: number;
  /** How (RFC 8176 method names). */
  amr?: string[];
  [claim: string]: unknown;
}

/** A valid token: the session it proves. Times are Unix seconds. */
export interface ValidVerdict {
  valid: true;
  account: string;
  session: string;
  device: number;
  epoch: number;
  issuedAt: number;
  expiresAt: number;
  claims: SessionClaims;
  /** `auth_time`, only when the token carries it: when the user last authenticated. */
  authTime?: number;
  /** `amr`, only when the token carries it: how the user authenticated. */
  amr?: string[];
}

/** A refused token: exactly one reason, and a message for logs (never key material). */
export interface RefusedVerdict {
  valid: false;
  reason: Reason;
  message: string;
  /**
   * For "insufficient_user_authentication" only, when an age was asked: the largest accepted
   * age in seconds (the options' and the call's step-up together).
   */
  maxAge?: number;
  /** For "insufficient_user_authentication" only, when methods were asked: all of them. */
  requiredAmr?: string[];
}

/** What `validator.validate` returns; test `valid` to narrow it. */
export type Verdict = ValidVerdict | RefusedVerdict;

/** Options of `new Issuer(options)`. Unknown members are refused (`invalid_option`). */
export interface IssuerOptions {
  /** `iss` of every token. */
  issuer: string;
  /** `aud` of every token. */
  audience: string;
  /** The signing key: a private JWK or its JSON text. Its `kid` goes in every token header. */
  privateJwk: PrivateJWK | string;
  /** Token lifetime in seconds; default 2592000 (30 days). */
  ttl?: number;
  /** Header `typ`; default "session+jwt". */
  type?: string;
}

/** What `issuer.mint` signs. Unknown members are refused (`invalid_claim`). */
export interface MintRequest {
  /** `sub`: 1 to 128 bytes. */
  account: string;
  /** `sid`: 1 to 128 bytes. */
  session: string;
  /** `dev`: 0 to 65535, from `log.allocateDevice`. */
  device: number;
  /** `epo`: 0 to 4294967295, from `log.epochOf`. */
  epoch: number;
  /** `iat` in Unix seconds (floored); the host clock when omitted. */
  now?: number;
  /** Lifetime in seconds; the issuer's `ttl` when omitted. */
  ttl?: number;
  /** An optional `jti`. */
  jti?: string;
  /** `auth_time`: when the user authenticated, whole Unix seconds from 0 to 2^53 - 1. */
  authTime?: number;
  /** `amr`: how, 1 to 16 distinct method names (RFC 8176: "pwd", "otp", "mfa", "hwk", ...). */
  amr?: string[];
}

/** Options of `new RevocationLog(options)`. */
export interface RevocationLogOptions {
  /** The key that signs revocation updates: a private JWK or its JSON text; not a token key. */
  privateJwk: PrivateJWK | string;
  /**
   * Seconds a record stays in snapshots and deltas after its last change: at least the longest
   * token lifetime plus twice the clock tolerance. Default 0: records never expire.
   */
  horizon?: number;
}

/** Options of `new Follower(options)`. Unknown members are refused (`invalid_option`). */
export interface FollowerOptions {
  /**
   * Milliseconds: refresh when the newest applied update was fetched longer ago than this, less
   * an early lead (the last refresh's duration plus a tenth of this, at most half of it). 0
   * refreshes on every request, one at a time. Default 1000, at most 86400000.
   */
  stalenessTargetMs?: number;
  /** Milliseconds after which a refresh still running is presumed lost; 1 to 86400000, default 5000. */
  refreshTimeoutMs?: number;
}

/** What `follower.plan` says a request should do. */
export type FollowerPlan =
  /** Validate with the current view. */
  | { action: "use" }
  /** Fetch the update since `since` (0: a snapshot), then call `follower.answer`. */
  | { action: "fetch"; since: number }
  /** No usable view while another refresh is in flight: plan again shortly. */
  | { action: "wait" };

/** What a fetch came back with, for `follower.answer`: exactly one member. */
export type FollowerAnswer =
  /** The update's bytes (HTTP 200), or the `UpdateBytes` the body was read into (consumed). */
  | { update: Uint8Array | ArrayBuffer | UpdateBytes }
  /** The origin has not reached `since` (HTTP 409 `since_ahead`). */
  | { sinceAhead: true }
  /** The fetch failed: no connection, a timeout, another status. */
  | { failed: true };

/** What `follower.answer` says next. */
export type FollowerNext =
  /** Applied: the view is at `seq`. */
  | { next: "done"; seq: number }
  /** Fetch the update since `since` (0: a snapshot) and answer again. */
  | { next: "fetch"; since: number }
  /** The refresh is over with the view unchanged. */
  | { next: "failed"; error: { code: ErrorCode; message: string } };

/** What a follower counted since it was made. */
export interface FollowerStats {
  /** Fetches asked for. */
  fetches: number;
  /** Of those, snapshots (since 0). */
  snapshots: number;
  /** Updates the validator applied. */
  applied: number;
  /** Updates the validator refused (a delta that did not fit included). */
  refused: number;
  /** Fetches that failed, and since-ahead answers to a snapshot. */
  failures: number;
}

/** The stable `.code` of the `Error`s this package throws. */
export type ErrorCode =
  | "invalid_option" | "invalid_claim" | "invalid_argument" | "no_randomness" | "key_reuse"
  | "invalid_jwk" | "unsupported_key_type" | "missing_kid" | "invalid_kid"
  | "invalid_key_encoding" | "weak_key" | "key_mismatch" | "duplicate_kid" | "no_usable_key"
  | "missing_private_key"
  | "update_malformed" | "update_unsupported_version" | "update_unknown_key"
  | "update_bad_signature" | "no_revocation_keys" | "update_stale" | "update_gap"
  | "update_from_future" | "update_unavailable"
  | "invalid_account" | "unknown_device" | "slots_exhausted" | "epoch_exhausted" | "since_ahead"
  | "seq_exhausted";

/** An `Error` thrown by this package: `code` is stable, `message` says what to fix. */
export interface EpochgateError extends Error {
  code: ErrorCode;
}
"#;
