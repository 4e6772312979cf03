// WebSocket tickets against a real `wrangler dev`: `GET /v1/events` takes a token in
// Authorization or a single-use `?ticket=` from `POST /v1/events/ticket`, never a token in the
// URL. A ticket opens one socket once, expires (the lifetime is shortened here to 2 s with
// EVENTS_TICKET_TTL_SECONDS; 30 s by default), dies with its session, and a session asking for
// many holds only the newest few.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  FAST_ARGON2, call, cleanup, makeSecrets, openSocket as helperOpenSocket, sleep, startWorker, ticketSocket,
} from './helper.mjs';

const PASSWORD = 'correct horse battery';
const TTL = 2;
const secrets = makeSecrets({ admin: false });
const sockets = [];
let w;
let api;

before(async () => {
  w = await startWorker({ secrets, vars: { ...FAST_ARGON2, EVENTS_TICKET_TTL_SECONDS: String(TTL) } });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  for (const s of sockets) s.ws.terminate();
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

const track = (s) => { sockets.push(s); return s; };
const open = (token, opts) => track(helperOpenSocket(w.base, token, opts));
const withTicket = (ticket) => open(undefined, { ticket });

let serial = 0;
async function signIn(device = 'Laptop', email = `tickets-${Date.now()}-${++serial}@example.com`) {
  await api('POST', '/v1/accounts', { body: { email, password: PASSWORD } });
  const r = await api('POST', '/v1/login', { body: { email, password: PASSWORD, device: { name: device, type: 'desktop' } } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { ...r.body, email };
}

async function ticket(token) {
  const r = await api('POST', '/v1/events/ticket', { token, body: {} });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body).sort(), ['expires_in', 'ticket']);
  assert.equal(r.body.expires_in, TTL);
  // The account first (it names the shard that redeems it), then 32 random bytes.
  assert.match(r.body.ticket, /^acct_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  return r.body.ticket;
}

/** The refusal of an upgrade: its status and body. */
async function refused(socket, what) {
  const e = await socket.hello.then(() => null, (x) => x);
  assert.ok(e, `${what}: the upgrade was accepted`);
  return { status: e.status, ...e.body };
}

describe('WebSocket tickets', () => {
  test('a ticket opens one socket of its session, once', async () => {
    const me = await signIn();
    const s = track(await ticketSocket(w.base, me.token));
    assert.deepEqual(await s.hello, { type: 'hello', session: me.session });
    const again = await refused(withTicket(s.ticket), 'the same ticket again');
    assert.equal(again.status, 401);
    assert.equal(again.error, 'invalid_ticket');
    assert.match(again.message, /POST \/v1\/events\/ticket/);
    for (const junk of ['x', 'not a ticket', 'a'.repeat(43), 'é'.repeat(10)]) {
      const r = await refused(withTicket(junk), junk);
      assert.deepEqual([r.status, r.error], [401, 'invalid_ticket'], junk);
    }
    // The ticket's socket is the session's: a sign-out reaches it.
    const other = await signIn('Phone', me.email);
    assert.equal((await api('DELETE', `/v1/sessions/${me.session}`, { token: other.token })).status, 204);
    assert.equal(await s.closed, 1000);
    assert.deepEqual(s.messages.at(-1), { type: 'signed_out', scope: 'device' });
  });

  test('an expired ticket is refused', async () => {
    const me = await signIn();
    const t = await ticket(me.token);
    await sleep((TTL + 1.2) * 1000);
    const r = await refused(withTicket(t), 'an expired ticket');
    assert.deepEqual([r.status, r.error], [401, 'invalid_ticket']);
    // A fresh one still works.
    assert.equal((await withTicket(await ticket(me.token)).hello).type, 'hello');
  });

  test('a ticket dies with its session: one device signed out, or every device', async () => {
    const a = await signIn('Laptop');
    const b = await signIn('Phone', a.email);
    const ta = await ticket(a.token);
    assert.equal((await api('DELETE', `/v1/sessions/${a.session}`, { token: b.token })).status, 204);
    const one = await refused(withTicket(ta), 'a signed-out device\'s ticket');
    assert.deepEqual([one.status, one.error], [401, 'revoked_device']);
    const tb = await ticket(b.token);
    const out = await api('POST', '/v1/sessions/sign-out-all', { token: b.token, body: { password: PASSWORD, keep_current: true } });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    // Even with keep_current: the ticket stood for the token that asked for it, now revoked.
    const all = await refused(withTicket(tb), 'a ticket from before sign-out-all');
    assert.deepEqual([all.status, all.error], [401, 'revoked_all']);
    assert.equal((await withTicket(await ticket(out.body.token)).hello).session, b.session, 'the kept session gets new ones');
  });

  test('a token in the URL is refused; Authorization still works', async () => {
    const me = await signIn();
    const r = await refused(open(me.token, { viaQuery: true }), '?access_token=');
    assert.deepEqual([r.status, r.error], [401, 'malformed']);
    assert.match(r.message, /ticket/);
    const none = await refused(open(undefined), 'nothing');
    assert.deepEqual([none.status, none.error], [401, 'malformed']);
    assert.equal((await open(me.token).hello).session, me.session);
    // No token, no ticket.
    const t = await api('POST', '/v1/events/ticket', { body: {} });
    assert.deepEqual([t.status, t.body.error], [401, 'malformed']);
  });

  test('a flood of tickets stays bounded: a session holds its newest four', async () => {
    const me = await signIn();
    const tickets = [];
    for (let n = 0; n < 40; n++) tickets.push(await ticket(me.token));
    for (const t of [tickets[0], tickets[20], tickets.at(-5)]) {
      const r = await refused(withTicket(t), 'an evicted ticket');
      assert.deepEqual([r.status, r.error], [401, 'invalid_ticket']);
    }
    for (const t of tickets.slice(-4)) assert.equal((await withTicket(t).hello).type, 'hello');
    // Another session's tickets are its own.
    const other = await signIn('Phone', me.email);
    const mine = await ticket(me.token);
    for (let n = 0; n < 6; n++) await ticket(other.token);
    assert.equal((await withTicket(mine).hello).session, me.session);
  });
});
