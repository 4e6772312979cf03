// Passkeys in the browser: the JSON forms of WebAuthn options and credentials that the API speaks
// (WebAuthn Level 3: base64url without padding for every binary field), the two ceremonies, whether
// this page can offer passkeys at all, and the words for a ceremony that did not finish. No DOM:
// `navigator.credentials` and `PublicKeyCredential` come as arguments (defaulting to the
// browser's), so tests/www/webauthn.test.mjs runs this file in Node with stand-ins.
//
// The browser's own parseCreationOptionsFromJSON / parseRequestOptionsFromJSON and
// credential.toJSON() are used when it has them; the conversions here are for browsers that do
// not yet, and produce the same shapes.

/** Base64url without padding, of an ArrayBuffer or a typed array / DataView. */
export function b64urlEncode(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The bytes of a base64url string (padding tolerated). A TypeError for anything else: the
 * standard alphabet's + and /, whitespace and impossible lengths are refused rather than guessed.
 */
export function b64urlDecode(text) {
  if (typeof text !== 'string') throw new TypeError('base64url: not a string');
  const bare = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(bare) || bare.length % 4 === 1) throw new TypeError('base64url: not base64url');
  const binary = atob(bare.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A credential descriptor list with its ids decoded. */
function descriptors(list) {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new TypeError('credential list: not an array');
  return list.map((c) => ({ ...c, id: b64urlDecode(c?.id) }));
}

/** What a JSON value must be before its binary fields are decoded. */
function object(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${what}: not an object`);
  return value;
}

/** `publicKey` of POST /v1/passkeys/registration-options, as navigator.credentials.create takes it. */
export function creationOptions(json, PKC = globalThis.PublicKeyCredential) {
  object(json, 'creation options');
  if (typeof PKC?.parseCreationOptionsFromJSON === 'function') return PKC.parseCreationOptionsFromJSON(json);
  const user = object(json.user, 'creation options user');
  const out = { ...json, challenge: b64urlDecode(json.challenge), user: { ...user, id: b64urlDecode(user.id) } };
  const exclude = descriptors(json.excludeCredentials);
  if (exclude) out.excludeCredentials = exclude;
  return out;
}

/** `publicKey` of the login or re-authentication options, as navigator.credentials.get takes it. */
export function requestOptions(json, PKC = globalThis.PublicKeyCredential) {
  object(json, 'request options');
  if (typeof PKC?.parseRequestOptionsFromJSON === 'function') return PKC.parseRequestOptionsFromJSON(json);
  const out = { ...json, challenge: b64urlDecode(json.challenge) };
  const allow = descriptors(json.allowCredentials);
  if (allow) out.allowCredentials = allow;
  return out;
}

/**
 * A PublicKeyCredential as the API takes it: `{id, rawId, type, response: {clientDataJSON, …},
 * clientExtensionResults}`, with `attestationObject` (and `transports`) for a new passkey, or
 * `authenticatorData`, `signature` and `userHandle` for an assertion.
 */
export function credentialJSON(credential) {
  if (typeof credential?.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: b64urlEncode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64urlEncode(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    response.authenticatorData = b64urlEncode(r.authenticatorData);
    response.signature = b64urlEncode(r.signature);
    if (r.userHandle) response.userHandle = b64urlEncode(r.userHandle);
  }
  const out = {
    id: credential.id,
    rawId: b64urlEncode(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: typeof credential.getClientExtensionResults === 'function' ? credential.getClientExtensionResults() : {},
  };
  if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
  return out;
}

/**
 * A ceremony that did not give a credential, or options the page could not read; `kind` says
 * which (see CEREMONY_TEXT), `cause` is the browser's error.
 */
export class PasskeyError extends Error {
  constructor(kind, cause) {
    super(CEREMONY_TEXT[kind] ?? CEREMONY_TEXT.failed);
    this.name = 'PasskeyError';
    this.kind = kind;
    this.cause = cause;
  }
}

/** What each kind of failed ceremony reads as. */
export const CEREMONY_TEXT = Object.freeze({
  cancelled: 'The passkey was not used: the request was cancelled or timed out, or this device has no passkey for this account that could confirm it is you.',
  exists: 'This device already holds a passkey for your account.',
  blocked: 'This browser does not allow passkeys on this address. Open the page on its own domain name (or localhost) over a secure connection.',
  unsupported: 'This device offers no passkey type this site accepts.',
  bad_options: 'The server sent passkey options this page could not read.',
  failed: 'The passkey could not be used on this device.',
});

/** The kind of a browser error from navigator.credentials (a DOMException, by its name). */
function kindOf(err) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'AbortError': return 'cancelled';
    case 'InvalidStateError': return 'exists';
    case 'SecurityError': return 'blocked';
    case 'NotSupportedError': return 'unsupported';
    default: return 'failed';
  }
}

async function ceremony(run, convert) {
  let options;
  try { options = convert(); } catch (err) { throw new PasskeyError('bad_options', err); }
  let credential;
  try { credential = await run(options); } catch (err) { throw new PasskeyError(kindOf(err), err); }
  if (!credential) throw new PasskeyError('cancelled');
  return credentialJSON(credential);
}

/**
 * Creates a passkey from registration options (their JSON `publicKey`): resolves to the new
 * credential's JSON, or rejects with a PasskeyError.
 */
export function createPasskey(publicKey, {
  container = globalThis.navigator?.credentials, PKC = globalThis.PublicKeyCredential, signal,
} = {}) {
  return ceremony(
    (options) => container.create({ publicKey: options, ...(signal ? { signal } : {}) }),
    () => creationOptions(publicKey, PKC),
  );
}

/**
 * Asks for an assertion with login or re-authentication options (their JSON `publicKey`):
 * resolves to the credential's JSON, or rejects with a PasskeyError. `mediation` as
 * navigator.credentials.get takes it ("optional" for a sign-in button).
 */
export function getPasskey(publicKey, {
  container = globalThis.navigator?.credentials, PKC = globalThis.PublicKeyCredential, signal, mediation,
} = {}) {
  return ceremony(
    (options) => container.get({ publicKey: options, ...(mediation ? { mediation } : {}), ...(signal ? { signal } : {}) }),
    () => requestOptions(publicKey, PKC),
  );
}

/** An IPv4 address or a bracketed IPv6 address, as `location.hostname` writes them. */
function isIpLiteral(hostname) {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || /^\[[0-9a-f:.]+\]$/i.test(hostname);
}

function isLoopback(hostname) {
  return /^127\./.test(hostname) || hostname === '[::1]';
}

/**
 * Whether this page can offer passkeys: `{state}` is 'ok'; 'unsupported' (no WebAuthn in this
 * browser: the controls are hidden); 'ip_host' (an RP id must be a domain, so passkeys cannot work
 * at an address like 127.0.0.1: the controls are shown disabled, with `localUrl`, the same page on
 * localhost, when the address is the loopback one); or 'insecure' (plain http on a domain that is
 * not localhost). `loc` is anything with the parts of `location`.
 */
export function passkeySupport({ PKC = globalThis.PublicKeyCredential, secure = globalThis.isSecureContext, loc = globalThis.location } = {}) {
  if (!PKC) return { state: 'unsupported' };
  if (isIpLiteral(loc.hostname)) {
    if (!isLoopback(loc.hostname)) return { state: 'ip_host' };
    return { state: 'ip_host', localUrl: `${loc.protocol}//localhost${loc.port ? `:${loc.port}` : ''}${loc.pathname}${loc.search ?? ''}` };
  }
  if (!secure) return { state: 'insecure' };
  return { state: 'ok' };
}
