// Request bodies are capped while they arrive: a chunked body (no Content-Length) over 16 KiB is
// refused with 413 payload_too_large as soon as the cap is passed — also when it never ends — at
// the edge's public routes, its authenticated routes and the /app echo; a chunked body under the
// cap is read as usual. Raw node:http requests, since fetch() would buffer or set a length.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  FAST_ARGON2, call, checkSchema, cleanup, loadOpenApi, makeSecrets, matchOperation, resolveRef, startWorker,
} from './helper.mjs';

const KIB = 1024;
const PASSWORD = 'correct horse battery';
const EMAIL = `bodies-${Date.now()}@example.com`;
/** How long a refusal of a body that never ends may take before the test calls it a hang. */
const HANG_MS = 10000;

const secrets = makeSecrets({ admin: false });
let w;
let token;

before(async () => {
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  assert.equal((await call(w.base, 'POST', '/v1/accounts', { body: { email: EMAIL, password: PASSWORD } })).status, 201);
  const r = await call(w.base, 'POST', '/v1/login', { body: { email: EMAIL, password: PASSWORD, device: { name: 'Node', type: 'desktop' } } });
  assert.equal(r.status, 201);
  token = r.body.token;
});

after(async () => {
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

/**
 * POSTs `chunks` with `Transfer-Encoding: chunked` and no Content-Length, then ends the body
 * unless `end` is false (the socket then stays open with nothing more written). Resolves with
 * the complete answer and closes the connection; `.req` on the promise is the request, for the
 * caller to destroy when no answer comes.
 */
function postChunked(path, chunks, { end = true, auth = false } = {}) {
  let req;
  const answer = new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'transfer-encoding': 'chunked' };
    if (auth) headers.authorization = `Bearer ${token}`;
    const started = Date.now();
    req = request({ host: '127.0.0.1', port: w.port, method: 'POST', path, headers, agent: false });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('error', reject);
      res.on('end', () => {
        // Done with this connection, as a client that was refused mid-body would be.
        req.destroy();
        const type = res.headers['content-type'] ?? '';
        resolve({
          status: res.statusCode, type, ms: Date.now() - started,
          body: type.includes('application/json') ? JSON.parse(text) : text,
        });
      });
    });
    // The server may close its side once it has answered, while the rest is still being written.
    req.on('error', (e) => { if (!answered) reject(e); });
    req.flushHeaders();
    for (const c of chunks) req.write(c);
    if (end) req.end();
  });
  return Object.assign(answer, { req });
}

const filler = (n) => Array.from({ length: n }, () => 'x'.repeat(KIB));

/** Resolves with `promise`, or rejects after `ms`. */
function within(ms, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Under `wrangler dev` only: a body the Worker left unread keeps the dev proxy's pooled
 * connection to the Worker stuck, so the next request through it fails (503 "Your worker
 * restarted mid-request" for a POST) or hangs (workerd#1741, workers-sdk#15709); the Worker has
 * answered by then. A GET given up after a few seconds takes that connection for the next test.
 */
async function settle() {
  await fetch(`${w.base}/.well-known/jwks.json`, { signal: AbortSignal.timeout(6000) }).catch(() => {});
}

/** The answer is the documented 413 of this operation. */
function assertTooLarge(path, r) {
  assert.equal(r.status, 413, JSON.stringify(r.body));
  assert.equal(r.body.error, 'payload_too_large');
  const doc = loadOpenApi();
  const resp = resolveRef(doc, matchOperation(doc, 'POST', path)?.op.responses['413']);
  assert.ok(resp, `413 is documented for POST ${path}`);
  assert.deepEqual(checkSchema(doc, resp.content['application/json'].schema, r.body), []);
}

describe('request bodies', () => {
  test('a chunked body under the cap is read as usual', async () => {
    const json = JSON.stringify({ email: EMAIL, password: PASSWORD, device: { name: 'Chunked', type: 'desktop' } });
    const r = await postChunked('/v1/login', [json.slice(0, 10), json.slice(10, 40), json.slice(40)]);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.ok(r.body.token);
    const echo = await postChunked('/app/echo', filler(15), { auth: true });
    assert.equal(echo.status, 200);
    assert.equal(echo.body.body_bytes, 15 * KIB);
  });

  test('a 20 KiB chunked body is refused with 413 on a public route', async () => {
    assertTooLarge('/v1/login', await postChunked('/v1/login', filler(20)));
    await settle();
  });

  test('a 20 KiB chunked body is refused with 413 on authenticated routes, and nothing happens', async () => {
    assertTooLarge('/v1/sessions/sign-out-all', await postChunked('/v1/sessions/sign-out-all', filler(20), { auth: true }));
    await settle();
    assertTooLarge('/app/echo', await postChunked('/app/echo', filler(20), { auth: true }));
    await settle();
    // No sign-out went through: the token still works.
    assert.equal((await call(w.base, 'GET', '/v1/me', { token })).status, 200);
  });

  test('a Content-Length over the cap is refused from the header (the fast path)', async () => {
    const r = await call(w.base, 'POST', '/v1/login', { raw: 'x'.repeat(20 * KIB), headers: { 'content-type': 'application/json' } });
    assertTooLarge('/v1/login', r);
  });

  for (const [path, auth] of [['/v1/login', false], ['/v1/sessions/sign-out-all', true]]) {
    test(`a chunked body that passes the cap and never ends is refused at once (${path})`, async () => {
      const pending = postChunked(path, filler(17), { end: false, auth });
      try {
        const r = await within(HANG_MS, pending);
        assertTooLarge(path, r);
        assert.ok(r.ms < HANG_MS);
      } finally {
        pending.req.destroy();
      }
      await settle();
    });
  }
});
