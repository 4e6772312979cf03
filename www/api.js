// The page's HTTP client: JSON requests with the session's bearer token, errors with the API's
// stable codes, the one rule that a 401 about the token itself ends the session, and step-up: a
// 401 saying the session's sign-in is too old or too weak for this request asks the owner to
// confirm it is them (a callback) and sends the request once more. It touches no DOM and no
// session state: the page hands it the token and callbacks, so it runs in Node against a fake
// fetch (tests/www/api.test.mjs).
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
 * right now (its revocation view is too old), so a token that is fine is refused too; the session
 * keeps its token and tries again. `insufficient_user_authentication` means the token is valid but
 * its sign-in is too old or not strong enough for that one request (step-up, below): a fresh
 * confirmation makes it pass. Only a definitive refusal ends the session.
 */
export const NOT_DEFINITIVE = Object.freeze(['state_stale', 'insufficient_user_authentication']);

/**
 * What a step-up refusal asks for (RFC 9470): `{maxAge, requiredAmr, message}` from a 401 whose
 * body or `WWW-Authenticate: Bearer error="insufficient_user_authentication"` says so — `maxAge`
 * the seconds a confirmation stays recent enough (null when the rule has none), `requiredAmr` the
 * methods it must have used (`hwk`: a passkey). Null for any other answer.
 */
export function stepUpRequirement(status, challenge, data) {
  if (status !== 401) return null;
  const header = challenge ?? '';
  const inHeader = /error="insufficient_user_authentication"/.test(header);
  if (data?.error !== 'insufficient_user_authentication' && !inHeader) return null;
  let maxAge = Number.isSafeInteger(data?.max_age) && data.max_age >= 0 ? data.max_age : null;
  const fromHeader = header.match(/\bmax_age="?(\d+)"?/);
  if (maxAge === null && fromHeader) maxAge = Number(fromHeader[1]);
  const requiredAmr = Array.isArray(data?.required_amr) ? data.required_amr.filter((m) => typeof m === 'string') : [];
  return { maxAge, requiredAmr, message: typeof data?.message === 'string' ? data.message : '' };
}

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
 * The API client: `request(method, path, {body, auth = true, stepUp = true})` resolves to the
 * JSON answer (null for 204) or rejects with an ApiError (`code` "network" when the server was not
 * reached, `retryAfter` in seconds on a 429). A token refusal on an authenticated request calls
 * `onTokenRefused({reason, detail})` and marks the error `handled`: the caller has nothing more
 * to show. A step-up refusal calls `onStepUp(requirement)` (see stepUpRequirement), which
 * resolves true once the session holds a token that should satisfy it; the request is then sent
 * once more, and a second refusal is the caller's, with the `requirement` on the error (so is
 * the first one when `onStepUp` resolves false, or with `stepUp: false`). `fetch` and `now` are
 * for tests.
 */
export function createApi({
  getToken,
  onTokenRefused = () => {},
  onStepUp = null,
  fetch: fetchFn = (url, init) => globalThis.fetch(url, init),
  now = () => Date.now(),
}) {
  return async function request(method, path, { body, auth = true, stepUp = true } = {}) {
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
    const requirement = auth ? stepUpRequirement(res.status, res.headers.get('www-authenticate'), data) : null;
    if (requirement) {
      err.code = 'insufficient_user_authentication';
      err.requirement = requirement;
      let confirmed = false;
      if (stepUp && onStepUp) {
        try { confirmed = await onStepUp(requirement); } catch { confirmed = false; }
      }
      if (confirmed) return request(method, path, { body, auth, stepUp: false });
      throw err;
    }
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
    case 'insufficient_user_authentication': return err.requirement?.requiredAmr?.includes('hwk')
      ? 'This action needs a recent passkey confirmation, and none was given. Nothing was done.'
      : 'This action needs you to confirm it is you again, and that was not done. Nothing was done.';
    case 'invalid_credentials': return 'Wrong email, password or code.';
    case 'account_exists': return 'An account with this email already exists. Sign in instead.';
    default: return err.message || `Something went wrong (${err.code}).`;
  }
}
