// The package's workerd entry under `wrangler dev`, from the packed tarball: with `nodejs_compat`
// it exports workerd's node:crypto Ed25519 (BoringSSL, reached through process.getBuiltinModule)
// as `hostEd25519Verify`, and a Validator given it leaves each signature's equation to it, with
// the strict checks kept in Rust; without the flag the export is null. Validators verify in wasm
// unless given it. Every vector of the four sets goes through both paths inside workerd, and
// both must decide exactly as verify_strict does (tests/node/ed25519-paths.test.mjs does the same
// for Node's OpenSSL). Needs pkg/epochgate (scripts/build-pkg.sh).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, freePort, spawnServer } from '../e2e/helper.mjs';
import { allVectors } from '../node/vectors.mjs';
import { consumerProject, repoRoot } from './consumer.mjs';

const ISS = 'https://id.example';
const AUD = 'app';

// One Worker, two configurations. Its three routes: what the entry chose, a token validated, and
// a batch of vectors through verifyEd25519 without and with the runtime's own equation.
const WORKER = `
import { Validator, hostEd25519Verify as host } from 'epochgate';
// An internal file of the package, by path (the exports map only governs bare specifiers); the
// glue is the very module the entry initialised.
import { verifyEd25519 } from '../../node_modules/epochgate/dist/glue.mjs';
function bytes(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/info') {
      const v = new Validator({ issuer: '${ISS}', audience: '${AUD}', keys: JSON.parse(env.KEYS), maxStateAge: 0 });
      const given = new Validator({ issuer: '${ISS}', audience: '${AUD}', keys: JSON.parse(env.KEYS), maxStateAge: 0, ed25519Verify: host });
      return Response.json({
        verification: v.verification,
        hostOption: given.verification,
        hostFound: host !== null,
        getBuiltinModule: typeof globalThis.process?.getBuiltinModule,
      });
    }
    if (url.pathname === '/validate') {
      const { token, now, useHost } = await request.json();
      const v = new Validator({ issuer: '${ISS}', audience: '${AUD}', keys: JSON.parse(env.KEYS), maxStateAge: 0, cacheSize: 0, ed25519Verify: useHost ? host : null });
      const verdict = v.validate(token, now);
      return Response.json({ verification: v.verification, valid: verdict.valid, reason: verdict.reason ?? null });
    }
    if (url.pathname === '/vectors') {
      const list = await request.json();
      return Response.json(list.map(([pk, msg, sig]) => {
        const args = [bytes(pk), bytes(msg), bytes(sig)];
        return [verifyEd25519(...args), host === null ? null : verifyEd25519(...args, host)];
      }));
    }
    return new Response('not found', { status: 404 });
  },
};
`;

const toHex = (u8) => Buffer.from(u8).toString('hex');

/** The Worker under `wrangler dev` with `flags`, offline, on its own port and state directory. */
async function startWorkerd(project, name, flags, keys) {
  const dir = join(project, 'workerd-ed25519', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), WORKER);
  writeFileSync(join(dir, 'wrangler.toml'), [
    `name = "epochgate-workerd-${name}"`,
    'main = "index.mjs"',
    'compatibility_date = "2025-09-01"',
    `compatibility_flags = ${JSON.stringify(flags)}`,
    '',
  ].join('\n'));
  const port = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), 'epochgate-workerd-state-'));
  const server = await spawnServer(join(repoRoot, 'node_modules/.bin/wrangler'), [
    'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()),
    '--show-interactive-dev-session=false', '--persist-to', persistTo, '--var', `KEYS:${JSON.stringify(keys)}`,
  ], { cwd: dir, base: `http://127.0.0.1:${port}`, readyPath: '/info' });
  const stop = server.stop;
  server.stop = async () => { await stop(); rmSync(persistTo, { recursive: true, force: true }); };
  return server;
}

let eg;
let keys;
let issuer;
const workers = {};

before(async () => {
  eg = await import(join(repoRoot, 'pkg/epochgate/dist/node.mjs'));
  const pair = eg.generateKeyPair('workerd-1');
  keys = pair.publicJwk;
  issuer = new eg.Issuer({ issuer: ISS, audience: AUD, privateJwk: pair.privateJwk, ttl: 3600 });
  const project = await consumerProject();
  [workers.compat, workers.plain] = await Promise.all([
    startWorkerd(project, 'compat', ['nodejs_compat'], keys),
    startWorkerd(project, 'plain', [], keys),
  ]);
});

after(async () => {
  await Promise.all(Object.values(workers).map((w) => w?.stop()));
});

describe('workerd with nodejs_compat', () => {
  test('the entry found node:crypto and exports it; Validators verify in wasm unless given it', async () => {
    const info = (await call(workers.compat.base, 'GET', '/info')).body;
    assert.deepEqual(info, { verification: 'wasm', hostOption: 'host', hostFound: true, getBuiltinModule: 'function' });
  });

  test('a token verifies on both paths; a forged or altered one is refused on both', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = issuer.mint({ account: 'a', session: 's', device: 1, epoch: 0, now });
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[5] ^= 1;
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const otherPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'b' })).toString('base64url');
    const cases = [
      [token, true, null],
      [`${h}.${p}.${sig.toString('base64url')}`, false, 'bad_signature'],
      [`${h}.${otherPayload}.${s}`, false, 'bad_signature'],
    ];
    for (const [t, valid, reason] of cases) {
      for (const [useHost, verification] of [[true, 'host'], [false, 'wasm']]) {
        const r = (await call(workers.compat.base, 'POST', '/validate', { body: { token: t, now, useHost } })).body;
        assert.deepEqual(r, { verification, valid, reason });
      }
    }
  });

  test('every vector of every set: node:crypto in workerd accepts and refuses exactly as verify_strict', async () => {
    const vectors = allVectors();
    assert.equal(vectors.length, 151 + 514 + 914 + 12);
    let agreed = 0;
    for (let i = 0; i < vectors.length; i += 400) {
      const batch = vectors.slice(i, i + 400);
      const r = await call(workers.compat.base, 'POST', '/vectors', { body: batch.map((v) => [toHex(v.pk), toHex(v.msg), toHex(v.sig)]) });
      assert.equal(r.status, 200);
      r.body.forEach(([wasm, host], j) => {
        const v = batch[j];
        assert.equal(host, wasm, `${v.set} ${v.id}: the wasm path says ${wasm}, workerd's node:crypto path ${host}`);
        if (v.expected !== undefined) assert.equal(wasm, v.expected, `${v.set} ${v.id}`);
        agreed++;
      });
    }
    assert.equal(agreed, vectors.length);
  });
});

describe('workerd without nodejs_compat', () => {
  test('no node:crypto: hostEd25519Verify is null, and a Validator given it verifies in wasm', async () => {
    const info = (await call(workers.plain.base, 'GET', '/info')).body;
    assert.deepEqual(info, { verification: 'wasm', hostOption: 'wasm', hostFound: false, getBuiltinModule: 'undefined' });
    const now = Math.floor(Date.now() / 1000);
    const token = issuer.mint({ account: 'a', session: 's', device: 1, epoch: 0, now });
    const r = (await call(workers.plain.base, 'POST', '/validate', { body: { token, now, useHost: true } })).body;
    assert.deepEqual(r, { verification: 'wasm', valid: true, reason: null });
  });
});
