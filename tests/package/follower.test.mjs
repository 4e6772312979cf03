// RevocationFollower (js/follower.mjs) from the built package against a real HTTP origin made
// with node:http, serving updates signed by the package's own RevocationLog: the cold start,
// one fetch at a time, gaps and since-ahead, refused and failed updates, failing closed and
// recovering, the shared cache, the timer and the push listener, and refused options.
// Run: node --test tests/package/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import {
  Issuer, RevocationFollower, RevocationLog, Validator, generateKeyPair,
} from '../../pkg/epochgate/dist/node.mjs';

const ISS = 'https://id.example';
const AUD = 'app';
const ENTRY = new URL('../../pkg/epochgate/dist/node.mjs', import.meta.url).href;

/** A follower that hangs fails its test instead of the run. */
const LIMIT = { timeout: 30_000 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (in real time, 5 s at most) until `check()` holds. */
async function until(check, what) {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting until ${what}`);
}

/**
 * Keys, a log, an issuer and a clock that moves only when told. `origin` serves the log's
 * updates at the clock's time: 200 with the update, 409 for a since the log has not reached;
 * `origin.respond(since)` may override an answer: `{status, body}`, 'hang', 'stall' or undefined.
 */
async function world(t) {
  const clock = { ms: 1_800_000_000_000 };
  const now = () => clock.ms;
  const nowSec = () => Math.floor(clock.ms / 1000);
  const revocation = generateKeyPair('rev-1');
  const token = generateKeyPair('tok-1');
  const issuer = new Issuer({ issuer: ISS, audience: AUD, privateJwk: token.privateJwk });
  const origin = {
    log: new RevocationLog({ privateJwk: revocation.privateJwk }),
    requests: [],
    delayMs: 0,
    respond: () => undefined,
    hanging: [],
  };
  // A log with one change: a view that applied its snapshot is at sequence 1 and asks for deltas.
  origin.log.revokeAll('zed', nowSec());
  const server = http.createServer(async (req, res) => {
    const since = Number(new URL(req.url, 'http://origin').searchParams.get('since'));
    origin.requests.push(since);
    if (origin.delayMs) await sleep(origin.delayMs);
    const override = origin.respond(since);
    if (override === 'hang' || override === 'stall') {
      // 'stall': the headers and a first piece of the body, then nothing.
      if (override === 'stall') {
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(10));
      }
      origin.hanging.push(res);
      return;
    }
    let status = 200;
    let body;
    if (override) {
      ({ status, body } = override);
    } else {
      try {
        body = origin.log.updateSince(since, nowSec());
      } catch (error) {
        if (error.code !== 'since_ahead') throw error;
        status = 409;
        body = JSON.stringify({ error: 'since_ahead', message: error.message });
      }
    }
    res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  origin.url = `http://127.0.0.1:${port}`;
  origin.down = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  origin.up = async () => {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };
  t.after(async () => {
    for (const res of origin.hanging) res.destroy();
    if (server.listening) await origin.down();
  });

  const validator = (options = {}) => new Validator({
    issuer: ISS, audience: AUD, keys: token.publicJwk, revocationKeys: revocation.publicJwk, ...options,
  });
  const follower = (v, options = {}) => {
    const f = new RevocationFollower(v, { origin: origin.url, now, cache: null, ...options });
    t.after(() => f.close());
    return f;
  };
  const mint = (account) => {
    const device = origin.log.allocateDevice(account);
    const epoch = origin.log.epochOf(account);
    return { device, token: issuer.mint({ account, session: `s-${account}-${device}`, device, epoch, now: nowSec() }) };
  };
  return { clock, now, nowSec, revocation, origin, validator, follower, mint };
}

/** ready(), awaiting any background refresh it started; how many it started. */
async function backgroundRefreshes(f) {
  const started = [];
  await f.ready({ waitUntil: (p) => started.push(p) });
  await Promise.all(started);
  return started.length;
}

/** ready() on a view that is usable: the background refresh it started, awaited. */
async function readyAndRefreshed(f) {
  const started = [];
  await f.ready({ waitUntil: (p) => started.push(p) });
  assert.equal(started.length, 1, 'ready() started no background refresh');
  await Promise.all(started);
}

test('a cold view awaits the snapshot; a due view fetches a delta and sees the revocation', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  const v = w.validator();
  const f = w.follower(v);
  assert.deepEqual(f.stats.ageMs, null);
  await f.ready();
  assert.deepEqual(w.origin.requests, [0]);
  assert.equal(v.revocationSeq, w.origin.log.seq);
  assert.equal(v.validate(alice.token, w.nowSec()).valid, true);

  // Within the staleness target: nothing fetched.
  w.origin.log.revokeDevice('alice', alice.device, w.nowSec());
  w.clock.ms += 500;
  assert.equal(await backgroundRefreshes(f), 0);
  assert.deepEqual(w.origin.requests, [0]);
  assert.equal(v.validate(alice.token, w.nowSec()).valid, true);

  w.clock.ms += 500;
  await readyAndRefreshed(f);
  assert.deepEqual(w.origin.requests, [0, 1]);
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'revoked_device');
  assert.deepEqual(
    { ...f.stats, ageMs: undefined },
    { fetches: 2, snapshots: 1, applied: 2, refused: 0, failures: 0, cacheHits: 0, cacheMisses: 0, seq: 2, ageMs: undefined, lastError: null },
  );
  assert.equal(f.stats.ageMs, 0);
  w.clock.ms += 300;
  assert.equal(f.stats.ageMs, 300);
});

test('50 concurrent requests on a stale view make one fetch and none of them waits', LIMIT, async (t) => {
  const w = await world(t);
  const v = w.validator();
  const f = w.follower(v);
  await f.ready();
  w.origin.log.revokeAll('bob', w.nowSec());
  w.clock.ms += 1000;
  w.origin.delayMs = 100;
  const background = [];
  let resolved = 0;
  await Promise.all(Array.from({ length: 50 }, () => f.ready({ waitUntil: (p) => background.push(p) })
    .then(() => {
      resolved++;
      // The refresh is still in the background: the old view serves meanwhile.
      assert.equal(v.revocationSeq, 1);
    })));
  assert.equal(resolved, 50);
  assert.equal(background.length, 1);
  await Promise.all(background);
  assert.deepEqual(w.origin.requests, [0, 1]);
  assert.equal(v.revocationSeq, 2);
  assert.equal(f.stats.fetches, 2);
});

test('50 concurrent requests on a cold view make one fetch and all resolve after it', LIMIT, async (t) => {
  const w = await world(t);
  w.origin.log.revokeAll('bob', w.nowSec());
  const v = w.validator();
  const f = w.follower(v);
  w.origin.delayMs = 100;
  const seen = await Promise.all(Array.from({ length: 50 }, () => f.ready().then(() => v.revocationSeq)));
  assert.deepEqual(seen, Array(50).fill(2));
  assert.deepEqual(w.origin.requests, [0]);
  assert.deepEqual({ fetches: f.stats.fetches, applied: f.stats.applied }, { fetches: 1, applied: 1 });
});

test('a delta that does not fit is followed by a snapshot in the same refresh', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  const v = w.validator();
  const f = w.follower(v);
  await f.ready();
  const at = v.revocationSeq;
  w.origin.log.revokeAll('carol', w.nowSec());
  w.origin.log.revokeDevice('alice', alice.device, w.nowSec());
  // The origin answers the delta request with one that skips the first change.
  w.origin.respond = (since) => (since === 0 ? undefined : { status: 200, body: w.origin.log.deltaSince(since + 1, w.nowSec()) });
  w.clock.ms += 1000;
  const outcome = await f.refresh();
  assert.deepEqual(outcome, { applied: true, seq: at + 2 });
  assert.deepEqual(w.origin.requests, [0, at, 0]);
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'revoked_device');
  const { fetches, snapshots, applied, refused, lastError } = f.stats;
  assert.deepEqual({ fetches, snapshots, applied, refused, lastError }, { fetches: 3, snapshots: 2, applied: 2, refused: 1, lastError: null });
});

test('an origin behind the view (409 since_ahead) is followed by a snapshot', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  const v = w.validator();
  const f = w.follower(v);
  await f.ready();
  assert.equal(v.revocationSeq, 1);
  // The delta is asked of a replica that has not caught up; the snapshot comes from one that has.
  w.origin.log.revokeAll('alice', w.nowSec());
  w.origin.respond = (since) => (since === 0 ? undefined : { status: 409, body: '{"error":"since_ahead"}' });
  w.clock.ms += 1000;
  await readyAndRefreshed(f);
  assert.deepEqual(w.origin.requests, [0, 1, 0]);
  assert.equal(v.revocationSeq, 2);
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'revoked_all');
  const { fetches, snapshots, applied, refused, failures, lastError } = f.stats;
  assert.deepEqual({ fetches, snapshots, applied, refused, failures, lastError }, { fetches: 3, snapshots: 2, applied: 2, refused: 0, failures: 0, lastError: null });

  // An origin that restarted behind the view: since-ahead, and its snapshot would roll the view
  // back, which the core refuses.
  w.origin.respond = () => undefined;
  w.origin.log = new RevocationLog({ privateJwk: w.revocation.privateJwk });
  w.clock.ms += 1000;
  const outcome = await f.refresh();
  assert.deepEqual(w.origin.requests, [0, 1, 0, 2, 0]);
  assert.equal(outcome.error.code, 'update_stale');
  assert.equal(v.revocationSeq, 2);
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'revoked_all');
});

test('garbage, truncated and forged updates change nothing and are counted with the core code', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  const v = w.validator();
  const f = w.follower(v);
  await f.ready();
  w.origin.log.revokeDevice('alice', alice.device, w.nowSec());
  const forger = new RevocationLog({ privateJwk: generateKeyPair('rev-1').privateJwk });
  forger.revokeAll('alice', w.nowSec());
  const cases = [
    ['garbage', () => Buffer.from('not an update at all'), 'update_malformed'],
    ['truncated', () => w.origin.log.deltaSince(1, w.nowSec()).subarray(0, 60), 'update_malformed'],
    ['forged', () => forger.snapshot(w.nowSec()), 'update_bad_signature'],
    ['unknown key', () => new RevocationLog({ privateJwk: generateKeyPair('other').privateJwk }).snapshot(w.nowSec()), 'update_unknown_key'],
  ];
  let refused = f.stats.refused;
  for (const [what, body, code] of cases) {
    w.origin.respond = () => ({ status: 200, body: body() });
    w.clock.ms += 1000;
    const outcome = await f.refresh();
    assert.equal(outcome.applied, false, what);
    assert.equal(outcome.error.code, code, what);
    assert.equal(f.stats.lastError.code, code, what);
    assert.ok(f.stats.lastError.message.length > 0);
    assert.equal(f.stats.refused, ++refused, what);
    assert.equal(f.stats.seq, 1, what);
    assert.equal(v.validate(alice.token, w.nowSec()).valid, true, what);
  }
  assert.equal(f.stats.failures, 0);
  // The origin's own update still applies.
  w.origin.respond = () => undefined;
  assert.deepEqual(await f.refresh(), { applied: true, seq: 2 });
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'revoked_device');
  assert.equal(f.stats.lastError, null);
});

test('an origin that is down leaves the view until maxStateAge fails it closed; back up, tokens are valid again', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  const v = w.validator({ maxStateAge: 30 });
  const f = w.follower(v, { refreshTimeoutMs: 200 });
  await f.ready();
  assert.equal(v.validate(alice.token, w.nowSec()).valid, true);

  const downs = [
    ['500', async () => { w.origin.respond = () => ({ status: 500, body: 'oops' }); }, /answered 500/],
    ['hang', async () => { w.origin.respond = () => 'hang'; }, /timed out after 200 ms;/],
    ['stall', async () => { w.origin.respond = () => 'stall'; }, /timed out after 200 ms reading the body/],
    ['refused', async () => { w.origin.respond = () => undefined; await w.origin.down(); }, /failed: fetch failed \((ECONNREFUSED|UND_ERR_SOCKET)\)/],
  ];
  let failures = 0;
  for (const [what, down, message] of downs) {
    await down();
    w.clock.ms += 11_000;
    const outcome = await f.refresh();
    assert.equal(outcome.applied, false, what);
    assert.equal(f.stats.lastError.code, 'update_unavailable', what);
    assert.match(f.stats.lastError.message, message, what);
    assert.equal(f.stats.failures, ++failures, what);
  }
  // 44 s since the snapshot's signed time: the validator fails closed.
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'state_stale');
  // ready() on a view past maxStateAge awaits its refresh, which fails again.
  assert.equal(await backgroundRefreshes(f), 0);
  assert.equal(f.stats.failures, ++failures);
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'state_stale');

  await w.origin.up();
  await f.ready();
  assert.equal(f.stats.lastError, null);
  assert.equal(v.validate(alice.token, w.nowSec()).valid, true);
});

/** A stand-in for caches.default: a Map of bodies, counting calls. */
function memoryCache() {
  const entries = new Map();
  const cache = {
    entries,
    matches: 0,
    async match(key) {
      cache.matches++;
      const hit = entries.get(key);
      return hit && new Response(hit.body, { status: 200, headers: hit.headers });
    },
    async put(key, response) {
      entries.set(key, { body: new Uint8Array(await response.arrayBuffer()), headers: response.headers });
    },
  };
  return cache;
}

test('followers sharing a cache read an update once per slot', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  w.origin.log.revokeDevice('alice', alice.device, w.nowSec());
  const cache = memoryCache();
  const [a, b] = [w.validator(), w.validator()];
  const fa = w.follower(a, { cache });
  const fb = w.follower(b, { cache });
  await fa.ready();
  await fb.ready();
  assert.deepEqual(w.origin.requests, [0]);
  assert.equal(b.validate(alice.token, w.nowSec()).reason, 'revoked_device');
  assert.deepEqual([fa.stats.cacheMisses, fa.stats.cacheHits, fb.stats.cacheMisses, fb.stats.cacheHits], [1, 0, 0, 1]);
  const [key] = cache.entries.keys();
  assert.equal(key, `${w.origin.url}/v1/revocations?since=0&slot=${Math.floor(w.now() / 250)}`);
  assert.equal(cache.entries.get(key).headers.get('cache-control'), 'public, max-age=5');

  // The next slot: a new read from the origin.
  w.clock.ms += 250;
  const fc = w.follower(w.validator(), { cache });
  await fc.ready();
  assert.deepEqual(w.origin.requests, [0, 0]);
  assert.deepEqual([fc.stats.cacheMisses, fc.stats.cacheHits], [1, 0]);
});

test('cacheSlotMs 0 does not use the cache', LIMIT, async (t) => {
  const w = await world(t);
  const cache = memoryCache();
  const fa = w.follower(w.validator(), { cache, cacheSlotMs: 0 });
  const fb = w.follower(w.validator(), { cache, cacheSlotMs: 0 });
  await fa.ready();
  await fb.ready();
  assert.deepEqual(w.origin.requests, [0, 0]);
  assert.equal(cache.matches, 0);
  assert.equal(cache.entries.size, 0);
  assert.equal(fb.stats.cacheHits + fb.stats.cacheMisses, 0);
});

test('start() refreshes without traffic; close() stops it, and ready() then fetches nothing', LIMIT, async (t) => {
  const w = await world(t);
  w.clock.ms = Date.now();
  const alice = w.mint('alice');
  const v = w.validator();
  // Real time here: the timer runs on it.
  const f = w.follower(v, { now: Date.now, stalenessTargetMs: 50 });
  assert.equal(f.start(), f);
  await until(() => w.origin.requests.length >= 3, 'the timer refreshed three times');
  w.origin.log.revokeDevice('alice', alice.device);
  await until(() => v.validate(alice.token).reason === 'revoked_device', 'the timer brought the revocation');
  f.close();
  // The core counts a fetch when it plans it, so a refresh in flight now is already counted.
  const fetches = f.stats.fetches;
  await sleep(200);
  // The view is due by now, but a closed follower does not refresh it.
  assert.equal(await backgroundRefreshes(f), 0);
  assert.equal(f.stats.fetches, fetches);
  assert.equal((await f.refresh()).error.code, 'follower_closed');
});

test('a started follower does not keep a Node process alive', LIMIT, async (t) => {
  const w = await world(t);
  // The child validates updates on the host clock.
  w.clock.ms = Date.now();
  const script = `
    import { RevocationFollower, Validator } from ${JSON.stringify(ENTRY)};
    const v = new Validator({ issuer: 'i', audience: 'a', keys: ${JSON.stringify(generateKeyPair('k').publicJwk)},
      revocationKeys: ${JSON.stringify(w.revocation.publicJwk)} });
    const f = new RevocationFollower(v, { origin: ${JSON.stringify(w.origin.url)}, stalenessTargetMs: 20 }).start();
    await f.ready();
    console.log('ready', v.revocationSeq);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  const killer = setTimeout(() => child.kill(), 10_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(killer);
  assert.equal(signal, null, 'the child was still running after 10 s');
  assert.equal(code, 0);
  assert.match(out, /^ready 1$/m);
  assert.ok(w.origin.requests.length >= 1);
});

test('listen(): a message refreshes a fresh view at once; the unsubscribe stops it', LIMIT, async (t) => {
  const w = await world(t);
  const alice = w.mint('alice');
  const v = w.validator();
  const f = w.follower(v);
  await f.ready();
  const socket = new EventTarget();
  const unsubscribe = f.listen(socket);
  w.origin.log.revokeDevice('alice', alice.device, w.nowSec());
  socket.dispatchEvent(new MessageEvent('message', { data: '{"type":"revoked"}' }));
  await until(() => f.stats.applied === 2, 'the message refreshed the view');
  assert.deepEqual(w.origin.requests, [0, 1]);
  assert.equal(v.validate(alice.token, w.nowSec()).reason, 'revoked_device');
  assert.equal(f.stats.fetches, 2);

  unsubscribe();
  socket.dispatchEvent(new MessageEvent('message', { data: '{"type":"signed_out"}' }));
  await sleep(100);
  assert.deepEqual(w.origin.requests, [0, 1]);
  // close() unsubscribes what is left: the follower is no longer referenced from the socket.
  const listeners = [];
  const other = {
    addEventListener(type, fn) {
      listeners.push([type, fn]);
    },
    removeEventListener(type, fn) {
      const i = listeners.findIndex(([t, f]) => t === type && f === fn);
      if (i >= 0) listeners.splice(i, 1);
    },
  };
  f.listen(other);
  assert.deepEqual(listeners.map(([type]) => type), ['message']);
  f.close();
  assert.deepEqual(listeners, []);
});

test('bad options and a validator without revocation keys are refused with a code', LIMIT, async (t) => {
  const w = await world(t);
  const v = w.validator();
  const refused = (options, code = 'invalid_option', validator = v) => assert.throws(
    () => new RevocationFollower(validator, options),
    (error) => {
      assert.ok(error instanceof Error && !(error instanceof TypeError), String(error));
      assert.equal(error.code, code, error.message);
      return true;
    },
    JSON.stringify(options),
  );
  const url = w.origin.url;
  refused({ origin: url, updatesUrl: `${url}/v1/revocations` });
  assert.throws(() => new RevocationFollower(v, {}), /exactly one of origin .* and updatesUrl/);
  refused(undefined);
  refused({ origin: 'not a url' });
  refused({ origin: 'ftp://example.com' });
  refused({ origin: `${url}/?x=1` });
  refused({ origin: url, stalenessTargetMs: -1 });
  refused({ origin: url, refreshTimeoutMs: 0 });
  refused({ origin: url, maxWaitMs: -5 });
  refused({ origin: url, cacheSlotMs: -250 });
  refused({ origin: url, cacheSlotMs: 1.5 });
  refused({ origin: url, stalenessTargetMs: 86_400_001 });
  refused({ origin: url, fetch: 'fetch' });
  refused({ origin: url, now: 5 });
  refused({ origin: url, cache: {} });
  refused({ origin: url, staleness: 1000 });
  refused({ origin: url }, 'invalid_argument', {});
  // A Validator of another instance of the module (here the CommonJS entry's) lives in another
  // WebAssembly memory: refused, not accepted and broken at the first plan.
  const require = createRequire(import.meta.url);
  const cjs = require(new URL('../../pkg/epochgate/dist/node.cjs', import.meta.url).pathname);
  refused({ origin: url }, 'invalid_argument', new cjs.Validator({
    issuer: ISS, audience: AUD, keys: w.revocation.publicJwk, revocationKeys: generateKeyPair('r2').publicJwk,
  }));
  const { publicJwk } = generateKeyPair('t');
  refused({ origin: url }, 'no_revocation_keys', new Validator({ issuer: ISS, audience: AUD, keys: publicJwk }));
  // Good ones: an origin with a path, or the endpoint itself.
  const requested = [];
  const fetch = async (input) => {
    requested.push(input);
    return new Response('x', { status: 500 });
  };
  await new RevocationFollower(v, { origin: 'https://id.example/auth/', fetch, cache: null }).refresh();
  await new RevocationFollower(v, { updatesUrl: new URL('https://feed.example/rev?k=1'), fetch, cache: null }).refresh();
  assert.deepEqual(requested, ['https://id.example/auth/v1/revocations?since=0', 'https://feed.example/rev?k=1&since=0']);
});
