#!/usr/bin/env node
// Token validation inside workerd, the package's two verification paths side by side: workerd's
// node:crypto (BoringSSL, the workerd entry's `hostEd25519Verify` under nodejs_compat) and the
// wasm verification (the default). workerd stops its clocks inside a request, so each figure
// is measured from outside: the wall time of a request that validates the same token N times
// with `cacheSize: 0` (every call parses and verifies), minus that of a request that validates it
// 0 times, divided by N. A token naming an unknown key (refused before its signature) gives the
// cost of everything but the verification. Rounds alternate; medians.
//
//   scripts/build-pkg.sh && node benches/workerd-ed25519.mjs      # N=1000 ROUNDS=9, about 1 minute
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnServer } from '../tests/e2e/helper.mjs';

const N = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ISS = 'https://id.example';
const AUD = 'app';
const NOW = Math.floor(Date.now() / 1000);

const eg = await import(join(root, 'pkg/epochgate/dist/node.mjs'));
const { privateJwk, publicJwk } = eg.generateKeyPair('bench-1');
const token = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk, ttl: 86_400 })
  .mint({ account: 'acct-1', session: 'sess-1', device: 1, epoch: 0, now: NOW });
const [, payload, signature] = token.split('.');
const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'other', typ: 'session+jwt' })).toString('base64url')}.${payload}.${signature}`;

const dir = mkdtempSync(join(tmpdir(), 'epochgate-workerd-bench-'));
writeFileSync(join(dir, 'index.mjs'), `
import { Validator, hostEd25519Verify } from ${JSON.stringify(join(root, 'pkg/epochgate/dist/workerd.mjs'))};
const validators = {};
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const path = url.searchParams.get('path');
    const n = Number(url.searchParams.get('n'));
    const token = url.searchParams.get('kid') === 'unknown' ? env.UNKNOWN_KID : env.TOKEN;
    const v = (validators[path] ??= new Validator({
      issuer: '${ISS}', audience: '${AUD}', keys: JSON.parse(env.KEYS), maxStateAge: 0, cacheSize: 0,
      ed25519Verify: path === 'host' ? hostEd25519Verify : null,
    }));
    let valid = 0;
    for (let i = 0; i < n; i++) if (v.validate(token, ${NOW}).valid) valid++;
    return Response.json({ valid, verification: v.verification });
  },
};
`);
writeFileSync(join(dir, 'wrangler.toml'), [
  'name = "epochgate-workerd-bench"', 'main = "index.mjs"', 'compatibility_date = "2025-09-01"',
  'compatibility_flags = ["nodejs_compat"]', '',
].join('\n'));

const port = await freePort();
const server = await spawnServer(join(root, 'node_modules/.bin/wrangler'), [
  'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()),
  '--show-interactive-dev-session=false', '--persist-to', join(dir, 'state'),
  '--var', `KEYS:${JSON.stringify(publicJwk)}`, '--var', `TOKEN:${token}`, '--var', `UNKNOWN_KID:${unknownKid}`,
], { cwd: dir, base: `http://127.0.0.1:${port}`, readyPath: '/?path=host&n=0' });
const { base } = server;

async function timed(query) {
  const t0 = performance.now();
  const r = await fetch(`${base}/?${query}`);
  const body = await r.json();
  return { ms: performance.now() - t0, body };
}

try {
  const cases = {
    'node:crypto, valid token': 'path=host',
    'wasm, valid token': 'path=wasm',
    'parse only (unknown kid)': 'path=wasm&kid=unknown',
  };
  // Warm both validators and the engine's tiers.
  for (const q of Object.values(cases)) await timed(`${q}&n=${N}`);
  const per = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const names = Object.keys(cases);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      const empty = await timed(`${cases[name]}&n=0`);
      const full = await timed(`${cases[name]}&n=${N}`);
      const expectValid = name.includes('valid token') ? N : 0;
      if (full.body.valid !== expectValid) throw new Error(`${name}: ${JSON.stringify(full.body)}`);
      if (full.body.verification !== (name.startsWith('node:crypto') ? 'host' : 'wasm')) throw new Error(`${name}: verified by ${full.body.verification}`);
      per[name].push(((full.ms - empty.ms) * 1000) / N);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = Object.fromEntries(names.map((n) => [n, median(per[n])]));
  console.log(`validate(token) inside workerd (wrangler dev), cacheSize 0, median of ${ROUNDS} rounds of ${N}; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
  console.log('| path | µs per validation | of which verification (minus parse only) |');
  console.log('|---|---:|---:|');
  const parse = m['parse only (unknown kid)'];
  for (const name of names) {
    const extra = name.startsWith('parse') ? '' : (m[name] - parse).toFixed(1);
    console.log(`| ${name} | ${m[name].toFixed(1)} | ${extra} |`);
  }
  console.log(`wasm ÷ node:crypto per validation: ${(m['wasm, valid token'] / m['node:crypto, valid token']).toFixed(2)}`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
