// Cold start of the wasm package on a snapshot written by `examples/retention.rs`: a fresh Node
// process loads the package (pkg/epochgate), builds a Validator and applies the snapshot once, as a cold isolate
// does; prints the time and how much the resident set grew (wasm linear memory never shrinks).
// Two ways, each in its own process: "pieces" reads the file in 64 KiB pieces into an
// UpdateBytes of the file's length (as a body of known Content-Length is read), "whole" reads it
// into one Uint8Array first and applies that.
//
//   RETENTION_DUMP=/tmp/dump cargo run --release --example retention -- 1000000 10000000
//   node benches/retention-wasm.mjs /tmp/dump/snapshot-<accounts>-<records>.bin ...
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const files = process.argv.slice(2);
if (process.env.RETENTION_CHILD) {
  const require = createRequire(import.meta.url);
  const eg = require('../pkg/epochgate/dist/node.cjs');
  const file = files[0];
  const revocationKeys = readFileSync(join(dirname(file), 'revocation-jwks.json'), 'utf8');
  const { publicJwk } = eg.generateKeyPair('tokens');
  const v = new eg.Validator({ issuer: 'https://id.example', audience: 'app', keys: publicJwk, revocationKeys, clockTolerance: 60 });
  const way = process.env.RETENTION_CHILD;
  const length = statSync(file).size;
  const piece = Buffer.alloc(64 << 10);
  // The process's resident set: the module's linear memory, which never shrinks, is in it.
  const memory = () => process.memoryUsage().rss;
  const before = memory();
  const t0 = process.hrtime.bigint();
  if (way === 'pieces') {
    const received = new eg.UpdateBytes(length);
    const fd = openSync(file, 'r');
    for (let n; (n = readSync(fd, piece, 0, piece.length, null)) > 0; ) received.push(piece.subarray(0, n));
    closeSync(fd);
    v.applyRevocation(received, 1_800_000_000);
  } else {
    v.applyRevocation(readFileSync(file), 1_800_000_000);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const mb = (n) => Math.round(n / 1e5) / 10;
  console.log(JSON.stringify({ file, way, snapshotMB: mb(length), coldStartMs: Math.round(ms), rssGrowthMB: mb(memory() - before) }));
} else {
  for (const file of files) {
    for (const way of ['pieces', 'whole']) {
      process.stdout.write(execFileSync(process.execPath, [fileURLToPath(import.meta.url), file], { env: { ...process.env, RETENTION_CHILD: way } }));
    }
  }
}
