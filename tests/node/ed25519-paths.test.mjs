// The Node entry's second Ed25519 path — the strict checks in Rust, RFC 8032's equation by
// node:crypto (js/node-ed25519.mjs, PublicKey::verify_with_host) — against ed25519-dalek's
// verify_strict, over every vector set in tests/vectors (Wycheproof, ring/RFC 8032, CCTV,
// speccheck): both must accept and refuse exactly the same. `verifyEd25519` checks one
// signature the way a Validator checks a token's, with the key loaded as a Validator loads it.
// Run: node --test tests/node/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as eg from '../../pkg/epochgate/dist/node.mjs';
import { verifyEd25519 } from '../../pkg/epochgate/dist/glue.mjs';
import { ed25519Verify } from '../../pkg/epochgate/dist/node-ed25519.mjs';
import { allVectors } from './vectors.mjs';

const VECTORS = allVectors();

test('every vector of every set: the node:crypto path accepts and refuses exactly as verify_strict', () => {
  const counts = {};
  for (const v of VECTORS) {
    const strict = verifyEd25519(v.pk, v.msg, v.sig);
    const host = verifyEd25519(v.pk, v.msg, v.sig, ed25519Verify);
    assert.equal(host, strict, `${v.set} ${v.id}: verify_strict says ${strict}, the node:crypto path ${host}`);
    if (v.expected !== undefined) assert.equal(strict, v.expected, `${v.set} ${v.id}`);
    counts[v.set] = (counts[v.set] ?? 0) + 1;
  }
  // Every set was read in full.
  assert.deepEqual(counts, { wycheproof: 151, ring: 514, cctv: 914, speccheck: 12 });
});

test('the strict checks are Rust\'s: a host that says yes to everything still refuses what verify_strict refuses beyond the equation', () => {
  const yes = () => true;
  let refusedBeforeHost = 0;
  for (const v of VECTORS) {
    const strict = verifyEd25519(v.pk, v.msg, v.sig);
    const permissive = verifyEd25519(v.pk, v.msg, v.sig, yes);
    // What only the equation decides may flip; a refusal for A (at load) or a small-order R
    // may not. (A non-canonical R is left to the equation: it never equals the encoding the
    // equation recomputes, which the first test shows the host refusing.)
    const beyondEquation = v.set === 'cctv'
      && (v.flags.some((f) => ['low_order_A', 'non_canonical_A'].includes(f))
        || (v.flags.includes('low_order_R') && !v.flags.includes('non_canonical_R')));
    if (beyondEquation) assert.equal(permissive, false, `${v.set} ${v.id} ${v.flags}`);
    if (strict) assert.equal(permissive, true, `${v.set} ${v.id}`);
    if (!permissive) refusedBeforeHost++;
  }
  // S ≥ L: the signature of a valid vector with L added to S (still < 2^253, so in 32 bytes).
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  const ring = VECTORS.find((v) => v.set === 'ring');
  const s = ring.sig.slice(32);
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(s[i]);
  const sPlusL = n + L;
  const big = new Uint8Array(64);
  big.set(ring.sig.slice(0, 32));
  for (let i = 0, x = sPlusL; i < 32; i++, x >>= 8n) big[32 + i] = Number(x & 0xffn);
  assert.equal(verifyEd25519(ring.pk, ring.msg, big), false);
  assert.equal(verifyEd25519(ring.pk, ring.msg, big, yes), false, 'a non-canonical S is refused in Rust');
  assert.ok(refusedBeforeHost > 100, `only ${refusedBeforeHost} refused before the host`);
});

test('a host that throws or answers anything but true refuses; the Validator uses the host it is given', () => {
  const ring = VECTORS.find((v) => v.set === 'ring');
  assert.equal(verifyEd25519(ring.pk, ring.msg, ring.sig, ed25519Verify), true);
  assert.equal(verifyEd25519(ring.pk, ring.msg, ring.sig, () => { throw new Error('host down'); }), false);
  assert.equal(verifyEd25519(ring.pk, ring.msg, ring.sig, () => 1), false);
  assert.equal(verifyEd25519(ring.pk, ring.msg, ring.sig, () => false), false);

  const { privateJwk, publicJwk } = eg.generateKeyPair('paths');
  const issuer = new eg.Issuer({ issuer: 'https://id.example', audience: 'app', privateJwk });
  const token = issuer.mint({ account: 'a', session: 's', device: 0, epoch: 0, now: 1_800_000_000 });
  const options = { issuer: 'https://id.example', audience: 'app', keys: publicJwk, cacheSize: 0 };
  let asked = 0;
  const counting = (...args) => { asked++; return ed25519Verify(...args); };
  assert.equal(new eg.Validator({ ...options, ed25519Verify: counting }).validate(token, 1_800_000_000).valid, true);
  assert.equal(asked, 1);
  assert.equal(new eg.Validator({ ...options, ed25519Verify: () => false }).validate(token, 1_800_000_000).reason, 'bad_signature');
  // The Node entry's default is node:crypto; `null` is the wasm path; both accept the token.
  assert.equal(new eg.Validator(options).validate(token, 1_800_000_000).valid, true);
  assert.equal(new eg.Validator({ ...options, ed25519Verify: null }).validate(token, 1_800_000_000).valid, true);
  assert.throws(() => new eg.Validator({ ...options, ed25519Verify: 'openssl' }), (e) => e.code === 'invalid_option');
});

test('a host function gets copies it may keep, unless it says it only borrows its arguments', () => {
  const { privateJwk, publicJwk } = eg.generateKeyPair('copies');
  const issuer = new eg.Issuer({ issuer: 'https://id.example', audience: 'app', privateJwk });
  const now = 1_800_000_000;
  const tokens = Array.from({ length: 20 }, (_, i) => issuer.mint({ account: `a${i}`, session: `s${i}`, device: 0, epoch: 0, now }));
  const options = { issuer: 'https://id.example', audience: 'app', keys: publicJwk, cacheSize: 0 };
  const signingInput = (t) => new TextEncoder().encode(t.slice(0, t.lastIndexOf('.')));
  const signature = (t) => new Uint8Array(Buffer.from(t.slice(t.lastIndexOf('.') + 1), 'base64url'));

  // Kept past the call, the arrays still hold what they held: they are the function's own.
  const kept = [];
  const keeping = (k, m, s) => { kept.push({ k, m, s }); return ed25519Verify(k, m, s); };
  const copies = new eg.Validator({ ...options, ed25519Verify: keeping });
  for (const t of tokens) assert.equal(copies.validate(t, now).valid, true);
  assert.equal(kept.length, tokens.length);
  kept.forEach(({ k, m, s }, i) => {
    assert.deepEqual(m, signingInput(tokens[i]));
    assert.deepEqual(s, signature(tokens[i]));
    assert.deepEqual(k, new Uint8Array(Buffer.from(publicJwk.x, 'base64url')));
    for (const a of [k, m, s]) assert.equal(a.byteLength, a.buffer.byteLength, 'a copy, not a view');
  });

  // A borrowing function reads views of the module's memory during the call: the same bytes.
  const borrowed = [];
  const borrowing = (k, m, s) => {
    borrowed.push({ m: Uint8Array.from(m), s: Uint8Array.from(s), view: m.buffer.byteLength > m.byteLength });
    return ed25519Verify(k, m, s);
  };
  borrowing[Symbol.for('epochgate.borrowsArguments')] = true;
  const views = new eg.Validator({ ...options, ed25519Verify: borrowing });
  for (const t of tokens) assert.equal(views.validate(t, now).valid, true);
  borrowed.forEach(({ m, s, view }, i) => {
    assert.ok(view, 'a view of the module memory');
    assert.deepEqual(m, signingInput(tokens[i]));
    assert.deepEqual(s, signature(tokens[i]));
  });
  // A borrowing function's refusal and throw refuse, as anyone's.
  const no = () => false;
  no[Symbol.for('epochgate.borrowsArguments')] = true;
  const down = () => { throw new Error('host down'); };
  down[Symbol.for('epochgate.borrowsArguments')] = true;
  assert.equal(new eg.Validator({ ...options, ed25519Verify: no }).validate(tokens[0], now).reason, 'bad_signature');
  assert.equal(new eg.Validator({ ...options, ed25519Verify: down }).validate(tokens[0], now).reason, 'bad_signature');
  // The package's own node:crypto function borrows.
  assert.equal(ed25519Verify[Symbol.for('epochgate.borrowsArguments')], true);
});
