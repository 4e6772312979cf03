// What a sensitive action must prove and the request fields that prove it — the API's re-auth
// rule (docs/CONTRACT.md) as the page applies it before sending anything. No DOM: the dialog that
// asks is reauth.js; tests/www/proof.test.mjs runs this file in Node.
//
//   Any proof (sign-out-all, password change): one of password, an emailed code, and — with
//     two-factor authentication on — an authenticator code or a recovery code.
//   Strong proof (2FA on/off, recovery codes, email change): the password or an emailed code,
//     and with 2FA on also an authenticator code or a recovery code.
//   A passkey (field `passkey`: an assertion) is a whole proof of either strength on its own:
//     possession of the device and its user verification. The dialog offers it apart from the
//     groups below, when the account has one and this page can use passkeys.

/** The ways to confirm it is you, named by the request field that carries each. */
export const METHODS = Object.freeze(['password', 'email_code', 'totp', 'recovery_code']);

/** 'any' or 'strong', as the brief of each route says. */
export const STRENGTHS = Object.freeze(['any', 'strong']);

const KNOWS = Object.freeze(['password', 'email_code']);
const HAS = Object.freeze(['totp', 'recovery_code']);

/**
 * The groups an action asks for, each a list of methods of which one must be given (the first
 * is the one offered first). `totpOn`: whether two-factor authentication is on for the account.
 */
export function proofGroups(strength, totpOn) {
  if (!STRENGTHS.includes(strength)) throw new TypeError(`unknown re-auth strength ${strength}`);
  if (strength === 'strong') return totpOn ? [[...KNOWS], [...HAS]] : [[...KNOWS]];
  return [totpOn ? [...KNOWS, ...HAS] : [...KNOWS]];
}

/** One sentence saying what the action needs, for the top of the dialog. */
export function requirementText(strength, totpOn) {
  const groups = proofGroups(strength, totpOn);
  if (groups.length === 2) {
    return 'Confirm it is you with two things: your password or a code we email you, and a code from your authenticator app or one of your recovery codes.';
  }
  return totpOn
    ? 'Confirm it is you with one of these: your password, a code we email you, a code from your authenticator app, or one of your recovery codes.'
    : 'Confirm it is you with your password or a code we email you.';
}

/** Six digits, spaces and dashes ignored ("123 456" is fine); null when it is not that. */
function sixDigits(raw) {
  const s = String(raw ?? '').replace(/[\s-]/g, '');
  return /^\d{6}$/.test(s) ? s : null;
}

/**
 * A recovery code as the API writes it, `xxxxx-xxxxx` in lowercase base32, from what a person
 * typed (any case, spaces, with or without the dash); null when it cannot be one.
 */
export function normaliseRecoveryCode(raw) {
  const s = String(raw ?? '').toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z2-7]{10}$/.test(s) ? `${s.slice(0, 5)}-${s.slice(5)}` : null;
}

/** The value to send for `method`, or null when what was typed cannot be right. */
export function normalise(method, raw) {
  switch (method) {
    case 'password': return raw ? String(raw) : null;
    case 'email_code':
    case 'totp': return sixDigits(raw);
    case 'recovery_code': return normaliseRecoveryCode(raw);
    default: throw new TypeError(`unknown re-auth method ${method}`);
  }
}

/** What to say when the field of `method` is empty or malformed. */
export const MISSING_TEXT = Object.freeze({
  password: 'Enter your password.',
  email_code: 'Enter the 6-digit code from the email we sent you.',
  totp: 'Enter the 6-digit code from your authenticator app.',
  recovery_code: 'Enter one of your recovery codes: ten letters and digits, like abcde-fgh23.',
});

/**
 * The request fields for the methods chosen (`chosen[i]` from `groups[i]`) with the values typed
 * (`values[method]`): `{body}`, or `{missing: method, text}` for the first field that is empty
 * or malformed. `passwordField` renames the password (POST /v1/password calls it
 * `current_password`).
 */
export function buildProof(groups, chosen, values, { passwordField = 'password' } = {}) {
  const body = {};
  for (const [i, group] of groups.entries()) {
    const method = chosen[i];
    if (!group.includes(method)) throw new TypeError(`${method} is not a choice of group ${i}`);
    const value = normalise(method, values[method]);
    if (value === null) return { missing: method, text: MISSING_TEXT[method] };
    body[method === 'password' ? passwordField : method] = value;
  }
  return { body };
}

/**
 * Methods of a sign-in (RFC 8176 `amr` values) that only a passkey gives: `hwk` (a hardware key)
 * and `user` (user verification). A passkey also gives `mfa`, as the password with a second
 * factor does.
 */
const PASSKEY_ONLY_AMR = Object.freeze(['hwk', 'user']);

/**
 * How the dialog asks for a step-up (a requirement from api.js's stepUpRequirement):
 * `passkeyOnly` when only a passkey can give the methods asked for; `strength` 'strong' when
 * `mfa` is asked for (two factors), else 'any'.
 */
export function stepUpPlan({ requiredAmr = [] } = {}) {
  return {
    passkeyOnly: requiredAmr.some((m) => PASSKEY_ONLY_AMR.includes(m)),
    strength: requiredAmr.includes('mfa') ? 'strong' : 'any',
  };
}

/** Why a step-up dialog opened, in one sentence. */
export function stepUpText({ maxAge = null, requiredAmr = [] } = {}) {
  if (stepUpPlan({ requiredAmr }).passkeyOnly) return 'This action needs a recent passkey confirmation.';
  if (maxAge === null) return 'This action needs you to confirm it is you.';
  const span = maxAge < 60 ? `${maxAge} seconds` : maxAge < 120 ? 'minute' : `${Math.floor(maxAge / 60)} minutes`;
  return `This action needs you to have confirmed it is you in the last ${span}.`;
}
