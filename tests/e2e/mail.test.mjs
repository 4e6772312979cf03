// Mail delivery through the outbox, against a real `wrangler dev` with MAIL_MODE=http pointed at
// a mail API this test serves: the API fails the first deliveries (the first one slowly), and
// the mail must still arrive exactly once, by the Durable Object's alarm, while the request
// that caused it was answered at once. Also: the development outbox is not readable in any
// other mode, and never without the admin token.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  call, cleanup, codeFrom, exchanges, FAST_ARGON2, freePort, makeSecrets, openApiProblems, sleep,
  startWorker, waitFor,
} from './helper.mjs';

const secrets = makeSecrets();
const ADMIN = secrets.vars.ADMIN_TOKEN;
const API_KEY = 'test-mail-api-key';
const FROM = 'Acme Security <security@acme.example>';
const PUBLIC_URL = 'https://acme.example';

/** The fake mail API: every request it got, and what it answers. */
const mailApi = {
  attempts: [],
  delivered: [],
  /** Attempts to refuse with 500 before accepting; the first refusal waits `holdMs`. */
  failFirst: 0,
  holdMs: 0,
  firstAnswerAt: null,
};

function serveMailApi(req, res) {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { raw += d; });
  req.on('end', async () => {
    let body = null;
    try { body = JSON.parse(raw); } catch { /* kept null: the test fails on it */ }
    const attempt = {
      method: req.method, url: req.url, headers: req.headers, body, at: Date.now(),
    };
    mailApi.attempts.push(attempt);
    const n = mailApi.attempts.length;
    if (n <= mailApi.failFirst) {
      if (n === 1 && mailApi.holdMs) await sleep(mailApi.holdMs);
      mailApi.firstAnswerAt ??= Date.now();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('the mail API is down');
      return;
    }
    mailApi.firstAnswerAt ??= Date.now();
    mailApi.delivered.push(attempt);
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end('{"id":"m"}');
  });
}

let server;
let w;
let api;

before(async () => {
  const port = await freePort();
  server = createServer(serveMailApi);
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  w = await startWorker({
    secrets,
    vars: {
      ...FAST_ARGON2,
      MAIL_MODE: 'http',
      MAIL_API_URL: `http://127.0.0.1:${port}/send`,
      MAIL_API_KEY: API_KEY,
      MAIL_FROM: FROM,
      PUBLIC_URL,
      MAIL_RETRY_SECONDS: '1',
    },
  });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  await w?.stop();
  server?.close();
  cleanup(w?.persistTo, secrets.dir);
});

let serial = 0;
const fresh = (tag) => `${tag}-${Date.now()}-${++serial}@example.com`;
const PASSWORD = 'correct horse battery';

async function signUp(email) {
  const r = await api('POST', '/v1/accounts', { body: { email, password: PASSWORD } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

function assertError(r, status, code, what = '') {
  assert.equal(r.status, status, `${what} ${JSON.stringify(r.body)}`);
  assert.equal(r.body?.error, code, what);
  assert.equal(typeof r.body.message, 'string', what);
}

/** Every delivery to `to` the mail API accepted. */
const deliveredTo = (to) => mailApi.delivered.filter((a) => a.body?.to === to);

describe('mail through the outbox (MAIL_MODE=http)', () => {
  test('a mail the API refuses twice arrives once, and the request did not wait for it', async () => {
    const email = fresh('reset');
    await signUp(email);
    mailApi.attempts.length = 0;
    mailApi.failFirst = 2;
    mailApi.holdMs = 3000;
    mailApi.firstAnswerAt = null;

    const asked = Date.now();
    const r = await api('POST', '/v1/password/reset', { body: { email } });
    const answered = Date.now();
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(r.body, {});
    // The first delivery attempt is held for 3 s and then refused: an answer that waited for
    // delivery could only come after it (and after two refusals).
    assert.equal(mailApi.delivered.length, 0);
    assert.ok(mailApi.firstAnswerAt === null || mailApi.firstAnswerAt > answered,
      'answered before the mail API answered anything');
    assert.ok(answered - asked < 2500, `answered in ${answered - asked} ms`);

    const [mail] = await waitFor('the reset mail to be delivered', () => deliveredTo(email).length && deliveredTo(email), 60000, 100);
    assert.equal(mailApi.attempts.filter((a) => a.body?.to === email).length, 3, 'two refusals, then the delivery');
    assert.equal(mail.method, 'POST');
    assert.equal(mail.url, '/send');
    assert.equal(mail.headers.authorization, `Bearer ${API_KEY}`);
    assert.match(mail.headers['content-type'], /^application\/json/);
    assert.deepEqual(Object.keys(mail.body).sort(), ['from', 'subject', 'text', 'to']);
    assert.equal(mail.body.from, FROM);
    assert.equal(mail.body.to, email);
    assert.match(mail.body.subject, /password reset code/i);
    const code = codeFrom(mail.body.text);
    assert.match(code ?? '', /^\d{6}$/, mail.body.text);
    assert.ok(mail.body.subject.includes(code));
    assert.ok(mail.body.text.includes(`${PUBLIC_URL}/`), 'links point at PUBLIC_URL');
    assert.match(mail.body.text, /\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    // Every attempt of one mail carries the same idempotency key.
    const keys = new Set(mailApi.attempts.filter((a) => a.body?.to === email).map((a) => a.headers['idempotency-key']));
    assert.equal(keys.size, 1);
    assert.ok([...keys][0]);

    // The log tells the attempts, never the mail's code.
    await waitFor('the delivery in the log', () => w.log().includes('delivered (attempt 3)'), 10000, 100);
    assert.match(w.log(), /attempt 1 failed \(HTTP 500\)/);
    assert.ok(!w.log().includes(code), 'the code is not logged outside dev mode');

    // Nothing more comes: the alarm stopped once the mail left.
    await sleep(4000);
    assert.equal(deliveredTo(email).length, 1, 'delivered exactly once');
    assert.equal(mailApi.attempts.filter((a) => a.body?.to === email).length, 3);

    // The mailed code works.
    const confirmed = await api('POST', '/v1/password/reset/confirm', {
      body: { email, code, new_password: 'a new staple for the horse' },
    });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  });

  test('a re-authentication code is mailed to the signed-in owner', async () => {
    const email = fresh('reauth');
    await signUp(email);
    mailApi.failFirst = 0;
    const s = await api('POST', '/v1/login', { body: { email, password: PASSWORD, device: { name: 'Laptop', type: 'desktop' } } });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    const r = await api('POST', '/v1/reauth/email-code', { token: s.body.token, body: {} });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const [mail] = await waitFor('the code mail', () => deliveredTo(email).length && deliveredTo(email), 30000, 100);
    const code = codeFrom(mail.body.text);
    assert.match(code ?? '', /^\d{6}$/);
    assert.equal(mail.body.subject, `Your epochgate code is ${code}`);
    await sleep(2000);
    assert.equal(deliveredTo(email).length, 1);
  });

  test('the outbox is only readable in dev mode, and only with the admin token', async () => {
    const path = `/v1/admin/outbox?to=${encodeURIComponent('someone@example.com')}`;
    assertError(await api('GET', path), 401, 'invalid_admin_token', 'no token');
    const email = fresh('session');
    await signUp(email);
    const s = await api('POST', '/v1/login', { body: { email, password: PASSWORD, device: { name: 'Laptop', type: 'desktop' } } });
    assert.equal(s.status, 201);
    assertError(await api('GET', path, { token: s.body.token }), 401, 'invalid_admin_token', 'a session token');
    assertError(await api('GET', path, { token: ADMIN }), 404, 'not_found', 'MAIL_MODE=http');
    assertError(await api('GET', '/v1/admin/outbox', { token: ADMIN }), 404, 'not_found', 'MAIL_MODE=http, no filter');
  });

  test('a wrong MAIL_MODE is a configuration error, named', async () => {
    const bad = makeSecrets();
    const b = await startWorker({ secrets: bad, vars: { ...FAST_ARGON2, MAIL_MODE: 'smtp' } });
    try {
      // Not through `call`: openapi.yaml documents answers of a configured deployment.
      const res = await fetch(`${b.base}/v1/password/reset`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'x@example.com' }),
      });
      const r = { status: res.status, body: await res.json() };
      assertError(r, 503, 'not_configured', 'MAIL_MODE=smtp');
      assert.match(r.body.message, /MAIL_MODE/);
    } finally {
      await b.stop();
      cleanup(b.persistTo, bad.dir);
    }
  });

  test('every response, errors included, matches openapi.yaml', () => {
    const { problems } = openApiProblems(exchanges, { errorShape: true });
    assert.deepEqual(problems, []);
  });
});

describe('the development outbox (MAIL_MODE unset)', () => {
  const devSecrets = makeSecrets();
  let d;
  before(async () => { d = await startWorker({ secrets: devSecrets, vars: FAST_ARGON2 }); });
  after(async () => { await d?.stop(); cleanup(d?.persistTo, devSecrets.dir); });

  test('mail is kept at once, newest first, filtered by address in any case', async () => {
    const dev = (method, path, opts) => call(d.base, method, path, opts);
    const email = fresh('dev');
    assert.equal((await dev('POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status, 201);
    for (let i = 0; i < 2; i++) {
      assert.equal((await dev('POST', '/v1/password/reset', { body: { email } })).status, 202);
    }
    // No alarm is needed: the rows are there as the answers are.
    const r = await dev('GET', `/v1/admin/outbox?to=${encodeURIComponent(email.toUpperCase())}`, { token: devSecrets.vars.ADMIN_TOKEN });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { messages } = r.body;
    assert.equal(messages.length, 2);
    assert.ok(messages[0].id > messages[1].id, 'newest first');
    for (const m of messages) {
      assert.deepEqual(Object.keys(m).sort(), ['attempts', 'created_at', 'id', 'sent_at', 'subject', 'text', 'to']);
      assert.equal(m.to, email);
      assert.equal(typeof m.sent_at, 'number');
      assert.match(codeFrom(m.text) ?? '', /^\d{6}$/);
      assert.ok(m.text.includes('http://127.0.0.1:8787/'), 'PUBLIC_URL defaults to the dev address');
    }
    const other = await dev('GET', `/v1/admin/outbox?to=${encodeURIComponent(fresh('nobody'))}`, { token: devSecrets.vars.ADMIN_TOKEN });
    assert.deepEqual(other.body, { messages: [] });
    // The dev log shows the mail, code included: that is what dev mode is for.
    await waitFor('the mail in the dev log', () => d.log().includes(codeFrom(messages[0].text)), 10000, 100);
  });
});
