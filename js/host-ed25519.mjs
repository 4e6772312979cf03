// A runtime's own Ed25519 equation through its node:crypto module, for the Validator: Node's
// (OpenSSL) and, under `nodejs_compat`, workerd's (BoringSSL). Both are synchronous; since the
// wasm verification works over per-key tables, OpenSSL measured half its speed and BoringSSL
// level with it (docs/BENCHMARKS.md), so a Validator uses one only when given it. The module is
// trusted for RFC 8032's equation only: every refusal of ed25519-dalek's verify_strict beyond it
// (S not below the group order, R of small order, a weak or non-canonical key) is made in Rust
// first (PublicKey::verify_with_host), and the package's tests run every vector set through both
// paths, in Node and in workerd.
//
// Nothing here imports a module, so the workerd entry can load this file whether or not the
// Worker has `nodejs_compat`; the caller hands in the node:crypto module it found.

// RFC 8032, section 7.1, TEST 1 (empty message): a runtime whose module does not say yes to this
// and no to the same signature with one bit flipped is not used, so a partial node:crypto (no
// Ed25519, a stub) leaves the wasm path in place instead of refusing every token.
const TEST_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const TEST_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const MAX_KEYS = 256;

const fromHex = (text) => new Uint8Array(text.match(/../g).map((b) => parseInt(b, 16)));

function base64url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `ed25519Verify(publicKey, message, signature)` over `crypto` (a node:crypto module), or `null`
 * when that module lacks what it takes or fails the self-test.
 */
export function hostEd25519(crypto) {
  if (crypto == null || typeof crypto.verify !== 'function' || typeof crypto.createPublicKey !== 'function') {
    return null;
  }
  const { createPublicKey, verify } = crypto;
  // The KeyObject of each raw public key asked about: a Validator only asks about keys it
  // loaded, so this holds the configured keys; the bound only matters across many rotations.
  // The last key is checked first, byte by byte: one key signs nearly every token.
  const keyObjects = new Map();
  let lastBytes = null;
  let lastKey = null;
  function ed25519Verify(publicKey, message, signature) {
    if (lastBytes === null || !sameBytes(lastBytes, publicKey)) {
      const x = base64url(publicKey);
      let key = keyObjects.get(x);
      if (key === undefined) {
        if (keyObjects.size >= MAX_KEYS) keyObjects.clear();
        key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
        keyObjects.set(x, key);
      }
      lastBytes = Uint8Array.from(publicKey);
      lastKey = key;
    }
    return verify(null, message, lastKey, signature);
  }
  // It reads its arguments during the call and keeps none of them (the key is copied when it
  // changes), so the module may hand it views of its memory instead of copies.
  Object.defineProperty(ed25519Verify, Symbol.for('epochgate.borrowsArguments'), { value: true });
  try {
    const key = fromHex(TEST_KEY);
    const good = fromHex(TEST_SIGNATURE);
    const bad = Uint8Array.from(good);
    bad[0] ^= 1;
    const empty = new Uint8Array(0);
    if (ed25519Verify(key, empty, good) === true && ed25519Verify(key, empty, bad) === false) return ed25519Verify;
  } catch {
    // A module without Ed25519: the wasm path stays.
  }
  return null;
}
