// A cold edge isolate loading a large revocation snapshot inside workerd: how long the first
// request waits for the view and how much the workerd process grows, peak and after.
//
// The snapshot comes from `examples/retention.rs` (written with its fixed test key); a stand-in
// origin in this process serves it for every `since` (the Worker's REVOCATIONS_URL, a test-only
// setting, so no cache is involved), with its Content-Length.
//
//   RETENTION_DUMP=/tmp/dump cargo run --release --example retention -- 1000000 10000000
//   node benches/edge-cold-start.mjs /tmp/dump/snapshot-10000000-4545156.bin [...]
//
// Each file gets its own `wrangler dev` (fresh isolate). Growth is read from /proc for each
// workerd process of that run (wrangler's proxy and the one running the Worker): the resident
// set before the first request, after it, and the high-water mark (VmHWM), the peak.
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { format } from '../scripts/gen-dev-vars.mjs';
import { cleanup, freePort, makeSecrets, startWorker } from '../tests/e2e/helper.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node benches/edge-cold-start.mjs <snapshot.bin> ...');
  process.exit(2);
}

/** The workerd processes of the `wrangler dev` listening on `port`: its proxy and its siblings. */
function workerdOf(port) {
  const line = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
    .split('\n').find((l) => l.includes(`127.0.0.1:${port} `));
  const proxy = line?.match(/pid=(\d+)/)?.[1];
  if (!proxy) throw new Error(`no process listens on port ${port}`);
  const parent = readFileSync(`/proc/${proxy}/stat`, 'utf8').split(') ')[1].split(' ')[1];
  return execFileSync('pgrep', ['-P', parent, '-x', 'workerd'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
}

/** Resident set and its peak, kB, of each of `pids`. */
function workerd(pids) {
  const out = {};
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
      out[pid] = { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    } catch { /* gone */ }
  }
  return out;
}

const mb = (kb) => Math.round(kb / 102.4) / 10;

for (const file of files) {
  const size = statSync(file).size;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    createReadStream(file).pipe(res);
  });
  const originPort = await freePort();
  await new Promise((r) => server.listen(originPort, '127.0.0.1', r));
  const secrets = makeSecrets();
  secrets.vars.REVOCATION_SIGNING_JWK = readFileSync(join(dirname(file), 'revocation-private-jwk.json'), 'utf8').trim();
  writeFileSync(secrets.file, format(secrets.vars), { mode: 0o600 });
  const w = await startWorker({
    secrets,
    vars: { REVOCATIONS_URL: `http://127.0.0.1:${originPort}/updates`, MAX_STATE_AGE: '31536000' },
  });
  try {
    const ours = workerdOf(w.port);
    const idle = workerd(ours);
    const t0 = process.hrtime.bigint();
    // Any bearer token makes the edge load its view before judging the token.
    const r = await fetch(`${w.base}/v1/me`, { headers: { authorization: 'Bearer x.y.z' } });
    await r.text();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const stats = await (await fetch(`${w.base}/v1/edge/stats`)).json();
    const after = workerd(ours);
    const proxy = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
      .split('\n').find((l) => l.includes(`127.0.0.1:${w.port} `))?.match(/pid=(\d+)/)?.[1];
    const grew = ours.map((pid) => ({
      role: pid === proxy ? "wrangler's proxy" : 'the Worker',
      idleMB: mb(idle[pid]?.rss ?? 0),
      afterMB: mb(after[pid]?.rss ?? 0),
      growthMB: mb((after[pid]?.rss ?? 0) - (idle[pid]?.rss ?? 0)),
      peakGrowthMB: mb((after[pid]?.hwm ?? 0) - (idle[pid]?.rss ?? 0)),
    })).sort((a, b) => b.growthMB - a.growthMB);
    console.log(JSON.stringify({
      file, snapshotMB: Math.round(size / 1e5) / 10, firstRequestMs: Math.round(ms), status: r.status,
      view: { seq: stats.view_seq, accounts: stats.view_accounts, refreshErrors: stats.refresh_errors, MB: mb(stats.view_bytes / 1024) },
      // The module's linear memory never shrinks: its size is the peak the load needed there.
      wasmMemoryMB: mb(stats.wasm_memory_bytes / 1024),
      workerd: grew, load: loadavg().map((l) => l.toFixed(2)).join(' '),
    }));
  } finally {
    await w.stop();
    server.close();
    cleanup(w.persistTo, secrets.dir);
  }
}
