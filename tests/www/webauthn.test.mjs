// The page's passkey helpers (www/webauthn.js) in Node: base64url both ways, the JSON options the
// API sends turned into what navigator.credentials takes (by hand, and by the browser's own
// parse*FromJSON when it has them), credentials turned back into JSON, the ceremonies against a
// stand-in navigator.credentials, and where the page can offer passkeys at all.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  CEREMONY_TEXT, PasskeyError, b64urlDecode, b64urlEncode, createPasskey, creationOptions, credentialJSON, getPasskey,
  passkeySupport, requestOptions,
} from '../../www/webauthn.js';

const bytes = (...b) => new Uint8Array(b);

test('base64url round-trips every length and agrees with Node', () => {
  for (let n = 0; n < 70; n++) {
    const data = new Uint8Array(randomBytes(n));
    const text = b64urlEncode(data);
    assert.equal(text, Buffer.from(data).toString('base64url'), `length ${n}`);
    assert.doesNotMatch(text, /[+/=]/);
    assert.deepEqual(b64urlDecode(text), data);
  }
  // ArrayBuffer, a view into a larger buffer, and the bytes that need - and _.
  assert.equal(b64urlEncode(bytes(0xfb, 0xff).buffer), '-_8');
  const big = bytes(9, 9, 0xfb, 0xff, 9);
  assert.equal(b64urlEncode(new Uint8Array(big.buffer, 2, 2)), '-_8');
  assert.equal(b64urlEncode(new DataView(big.buffer, 2, 2)), '-_8');
  assert.deepEqual(b64urlDecode('-_8='), bytes(0xfb, 0xff), 'padding is tolerated');
});

test('base64url decoding refuses what is not base64url', () => {
  for (const bad of ['+/8', 'ab cd', 'a', 'abcde', 'ab$d', 'ab==c', 'a===']) {
    assert.throws(() => b64urlDecode(bad), TypeError, bad);
  }
  assert.throws(() => b64urlDecode(undefined), TypeError);
  assert.throws(() => b64urlDecode(12), TypeError);
  assert.deepEqual(b64urlDecode(''), new Uint8Array(0));
});

const REGISTRATION = {
  challenge: 'AQID',
  rp: { id: 'localhost', name: 'epochgate' },
  user: { id: 'YWNjXzE', name: 'a@example.com', displayName: 'a@example.com' },
  pubKeyCredParams: [{ type: 'public-key', alg: -8 }, { type: 'public-key', alg: -7 }],
  timeout: 300000,
  attestation: 'none',
  authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
  excludeCredentials: [{ type: 'public-key', id: 'BAUG' }],
};

test('registration options: challenge, user id and excluded ids decoded, the rest kept', () => {
  const o = creationOptions(REGISTRATION, undefined);
  assert.deepEqual(o.challenge, bytes(1, 2, 3));
  assert.deepEqual(o.user.id, new TextEncoder().encode('acc_1'));
  assert.equal(o.user.name, 'a@example.com');
  assert.deepEqual(o.excludeCredentials, [{ type: 'public-key', id: bytes(4, 5, 6) }]);
  assert.deepEqual(o.pubKeyCredParams, REGISTRATION.pubKeyCredParams);
  assert.deepEqual(o.authenticatorSelection, REGISTRATION.authenticatorSelection);
  assert.equal(o.rp.id, 'localhost');
  assert.equal(REGISTRATION.challenge, 'AQID', 'the JSON is left as it was');
  assert.equal(creationOptions({ ...REGISTRATION, excludeCredentials: undefined }, undefined).excludeCredentials, undefined);
  assert.throws(() => creationOptions({ ...REGISTRATION, user: null }, undefined), TypeError);
  assert.throws(() => creationOptions({ ...REGISTRATION, challenge: 'no good' }, undefined), TypeError);
  assert.throws(() => creationOptions({ ...REGISTRATION, excludeCredentials: 'x' }, undefined), TypeError);
  assert.throws(() => creationOptions(null, undefined), TypeError);
});

test('request options: challenge and allowed ids decoded; an empty list stays empty', () => {
  const login = requestOptions({ challenge: 'AQID', rpId: 'localhost', timeout: 300000, userVerification: 'required', allowCredentials: [] }, undefined);
  assert.deepEqual(login.challenge, bytes(1, 2, 3));
  assert.deepEqual(login.allowCredentials, []);
  assert.equal(login.userVerification, 'required');
  const reauth = requestOptions({ challenge: 'AA', allowCredentials: [{ type: 'public-key', id: 'BAUG', transports: ['internal'] }] }, undefined);
  assert.deepEqual(reauth.allowCredentials, [{ type: 'public-key', id: bytes(4, 5, 6), transports: ['internal'] }]);
  assert.throws(() => requestOptions({ challenge: 'AA', allowCredentials: [{ type: 'public-key' }] }, undefined), TypeError);
  assert.throws(() => requestOptions([], undefined), TypeError);
});

test('the browser\'s own parsers are used when it has them', () => {
  const seen = [];
  const PKC = {
    parseCreationOptionsFromJSON: (j) => { seen.push(['create', j]); return { native: 'create' }; },
    parseRequestOptionsFromJSON: (j) => { seen.push(['get', j]); return { native: 'get' }; },
  };
  assert.deepEqual(creationOptions(REGISTRATION, PKC), { native: 'create' });
  assert.deepEqual(requestOptions({ challenge: 'AA' }, PKC), { native: 'get' });
  assert.deepEqual(seen, [['create', REGISTRATION], ['get', { challenge: 'AA' }]]);
});

/** A stand-in PublicKeyCredential without toJSON (an older browser). */
function oldCredential(response, extra = {}) {
  return {
    id: 'BAUG', rawId: bytes(4, 5, 6).buffer, type: 'public-key', response, getClientExtensionResults: () => ({ credProps: { rk: true } }), ...extra,
  };
}

test('a new credential as JSON: attestation object and transports, by hand', () => {
  const cred = oldCredential({
    clientDataJSON: new TextEncoder().encode('{"type":"webauthn.create"}').buffer,
    attestationObject: bytes(0xa3, 1, 2).buffer,
    getTransports: () => ['internal', 'hybrid'],
  }, { authenticatorAttachment: 'platform' });
  assert.deepEqual(credentialJSON(cred), {
    id: 'BAUG',
    rawId: 'BAUG',
    type: 'public-key',
    response: { clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0', attestationObject: 'owEC', transports: ['internal', 'hybrid'] },
    clientExtensionResults: { credProps: { rk: true } },
    authenticatorAttachment: 'platform',
  });
});

test('an assertion as JSON: authenticator data, signature, user handle when there is one', () => {
  const response = { clientDataJSON: bytes(1).buffer, authenticatorData: bytes(2).buffer, signature: bytes(3).buffer, userHandle: bytes(4).buffer };
  assert.deepEqual(credentialJSON(oldCredential(response)).response,
    { clientDataJSON: 'AQ', authenticatorData: 'Ag', signature: 'Aw', userHandle: 'BA' });
  const noHandle = credentialJSON(oldCredential({ ...response, userHandle: null }));
  assert.equal('userHandle' in noHandle.response, false);
  assert.equal('authenticatorAttachment' in noHandle, false);
  // The browser's own toJSON wins.
  assert.deepEqual(credentialJSON({ toJSON: () => ({ native: true }) }), { native: true });
});

/** A stand-in navigator.credentials that records what it was asked and answers `answer()`. */
function container(answer) {
  const asked = [];
  return {
    asked,
    create: async (o) => { asked.push(['create', o]); return answer(); },
    get: async (o) => { asked.push(['get', o]); return answer(); },
  };
}

const domError = (name) => new DOMException('the browser said no', name);

async function kindOf(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof PasskeyError, String(err));
    assert.equal(err.message, CEREMONY_TEXT[err.kind]);
    return err.kind;
  }
  return assert.fail('the ceremony should have failed');
}

test('the ceremonies pass the decoded options, mediation and signal, and answer JSON', async () => {
  const assertion = { toJSON: () => ({ id: 'x', response: {} }) };
  const c = container(() => assertion);
  const signal = new AbortController().signal;
  assert.deepEqual(await getPasskey({ challenge: 'AQID', allowCredentials: [] }, { container: c, PKC: undefined, mediation: 'optional', signal }),
    { id: 'x', response: {} });
  const [kind, options] = c.asked[0];
  assert.equal(kind, 'get');
  assert.equal(options.mediation, 'optional');
  assert.equal(options.signal, signal);
  assert.deepEqual(options.publicKey.challenge, bytes(1, 2, 3));

  await createPasskey(REGISTRATION, { container: c, PKC: undefined });
  assert.equal(c.asked[1][0], 'create');
  assert.deepEqual(c.asked[1][1].publicKey.user.id, new TextEncoder().encode('acc_1'));
  assert.equal('mediation' in c.asked[1][1], false);
  assert.equal('signal' in c.asked[1][1], false);
});

test('a ceremony that gives no credential says why, in words', async () => {
  const fails = (name) => container(() => { throw domError(name); });
  assert.equal(await kindOf(getPasskey({ challenge: 'AA' }, { container: fails('NotAllowedError'), PKC: undefined })), 'cancelled');
  assert.equal(await kindOf(getPasskey({ challenge: 'AA' }, { container: fails('AbortError'), PKC: undefined })), 'cancelled');
  assert.equal(await kindOf(createPasskey(REGISTRATION, { container: fails('InvalidStateError'), PKC: undefined })), 'exists');
  assert.equal(await kindOf(createPasskey(REGISTRATION, { container: fails('SecurityError'), PKC: undefined })), 'blocked');
  assert.equal(await kindOf(createPasskey(REGISTRATION, { container: fails('NotSupportedError'), PKC: undefined })), 'unsupported');
  assert.equal(await kindOf(createPasskey(REGISTRATION, { container: fails('UnknownError'), PKC: undefined })), 'failed');
  assert.equal(await kindOf(getPasskey({ challenge: 'AA' }, { container: container(() => null), PKC: undefined })), 'cancelled');
  // Options the page cannot read never reach the browser.
  const untouched = container(() => assert.fail('asked the browser'));
  assert.equal(await kindOf(getPasskey({ challenge: '+' }, { container: untouched, PKC: undefined })), 'bad_options');
  assert.equal(untouched.asked.length, 0);
  for (const text of Object.values(CEREMONY_TEXT)) assert.match(text, /^[A-Z].*\.$/);
});

const at = (href) => {
  const u = new URL(href);
  return { hostname: u.hostname, protocol: u.protocol, port: u.port, pathname: u.pathname, search: u.search };
};

test('where passkeys can be offered: a domain in a secure context; an IP address links to localhost', () => {
  const PKC = function PublicKeyCredential() {};
  assert.deepEqual(passkeySupport({ PKC, secure: true, loc: at('http://localhost:8787/') }), { state: 'ok' });
  assert.deepEqual(passkeySupport({ PKC, secure: true, loc: at('https://auth.example.com/') }), { state: 'ok' });
  assert.deepEqual(passkeySupport({ PKC: undefined, secure: true, loc: at('https://auth.example.com/') }), { state: 'unsupported' });
  assert.deepEqual(passkeySupport({ PKC, secure: false, loc: at('http://auth.example.com/') }), { state: 'insecure' });
  assert.deepEqual(passkeySupport({ PKC, secure: true, loc: at('http://127.0.0.1:8787/?x=1') }),
    { state: 'ip_host', localUrl: 'http://localhost:8787/?x=1' });
  assert.deepEqual(passkeySupport({ PKC, secure: true, loc: at('http://[::1]:9000/') }), { state: 'ip_host', localUrl: 'http://localhost:9000/' });
  assert.deepEqual(passkeySupport({ PKC, secure: true, loc: at('http://127.0.0.1/') }), { state: 'ip_host', localUrl: 'http://localhost/' });
  // Another machine's address has no localhost to go to.
  assert.deepEqual(passkeySupport({ PKC, secure: false, loc: at('http://192.0.2.7:8787/') }), { state: 'ip_host' });
  assert.deepEqual(passkeySupport({ PKC, secure: true, loc: at('https://[2001:db8::1]/') }), { state: 'ip_host' });
});
