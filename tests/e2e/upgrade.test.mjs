// Upgrading a database made before the feed existed (issue 10): the current Worker, with one
// account shard (ORIGIN_SHARDS=1, so the shard keeps the old object's name "origin"), starts on a
// copy of the state the pre-feed build left (tests/e2e/fixtures/pre-feed: two accounts, a device
// signed out and a sign-out-all, the old origin at sequence N). Checked: from the very first
// request, before anything else reached the account shard, the tokens signed out before the
// upgrade are refused at the edge and the others are not; a viewer holding the old origin's view
// at N follows the feed from since=N and the update applies (a delta from N to a sequence above
// N, merged by the core's rules); the accounts still sign in; a new sign-out is enforced; the
// sequence moves past N once only (a restart and the shard's later requests leave it); and the
// internal hand-over routes are 404 from the internet.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { format } from '../../scripts/gen-dev-vars.mjs';
import { accountKey, call, cleanup, decodeUpdate, startWorker, waitFor } from './helper.mjs';

const FIXTURE = new URL('./fixtures/pre-feed/', import.meta.url);
const fixture = JSON.parse(readFileSync(new URL('fixture.json', FIXTURE), 'utf8'));
const N = fixture.seq;
const revocationJwk = JSON.parse(fixture.secrets.REVOCATION_SIGNING_JWK);
const VARS = { ...fixture.vars, ORIGIN_SHARDS: '1' };

/** A viewer's view by the core's rules (src/view.rs): records by account key. */
function viewOf(snapshot) {
  assert.equal(snapshot.kind, 'snapshot');
  return { seq: snapshot.seq, records: new Map(snapshot.records.map((r) => [r.key, r])) };
}

/** Applies `u` to `view` as the core does, or throws as it refuses (gap, stale). */
function apply(view, u) {
  if (u.kind === 'snapshot') {
    if (u.seq < view.seq) throw new Error(`stale snapshot ${u.seq} < ${view.seq}`);
    return viewOf(u);
  }
  if (u.fromSeq !== view.seq) throw new Error(`delta from ${u.fromSeq} does not start at the view's ${view.seq}`);
  const records = new Map(view.records);
  for (const k of u.expired) records.delete(k);
  for (const r of u.records) {
    const mine = records.get(r.key);
    // Epochs only grow; slots of one epoch unite.
    if (!mine || r.epoch > mine.epoch) records.set(r.key, r);
    else if (r.epoch === mine.epoch) records.set(r.key, { ...mine, slots: [...new Set([...mine.slots, ...r.slots])].sort((a, b) => a - b) });
  }
  return { seq: u.seq, records };
}

/** Whether `view` refuses a token of `account` at `epoch`, `device`. */
function refuses(view, account, { epoch, device }) {
  const r = view.records.get(accountKey(account));
  return Boolean(r && (r.epoch > epoch || (r.epoch === epoch && r.slots.includes(device))));
}

describe('upgrading a database made before the feed', () => {
  const secretsDir = mkdtempSync(join(tmpdir(), 'epochgate-env-'));
  const secrets = { vars: fixture.secrets, file: join(secretsDir, 'test.env'), dir: secretsDir };
  writeFileSync(secrets.file, format(fixture.secrets), { mode: 0o600 });
  const persistTo = mkdtempSync(join(tmpdir(), 'epochgate-state-'));
  cpSync(new URL('state/', FIXTURE), persistTo, { recursive: true });
  let w;
  const api = (method, path, opts) => call(w.base, method, path, opts);
  after(async () => {
    await w?.stop();
    cleanup(persistTo, secretsDir);
  });
  before(async () => {
    w = await startWorker({ secrets, vars: VARS, persistTo });
  });

  const update = async (since) => {
    const r = await api('GET', `/v1/revocations?since=${since}`);
    assert.equal(r.status, 200, `since=${since}: ${JSON.stringify(r.body)}`);
    return decodeUpdate(r.body, revocationJwk);
  };
  const login = async (email, name) => {
    const r = await api('POST', '/v1/login', { body: { email, password: fixture.password, device: { name, type: 'laptop' } } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const me = await api('GET', '/v1/me', { token: r.body.token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    return { token: r.body.token, session: me.body.session, device: me.body.device, epoch: me.body.epoch };
  };
  const { alice, bob } = fixture;
  const seqNow = async () => (await update(0)).seq;

  test('from the first request on, the tokens signed out before the upgrade are refused at the edge', async () => {
    // Nothing has reached the account shard yet: the feed asks it for its state before its
    // first update, so a fresh edge never holds a view without the old sign-outs.
    const me = (token) => api('GET', '/v1/me', { token });
    const first = await me(alice.signed_out[0].token);
    assert.equal(first.status, 401, JSON.stringify(first.body));
    assert.equal(first.body.error, 'revoked_device');
    for (const t of bob.signed_out) {
      const r = await me(t.token);
      assert.equal(r.status, 401, JSON.stringify(r.body));
      assert.equal(r.body.error, t.epoch < bob.live[0].epoch ? 'revoked_all' : 'revoked_device');
    }
    for (const t of [...alice.live, ...bob.live]) assert.equal((await me(t.token)).status, 200);
  });

  test('a viewer at the old sequence follows the feed, and the accounts still sign in', async () => {
    // The old origin's snapshot is what viewers (pages, Node, edges of the old version) hold.
    const held = viewOf(decodeUpdate(Buffer.from(fixture.snapshot, 'base64'), revocationJwk));
    assert.equal(held.seq, N);
    const u = await update(N);
    assert.equal(u.kind, 'delta');
    assert.equal(u.fromSeq, N);
    assert.ok(u.seq > N, `the feed's sequence ${u.seq} is above the old origin's ${N}`);
    const view = apply(held, u);
    for (const { account, signed_out: out, live } of [alice, bob]) {
      for (const t of out) assert.ok(refuses(view, account, t), `${account} ${t.device}@${t.epoch} refused`);
      for (const t of live) assert.ok(!refuses(view, account, t), `${account} ${t.device}@${t.epoch} allowed`);
    }
    // A viewer that starts afresh gets a snapshot no older than N, with the same records.
    const snap = await update(0);
    assert.equal(snap.seq, u.seq);
    assert.ok(snap.seq > N);
    assert.deepEqual(viewOf(snap).records, view.records);
    // A viewer at any sequence between gets a delta that applies too.
    for (let s = 1; s <= u.seq; s++) assert.equal((await update(s)).fromSeq, s);
    // And the accounts still sign in.
    await login(alice.email, 'after-upgrade');
    await login(bob.email, 'after-upgrade');
  });

  test('a new sign-out is enforced and numbered above', async () => {
    const [a2, a3] = alice.live;
    const before = await seqNow();
    const del = await api('DELETE', `/v1/sessions/${a2.session}`, { token: a3.token });
    assert.equal(del.status, 204, JSON.stringify(del.body));
    const u = await update(before);
    assert.equal(u.seq, before + 1);
    assert.deepEqual(u.records.map((r) => r.key), [accountKey(alice.account)]);
    assert.ok(u.records[0].slots.includes(a2.device));
    const r = await waitFor('the edge to refuse the new sign-out', async () => {
      const x = await api('GET', '/v1/me', { token: a2.token });
      return x.status === 401 ? x : null;
    });
    assert.equal(r.body.error, 'revoked_device');
    assert.equal((await api('GET', '/v1/me', { token: a3.token })).status, 200);
  });

  test('the sequence moved once: a restart and later requests leave it', async () => {
    const before = await seqNow();
    assert.ok(before > N);
    await w.stop();
    w = await startWorker({ secrets, vars: VARS, persistTo });
    await login(bob.email, 'after-restart');
    assert.equal(await seqNow(), before);
    assert.equal((await update(N)).seq, before);
  });

  test('the internal hand-over routes are not served from the internet', async () => {
    const before = await seqNow();
    const body = { states: [{ account: alice.account, epoch: 9, revoked: [] }], floor: 1_000_000 };
    for (const path of ['/internal/publish', '/internal/publish/', '/internal/hand-over']) {
      const r = await api('POST', path, { body });
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
    }
    assert.equal(await seqNow(), before);
  });
});
