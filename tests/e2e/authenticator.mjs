// A software WebAuthn authenticator for the end-to-end tests, written from the WebAuthn Level 3
// and CTAP2 specifications with node:crypto only: it answers the Worker's creation and request
// options the way a browser and a platform authenticator would, as `PublicKeyCredential.toJSON()`
// JSON, and can be told to misbehave (no user verification, a wrong origin, a counter that goes
// back, a bad signature) so the refusals can be tested against the real Worker.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const sha256 = (data) => createHash('sha256').update(data).digest();

// --- a minimal CBOR encoder (RFC 8949): unsigned/negative integers, byte and text strings,
// arrays and maps, definite lengths only -------------------------------------------------------
function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
  const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
}

export function cbor(v) {
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') { const s = Buffer.from(v, 'utf8'); return Buffer.concat([head(3, s.length), s]); }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(cbor)]);
  if (v instanceof Map) {
    const parts = [head(5, v.size)];
    for (const [k, x] of v) parts.push(cbor(k), cbor(x));
    return Buffer.concat(parts);
  }
  if (typeof v === 'object' && v !== null) return cbor(new Map(Object.entries(v)));
  throw new Error(`cbor: cannot encode ${typeof v}`);
}

const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 };

/** One passkey: its key pair, id, user handle and counter. */
function newKey(alg) {
  if (alg === 'ES256') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]);
    return { privateKey, cose, sign: (data) => sign('sha256', data, { key: privateKey, dsaEncoding: 'der' }) };
  }
  if (alg === 'EdDSA') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = new Map([[1, 1], [3, -8], [-1, 6], [-2, Buffer.from(jwk.x, 'base64url')]]);
    return { privateKey, cose, sign: (data) => sign(null, data, privateKey) };
  }
  throw new Error(`unsupported ${alg}`);
}

export class SoftAuthenticator {
  /** `origin`: the page origin the browser would report. */
  constructor({ origin, alg = 'ES256', backupEligible = false } = {}) {
    this.origin = origin;
    this.alg = alg;
    this.backupEligible = backupEligible;
    this.credentials = new Map(); // id (base64url) -> { key, userHandle, rpId, count }
  }

  clientData(type, challenge, over = {}) {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false, ...over }), 'utf8');
  }

  /** `navigator.credentials.create({publicKey})` as JSON; `over` bends the answer. */
  create(publicKey, over = {}) {
    const algs = publicKey.pubKeyCredParams.map((p) => p.alg);
    if (!algs.includes(this.alg === 'ES256' ? -7 : -8)) throw new Error(`the RP does not accept ${this.alg}`);
    const key = newKey(this.alg);
    const id = randomBytes(over.idLength ?? 32);
    const rpId = over.rpId ?? publicKey.rp.id;
    let flags = FLAGS.UP | FLAGS.AT | (over.uv === false ? 0 : FLAGS.UV);
    if (this.backupEligible) flags |= FLAGS.BE | FLAGS.BS;
    const lenBuf = Buffer.alloc(2); lenBuf.writeUInt16BE(id.length);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([flags]), Buffer.alloc(4), Buffer.alloc(16), lenBuf, id, cbor(key.cose)]);
    const attestationObject = cbor(new Map([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    const clientDataJSON = this.clientData('webauthn.create', over.challenge ?? publicKey.challenge, over.clientData);
    this.credentials.set(b64u(id), { key, userHandle: publicKey.user.id, rpId: publicKey.rp.id, count: 0 });
    return {
      id: b64u(id), rawId: b64u(id), type: 'public-key', authenticatorAttachment: 'platform',
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    };
  }

  /** `navigator.credentials.get({publicKey})` as JSON, with the first credential allowed. */
  get(publicKey, over = {}) {
    const allowed = (publicKey.allowCredentials ?? []).map((c) => c.id);
    const id = over.id ?? (allowed.length ? allowed.find((a) => this.credentials.has(a)) : [...this.credentials.keys()][0]);
    const cred = this.credentials.get(id);
    if (!cred) throw new Error('no credential for these options');
    cred.count = over.count ?? cred.count + 1;
    let flags = FLAGS.UP | (over.uv === false ? 0 : FLAGS.UV);
    if (this.backupEligible) flags |= FLAGS.BE | FLAGS.BS;
    const countBuf = Buffer.alloc(4); countBuf.writeUInt32BE(cred.count);
    const authData = Buffer.concat([sha256(over.rpId ?? publicKey.rpId ?? cred.rpId), Buffer.from([flags]), countBuf]);
    const clientDataJSON = this.clientData('webauthn.get', over.challenge ?? publicKey.challenge, over.clientData);
    let signature = cred.key.sign(Buffer.concat([authData, sha256(clientDataJSON)]));
    if (over.badSignature) { signature = Buffer.from(signature); signature[signature.length - 1] ^= 1; }
    return {
      id, rawId: id, type: 'public-key', authenticatorAttachment: 'platform',
      response: {
        clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData),
        signature: b64u(signature), userHandle: 'userHandle' in over ? over.userHandle : cred.userHandle,
      },
      clientExtensionResults: {},
    };
  }
}
