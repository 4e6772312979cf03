#!/usr/bin/env node
// Flood benchmark: what a crowd of clients hammering the origin's password routes does to the
// users who are already signed in. Starts its own `wrangler dev` (fresh state, the default OWASP
// Argon2 parameters), then for each scenario
//   signup  CLIENTS clients creating accounts (POST /v1/accounts) as fast as they are answered,
//   login   CLIENTS clients logging in with unknown emails (POST /v1/login), a new email each time,
// once with each client on its own address (`CF-Connecting-IP`, 198.18.0.0/15) and once with a
// new address for every request (what a per-address throttle would face), while a probe
//   - holds a valid token and calls GET /v1/me continuously (one in flight, ~20/s),
//   - polls GET /v1/edge/stats for the age of the edge's revocation view,
//   - at SIGNOUT_AT s signs out another device of its account (DELETE /v1/sessions/{id}) and
//     polls that device's token every 25 ms until the edge refuses it.
// A control run with the probe alone comes first. Prints a table and one JSON line; it measures
// and reports, it asserts nothing.
//
//   node benches/flood.mjs                          # control + 2 scenarios x 2 address modes
//   DURATION=30 CLIENTS=50 ROTATE_IPS=both node benches/flood.mjs
//   ROTATE_IPS=0 SCENARIOS=login node benches/flood.mjs   # per-client addresses only, logins only
//
// DURATION (s, default 30), CLIENTS (default 50), ROTATE_IPS (0: one address per client, 1: a new
// address per request, both: one run of each; default both), SCENARIOS (comma-separated among
// control, signup, login; default all three), SIGNOUT_AT (s, default 15), FLOOD_LOG (a file to write
// wrangler dev's output to, for a look at the 5xx answers), HASH_BUDGET_MS (the Worker's setting).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { call, sleep, startWorker } from '../tests/e2e/helper.mjs';

const DURATION_S = Number(process.env.DURATION ?? 30);
const CLIENTS = Number(process.env.CLIENTS ?? 50);
const ROTATE = process.env.ROTATE_IPS ?? 'both';
const SCENARIOS = (process.env.SCENARIOS ?? 'control,signup,login').split(',').map((s) => s.trim());
const SIGNOUT_AT_S = Number(process.env.SIGNOUT_AT ?? Math.min(15, DURATION_S / 2));
const PROBE_EVERY_MS = 50;
const STATS_EVERY_MS = 100;
const VICTIM_EVERY_MS = 25;
// A sign-out not enforced this long after it was sent is reported as such and the run ends.
const ENFORCE_GIVE_UP_MS = 60000;
const FLOOD_TIMEOUT_MS = 60000;
const PROBE_TIMEOUT_MS = 10000;
// The goals, reported beside the figures.
const GOAL = { probeSuccessPercent: 99, probeP99Ms: 250, viewAgeSlackMs: 250, enforceMs: 1000 };

if (!Number.isFinite(DURATION_S) || DURATION_S < 1 || DURATION_S > 600) throw new Error('DURATION must be 1 to 600 seconds');
if (!Number.isInteger(CLIENTS) || CLIENTS < 1 || CLIENTS > 1000) throw new Error('CLIENTS must be 1 to 1000');
if (!['0', '1', 'both'].includes(ROTATE)) throw new Error('ROTATE_IPS must be 0, 1 or both');
for (const s of SCENARIOS) if (!['control', 'signup', 'login'].includes(s)) throw new Error(`unknown scenario ${s}`);

// No FAST_ARGON2 here: the point is the origin's cost per password check at the defaults.
// Per-network limits on, as deployed (the test suites turn them off); HASH_BUDGET_MS from the
// environment overrides the isolate's hashing budget, to compare settings.
const worker = await startWorker({
  vars: { NETWORK_LIMITS: 'on', ...(process.env.HASH_BUDGET_MS ? { HASH_BUDGET_MS: process.env.HASH_BUDGET_MS } : {}) },
});
const base = worker.base;
const api = (m, p, o) => call(base, m, p, o);
const ok = (r, status, what) => {
  if (r.status !== status) throw new Error(`${what}: ${status} expected, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

const edgeStats = async () => ok(await api('GET', '/v1/edge/stats'), 200, 'edge stats');

// wrangler dev rebuilds and reloads the Worker once more when its file watcher gets ready, a few
// seconds after it first answers; a POST caught by that reload is answered 503 ("restarted
// mid-request"). So nothing is measured until the isolate has kept its id for 10 s.
{
  let id = (await edgeStats()).isolate;
  let since = performance.now();
  while (performance.now() - since < 10000) {
    await sleep(250);
    const now = (await edgeStats()).isolate;
    if (now !== id) { id = now; since = performance.now(); }
  }
}

// Flood addresses come from the benchmarking range 198.18.0.0/15, never reused within a run of
// the script; the probe, the legitimate user, sits on a documentation address of its own.
let nextAddress = 1;
const address = () => {
  const n = nextAddress++ % 131072;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
};
const PROBE_IP = '192.0.2.10';

/** One HTTP exchange, bodies read and dropped; never throws. */
async function send(method, path, { token, body, ip, timeoutMs }) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (ip) headers['cf-connecting-ip'] = ip;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t0 = performance.now();
  try {
    const res = await fetch(base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    if (res.ok) return { status: res.status, ms };
    // Why it was refused: the API's error code, or the start of whatever else answered.
    let reason;
    try { reason = JSON.parse(text).error; } catch { /* not the API's JSON */ }
    return { status: res.status, ms, reason: reason ?? text.trim().slice(0, 60) };
  } catch (e) {
    const status = e.name === 'TimeoutError' ? 'timeout' : 'error';
    return { status, ms: performance.now() - t0 };
  }
}

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const pct = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] : null);
const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
const summary = (values) => {
  const s = sorted(values);
  return { n: s.length, p50: r1(pct(s, 50)), p99: r1(pct(s, 99)), max: r1(s.at(-1) ?? null) };
};
const reasons = (results) => tally(results.filter((r) => r.reason !== undefined).map((r) => `${r.status} ${r.reason}`));
const tally = (statuses) => {
  const out = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
};

// The probe's account, made once: each run signs a fresh pair of its devices in.
const password = 'flood benchmark password';
const probeEmail = `probe-${Date.now()}@example.com`;
ok(await api('POST', '/v1/accounts', { body: { email: probeEmail, password }, clientIp: PROBE_IP }), 201, 'probe account');
const signIn = async (name) => ok(await api('POST', '/v1/login', {
  body: { email: probeEmail, password, device: { name, type: 'bench' } }, clientIp: PROBE_IP,
}), 201, `login ${name}`);

/** One run: `scenario` with addresses per client (`rotate` false) or per request. */
async function run(scenario, rotate) {
  const label = scenario === 'control' ? 'control' : `${scenario}/${rotate ? 'per-request' : 'per-client'}`;
  const tag = `${label.replace('/', '-')}-${Date.now()}`;
  const probe = await signIn(`probe ${tag}`);
  const victim = await signIn(`victim ${tag}`);
  ok(await api('GET', '/v1/me', { token: probe.token, clientIp: PROBE_IP }), 200, 'probe warm');
  ok(await api('GET', '/v1/me', { token: victim.token, clientIp: PROBE_IP }), 200, 'victim warm');
  const before = await edgeStats();

  let flooding = scenario !== 'control';
  let probing = true;
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;

  // The flood: closed loop, each client sends its next request as soon as the last is answered.
  const flood = [];
  let counter = 0;
  const floodRequest = async (ip) => {
    const n = counter++;
    if (scenario !== 'signup') {
      return send('POST', '/v1/login', { body: { email: `nobody-${tag}-${n}@example.com`, password: 'flood password 1', device: { name: 'flood', type: 'bench' } }, ip, timeoutMs: FLOOD_TIMEOUT_MS });
    }
    const email = `flood-${tag}-${n}@example.com`;
    const r = await send('POST', '/v1/accounts', { body: { email, password: 'flood password 1' }, ip, timeoutMs: FLOOD_TIMEOUT_MS });
    return r.status === 201 ? { ...r, email } : r;
  };
  const clients = scenario === 'control' ? [] : Array.from({ length: CLIENTS }, async () => {
    const own = address();
    while (flooding) flood.push(await floodRequest(rotate ? address() : own));
  });

  // The probe: a signed-in user's requests, at most one in flight.
  const probeResults = [];
  const probeLoop = (async () => {
    while (probing) {
      const r = await send('GET', '/v1/me', { token: probe.token, ip: PROBE_IP, timeoutMs: PROBE_TIMEOUT_MS });
      probeResults.push(r);
      await sleep(Math.max(0, PROBE_EVERY_MS - r.ms));
    }
  })();

  // The edge's view age, as the isolate reports it; the latency of this route is that of one the
  // edge answers alone, with no origin call and no refresh.
  const statsSamples = [];
  const statsMs = [];
  const statsLoop = (async () => {
    while (probing) {
      const start = performance.now();
      try {
        const r = await fetch(`${base}/v1/edge/stats`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        if (r.status === 200) statsSamples.push(await r.json());
        else await r.arrayBuffer();
      } catch { /* unanswered within the timeout: its time is counted below, the sample is lost */ }
      statsMs.push(performance.now() - start);
      await sleep(Math.max(0, STATS_EVERY_MS - (performance.now() - start)));
    }
  })();

  // The sign-out of the victim device, then its token polled until the edge refuses it.
  const signOut = (async () => {
    await sleep(SIGNOUT_AT_S * 1000);
    const sentAt = performance.now();
    const atS = (sentAt - t0) / 1000;
    let done = null;
    const del = send('DELETE', `/v1/sessions/${victim.session}`, { token: probe.token, ip: PROBE_IP, timeoutMs: ENFORCE_GIVE_UP_MS })
      .then((r) => { done = { ...r, at: sentAt + r.ms }; return r; });
    // A poll leaves every 25 ms whether or not the last one was answered: when each answer takes
    // seconds, waiting for it would measure the poll's own latency rather than the sign-out's.
    // The sign-out counts as enforced when the device first receives a refusal.
    let refusedAt = null;
    let refusal = null;
    let polls = 0;
    const inFlight = new Set();
    while (refusedAt === null && performance.now() - sentAt < ENFORCE_GIVE_UP_MS) {
      if (done && done.status !== 204) break; // the sign-out itself failed: nothing to enforce
      if (inFlight.size < 400) {
        const start = performance.now();
        const poll = send('GET', '/v1/me', { token: victim.token, ip: PROBE_IP, timeoutMs: PROBE_TIMEOUT_MS }).then((r) => {
          inFlight.delete(poll);
          if (r.status === 401 && refusedAt === null) { refusedAt = start + r.ms; refusal = r.reason; }
        });
        inFlight.add(poll);
        polls++;
      }
      await sleep(VICTIM_EVERY_MS);
    }
    await Promise.all(inFlight);
    const d = await del;
    const answeredAt = sentAt + d.ms;
    return {
      sent_at_s: r1(atS), status: d.status, request_ms: r1(d.ms),
      enforced_after_2xx_ms: refusedAt === null || d.status !== 204 ? null : r1(refusedAt - answeredAt),
      enforced_after_send_ms: refusedAt === null ? null : r1(refusedAt - sentAt),
      refused_with: refusal, victim_polls: polls,
    };
  })();

  const sign = await signOut;
  const remaining = DURATION_S * 1000 - elapsed();
  if (remaining > 0) await sleep(remaining);
  const floodSeconds = elapsed() / 1000;
  flooding = false;
  probing = false;
  await Promise.all([probeLoop, statsLoop]);
  const after = await edgeStats();
  const sentDuringWindow = counter;
  await Promise.all(clients); // requests in flight at the end are answered and counted
  // Accounts created under the flood are complete: once it is over, a sample of them signs in
  // (each from its own address, retrying on 503 after a pause).
  const made = flood.filter((r) => r.email);
  const sample = made.filter((_, i) => i % Math.max(1, Math.ceil(made.length / 20)) === 0).slice(0, 20);
  let complete = 0;
  for (const m of sample) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = await send('POST', '/v1/login', { body: { email: m.email, password: 'flood password 1', device: { name: 'check', type: 'bench' } }, ip: address(), timeoutMs: FLOOD_TIMEOUT_MS });
      if (r.status === 201) { complete++; break; }
      if (r.status !== 503 && r.status !== 429) break;
      await sleep(1000);
    }
  }

  const floodMs = flood.map((r) => r.ms);
  const probeOk = probeResults.filter((r) => r.status === 200).length;
  const ages = statsSamples.map((s) => s.view_age_ms).filter((a) => a !== null && a !== undefined);
  const fetchMs = statsSamples.map((s) => s.last_fetch_ms);
  const target = after.staleness_target_ms;
  const probeLat = summary(probeResults.map((r) => r.ms));
  const ageSum = summary(ages);
  const statuses = tally(flood.map((r) => r.status));
  // Shed: 429 (a per-network limit or a throttle bucket) or 503 overloaded (the isolate's
  // hashing budget), each with Retry-After.
  const throttled = (statuses[429] ?? 0) + (statuses[503] ?? 0);
  const probePercent = probeResults.length ? (100 * probeOk) / probeResults.length : null;
  return {
    run: label, scenario, addresses: scenario === 'control' ? null : rotate ? 'per-request' : 'per-client',
    clients: scenario === 'control' ? 0 : CLIENTS,
    flood: scenario === 'control' ? null : {
      seconds: r1(floodSeconds), sent: sentDuringWindow, answered: flood.length,
      per_second: r1(flood.length / floodSeconds), statuses, refusals: reasons(flood), latency_ms: summary(floodMs),
      distinct_addresses: rotate ? sentDuringWindow : CLIENTS,
    },
    probe: {
      requests: probeResults.length, ok: probeOk, success_percent: r1(probePercent),
      statuses: tally(probeResults.map((r) => r.status)), refusals: reasons(probeResults), latency_ms: probeLat,
    },
    edge_only_route_ms: summary(statsMs),
    view_age_ms: ageSum,
    refresh_fetch_ms: summary(fetchMs),
    staleness_target_ms: target,
    origin_fetches: after.origin_fetches - before.origin_fetches,
    refresh_errors: after.refresh_errors - before.refresh_errors,
    one_isolate: statsSamples.every((s) => s.isolate === before.isolate) && after.isolate === before.isolate,
    sign_out: sign,
    created_checked: scenario === 'signup' ? { sampled: sample.length, signed_in: complete } : null,
    goals: {
      probe_served: probePercent !== null && probePercent >= GOAL.probeSuccessPercent && probeLat.p99 <= GOAL.probeP99Ms,
      view_age: ageSum.max !== null && ageSum.max <= target + GOAL.viewAgeSlackMs,
      sign_out_enforced: sign.enforced_after_2xx_ms !== null && sign.enforced_after_2xx_ms <= GOAL.enforceMs,
      flood_throttled: scenario === 'control' ? null : throttled > 0,
      created_complete: scenario === 'signup' ? complete === sample.length : null,
    },
  };
}

const plan = [];
for (const s of SCENARIOS) {
  if (s === 'control') plan.push([s, false]);
  else for (const rot of ROTATE === 'both' ? [false, true] : [ROTATE === '1']) plan.push([s, rot]);
}
const load0 = loadavg();
const results = [];
try {
  for (const [s, rot] of plan) {
    process.stderr.write(`flood: ${s}${s === 'control' ? '' : rot ? ' per-request addresses' : ' per-client addresses'}...\n`);
    results.push(await run(s, rot));
    await sleep(3000); // let the origin's queue empty before the next run
  }
} finally {
  await worker.stop();
}
if (process.env.FLOOD_LOG) writeFileSync(process.env.FLOOD_LOG, worker.log());
const load1 = loadavg();

// Metric rows, one column per run.
const yes = (g) => (g === null ? '—' : g ? 'met' : 'MISSED');
const short = (text) => (text.length > 40 ? `${text.slice(0, 39)}…` : text);
const ms = (x) => (x === null || x === undefined ? '—' : `${Math.round(x)}`);
const rows = [
  ['flood requests answered (sent)', (r) => (r.flood ? `${r.flood.answered} (${r.flood.sent})` : '—')],
  ['flood answers per second', (r) => (r.flood ? `${r.flood.per_second}` : '—')],
  ['flood statuses', (r) => (r.flood ? Object.entries(r.flood.statuses).map(([k, v]) => `${k}:${v}`).join(' ') : '—')],
  ['flood refusals other than 401', (r) => (r.flood ? Object.entries(r.flood.refusals).filter(([k]) => !k.startsWith('401 ')).map(([k, v]) => `${short(k)}: ${v}`).join('; ') || 'none' : '—')],
  ['flood latency p50 / p99 ms', (r) => (r.flood ? `${ms(r.flood.latency_ms.p50)} / ${ms(r.flood.latency_ms.p99)}` : '—')],
  ['probe /v1/me ok / requests', (r) => `${r.probe.ok} / ${r.probe.requests} (${r.probe.success_percent} %)`],
  ['probe latency p50 / p99 / max ms', (r) => `${ms(r.probe.latency_ms.p50)} / ${ms(r.probe.latency_ms.p99)} / ${ms(r.probe.latency_ms.max)}`],
  ['edge-only route (stats) p50 / p99 / max ms', (r) => `${ms(r.edge_only_route_ms.p50)} / ${ms(r.edge_only_route_ms.p99)} / ${ms(r.edge_only_route_ms.max)}`],
  ['view age p50 / p99 / max ms (samples)', (r) => `${ms(r.view_age_ms.p50)} / ${ms(r.view_age_ms.p99)} / ${ms(r.view_age_ms.max)} (${r.view_age_ms.n})`],
  ['refresh fetch p50 / max ms', (r) => `${ms(r.refresh_fetch_ms.p50)} / ${ms(r.refresh_fetch_ms.max)}`],
  ['one edge isolate throughout', (r) => (r.one_isolate ? 'yes' : 'no')],
  ['sign-out DELETE status, ms', (r) => `${r.sign_out.status}, ${ms(r.sign_out.request_ms)}`],
  ['sign-out enforced after 2xx ms', (r) => ms(r.sign_out.enforced_after_2xx_ms)],
  ['sign-out enforced after send ms', (r) => ms(r.sign_out.enforced_after_send_ms)],
  ['goal: token served >= 99 %, p99 <= 250 ms', (r) => yes(r.goals.probe_served)],
  ['goal: view age <= target + 250 ms', (r) => yes(r.goals.view_age)],
  ['goal: sign-out enforced <= 1 s', (r) => yes(r.goals.sign_out_enforced)],
  ['goal: flood shed with 429 / 503', (r) => yes(r.goals.flood_throttled)],
  ['goal: accounts made under flood sign in', (r) => (r.created_checked ? `${yes(r.goals.created_complete)} (${r.created_checked.signed_in}/${r.created_checked.sampled})` : '—')],
];
const header = ['', ...results.map((r) => r.run)];
const cells = [header, ...rows.map(([name, f]) => [name, ...results.map(f)])];
const widths = header.map((_, i) => Math.max(...cells.map((c) => String(c[i]).length)));
const line = (c) => `| ${c.map((x, i) => String(x).padEnd(widths[i])).join(' | ')} |`;
console.log(`machine: ${cpus().length} cores (shared VM), load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after; Node ${process.version}`);
console.log(`${CLIENTS} flood clients, ${DURATION_S} s per run, sign-out at ${SIGNOUT_AT_S} s, default Argon2 parameters`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const c of cells.slice(1)) console.log(line(c));
console.log(JSON.stringify({
  bench: 'flood', cores: cpus().length, load_average: { before: load0, after: load1 }, node: process.version,
  duration_s: DURATION_S, clients: CLIENTS, signout_at_s: SIGNOUT_AT_S, argon2: 'default', results,
}));
