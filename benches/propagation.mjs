#!/usr/bin/env node
// Propagation benchmark: N mixed sign-outs (per-device and all-devices), each followed by polling
// the edge with the revoked token until it is refused. Reports p50/p99/max of the time from the
// sign-out's 2xx to the first refusal (goal: p99 <= 1 s with the default 1 s staleness target),
// and origin_fetches / validations of the isolate over the run (goal: <= 1 %).
//
//   node benches/propagation.mjs                 # starts its own wrangler dev (fresh state)
//   BASE=http://127.0.0.1:8787 node benches/propagation.mjs   # against a running scripts/dev.sh
//   N=200 BACKGROUND=4 node benches/propagation.mjs
//   STALENESS_TARGET_MS=900 node benches/propagation.mjs      # its own worker with another target
//
// BACKGROUND clients keep validating warm tokens the whole time, as real traffic would; the
// revoked token is polled as fast as the edge answers.
import { FAST_ARGON2, call, startWorker } from '../tests/e2e/helper.mjs';

const N = Number(process.env.N ?? 100);
const BACKGROUND = Number(process.env.BACKGROUND ?? 4);
const PHASE_MS = Number(process.env.PHASE_MS ?? 1000);
let base = process.env.BASE;
let worker;
if (!base) {
  const vars = { ...FAST_ARGON2 };
  if (process.env.STALENESS_TARGET_MS) vars.STALENESS_TARGET_MS = process.env.STALENESS_TARGET_MS;
  worker = await startWorker({ vars });
  base = worker.base;
}
if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(base)) throw new Error('BASE must be a loopback URL');
const api = (m, p, o) => call(base, m, p, o);

const password = 'benchmark password';
const email = `bench-${Date.now()}@example.com`;
const ok = (r, status) => { if (r.status !== status) throw new Error(`${status} expected, got ${r.status} ${JSON.stringify(r.body)}`); return r.body; };
ok(await api('POST', '/v1/accounts', { body: { email, password } }), 201);
const login = async (name) => ok(await api('POST', '/v1/login', { body: { email, password, device: { name, type: 'bench' } } }), 201);

// Background traffic on a second account, never signed out.
const otherEmail = `bench-bg-${Date.now()}@example.com`;
ok(await api('POST', '/v1/accounts', { body: { email: otherEmail, password } }), 201);
const bgTokens = [];
for (let i = 0; i < BACKGROUND; i++) {
  bgTokens.push(ok(await api('POST', '/v1/login', { body: { email: otherEmail, password, device: { name: `bg${i}`, type: 'bench' } } }), 201).token);
}
let running = true;
let bgRequests = 0;
const background = bgTokens.map(async (token) => {
  while (running) {
    const r = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    await r.arrayBuffer();
    bgRequests++;
  }
});

const stats = async () => ok(await api('GET', '/v1/edge/stats'), 200);
const before = await stats();
const samples = [];
const kinds = { device: 0, all: 0 };
let current = await login('keeper');
for (let i = 0; i < N; i++) {
  const victim = await login(`victim-${i}`);
  ok(await api('GET', '/v1/me', { token: victim.token }), 200); // warm: cached and accepted
  // Sign-outs arrive at random moments relative to the isolate's refresh cycle, as real ones do.
  await new Promise((r) => setTimeout(r, Math.random() * PHASE_MS));
  const all = i % 2 === 1;
  let t0;
  if (all) {
    const r = await api('POST', '/v1/sessions/sign-out-all', { token: current.token, body: { password, keep_current: true } });
    t0 = performance.now();
    current = { ...current, ...ok(r, 200) };
    kinds.all++;
  } else {
    const r = await api('DELETE', `/v1/sessions/${victim.session}`, { token: current.token });
    t0 = performance.now();
    ok(r, 204);
    kinds.device++;
  }
  for (;;) {
    const r = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${victim.token}` } });
    await r.arrayBuffer();
    if (r.status === 401) break;
    if (performance.now() - t0 > 60000) throw new Error('no refusal within 60 s');
  }
  samples.push(performance.now() - t0);
}
const after = await stats();
running = false;
await Promise.all(background);

samples.sort((a, b) => a - b);
const q = (p) => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)];
const validations = after.validations - before.validations;
const fetches = after.origin_fetches - before.origin_fetches;
const same = after.isolate === before.isolate;
const result = {
  sign_outs: N, per_device: kinds.device, all_devices: kinds.all,
  p50_ms: Math.round(q(50)), p99_ms: Math.round(q(99)), max_ms: Math.round(samples.at(-1)),
  min_ms: Math.round(samples[0]),
  staleness_target_ms: after.staleness_target_ms,
  validations, origin_fetches: fetches,
  fetch_ratio_percent: Number(((100 * fetches) / Math.max(1, validations)).toFixed(3)),
  background_requests: bgRequests,
  one_isolate: same,
};
console.log(JSON.stringify(result, null, 2));
await worker?.stop();
