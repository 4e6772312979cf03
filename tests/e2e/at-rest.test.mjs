// Secrets at rest, read where an attacker with a copy of the database would read them: the bytes
// of the origin's SQLite files under `wrangler dev`'s persist directory (database, journal and
// WAL). A TOTP secret, pending or enabled, must appear there in no form; recovery codes and
// WebSocket tickets neither. The controls that the files read are the origin's and up to date:
// each TOTP write must show up as a new sealed value (`v1.<nonce>.<ciphertext>`), and the last
// check runs with the worker stopped. After a restart with the same DATA_KEY the sealed secret
// still opens (sign-in with a code).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FAST_ARGON2, base32Decode, call, cleanup, codeFrom, currentStep, makeSecrets, readOutbox, startWorker, totpAt, waitFor,
} from './helper.mjs';

const secrets = makeSecrets();
let w;
let api;
const PASSWORD = 'correct horse battery';
const email = `at-rest-${Date.now()}@example.com`;
const s = { sealed: new Set(), needles: [] };

before(async () => {
  w = await startWorker({ secrets, vars: FAST_ARGON2 });
  api = (method, path, opts) => call(w.base, method, path, opts);
});
after(async () => {
  await w?.stop();
  cleanup(w?.persistTo, secrets.dir);
});

/** Every byte the worker keeps on disk, one buffer per file. */
function storedFiles() {
  const out = [];
  for (const name of readdirSync(w.persistTo, { recursive: true })) {
    const path = join(w.persistTo, String(name));
    try {
      if (statSync(path).isFile()) out.push({ path, bytes: readFileSync(path) });
    } catch { /* removed while listing (a journal) */ }
  }
  return out;
}

/**
 * The sealed values of a 32-character base32 secret (48 bytes of ciphertext) anywhere in
 * `files`. No end is matched: in a SQLite record the next column's bytes follow at once.
 */
function sealedValues(files) {
  const found = new Set();
  for (const { bytes } of files) {
    for (const m of bytes.toString('latin1').matchAll(/v1\.[\w-]{16}\.[\w-]{64}/g)) found.add(m[0]);
  }
  return found;
}

/**
 * Waits until the files hold the account's email and, with `newSealed`, a sealed value not in
 * `s.sealed` (the write just made reached the files); returns the files.
 */
async function onDisk({ newSealed = false } = {}) {
  return waitFor('the write on disk', () => {
    const files = storedFiles();
    if (!files.some((f) => f.bytes.includes(email))) return null;
    const sealed = sealedValues(files);
    if (newSealed && ![...sealed].some((v) => !s.sealed.has(v))) return null;
    s.sealed = sealed;
    return files;
  });
}

/** Asserts that no file holds any of `needles` (strings or buffers). */
function assertAbsent(files, needles, what) {
  for (const { path, bytes } of files) {
    for (const n of needles) {
      assert.ok(!bytes.includes(n), `${what} (${typeof n === 'string' ? n : n.toString('hex')}) is in ${path}`);
    }
  }
}

/** A base32 TOTP secret in every form it could be kept: as sent, lower-case, raw bytes. */
const secretForms = (b32) => [b32, b32.toLowerCase(), base32Decode(b32)];

describe('secrets at rest', () => {
  test('a pending TOTP secret is not on disk in the clear', async () => {
    const up = await api('POST', '/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const login = await api('POST', '/v1/login', { body: { email, password: PASSWORD, device: { name: 'Laptop', type: 'desktop' } } });
    assert.equal(login.status, 201, JSON.stringify(login.body));
    s.token = login.body.token;
    const start = await api('POST', '/v1/totp', { token: s.token, body: { password: PASSWORD } });
    assert.equal(start.status, 200, JSON.stringify(start.body));
    s.secret = start.body.secret;
    assert.match(s.secret, /^[A-Z2-7]{32}$/);
    s.needles.push(...secretForms(s.secret));
    assertAbsent(await onDisk({ newSealed: true }), secretForms(s.secret), 'the pending secret');
  });

  test('an enabled TOTP secret is not on disk in the clear', async () => {
    s.step = currentStep();
    const r = await api('POST', '/v1/totp/confirm', { token: s.token, body: { code: totpAt(s.secret, s.step) } });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    const account = await api('GET', '/v1/account', { token: s.token });
    assert.equal(account.body.totp_enabled, true, JSON.stringify(account.body));
    assertAbsent(await onDisk({ newSealed: true }), secretForms(s.secret), 'the enabled secret');
  });

  test('recovery codes and WebSocket tickets are kept as digests only, mailed codes sealed', async () => {
    const gen = await api('POST', '/v1/recovery-codes', { token: s.token, body: { password: PASSWORD, totp: totpAt(s.secret, s.step + 1) } });
    assert.equal(gen.status, 200, JSON.stringify(gen.body));
    assert.equal(gen.body.codes.length, 10);
    const ticket = await api('POST', '/v1/events/ticket', { token: s.token, body: {} });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
    const needles = [ticket.body.ticket];
    for (const c of gen.body.codes) needles.push(c, c.replace('-', ''), c.toUpperCase());
    // A mailed code: kept (dev outbox) but sealed, like every mail's subject and text.
    assert.equal((await api('POST', '/v1/reauth/email-code', { token: s.token, body: {} })).status, 202);
    const mail = await readOutbox(w.base, secrets.vars.ADMIN_TOKEN, email);
    const code = codeFrom(mail[0].text);
    assert.match(code, /^\d{6}$/);
    needles.push(`code is ${code}`, mail[0].text.slice(0, 40));
    s.needles.push(...needles);
    assertAbsent(await onDisk(), needles, 'a recovery code or ticket');
  });

  test('with the worker stopped nothing is in the clear; after a restart the secret opens', async () => {
    await w.stop();
    const files = storedFiles();
    assert.ok(files.some((f) => f.bytes.includes(email)), 'the account row is on disk');
    assert.ok(sealedValues(files).size >= 1, 'the enabled secret is on disk, sealed');
    assertAbsent(files, s.needles, 'a secret, recovery code or ticket');
    w = await startWorker({ secrets, vars: FAST_ARGON2, persistTo: w.persistTo });
    // Step s.step + 1 is used; s.step + 2 is accepted once the clock is past s.step (drift 1).
    await waitFor('the next TOTP step', () => currentStep() > s.step, 31000, 250);
    const r = await api('POST', '/v1/login', {
      body: { email, password: PASSWORD, device: { name: 'Phone', type: 'mobile' }, totp: totpAt(s.secret, Math.max(currentStep(), s.step + 2)) },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assertAbsent(await onDisk(), secretForms(s.secret), 'the secret after a sign-in with it');
  });
});
