// Generates the WebAuthn test vectors in this folder by playing a software authenticator and a
// browser: fixed RP, origin, challenge key, time, nonces and private keys (committed in the JSON,
// so anyone can re-sign), hand-encoded CBOR, node's own ECDSA/Ed25519 signatures.
//
// Regenerate from the repository root with:
//   node crates/epochgate-webauthn/tests/vectors/make.mjs
// Only ES256 signatures change between runs (ECDSA is randomised); everything else is stable.
// Needs Node >= 20 and nothing but node:crypto.

import { createECDH, createHash, createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const RP_ID = 'example.com';
const ORIGIN = 'https://example.com';
const NOW = 1_800_000_000;
const BINDING = 'acct-1';
const CHALLENGE_KEY = Buffer.from([...Array(32).keys()]);
const DOMAIN = Buffer.from('epochgate webauthn challenge v1\0', 'latin1');
const PURPOSE = { registration: 1, login: 2, reauthentication: 3 };

const UP = 0x01, UV = 0x04, BE = 0x08, BS = 0x10, AT = 0x40, ED = 0x80;

const sha256 = (data) => createHash('sha256').update(data).digest();
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const hex = (buf) => Buffer.from(buf).toString('hex');

// ---- CBOR (definite lengths, minimal heads) ----
function head(major, n) {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = m | 25; b.writeUInt16BE(n, 1); return b; }
  const b = Buffer.alloc(5); b[0] = m | 26; b.writeUInt32BE(n, 1); return b;
}
const cbor = {
  int: (n) => (n >= 0 ? head(0, n) : head(1, -1 - n)),
  bytes: (b) => Buffer.concat([head(2, b.length), Buffer.from(b)]),
  text: (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([head(3, b.length), b]); },
  // entries: [[encodedKey, encodedValue], ...] in the order given
  map: (entries) => Buffer.concat([head(5, entries.length), ...entries.flat()]),
};

// ---- keys ----
function p256Key(label) {
  const d = sha256(`epochgate webauthn test key ${label}`);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // 04 || x || y
  const x = pub.subarray(1, 33), y = pub.subarray(33, 65);
  const key = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64url(d), x: b64url(x), y: b64url(y) }, format: 'jwk' });
  return { algorithm: 'ES256', private: d, x, y, key, stored: Buffer.concat([Buffer.from([7]), x, y]) };
}
function ed25519Key(label) {
  const seed = sha256(`epochgate webauthn test key ${label}`);
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const x = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x, 'base64url');
  return { algorithm: 'EdDSA', private: seed, x, key, stored: Buffer.concat([Buffer.from([8]), x]) };
}
const KEYS = { a: p256Key('a'), b: ed25519Key('b'), c: p256Key('c') };
const CREDENTIAL_IDS = Object.fromEntries(Object.keys(KEYS).map((k) => [k, sha256(`credential ${k}`).subarray(0, 16)]));

function coseKey(k) {
  if (k.algorithm === 'ES256') {
    return cbor.map([[cbor.int(1), cbor.int(2)], [cbor.int(3), cbor.int(-7)], [cbor.int(-1), cbor.int(1)], [cbor.int(-2), cbor.bytes(k.x)], [cbor.int(-3), cbor.bytes(k.y)]]);
  }
  return cbor.map([[cbor.int(1), cbor.int(1)], [cbor.int(3), cbor.int(-8)], [cbor.int(-1), cbor.int(6)], [cbor.int(-2), cbor.bytes(k.x)]]);
}

function signWith(k, message) {
  if (k.algorithm === 'ES256') return sign('sha256', message, { key: k.key, dsaEncoding: 'der' });
  return sign(null, message, k.key);
}

// ---- challenge, client data, authenticator data ----
function challenge(purpose, binding, nonceByte, { forge = false } = {}) {
  const signed = Buffer.alloc(26);
  signed[0] = 1;
  signed[1] = purpose;
  signed.writeBigInt64LE(BigInt(NOW + 300), 2);
  signed.fill(nonceByte, 10, 26);
  const tag = createHmac('sha256', CHALLENGE_KEY).update(DOMAIN).update(signed).update(Buffer.from(binding, 'utf8')).digest().subarray(0, 16);
  if (forge) tag[0] ^= 1;
  return Buffer.concat([signed, tag]);
}

function clientData({ type, challenge: c, origin = ORIGIN, crossOrigin = false }) {
  return Buffer.from(JSON.stringify({
    type,
    challenge: b64url(c),
    origin,
    crossOrigin,
    other_keys_can_be_added_here: 'do not compare clientDataJSON against a template',
  }), 'utf8');
}

function authData({ rpId = RP_ID, flags, count = 0, attested = null, extensions = null }) {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(count);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), counter, attested ?? Buffer.alloc(0), extensions ?? Buffer.alloc(0)]);
}

function attestedData(credentialId, cose, aaguid = Buffer.alloc(16)) {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(credentialId.length);
  return Buffer.concat([aaguid, len, credentialId, cose]);
}

function attestationObject(auth, { fmt = 'none', attStmt = cbor.map([]), extra = [] } = {}) {
  return cbor.map([[cbor.text('fmt'), cbor.text(fmt)], [cbor.text('attStmt'), attStmt], [cbor.text('authData'), cbor.bytes(auth)], ...extra]);
}

// ---- registration cases ----
let nonce = 0x10;
function registration(name, expect, opts = {}) {
  const k = KEYS[opts.credential ?? 'a'];
  const id = CREDENTIAL_IDS[opts.credential ?? 'a'];
  const c = challenge(opts.purpose ?? PURPOSE.registration, opts.binding ?? BINDING, nonce++, { forge: opts.forge });
  const cose = opts.cose ?? coseKey(k);
  const aaguid = opts.aaguid ?? Buffer.alloc(16);
  let auth = authData({
    rpId: opts.rpId,
    flags: opts.flags ?? (UP | UV | AT),
    count: opts.count ?? 0,
    attested: opts.noAttested ? null : attestedData(id, cose, aaguid),
    extensions: opts.extensions,
  });
  if (opts.trailingAuthData) auth = Buffer.concat([auth, Buffer.from([0])]);
  let object = attestationObject(auth, { fmt: opts.fmt, attStmt: opts.attStmt, extra: opts.extraMember ? [[cbor.text('epAtt'), cbor.int(1)]] : [] });
  if (opts.trailingObject) object = Buffer.concat([object, Buffer.from([0])]);
  const out = {
    name,
    expect,
    client_data_json: b64url(clientData({ type: opts.type ?? 'webauthn.create', challenge: c, origin: opts.origin, crossOrigin: opts.crossOrigin })),
    attestation_object: b64url(object),
  };
  if (expect === 'ok') {
    const flags = opts.flags ?? (UP | UV | AT);
    Object.assign(out, {
      credential_id: b64url(id),
      stored_key: hex(k.stored),
      sign_count: opts.count ?? 0,
      backup_eligible: (flags & BE) !== 0,
      backed_up: (flags & BS) !== 0,
      aaguid: hex(aaguid),
    });
  }
  return out;
}

const rs256 = cbor.map([[cbor.int(1), cbor.int(3)], [cbor.int(3), cbor.int(-257)], [cbor.int(-1), cbor.bytes(Buffer.alloc(256, 0xc5))], [cbor.int(-2), cbor.bytes(Buffer.from([1, 0, 1]))]]);
const offCurve = (() => {
  const y = Buffer.from(KEYS.a.y);
  y[31] ^= 1;
  return coseKey({ ...KEYS.a, y });
})();
const weakEd = coseKey({ ...KEYS.b, x: Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]) });

const registrations = [
  registration('es256', 'ok'),
  registration('eddsa_backed_up', 'ok', { credential: 'b', flags: UP | UV | AT | BE | BS }),
  registration('es256_packed_statement_ignored', 'ok', {
    credential: 'c', fmt: 'packed', aaguid: sha256('aaguid').subarray(0, 16), count: 3,
    attStmt: cbor.map([[cbor.text('alg'), cbor.int(-7)], [cbor.text('sig'), cbor.bytes(Buffer.alloc(70, 1))]]),
  }),
  registration('eddsa_with_extensions', 'ok', { credential: 'b', flags: UP | UV | AT | ED, extensions: cbor.map([[cbor.text('credProtect'), cbor.int(2)]]) }),
  registration('wrong_origin', 'wrong_origin', { origin: 'https://evil.example' }),
  registration('wrong_type', 'wrong_type', { type: 'webauthn.get' }),
  registration('cross_origin', 'cross_origin', { crossOrigin: true }),
  registration('wrong_rp_id', 'wrong_rp_id', { rpId: 'evil.example' }),
  registration('user_not_present', 'user_not_present', { flags: UV | AT }),
  registration('user_not_verified', 'user_not_verified', { flags: UP | AT }),
  registration('no_attested_credential', 'malformed', { flags: UP | UV, noAttested: true }),
  registration('rs256', 'unsupported_algorithm', { cose: rs256 }),
  registration('es256_point_not_on_curve', 'invalid_key', { cose: offCurve }),
  registration('eddsa_weak_key', 'invalid_key', { credential: 'b', cose: weakEd }),
  registration('trailing_bytes_in_auth_data', 'malformed', { trailingAuthData: true }),
  registration('trailing_bytes_after_attestation_object', 'malformed', { trailingObject: true }),
  registration('extra_attestation_member', 'malformed', { extraMember: true }),
  registration('none_with_statement', 'malformed', { attStmt: cbor.map([[cbor.text('sig'), cbor.bytes(Buffer.alloc(4))]]) }),
  registration('login_challenge', 'challenge_invalid', { purpose: PURPOSE.login, binding: '' }),
  registration('other_account', 'challenge_invalid', { binding: 'acct-2' }),
  registration('forged_tag', 'challenge_invalid', { forge: true }),
];

// ---- assertion cases ----
const N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
function derInt(n) {
  let h = n.toString(16);
  if (h.length % 2) h = '0' + h;
  let b = Buffer.from(h, 'hex');
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([2, b.length]), b]);
}
function readDer(sig) {
  const rLen = sig[3];
  const r = BigInt('0x' + sig.subarray(4, 4 + rLen).toString('hex'));
  const s = BigInt('0x' + sig.subarray(6 + rLen, 6 + rLen + sig[5 + rLen]).toString('hex'));
  return { r, s };
}
// The same signature with S replaced by N - S: still valid ECDSA; this verifier must accept it.
function highS(sig) {
  const { r, s } = readDer(sig);
  const s2 = s > N / 2n ? s : N - s;
  const body = Buffer.concat([derInt(r), derInt(s2)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

nonce = 0x80;
function assertion(name, expect, opts = {}) {
  const credential = opts.credential ?? 'a';
  const k = KEYS[credential];
  const purpose = opts.purpose ?? PURPOSE.login;
  // The binding the verifier is given; the challenge may have been issued for another one.
  const binding = purpose === PURPOSE.login ? '' : BINDING;
  const c = challenge(purpose, opts.binding ?? binding, nonce++, { forge: opts.forge });
  const cd = clientData({ type: opts.type ?? 'webauthn.get', challenge: c, origin: opts.origin, crossOrigin: opts.crossOrigin });
  const auth = authData({ rpId: opts.rpId, flags: opts.flags ?? (UP | UV), count: opts.count ?? 0 });
  let signature = signWith(k, Buffer.concat([auth, sha256(cd)]));
  if (opts.highS) signature = highS(signature);
  return {
    name,
    expect,
    credential,
    purpose: Object.keys(PURPOSE).find((p) => PURPOSE[p] === purpose),
    binding,
    stored_sign_count: opts.stored ?? 0,
    client_data_json: b64url(cd),
    authenticator_data: b64url(auth),
    signature: b64url(signature),
  };
}

const assertions = [
  assertion('es256_login', 'ok'),
  assertion('eddsa_login', 'ok', { credential: 'b', flags: UP | UV | BE | BS }),
  assertion('es256_reauthentication', 'ok', { purpose: PURPOSE.reauthentication, count: 11, stored: 10 }),
  assertion('eddsa_reauthentication', 'ok', { credential: 'b', purpose: PURPOSE.reauthentication }),
  assertion('es256_high_s', 'ok', { credential: 'c', highS: true }),
  assertion('es256_counter_5', 'counter_regressed', { count: 5, stored: 10 }),
  assertion('wrong_origin', 'wrong_origin', { origin: 'https://evil.example' }),
  assertion('wrong_type', 'wrong_type', { type: 'webauthn.create' }),
  assertion('cross_origin', 'cross_origin', { crossOrigin: true }),
  assertion('wrong_rp_id', 'wrong_rp_id', { rpId: 'evil.example' }),
  assertion('user_not_present', 'user_not_present', { flags: UV }),
  assertion('user_not_verified', 'user_not_verified', { flags: UP }),
  assertion('forged_tag', 'challenge_invalid', { forge: true }),
  assertion('other_account', 'challenge_invalid', { purpose: PURPOSE.reauthentication, binding: 'acct-2' }),
  // A registration challenge answered with navigator.credentials.get: never a sign-in.
  assertion('registration_challenge', 'challenge_invalid', { purpose: PURPOSE.registration }),
];

const common = {
  rp_id: RP_ID,
  origin: ORIGIN,
  now: NOW,
  binding: BINDING,
  challenge_key: hex(CHALLENGE_KEY),
};
const credentials = Object.fromEntries(Object.entries(KEYS).map(([name, k]) => [name, {
  algorithm: k.algorithm,
  credential_id: b64url(CREDENTIAL_IDS[name]),
  private_key: hex(k.private),
  stored_key: hex(k.stored),
}]));

const write = (file, value) => writeFileSync(join(here, file), JSON.stringify(value, null, 2) + '\n');
write('registration.json', { generator: 'make.mjs', ...common, credentials, cases: registrations });
write('assertion.json', { generator: 'make.mjs', ...common, credentials, cases: assertions });

// Seeds for the fuzz target (src/fuzzing.rs): a selector byte (bit 0: re-authentication, the
// rest: the stored counter), then u16-BE-length-prefixed stored key, clientDataJSON,
// authenticatorData, signature and attestationObject. Only accepted cases: they reach furthest.
const seeds = join(here, 'seeds');
mkdirSync(seeds, { recursive: true });
const field = (buf) => { const len = Buffer.alloc(2); len.writeUInt16BE(buf.length); return Buffer.concat([len, buf]); };
const seed = (selector, parts) => Buffer.concat([Buffer.from([selector]), ...parts.map(field)]);
for (const c of registrations.filter((c) => c.expect === 'ok')) {
  const parts = [Buffer.alloc(0), Buffer.from(c.client_data_json, 'base64url'), Buffer.alloc(0), Buffer.alloc(0), Buffer.from(c.attestation_object, 'base64url')];
  writeFileSync(join(seeds, `registration_${c.name}.bin`), seed(0, parts));
}
for (const c of assertions.filter((c) => c.expect === 'ok')) {
  const selector = (c.stored_sign_count << 1) | (c.purpose === 'reauthentication' ? 1 : 0);
  const parts = [KEYS[c.credential].stored, ...['client_data_json', 'authenticator_data', 'signature'].map((f) => Buffer.from(c[f], 'base64url'))];
  writeFileSync(join(seeds, `assertion_${c.name}.bin`), seed(selector, parts));
}
