// epochgate against the fastest JavaScript validators, in one Node process (issue: performance).
// Build pkg/epochgate first (scripts/build-pkg.sh), then:
//   node benches/peers.mjs             full run (about 3 minutes)
//   QUICK=1 node benches/peers.mjs     a smoke run
//   EPOCHGATE_PKG=dir node benches/peers.mjs   another build of pkg/epochgate
//
// (a) full validation, every token new: epochgate (a fresh Validator each round, its caches on,
//     so the cost of filling them and of building the key's tables counts; verifying in wasm, the
//     default everywhere, and again given node:crypto's equation, `hostEd25519Verify`) vs
//     fast-jwt (cache off) vs jose.
// (a') the same into full caches: one long-lived Validator holding 10,000 sessions already, so
//     every new token also evicts one; fast-jwt with its cache filled alike, and without.
// (b) Zipf s = 1 over 10,000 sessions, 300,000 draws, cache 10,000, cold each round: a fresh
//     epochgate Validator and a fresh fast-jwt verifier (cache: 10000) each round; jose has no
//     cache, so it is timed on a sample of the same draws.
// (b') the same draws again on the caches they filled: every draw a repeated token.
// (c) raw Ed25519 verification of one signature: epochgate's wasm (validate with cacheSize 0 of
//     a valid token minus the same path stopped before the signature by an unknown kid),
//     libsodium-wrappers (wasm), @noble/ed25519 (JavaScript) and node:crypto (OpenSSL).
// (d) cold start: a fresh `node` process, from its start to the first verdict, median of 11.
//
// Every figure is process CPU time (user + system, all threads: WebCrypto's thread pool counts)
// per operation, the median of interleaved rounds (7; 15 short ones for (a)) whose order rotates, so background load on a
// shared machine hits every contender alike. Cold start is wall time. The ratio is
// peer ÷ epochgate: above 1, epochgate is faster.
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { zipfDraws } from './zipf.mjs';

const here = fileURLToPath(import.meta.url);
const pkgEntry = process.env.EPOCHGATE_PKG
  ? pathToFileURL(`${process.env.EPOCHGATE_PKG.replace(/\/$/, '')}/dist/node.mjs`).href
  : new URL('../pkg/epochgate/dist/node.mjs', import.meta.url).href;
const ISS = 'https://id.example';
const AUD = 'app';
const TYP = 'session+jwt';
const QUICK = !!process.env.QUICK;

// Cold-start child: prints the milliseconds from the process's start (performance.now() counts
// from it) to the first verdict, and the part of that spent loading the library and validating.
if (process.argv[2] === '--cold') {
  const [, , , which, token, jwkText] = process.argv;
  const jwk = JSON.parse(jwkText);
  const t0 = performance.now();
  let ok = false;
  if (which === 'epochgate') {
    const eg = await import(pkgEntry);
    ok = new eg.Validator({ issuer: ISS, audience: AUD, keys: jwk }).validate(token).valid === true;
  } else if (which === 'fast-jwt') {
    const { createVerifier } = await import('fast-jwt');
    const { createPublicKey: pub } = await import('node:crypto');
    const key = pub({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const verify = createVerifier({ key, algorithms: ['EdDSA'], allowedIss: ISS, allowedAud: AUD });
    ok = typeof verify(token).sid === 'string';
  } else {
    const jose = await import('jose');
    const key = await jose.importJWK(jwk, 'EdDSA');
    ok = typeof (await jose.jwtVerify(token, key, { issuer: ISS, audience: AUD, typ: TYP, algorithms: ['EdDSA'] })).payload.sid === 'string';
  }
  const end = performance.now();
  if (!ok) process.exit(2);
  console.log(`${end.toFixed(3)} ${(end - t0).toFixed(3)}`);
  process.exit(0);
}

const loadBefore = loadavg();
const eg = await import(pkgEntry);
const jose = await import('jose');
const { createVerifier } = await import('fast-jwt');
const sodium = (await import('libsodium-wrappers')).default;
await sodium.ready;
const noble = await import('@noble/ed25519');
// noble needs a SHA-512; node:crypto's is the fastest one this process has, which favours noble.
noble.hashes.sha512 = (message) => new Uint8Array(createHash('sha512').update(message).digest());

const { privateJwk, publicJwk } = eg.generateKeyPair('peers-1');
const issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk, ttl: 86_400 });
const now = Math.floor(Date.now() / 1000);
const mint = (i, tag) =>
  issuer.mint({ account: `acct-${i % 5000}`, session: `sess-${tag}-${i}`, device: i % 7, epoch: 0, now });
const pem = createPublicKey({ key: publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
const joseKey = await jose.importJWK(publicJwk, 'EdDSA');
const JOSE_OPTIONS = { issuer: ISS, audience: AUD, typ: TYP, algorithms: ['EdDSA'] };
// fast-jwt checks what it can of the same profile: algorithm, iss, aud, exp/nbf, and the claims
// epochgate requires. It has no `typ` check.
const fastJwt = (cache) =>
  createVerifier({
    key: pem, algorithms: ['EdDSA'], allowedIss: ISS, allowedAud: AUD,
    requiredClaims: ['sub', 'sid', 'dev', 'epo', 'iat', 'exp'], ...(cache ? { cache } : {}),
  });
const egValidator = (extra = {}) => new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, ...extra });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
// µs of CPU per operation for `count` operations done by `fn` (sync or async).
async function perOp(count, fn) {
  const t0 = cpuUs();
  await fn();
  return (cpuUs() - t0) / count;
}
// A round's own Validator is freed once it is timed, as an application frees one it drops: left
// to the garbage collector, the wasm memory of every earlier round's validator stays taken, and
// each new round would be timed growing the memory instead of validating.
async function freedAfter(validator, timing) {
  const us = await timing;
  validator.free();
  return us;
}
// Runs every contender's round `r` in an order that rotates with `r`.
async function interleaved(rounds, contenders) {
  const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const names = Object.keys(contenders);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      times[name].push(await contenders[name](r));
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}
const must = (cond, what) => {
  if (!cond) throw new Error(`benchmark sanity check failed: ${what}`);
};

const rounds = QUICK ? 3 : 7;
const table = [];

// (a) every token new -----------------------------------------------------------------------------
{
  // Short rounds and more of them: the median then rides out load that comes and goes.
  const perRound = QUICK ? 300 : 1000;
  const aRounds = QUICK ? 3 : 15;
  const batches = Array.from({ length: aRounds + 1 }, (_, r) => Array.from({ length: perRound }, (_, i) => mint(i, `a${r}`)));
  const warm = batches[aRounds];
  const fj = fastJwt(false);
  {
    const v = egValidator();
    must(v.verification === 'wasm' && egValidator({ ed25519Verify: eg.hostEd25519Verify }).verification === 'host', 'paths');
    for (const t of warm) must(v.validate(t, now).valid, 'epochgate warm-up');
    for (const t of warm) must(fj(t).sid, 'fast-jwt warm-up');
    for (const t of warm) must((await jose.jwtVerify(t, joseKey, JOSE_OPTIONS)).payload.sid, 'jose warm-up');
  }
  const m = await interleaved(aRounds, {
    epochgate: (r) => {
      const v = egValidator();
      return freedAfter(v, perOp(perRound, () => { for (const t of batches[r]) must(v.validate(t, now).valid, 'epochgate'); }));
    },
    'epochgate, node:crypto equation': (r) => {
      const v = egValidator({ ed25519Verify: eg.hostEd25519Verify });
      return freedAfter(v, perOp(perRound, () => { for (const t of batches[r]) must(v.validate(t, now).valid, 'epochgate'); }));
    },
    'fast-jwt, cache off': (r) => perOp(perRound, () => { for (const t of batches[r]) must(fj(t).sid, 'fast-jwt'); }),
    jose: (r) => perOp(perRound, async () => {
      for (const t of batches[r]) must((await jose.jwtVerify(t, joseKey, JOSE_OPTIONS)).payload.sid, 'jose');
    }),
  });
  table.push(['(a) full validation, every token new (the default: verification in wasm)', m.epochgate, [['fast-jwt, cache off', m['fast-jwt, cache off']], ['jose', m.jose]]]);
  table.push(['(a) the same, epochgate given node:crypto\'s equation (`ed25519Verify: hostEd25519Verify`)', m['epochgate, node:crypto equation'],
    [['fast-jwt, cache off', m['fast-jwt, cache off']]]]);
}

// (a') every token new into full caches: one long-lived Validator (cacheSize 10,000) already
// holding 10,000 sessions, so each new token also evicts the oldest, as at an edge that sees more
// sessions than its cache holds; fast-jwt with its cache filled alike, and without one.
{
  const perRound = QUICK ? 300 : 1000;
  const aRounds = QUICK ? 3 : 15;
  const fill = Array.from({ length: 10_000 }, (_, i) => mint(i, 'fill'));
  const batches = Array.from({ length: aRounds }, (_, r) => Array.from({ length: perRound }, (_, i) => mint(i, `full${r}`)));
  const v = egValidator({ cacheSize: 10_000 });
  const fjCached = fastJwt(10_000);
  const fj = fastJwt(false);
  for (const t of fill) must(v.validate(t, now).valid && fjCached(t).sid && fj(t).sid, 'fill');
  must(v.cachedVerdicts === 10_000, 'the cache is full');
  const m = await interleaved(aRounds, {
    epochgate: (r) => perOp(perRound, () => { for (const t of batches[r]) must(v.validate(t, now).valid, 'epochgate'); }),
    'fast-jwt, cache 10000': (r) => perOp(perRound, () => { for (const t of batches[r]) must(fjCached(t).sid, 'fast-jwt'); }),
    'fast-jwt, cache off': (r) => perOp(perRound, () => { for (const t of batches[r]) must(fj(t).sid, 'fast-jwt'); }),
  });
  table.push(["(a') every token new into full caches (long-lived, 10,000 held, each new token evicts one)", m.epochgate,
    [['fast-jwt, cache 10000', m['fast-jwt, cache 10000']], ['fast-jwt, cache off', m['fast-jwt, cache off']]]]);
}

// (b) Zipf over 10,000 sessions --------------------------------------------------------------------
{
  const sessions = 10_000;
  const tokens = Array.from({ length: sessions }, (_, i) => mint(i, 'z'));
  const draws = QUICK ? 60_000 : 300_000;
  const sequence = zipfDraws(tokens, draws);
  const distinct = new Set(sequence).size;
  const joseSample = sequence.slice(0, QUICK ? 300 : 2000);
  const m = await interleaved(rounds, {
    epochgate: () => {
      const v = egValidator({ cacheSize: 10_000 });
      return freedAfter(v, perOp(draws, () => { for (const t of sequence) must(v.validate(t, now).valid, 'epochgate'); }));
    },
    'fast-jwt, cache 10000': () => {
      const fj = fastJwt(10_000);
      return perOp(draws, () => { for (const t of sequence) must(fj(t).sid, 'fast-jwt'); });
    },
    jose: () => perOp(joseSample.length, async () => {
      for (const t of joseSample) must((await jose.jwtVerify(t, joseKey, JOSE_OPTIONS)).payload.sid, 'jose');
    }),
  });
  table.push([`(b) Zipf s=1, 10,000 sessions, ${draws.toLocaleString('en-US')} draws (${distinct.toLocaleString('en-US')} distinct), cold each round`, m.epochgate,
    [['fast-jwt, cache 10000', m['fast-jwt, cache 10000']], ['jose (no cache)', m.jose]]]);

  // (b') the same draws again on caches they already filled: every draw a repeated token, the
  // edge's common case, so this is the cost of a cache hit with every check still made.
  const v = egValidator({ cacheSize: 10_000 });
  const fj = fastJwt(10_000);
  for (const t of sequence) must(v.validate(t, now).valid && fj(t).sid, 'warm-up');
  const w = await interleaved(rounds, {
    epochgate: () => perOp(draws, () => { for (const t of sequence) must(v.validate(t, now).valid, 'epochgate'); }),
    'fast-jwt, cache 10000': () => perOp(draws, () => { for (const t of sequence) must(fj(t).sid, 'fast-jwt'); }),
  });
  // With the clock read on each call (no `now` argument), as an application would call it.
  const clock = await interleaved(rounds, {
    epochgate: () => perOp(draws, () => { for (const t of sequence) must(v.validate(t).valid, 'epochgate'); }),
  });
  table.push(["(b') the same draws again, caches warm: every token repeated", w.epochgate,
    [['fast-jwt, cache 10000', w['fast-jwt, cache 10000']]]]);
  table.push(["(b') the same, epochgate reading the clock itself (validate(token))", clock.epochgate,
    [['fast-jwt, cache 10000', w['fast-jwt, cache 10000']]]]);
}

// (c) raw Ed25519 verification ----------------------------------------------------------------------
{
  const token = mint(1, 'raw');
  const [h, p, s] = token.split('.');
  const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'other', typ: TYP })).toString('base64url')}.${p}.${s}`;
  const v = egValidator({ cacheSize: 0 });
  must(v.validate(unknownKid, now).reason === 'unknown_key', 'unknown-kid token refused for its kid');
  const message = new Uint8Array(Buffer.from(`${h}.${p}`));
  const signature = new Uint8Array(Buffer.from(s, 'base64url'));
  const publicKey = new Uint8Array(Buffer.from(publicJwk.x, 'base64url'));
  const nodeKey = createPublicKey({ key: publicJwk, format: 'jwk' });
  must(sodium.crypto_sign_verify_detached(signature, message, publicKey), 'libsodium');
  must(noble.verify(signature, message, publicKey), 'noble');
  must(nodeVerify(null, message, nodeKey, signature), 'node:crypto');
  const n = QUICK ? 300 : 3000;
  const loop = (f) => () => perOp(n, () => { for (let i = 0; i < n; i++) must(f(), 'raw'); });
  const m = await interleaved(rounds, {
    'epochgate full': loop(() => v.validate(token, now).valid),
    'epochgate to kid': loop(() => v.validate(unknownKid, now).reason === 'unknown_key'),
    'libsodium-wrappers (wasm)': loop(() => sodium.crypto_sign_verify_detached(signature, message, publicKey)),
    '@noble/ed25519 (JS)': loop(() => noble.verify(signature, message, publicKey)),
    'node:crypto (OpenSSL)': loop(() => nodeVerify(null, message, nodeKey, signature)),
  });
  const wasmVerify = m['epochgate full'] - m['epochgate to kid'];
  table.push(['(c) raw Ed25519 verification (epochgate: wasm, verify_strict rules over the key tables; full minus parse)', wasmVerify,
    [['libsodium-wrappers (wasm)', m['libsodium-wrappers (wasm)']], ['@noble/ed25519 (JS)', m['@noble/ed25519 (JS)']], ['node:crypto (OpenSSL)', m['node:crypto (OpenSSL)']]]]);
}

// (d) cold start ---------------------------------------------------------------------------------------
const cold = { epochgate: [], 'fast-jwt': [], jose: [] };
{
  const token = mint(1, 'cold');
  const runs = QUICK ? 3 : 11;
  const names = Object.keys(cold);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < names.length; k++) {
      const which = names[(k + r) % names.length];
      const out = spawnSync(process.execPath, [here, '--cold', which, token, JSON.stringify(publicJwk)], { encoding: 'utf8', env: process.env });
      if (out.status !== 0) throw new Error(`cold ${which} failed: ${out.stderr}`);
      const [total, load] = out.stdout.trim().split(' ').map(Number);
      cold[which].push({ total, load });
    }
  }
}

// Report ------------------------------------------------------------------------------------------------
const loadAfter = loadavg();
const fmt = (us) => (us >= 10 ? us.toFixed(1) : us >= 0.1 ? us.toFixed(2) : us.toFixed(3));
const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`Node ${process.version} (V8 ${process.versions.v8}, OpenSSL ${process.versions.openssl}), ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`);
console.log(`load average (1, 5, 15 min): ${la(loadBefore)} before, ${la(loadAfter)} after`);
console.log(`package: ${fileURLToPath(pkgEntry)}; ${rounds} interleaved rounds (15 for (a)), medians${QUICK ? ' (QUICK)' : ''}`);
console.log('');
console.log('| workload | epochgate µs/op | peer | peer µs/op | peer ÷ epochgate |');
console.log('|---|---:|---|---:|---:|');
for (const [name, mine, peers] of table) {
  for (const [i, [peer, theirs]] of peers.entries()) {
    console.log(`| ${i ? '' : name} | ${i ? '' : fmt(mine)} | ${peer} | ${fmt(theirs)} | ${(theirs / mine).toFixed(2)} |`);
  }
}
const coldMed = (k, part) => median(cold[k].map((c) => c[part]));
const runs = cold.epochgate.length;
for (const [i, peer] of ['fast-jwt', 'jose'].entries()) {
  console.log(`| ${i ? '' : `(d) cold start, process start to first verdict, wall ms, median of ${runs}`} | ${i ? '' : coldMed('epochgate', 'total').toFixed(1)} | ${peer} | ${coldMed(peer, 'total').toFixed(1)} | ${(coldMed(peer, 'total') / coldMed('epochgate', 'total')).toFixed(2)} |`);
}
console.log('');
console.log(`(d) of which loading the library and the first verdict: epochgate ${coldMed('epochgate', 'load').toFixed(1)} ms, fast-jwt ${coldMed('fast-jwt', 'load').toFixed(1)} ms, jose ${coldMed('jose', 'load').toFixed(1)} ms`);
