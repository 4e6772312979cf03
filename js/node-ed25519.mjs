// Node's Ed25519 equation for the Validator: OpenSSL through node:crypto (synchronous, and
// faster than the wasm curve arithmetic); the Node entry points register it (useHostEd25519). OpenSSL is
// trusted for RFC 8032's equation only: every refusal of ed25519-dalek's verify_strict beyond it
// (S not below the group order, R not a point or of small order, a weak or non-canonical key) is
// made in Rust first (PublicKey::verify_with_host), and tests/node/ed25519-paths.test.mjs runs
// every vector set through both paths. Browsers and Workers keep the wasm path.
import { createPublicKey, verify } from 'node:crypto';

// Raw public key (base64url) -> KeyObject. The host is only ever asked about keys a Validator
// loaded, so this holds the configured keys; the bound only matters across many rotations.
const keyObjects = new Map();
const MAX_KEYS = 256;

/** `ed25519Verify` for the wasm Validator: RFC 8032 verification by node:crypto. */
export function ed25519Verify(publicKey, message, signature) {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64url');
  let key = keyObjects.get(x);
  if (key === undefined) {
    if (keyObjects.size >= MAX_KEYS) keyObjects.clear();
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    keyObjects.set(x, key);
  }
  return verify(null, message, key, signature);
}

