#!/usr/bin/env node
// CPU time per `GET /v1/me` inside workerd, not through wrangler's local proxy: the V8 CPU
// profiler of the Worker's isolate (the inspector `wrangler dev` exposes) samples every 100 µs
// while N requests run one after another; the time of every sample that is not "(idle)" — the
// fetch handler, the wasm validation, building the response, and whatever the request leaves
// running (activity reported through waitUntil) — divided by N is the CPU per request; the
// samples inside the Worker's WebAssembly (the Rust edge) are counted apart.
//
//   node benches/workerd-cpu.mjs            # starts its own wrangler dev (release build of the Worker)
//   N=500 ROUNDS=5 node benches/workerd-cpu.mjs
//   HOST_ED25519=on node benches/workerd-cpu.mjs    # workerd's node:crypto instead of the wasm verification
//
// Two cases, alternating rounds: the same token every time (the isolate's verified-token cache
// answers) and a token never seen before every time (an Ed25519 verification: in wasm, or by
// workerd's node:crypto under the Worker's nodejs_compat with HOST_ED25519=on). Tokens
// come from the admin API, minted before the profiler starts.
import { cpus, loadavg } from 'node:os';
import WebSocket from 'ws';
import { FAST_ARGON2, call, startWorker } from '../tests/e2e/helper.mjs';

const N = Number(process.env.N ?? 300);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const load0 = loadavg()[0];

const hostEd25519 = process.env.HOST_ED25519 ? { HOST_ED25519: process.env.HOST_ED25519 } : {};
const worker = await startWorker({ vars: { ...FAST_ARGON2, ...hostEd25519 } });
const admin = worker.secrets.vars.ADMIN_TOKEN;
const ok = (r, status) => {
  if (r.status !== status) throw new Error(`${status} expected, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

/** One DevTools session on the isolate. */
async function inspector(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    if (m.id && pending.has(m.id)) {
      const { resolve, reject } = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) reject(new Error(`${m.error.message}`));
      else resolve(m.result);
    }
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    id += 1;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
  return { send, close: () => ws.close() };
}

/**
 * Busy CPU milliseconds of a profile: every sample but idle ones, and of those the samples
 * inside the Worker's WebAssembly (the Rust edge: routing, validation, the answer's body).
 */
function busyMs(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let busy = 0;
  let wasm = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame;
    const dt = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    busy += dt;
    if (frame.url.startsWith('wasm://')) wasm += dt;
  });
  return { busy: busy / 1000, wasm: wasm / 1000 };
}

/** Mints `count` sessions of one account through the admin API (no password hashing). */
async function mint(account, count) {
  const tokens = [];
  for (let i = 0; i < count; i++) {
    const body = ok(await call(worker.base, 'POST', `/v1/admin/accounts/${account}/sessions`, {
      token: admin, body: { device: { name: `bench ${i}`, type: 'bench' } },
    }), 201);
    tokens.push(body.token);
  }
  return tokens;
}

async function profiled(session, tokens) {
  await session.send('Profiler.start');
  for (const token of tokens) ok(await call(worker.base, 'GET', '/v1/me', { token }), 200);
  // Let what the requests left to waitUntil finish inside the profile.
  await new Promise((r) => setTimeout(r, 200));
  const { profile } = await session.send('Profiler.stop');
  const { busy, wasm } = busyMs(profile);
  return { busy: busy / tokens.length, wasm: wasm / tokens.length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const session = await inspector(worker.inspectorPort);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 100 });
  const [repeated] = await mint('bench-repeated', 1);
  // Warm-up: the isolate's validator, its view and the route are built.
  for (let i = 0; i < 50; i++) ok(await call(worker.base, 'GET', '/v1/me', { token: repeated }), 200);
  const cached = [];
  const fresh = [];
  for (let round = 0; round < ROUNDS; round++) {
    const news = await mint(`bench-new-${round}`, N);
    cached.push(await profiled(session, Array(N).fill(repeated)));
    fresh.push(await profiled(session, news));
    const [c, f] = [cached.at(-1), fresh.at(-1)];
    console.log(`round ${round + 1}: cached ${c.busy.toFixed(3)} ms (wasm ${c.wasm.toFixed(3)}), new ${f.busy.toFixed(3)} ms (wasm ${f.wasm.toFixed(3)}) CPU per /v1/me`);
  }
  session.close();
  const verification = (await call(worker.base, 'GET', '/v1/edge/stats')).body.verification;
  console.log(`\nCPU per GET /v1/me inside workerd, median of ${ROUNDS} rounds of ${N} (${cpus().length} cores, load ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}), signatures verified by ${verification === 'host' ? "workerd's node:crypto" : 'wasm'}:`);
  const us = (xs, k) => (median(xs.map((x) => x[k])) * 1000).toFixed(0);
  console.log('                                           whole isolate   in the Worker\'s wasm');
  console.log(`  cached token (verified-token cache hit): ${us(cached, 'busy').padStart(8)} µs ${us(cached, 'wasm').padStart(12)} µs`);
  console.log(`  new token (one Ed25519 verification):    ${us(fresh, 'busy').padStart(8)} µs ${us(fresh, 'wasm').padStart(12)} µs`);
  console.log('  (the whole isolate includes wrangler dev\'s own middleware and the JS shim: an upper bound)');
} finally {
  await worker.stop();
}
