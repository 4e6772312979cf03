// The page's HTTP client: JSON requests with the session's bearer token, errors with the API's
// stable codes, and the one rule that a 401 about the token itself ends the session. It touches
// no DOM and no session state: the page hands it the token and a callback for token refusals, so
// it runs in Node against a fake fetch (tests/www/api.test.mjs).
import { retryText } from './time.js';

/**
 * Token reasons of docs/CONTRACT.md section 3 (the core's refusal codes for a token): a 401 carrying
 * one means this session is over, except the ones in NOT_DEFINITIVE.
 */
export const TOKEN_REASONS = Object.freeze(['malformed', 'too_large', 'unsupported_algorithm', 'forbidden_header',
  'unknown_key', 'bad_signature', 'wrong_type', 'missing_claim', 'expired', 'not_yet_valid',
  'issued_in_future', 'wrong_issuer', 'wrong_audience', 'revoked_all', 'revoked_device', 'state_stale',
  'insufficient_user_authentication']);

/** A failed request: HTTP `status` (0 when the server was not reached) and the API's `code`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - now) / 1000));
}

/**
 * Refusals that do not end the session: `state_stale` means the edge cannot confirm sign-outs
 * right now (its revocation view is too old), so a token that is fine is refused too;
 * `insufficient_user_authentication` means the token is fine but the route asks for a more recent
 * or stronger sign-in (step-up). The session keeps its token; only a definitive refusal ends it.
 */
export const NOT_DEFINITIVE = Object.freeze(['state_stale', 'insufficient_user_authentication']);

/**
 * Whether a 401 ends the session: about the token itself (the edge's `WWW-Authenticate: Bearer
 * error="invalid_token"`, or a token reason code) and definitive — not an answer to a form such
 * as a wrong password when re-authenticating, and not `state_stale`.
 */
export function isTokenRefusal(status, challenge, code) {
  if (NOT_DEFINITIVE.includes(code)) return false;
  return status === 401 && (/invalid_token/.test(challenge ?? '') || TOKEN_REASONS.includes(code));
}

/**
 * The API client: `request(method, path, {body, auth = true})` resolves to the JSON answer (null
 * for 204) or rejects with an ApiError (`code` "network" when the server was not reached,
 * `retryAfter` in seconds on a 429). A token refusal on an authenticated request calls
 * `onTokenRefused({reason, detail})` and marks the error `handled`: the caller has nothing more
 * to show. `fetch` and `now` are for tests.
 */
export function createApi({
  getToken,
  onTokenRefused = () => {},
  fetch: fetchFn = (url, init) => globalThis.fetch(url, init),
  now = () => Date.now(),
}) {
  return async function request(method, path, { body, auth = true } = {}) {
    const headers = { accept: 'application/json' };
    if (auth) headers.authorization = `Bearer ${getToken()}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetchFn(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'The server could not be reached.');
    }
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    if (res.ok) return data;
    // A sign-out the server recorded but has not yet seen reach every edge: done as far as the
    // caller is concerned, with the answer it would have had (a fresh token, say) in `result`.
    if (res.status === 503 && data?.error === 'propagation_delayed') return data.result ?? null;
    const err = new ApiError(res.status, data?.error ?? `http_${res.status}`, data?.message ?? res.statusText);
    if (res.status === 429) err.retryAfter = retryAfterSeconds(res.headers.get('retry-after'), now());
    if (auth && isTokenRefusal(res.status, res.headers.get('www-authenticate'), err.code)) {
      onTokenRefused({ reason: err.code, detail: err.message });
      err.handled = true;
    }
    throw err;
  };
}

/** The user-facing sentence for a failed request; `context` adapts it to the form that asked. */
export function errorText(err, context = {}) {
  switch (err.code) {
    case 'network': return `Could not reach the server. ${context.network ?? 'Check your connection and try again.'}`;
    case 'state_stale': return `The server cannot confirm sign-outs right now, so it is not accepting sessions for a moment. ${context.network ?? 'Try again in a few seconds.'}`;
    case 'rate_limited': return `Too many failed attempts on this account. ${context.rateLimited ?? ''}${retryText(err.retryAfter)}`;
    case 'propagation_delayed': return 'The sign-out is recorded and will reach every device within seconds; nothing more to do.';
    case 'overloaded': return `The server is busy checking passwords; nothing was changed. ${retryText(err.retryAfter)}`;
    case 'reauth_failed': return context.reauthFailed ?? 'That password or code is wrong.';
    case 'invalid_credentials': return 'Wrong email, password or code.';
    case 'account_exists': return 'An account with this email already exists. Sign in instead.';
    default: return err.message || `Something went wrong (${err.code}).`;
  }
}
