// Accounts over many objects, as a user and an attacker meet them: accounts spread over eight
// origin shards by account id and emails over eight directory shards, every route finding its
// account's shard, sign-ups that cannot make two accounts of one email — concurrent, retried, or
// cut off between the directory and the shard — and an email change that moves the address in
// the directory. Shard placement is recomputed here from the documented rule (src/shards.rs)
// and checked against where the origin's mail actually comes from.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import {
  call, cleanup, decodeJwt, FAST_ARGON2, makeSecrets, readOutbox, sleep, startWorker, waitFor,
} from './helper.mjs';

const K = 8;
const PASSWORD = 'correct horse battery';
const workers = [];
after(async () => {
  for (const w of workers) {
    await w.stop();
    cleanup(w.persistTo, w.secrets.dir);
  }
});

async function start(vars = {}, opts = {}) {
  const w = await startWorker({ vars: { ...FAST_ARGON2, ORIGIN_SHARDS: String(K), ...vars }, ...opts });
  workers.push(w);
  return w;
}

let serial = 0;
const fresh = (tag) => `${tag}-${Date.now()}-${++serial}@example.com`;

/** The shard of `key` under `label`, as src/shards.rs places it. */
function shardOf(label, key) {
  const d = createHash('sha256').update(label).update(Buffer.from([0])).update(key).digest();
  return Number(d.readBigUInt64LE(0) % BigInt(K));
}

const device = { name: 'Laptop', type: 'desktop' };
const login = (base, email, password = PASSWORD, extra = {}) =>
  call(base, 'POST', '/v1/login', { body: { email, password, device, ...extra } });

async function account(base, email) {
  const r = await call(base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.account;
}

describe('eight shards', () => {
  let w;
  let admin;
  test('start', async () => {
    w = await start();
    admin = w.secrets.vars.ADMIN_TOKEN;
  });

  test('accounts spread over the shards and each route finds its account', async () => {
    const seen = new Set();
    for (let i = 0; i < 24; i++) {
      const email = fresh('spread');
      const id = await account(w.base, email);
      const shard = shardOf('epochgate account shard', id);
      seen.add(shard);
      // A mail the account's shard writes: its outbox id (id × shards + shard) names the shard.
      assert.equal((await call(w.base, 'POST', '/v1/password/reset', { body: { email } })).status, 202);
      const [mail] = await waitFor('the reset mail', async () => {
        const m = await readOutbox(w.base, admin, email);
        return m.length ? m : null;
      });
      assert.equal(mail.id % K, shard, `${id}: mail from shard ${mail.id % K}, placed on ${shard}`);
      if (i < 4) {
        // Session routes, admin routes and the WebSocket ticket reach the same shard.
        const t = (await login(w.base, email)).body.token;
        assert.equal(decodeJwt(t).payload.sub, id);
        assert.equal((await call(w.base, 'GET', '/v1/sessions', { token: t })).body.sessions.length, 1);
        const minted = await call(w.base, 'POST', `/v1/admin/accounts/${id}/sessions`, {
          token: admin, body: { device: { name: 'Admin-made', type: 'other' } },
        });
        assert.equal(minted.status, 201, JSON.stringify(minted.body));
        assert.equal((await call(w.base, 'GET', '/v1/sessions', { token: t })).body.sessions.length, 2);
        const ticket = await call(w.base, 'POST', '/v1/events/ticket', { token: t, body: {} });
        assert.equal(ticket.status, 201);
        assert.ok(ticket.body.ticket.startsWith(`${id}.`));
        const out = await call(w.base, 'POST', `/v1/admin/accounts/${id}/sign-out-all`, { token: admin, body: {} });
        assert.equal(out.status, 200, JSON.stringify(out.body));
        await waitFor('the edge to refuse the token', async () => (await call(w.base, 'GET', '/v1/me', { token: t })).status === 401, 3000);
      }
    }
    assert.ok(seen.size >= 6, `24 accounts on only ${seen.size} of ${K} shards`);
  });

  test('ten concurrent sign-ups of one email make one account', async () => {
    const email = fresh('race');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(w.base, 'POST', '/v1/accounts', {
      body: { email, password: `${PASSWORD} ${i}` },
    })));
    const created = answers.filter((r) => r.status === 201);
    assert.equal(created.length, 1, JSON.stringify(answers.map((r) => [r.status, r.body])));
    for (const r of answers.filter((a) => a.status !== 201)) {
      assert.equal(r.status, 409);
      assert.equal(r.body.error, 'account_exists');
    }
    const winner = answers.indexOf(created[0]);
    const ok = await login(w.base, email, `${PASSWORD} ${winner}`);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(decodeJwt(ok.body.token).payload.sub, created[0].body.account);
    const other = await login(w.base, email, `${PASSWORD} ${(winner + 1) % 10}`);
    assert.equal(other.body.error, 'invalid_credentials');
  });

  test('an email change moves the address: the old one is free, the new one taken', async () => {
    const oldEmail = fresh('mover');
    const newEmail = fresh('moved');
    const id = await account(w.base, oldEmail);
    const t = (await login(w.base, oldEmail)).body.token;
    const taken = fresh('taken');
    await account(w.base, taken);
    const refused = await call(w.base, 'POST', '/v1/email', { token: t, body: { new_email: taken, password: PASSWORD } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'account_exists');
    // Without the proof, a taken address is not revealed.
    const noProof = await call(w.base, 'POST', '/v1/email', { token: t, body: { new_email: taken } });
    assert.equal(noProof.body.error, 'reauth_required');
    const moved = await call(w.base, 'POST', '/v1/email', { token: t, body: { new_email: newEmail, password: PASSWORD } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    for (const k of moved.headers.keys()) assert.ok(!k.startsWith('x-epochgate-internal'), k);
    assert.equal(decodeJwt((await login(w.base, newEmail)).body.token).payload.sub, id);
    assert.equal((await login(w.base, oldEmail)).body.error, 'invalid_credentials');
    const again = await call(w.base, 'POST', '/v1/accounts', { body: { email: newEmail, password: PASSWORD } });
    assert.equal(again.body.error, 'account_exists');
    const reuse = await call(w.base, 'POST', '/v1/accounts', { body: { email: oldEmail, password: PASSWORD } });
    assert.equal(reuse.status, 201, 'the old address is free again');
    assert.notEqual(reuse.body.account, id);
  });

  test('a forged ticket or link for another account reaches nothing', async () => {
    const id = await account(w.base, fresh('victim'));
    const ticket = await call(w.base, 'GET', `/v1/events?ticket=${id}.${'A'.repeat(43)}`);
    assert.equal(ticket.status, 401);
    assert.equal(ticket.body.error, 'invalid_ticket');
    const link = await call(w.base, 'POST', '/v1/secure-account', { body: { token: `${id}.${'B'.repeat(43)}` } });
    assert.equal(link.status, 400);
    assert.equal(link.body.error, 'invalid_link');
  });
});

/** The account id a crashed sign-up was given, from the Worker's log (which may lag). */
async function crashedAccount(w, point) {
  const pattern = new RegExp(`TEST_CRASH_SIGNUP: stopped ${point} for (acct_[A-Za-z0-9_-]+)`, 'g');
  const m = await waitFor(`the crash line for ${point} in the log`, () => w.log().match(pattern), 5000);
  return m.at(-1).split(' ').at(-1);
}

describe('a sign-up cut off between the directory and the shard', () => {
  test('after the claim: a retry completes the one account it claimed', async () => {
    const secrets = makeSecrets();
    const w1 = await start({ TEST_CRASH_SIGNUP: 'after_claim' }, { secrets });
    const email = fresh('cut');
    const r = await call(w1.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(r.status, 500, JSON.stringify(r.body));
    const claimed = await crashedAccount(w1, 'after_claim');
    // Nothing was created: no login.
    assert.equal((await login(w1.base, email)).body.error, 'invalid_credentials');
    await w1.stop();
    const w2 = await start({}, { secrets, persistTo: w1.persistTo });
    const retried = await call(w2.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(retried.body.account, claimed, 'the retry completed the claimed account');
    assert.equal((await login(w2.base, email)).status, 201);
  });

  test('after the claim, abandoned: the directory drops the claim once it finds no account', async () => {
    const secrets = makeSecrets();
    const w1 = await start({ TEST_CRASH_SIGNUP: 'after_claim', DIRECTORY_PENDING_SECONDS: '1' }, { secrets });
    const email = fresh('abandoned');
    assert.equal((await call(w1.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } })).status, 500);
    const claimed = await crashedAccount(w1, 'after_claim');
    // The directory's alarm, a second after the claim, asks the shard and drops it.
    await sleep(3000);
    await w1.stop();
    const w2 = await start({}, { secrets, persistTo: w1.persistTo });
    const later = await call(w2.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(later.status, 201, JSON.stringify(later.body));
    assert.notEqual(later.body.account, claimed, 'a claim still pending would have been reused');
  });

  test('after the account was made: the retry is 409 and the first password signs in', async () => {
    const secrets = makeSecrets();
    const w1 = await start({ TEST_CRASH_SIGNUP: 'after_create' }, { secrets });
    const email = fresh('made');
    const r = await call(w1.base, 'POST', '/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(r.status, 500);
    const id = await crashedAccount(w1, 'after_create');
    await w1.stop();
    const w2 = await start({}, { secrets, persistTo: w1.persistTo });
    const retried = await call(w2.base, 'POST', '/v1/accounts', { body: { email, password: 'another password' } });
    assert.equal(retried.status, 409);
    assert.equal(retried.body.error, 'account_exists');
    assert.equal(retried.headers.get('x-epochgate-internal-complete'), null);
    const ok = await login(w2.base, email);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(decodeJwt(ok.body.token).payload.sub, id);
    assert.equal((await login(w2.base, email, 'another password')).body.error, 'invalid_credentials');
  });
});
