// epochgate's WebAssembly Validator against jose.jwtVerify (EdDSA on Node's WebCrypto), in one
// Node process with the same tokens, interleaved rounds and a warm-up. Build pkg/epochgate first
// (scripts/build-pkg.sh), then:
//   node benches/wasm-vs-jose.mjs            full run (a few minutes)
//   QUICK=1 node benches/wasm-vs-jose.mjs    a smoke run
//   EPOCHGATE_PKG=dir node benches/...       another build of pkg/epochgate, to compare builds
//
// (a) every token unique: each validation verifies a signature.
// (b) tokens drawn Zipf-like (s = 1) from 10,000 sessions: the validator's cache answers
//     repeats; jose has no cache, so its cost per token does not depend on the draw.
// (c) cold start: a fresh Node process loads the library and validates one token.
// (d) raw Ed25519 verification: validate with cacheSize 0 of one valid token, minus the same
//     path stopped before verification (unknown kid), against Node's native crypto.verify.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import { zipfDraws } from './zipf.mjs';

const require = createRequire(import.meta.url);
const pkg = process.env.EPOCHGATE_PKG
  ? `${process.env.EPOCHGATE_PKG.replace(/\/$/, '')}/dist/node.cjs`
  : fileURLToPath(new URL('../pkg/epochgate/dist/node.cjs', import.meta.url));
const ISS = 'https://id.example';
const AUD = 'app';
const QUICK = !!process.env.QUICK;
const OPTIONS = { issuer: ISS, audience: AUD, typ: 'session+jwt', algorithms: ['EdDSA'] };

// Builds compared with each other: `--compare dirA dirB ...` (each a built package directory like pkg/epochgate).
// Rounds are interleaved across builds in one process, so background load hits them alike.
if (process.argv[2] === '--compare') {
  const { readFileSync } = await import('node:fs');
  const { gzipSync } = await import('node:zlib');
  const dirs = process.argv.slice(3);
  const now = Math.floor(Date.now() / 1000);
  const builds = dirs.map((dir) => {
    const m = require(`${dir.replace(/\/$/, '')}/dist/node.cjs`);
    const { privateJwk, publicJwk } = m.generateKeyPair('cmp');
    const issuer = new m.Issuer({ issuer: ISS, audience: AUD, privateJwk });
    const tokens = Array.from({ length: 200 }, (_, i) => issuer.mint({ account: `a${i}`, session: `s${i}`, device: 0, epoch: 0, now }));
    const wasm = readFileSync(`${dir.replace(/\/$/, '')}/dist/epochgate_bg.wasm`);
    // Everything a new token costs but the equation: a host that answers true (and, as the
    // package's own node:crypto function, borrows its arguments where the build knows how), into
    // a Validator whose caches are full, so each new token also evicts the oldest.
    const yes = () => true;
    yes[Symbol.for('epochgate.borrowsArguments')] = true;
    const full = new m.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, ed25519Verify: yes });
    for (let i = 0; i < 10_000; i++) full.validate(issuer.mint({ account: `f${i}`, session: `f${i}`, device: 0, epoch: 0, now }), now);
    const fresh = Array.from({ length: (QUICK ? 3 : 9) * (QUICK ? 200 : 1000) },
      (_, i) => issuer.mint({ account: `n${i}`, session: `n${i}`, device: 0, epoch: 0, now }));
    return {
      dir, m, issuer, tokens, full, fresh, // `ed25519Verify: null`: the wasm verification, also in Node.
      uncached: new m.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, cacheSize: 0, ed25519Verify: null }),
      cached: new m.Validator({ issuer: ISS, audience: AUD, keys: publicJwk }),
      size: wasm.length, gz: gzipSync(wasm, { level: 9 }).length, verify: [], hit: [], sign: [], fill: [],
    };
  });
  const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };
  const per = (n, f) => { const t0 = cpuUs(); for (let i = 0; i < n; i++) f(i); return (cpuUs() - t0) / n; };
  for (let r = 0; r < (QUICK ? 3 : 9); r++) {
    for (const b of r % 2 ? [...builds].reverse() : builds) {
      b.verify.push(per(QUICK ? 200 : 1000, (i) => b.uncached.validate(b.tokens[i % 200], now)));
      b.hit.push(per(QUICK ? 20000 : 100000, (i) => b.cached.validate(b.tokens[i % 200], now)));
      b.sign.push(per(QUICK ? 50 : 300, (i) => b.issuer.mint({ account: 'a', session: `x${i}`, device: 0, epoch: 0, now })));
      const n = QUICK ? 200 : 1000;
      b.fill.push(per(n, (i) => { if (!b.full.validate(b.fresh[r * n + i], now).valid) throw new Error('refused'); }));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log('| build | wasm bytes | gzip -9 | validate, cacheSize 0 (µs) | validate, cache hit (µs) | new token, full caches, equation skipped (µs) | mint (µs) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const b of builds) {
    console.log(`| ${b.dir} | ${b.size} | ${b.gz} | ${median(b.verify).toFixed(1)} | ${median(b.hit).toFixed(2)} | ${median(b.fill).toFixed(2)} | ${median(b.sign).toFixed(1)} |`);
  }
  process.exit(0);
}

// Cold-start child: print the milliseconds from before loading the library to the first verdict.
if (process.argv[2] === '--cold') {
  const [, , , which, token, jwkText] = process.argv;
  const jwk = JSON.parse(jwkText);
  const now = Math.floor(Date.now() / 1000);
  const t0 = performance.now();
  let valid;
  if (which === 'wasm') {
    const eg = require(pkg);
    valid = new eg.Validator({ issuer: ISS, audience: AUD, keys: jwk }).validate(token, now).valid;
  } else {
    const j = await import('jose');
    const key = await j.importJWK(jwk, 'EdDSA');
    valid = !!(await j.jwtVerify(token, key, OPTIONS)).payload;
  }
  const ms = performance.now() - t0;
  if (!valid) process.exit(2);
  console.log(ms.toFixed(3));
  process.exit(0);
}

const eg = require(pkg);
const { privateJwk, publicJwk } = eg.generateKeyPair('bench-1');
const issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk, ttl: 86_400 });
const now = Math.floor(Date.now() / 1000);
const mint = (i, round = 0) =>
  issuer.mint({ account: `acct-${i % 5000}`, session: `sess-${round}-${i}`, device: i % 7, epoch: 0, now });
const joseKey = await jose.importJWK(publicJwk, 'EdDSA');
const newValidator = (extra = {}) => new eg.Validator({ issuer: ISS, audience: AUD, keys: publicJwk, ...extra });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const opsPerSec = (count, ns) => (count * 1e9) / Math.max(1, Number(ns));

// Process CPU time (all threads, user + system) in ns: the machine may be shared, and CPU time
// is far less disturbed by other load than wall time. WebCrypto's work runs on the process's own
// thread pool, so jose's cost is counted in full.
const cpu = () => { const u = process.cpuUsage(); return BigInt(u.user + u.system) * 1000n; };
function timeSync(fn) {
  const t0 = cpu();
  fn();
  return cpu() - t0;
}
async function timeAsync(fn) {
  const t0 = cpu();
  await fn();
  return cpu() - t0;
}

async function joseAll(tokens) {
  for (const t of tokens) {
    const { payload } = await jose.jwtVerify(t, joseKey, OPTIONS);
    if (!payload.sid) throw new Error('jose refused a token');
  }
}
function wasmAll(validator, tokens) {
  for (const t of tokens) {
    if (!validator.validate(t, now).valid) throw new Error('validator refused a token');
  }
}

const rounds = QUICK ? 3 : 7;
const results = [];

// (a) every token unique --------------------------------------------------------------------
{
  const perRound = QUICK ? 300 : 2000;
  const batches = Array.from({ length: rounds + 1 }, (_, r) => Array.from({ length: perRound }, (_, i) => mint(i, r)));
  // Warm-up on its own batch, then interleaved rounds alternating which side goes first.
  wasmAll(newValidator(), batches[rounds]);
  await joseAll(batches[rounds]);
  const wasm = [];
  const jo = [];
  for (let r = 0; r < rounds; r++) {
    const v = newValidator();
    const runWasm = () => wasm.push(opsPerSec(perRound, timeSync(() => wasmAll(v, batches[r]))));
    const runJose = async () => jo.push(opsPerSec(perRound, await timeAsync(() => joseAll(batches[r]))));
    if (r % 2) { runWasm(); await runJose(); } else { await runJose(); runWasm(); }
  }
  results.push(['(a) unique tokens', median(wasm), median(jo)]);
}

// (b) Zipf over 10,000 sessions ---------------------------------------------------------------
{
  const sessions = 10_000;
  const tokens = Array.from({ length: sessions }, (_, i) => mint(i, 'z'));
  const draws = QUICK ? 50_000 : 300_000;
  const sequence = zipfDraws(tokens, draws);
  const distinct = new Set(sequence).size;
  const joseSample = sequence.slice(0, QUICK ? 500 : 3000);
  const v = newValidator();
  // First pass over the sequence includes every cache miss (one verification per distinct token).
  const firstPass = opsPerSec(draws, timeSync(() => wasmAll(v, sequence)));
  const wasm = [];
  const jo = [];
  await joseAll(joseSample);
  for (let r = 0; r < rounds; r++) {
    const runWasm = () => wasm.push(opsPerSec(draws, timeSync(() => wasmAll(v, sequence))));
    const runJose = async () => jo.push(opsPerSec(joseSample.length, await timeAsync(() => joseAll(joseSample))));
    if (r % 2) { runWasm(); await runJose(); } else { await runJose(); runWasm(); }
  }
  results.push([`(b) Zipf, 10,000 sessions, warm cache (${draws} draws)`, median(wasm), median(jo)]);
  results.push([`(b) Zipf, first pass incl. ${distinct} misses`, firstPass, median(jo)]);
}

// (c) cold start: fresh processes, interleaved ------------------------------------------------
const cold = { wasm: [], jose: [] };
{
  const token = mint(1, 'cold');
  const runs = QUICK ? 3 : 11;
  const script = fileURLToPath(import.meta.url);
  for (let r = 0; r < runs; r++) {
    for (const which of r % 2 ? ['wasm', 'jose'] : ['jose', 'wasm']) {
      const out = spawnSync(process.execPath, [script, '--cold', which, token, JSON.stringify(publicJwk)], {
        encoding: 'utf8', env: process.env,
      });
      if (out.status !== 0) throw new Error(`cold ${which} failed: ${out.stderr}`);
      cold[which].push(Number(out.stdout.trim()));
    }
  }
}

// (d) raw verification --------------------------------------------------------------------------
let raw;
{
  const token = mint(1, 'raw');
  const [h, p, s] = token.split('.');
  const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'other', typ: 'session+jwt' })).toString('base64url')}.${p}.${s}`;
  const v = newValidator({ cacheSize: 0 });
  if (v.validate(unknownKid, now).reason !== 'unknown_key') throw new Error('unknown-kid token misjudged');
  const n = QUICK ? 500 : 5000;
  const signingInput = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const nodeKey = createPublicKey({ key: publicJwk, format: 'jwk' });
  const full = [];
  const parseOnly = [];
  const native = [];
  for (let r = 0; r < rounds; r++) {
    full.push(Number(timeSync(() => { for (let i = 0; i < n; i++) if (!v.validate(token, now).valid) throw new Error('refused'); })) / n);
    parseOnly.push(Number(timeSync(() => { for (let i = 0; i < n; i++) v.validate(unknownKid, now); })) / n);
    native.push(Number(timeSync(() => { for (let i = 0; i < n; i++) if (!nodeVerify(null, signingInput, nodeKey, signature)) throw new Error('bad'); })) / n);
  }
  raw = { full: median(full), parseOnly: median(parseOnly), native: median(native) };
}

// Report ---------------------------------------------------------------------------------------
console.log(`Node ${process.version} (V8 ${process.versions.v8}, OpenSSL ${process.versions.openssl}), jose 6, ${rounds} interleaved rounds, medians${QUICK ? ' (QUICK)' : ''}`);
console.log(`package: ${pkg}`);
console.log('');
console.log('ops/s are per second of process CPU time; wasm / jose is the speed ratio (above 1: wasm is faster).');
console.log('');
console.log('| scenario | wasm validate ops/s | jose.jwtVerify ops/s | wasm / jose |');
console.log('|---|---:|---:|---:|');
for (const [name, w, j] of results) console.log(`| ${name} | ${fmt(w)} | ${fmt(j)} | ${(w / j).toFixed(2)}x |`);
const cw = median(cold.wasm);
const cj = median(cold.jose);
console.log(`| (c) cold start: load + first validate, wall ms, median of ${cold.wasm.length} processes | ${cw.toFixed(1)} ms | ${cj.toFixed(1)} ms | ${(cj / cw).toFixed(2)}x |`);
console.log('');
console.log('(d) one token, per call:');
console.log(`  wasm validate, cacheSize 0 (parse + verify + claims): ${(raw.full / 1000).toFixed(1)} µs`);
console.log(`  wasm validate stopped at unknown kid (parse only):    ${(raw.parseOnly / 1000).toFixed(1)} µs`);
console.log(`  => wasm Ed25519 verification (verify_strict's rules) ≈ ${((raw.full - raw.parseOnly) / 1000).toFixed(1)} µs (${fmt(1e9 / (raw.full - raw.parseOnly))} verifications/s)`);
console.log(`  Node crypto.verify (OpenSSL Ed25519, native):        ${(raw.native / 1000).toFixed(1)} µs (${fmt(1e9 / raw.native)} verifications/s)`);
