// Measures what the page transfers at first load (signed out, empty cache): every response
// Chromium receives, with the bytes it read from the network, and the gzip -9 size of each body,
// which is what a compressing front (Cloudflare compresses text and wasm) would send.
// Usage: node tests/www/measure-size.mjs   (after scripts/stage-www.sh; starts its own wrangler dev)
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { FAST_ARGON2, cleanup, makeSecrets, root, startWorker } from '../e2e/helper.mjs';
import { launch, stage } from './browser.mjs';

const secrets = makeSecrets();
stage();
const w = await startWorker({ secrets, vars: FAST_ARGON2 });
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const byId = new Map();
  cdp.on('Network.responseReceived', (e) => byId.set(e.requestId, { url: e.response.url, type: e.type, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '' }));
  cdp.on('Network.loadingFinished', (e) => { const r = byId.get(e.requestId); if (r) r.wire = e.encodedDataLength; });
  const bodies = new Map();
  page.on('response', async (res) => {
    try { bodies.set(res.url(), await res.body()); } catch { /* redirects, sockets */ }
  });
  await page.goto(w.base + '/', { waitUntil: 'load' });
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.locator('#inspector-state').filter({ hasText: 'sequence' }).waitFor();

  const rows = [];
  for (const r of byId.values()) {
    const body = bodies.get(r.url) ?? Buffer.alloc(0);
    const path = new URL(r.url).pathname + new URL(r.url).search;
    rows.push({ path, wire: r.wire ?? 0, raw: body.length, gzip: gzipSync(body, { level: 9 }).length, encoding: r.encoding || 'identity' });
  }
  rows.sort((a, b) => b.gzip - a.gzip);
  const sum = (k, f = () => true) => rows.filter(f).reduce((s, r) => s + r[k], 0);
  const isAsset = (r) => /\.(html|css|js|wasm)$|\/$/.test(r.path.split('?')[0]);
  console.log('| resource | raw bytes | gzip -9 bytes | bytes on the wire (wrangler dev) |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| \`${r.path}\` | ${r.raw} | ${r.gzip} | ${r.wire} (${r.encoding}) |`);
  console.log(`| **HTML+JS+CSS+wasm** | ${sum('raw', isAsset)} | ${sum('gzip', isAsset)} | ${sum('wire', isAsset)} |`);
  console.log(`| **everything at first load** | ${sum('raw')} | ${sum('gzip')} | ${sum('wire')} |`);
} finally {
  await browser.close();
  await w.stop();
  cleanup(w.persistTo, secrets.dir);
  stage();
}
