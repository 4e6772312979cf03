// The page's revocation pulls (www/local.js) in Node: LocalValidator.pullOnce fetching
// /v1/revocations from a fake server and driving the core's Follower from the npm package (pkg/epochgate, built by
// scripts/build-pkg.sh, which scripts/test-www.sh runs when it is missing). The rule is the Follower's: a delta since the
// view's sequence, a snapshot after a gap or a since-ahead answer, a refused update counted and
// the view unchanged; the inspector's sentence (describeState) says which.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, test } from 'node:test';
import { LocalValidator } from '../../www/local.js';

const pkg = new URL('../../pkg/epochgate/dist/node.cjs', import.meta.url);
// No silent skip: without the package these tests would prove nothing.
assert.ok(existsSync(pkg), 'pkg/epochgate is not built: run scripts/build-pkg.sh (scripts/test-www.sh does)');
const eg = createRequire(import.meta.url)(pkg.pathname);

const NOW = Math.floor(Date.now() / 1000);
const realFetch = globalThis.fetch;
afterEach(() => { globalThis.fetch = realFetch; });

/**
 * A LocalValidator with its wasm parts from the package's Node build (the constructor's loader would fetch the
 * web build), a revocation log standing for the origin, and a fake fetch: `serve(since)` answers
 * /v1/revocations?since=… (bytes, a status number, or a thrown error). Returns the URLs asked.
 */
function setup() {
  const tokenKeys = eg.generateKeyPair('tokens-1');
  const updateKeys = eg.generateKeyPair('updates-1');
  const log = new eg.RevocationLog({ privateJwk: updateKeys.privateJwk });
  const local = Object.create(LocalValidator.prototype);
  Object.assign(local, {
    validator: new eg.Validator({ issuer: 'i', audience: 'a', keys: { keys: [tokenKeys.publicJwk] }, revocationKeys: { keys: [updateKeys.publicJwk] } }),
    follower: new eg.Follower({ stalenessTargetMs: 0 }),
    revocationSource: '/.well-known/revocation-jwks.json',
    revocationError: null,
    error: null,
    tokenKids: ['tokens-1'],
    pulling: null,
  });
  const asked = [];
  const server = { serve: (since) => log.updateSince(since, NOW) };
  globalThis.fetch = async (url) => {
    const since = Number(new URL(url, 'http://page/').searchParams.get('since'));
    asked.push(since);
    const body = server.serve(since);
    if (body instanceof Error) throw body;
    if (typeof body === 'number') return new Response(JSON.stringify({ error: 'since_ahead' }), { status: body });
    return new Response(body, { status: 200 });
  };
  return { local, log, asked, server };
}

test('before any pull the inspector says so', () => {
  const { local } = setup();
  assert.equal(local.describeState(), 'no update applied yet');
});

test('a snapshot first, then deltas since the view', async () => {
  const { local, log, asked } = setup();
  log.revokeAll('acct-1', NOW);
  await local.pull();
  assert.deepEqual(asked, [0]);
  assert.equal(local.validator.revocationSeq, 1);
  assert.equal(local.revocationError, null);
  assert.match(local.describeState(), /^sequence 1, pulled 0 s ago$/);

  log.revokeAll('acct-2', NOW);
  await local.pull();
  assert.deepEqual(asked, [0, 1]);
  assert.equal(local.validator.revocationSeq, 2);
  assert.deepEqual(local.follower.stats, { fetches: 2, snapshots: 1, applied: 2, refused: 0, failures: 0 });
});

test('a delta that does not fit (update_gap) is followed by a snapshot', async () => {
  const { local, log, asked, server } = setup();
  log.revokeAll('acct-1', NOW);
  await local.pull();
  log.revokeAll('acct-2', NOW);
  log.revokeAll('acct-3', NOW);
  // A delta that starts after the view's sequence: the validator refuses it as a gap.
  server.serve = (since) => (since === 0 ? log.snapshot(NOW) : log.deltaSince(since + 1, NOW));
  await local.pull();
  assert.deepEqual(asked, [0, 1, 0]);
  assert.equal(local.validator.revocationSeq, 3);
  assert.equal(local.revocationError, null);
  assert.equal(local.follower.stats.refused, 1);
});

test('a since-ahead answer (409) is followed by a snapshot; a 409 to a snapshot fails', async () => {
  const { local, log, asked, server } = setup();
  log.revokeAll('acct-1', NOW);
  await local.pull();
  server.serve = (since) => (since === 0 ? log.snapshot(NOW) : 409);
  log.revokeAll('acct-2', NOW);
  await local.pull();
  assert.deepEqual(asked, [0, 1, 0]);
  assert.equal(local.validator.revocationSeq, 2);

  server.serve = () => 409;
  await local.pull();
  assert.deepEqual(asked, [0, 1, 0, 2, 0]);
  assert.match(local.revocationError, /^since_ahead: /);
  assert.match(local.describeState(), /^sequence 2, pulled \d+ s ago \(last pull failed: since_ahead: .+\)$/);
});

test('a refused update changes nothing and is counted; a failed fetch says why', async () => {
  const { local, log, server } = setup();
  log.revokeAll('acct-1', NOW);
  await local.pull();
  server.serve = () => new Uint8Array([1, 2, 3]);
  await local.pull();
  assert.equal(local.validator.revocationSeq, 1);
  assert.match(local.revocationError, /^update_\w+: /);
  assert.equal(local.follower.stats.refused, 1);

  server.serve = () => 503;
  await local.pull();
  assert.equal(local.revocationError, '/v1/revocations answered 503');
  server.serve = () => new TypeError('Failed to fetch');
  await local.pull();
  assert.equal(local.revocationError, 'Failed to fetch');
  assert.equal(local.follower.stats.failures, 2);
  assert.match(local.describeState(), /^sequence 1, pulled \d+ s ago \(last pull failed: Failed to fetch\)$/);

  // The next good pull clears the error.
  server.serve = (since) => log.updateSince(since, NOW);
  await local.pull();
  assert.equal(local.revocationError, null);
  assert.match(local.describeState(), /^sequence 1, pulled 0 s ago$/);
});

test('pulls asked for while one runs share it', async () => {
  const { local, asked } = setup();
  await Promise.all([local.pull(), local.pull(), local.pull()]);
  assert.deepEqual(asked, [0]);
});
