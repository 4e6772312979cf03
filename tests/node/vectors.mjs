// Every Ed25519 vector of the four sets in tests/vectors (Wycheproof, ring/RFC 8032, CCTV,
// speccheck) as { set, id, pk, msg, sig, expected?, flags? }, for the tests that run a second
// verification path against verify_strict (tests/node/ed25519-paths.test.mjs in Node,
// tests/package/workerd.test.mjs in workerd). `expected` is the strict outcome where the set
// states it; CCTV gives flags instead.
import { readFileSync } from 'node:fs';

const vectors = (name) => readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8');
const hex = (text) => new Uint8Array(Buffer.from(text, 'hex'));
const utf8 = (text) => new Uint8Array(Buffer.from(text, 'utf8'));

/** Every vector of the four sets as { set, id, pk, msg, sig, expected? }. */
export function allVectors() {
  const out = [];
  const wycheproof = JSON.parse(vectors('wycheproof_ed25519_test.json'));
  for (const group of wycheproof.testGroups) {
    for (const t of group.tests) {
      out.push({ set: 'wycheproof', id: t.tcId, pk: hex(group.publicKey.pk), msg: hex(t.msg), sig: hex(t.sig), expected: t.result === 'valid' });
    }
  }
  let block = {};
  for (const line of vectors('ring_ed25519_tests.txt').split('\n')) {
    if (line.startsWith('#') || !line.includes('=')) continue;
    const [name, raw] = line.split('=').map((s) => s.trim());
    block[name] = raw === '""' ? '' : raw;
    if (name === 'SIG') {
      out.push({ set: 'ring', id: block.PUB, pk: hex(block.PUB), msg: hex(block.MESSAGE), sig: hex(block.SIG), expected: true });
      block = {};
    }
  }
  for (const c of JSON.parse(vectors('cctv_ed25519vectors.json'))) {
    out.push({ set: 'cctv', id: c.number, pk: hex(c.key), msg: utf8(c.msg), sig: hex(c.sig), flags: c.flags ?? [] });
  }
  JSON.parse(vectors('speccheck_cases.json')).forEach((c, i) => {
    out.push({ set: 'speccheck', id: i, pk: hex(c.pub_key), msg: hex(c.message), sig: hex(c.signature), expected: i === 3 });
  });
  return out;
}

