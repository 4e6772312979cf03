// Test helpers: start and stop a real `wrangler dev` (workerd, SQLite Durable Objects), a small
// HTTP client that records every exchange for the OpenAPI check, TOTP codes, a tiny YAML reader
// for openapi.yaml, and the revocation-update encoder the fault tests use.
import { spawn } from 'node:child_process';
import {
  createHash, createHmac, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devVars, format } from '../../scripts/gen-dev-vars.mjs';
import WebSocket from 'ws';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Argon2 parameters small enough for a fast suite; the defaults are tested in Rust. */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: '256', ARGON2_ITERATIONS: '1', ARGON2_PARALLELISM: '1' };

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; throws with `what` after `ms`. */
export async function waitFor(what, fn, ms = 20000, every = 25) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** Fresh keys and an admin token for one test run, written as an env file. */
export function makeSecrets({ admin = true } = {}) {
  const vars = devVars();
  if (!admin) delete vars.ADMIN_TOKEN;
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-env-'));
  const file = join(dir, 'test.env');
  writeFileSync(file, format(vars), { mode: 0o600 });
  return { vars, file, dir };
}

/**
 * Starts `wrangler dev` in its own process group on a free port with a persist directory
 * (fresh unless given) and waits until it answers. `cwd`: the checkout whose Worker runs (this
 * one unless given; the pre-feed fixture's generator runs an older one).
 */
/** This process's environment for a child, with wrangler kept offline and quiet, plus `extra`. */
export function offlineEnv(extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    NO_COLOR: '1',
    ...extra,
  };
}

// Ready when /.well-known/jwks.json answers `readyStatus` (200), or anything with 'any': a worker
// configured wrongly on purpose, whose answers the test then checks.
export async function startWorker(options = {}) {
  try {
    return await launchWorker(options);
  } catch (e) {
    // wrangler's watcher now and then reports the watched source directory changed while the
    // first build starts, though nothing was written; the restarted workerd then finds the old
    // one still on the port and wrangler exits. Only that is tried once more.
    if (!(e instanceof WranglerExit && /changed, restarting build/.test(e.message))) throw e;
    return launchWorker(options);
  }
}

class WranglerExit extends Error {}

async function launchWorker({ secrets, vars = {}, persistTo, port, cwd = root, readyStatus = 200 } = {}) {
  secrets ??= makeSecrets();
  // Suites play one client from one address; the per-network limits have their own tests.
  // ORIGIN_SHARDS from the environment runs every suite over that many shards
  // (scripts/test-e2e.sh runs them with 1 and with 8).
  vars = {
    NETWORK_LIMITS: 'off',
    ...(process.env.ORIGIN_SHARDS ? { ORIGIN_SHARDS: process.env.ORIGIN_SHARDS } : {}),
    ...vars,
  };
  persistTo ??= mkdtempSync(join(tmpdir(), 'epochgate-state-'));
  port ??= await freePort();
  const inspectorPort = await freePort();
  const args = ['wrangler', 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port),
    '--show-interactive-dev-session=false', '--persist-to', persistTo, '--env-file', secrets.file,
    '--inspector-port', String(inspectorPort)];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const child = spawn('npx', args, {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: offlineEnv({ WASM_BINDGEN_BIN: process.env.WASM_BINDGEN_BIN ?? 'wasm-bindgen' }),
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  const exit = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; r(exited); }));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exit;
    clearTimeout(t);
  };
  try {
    await waitFor('wrangler dev to answer', async () => {
      if (exited) throw new WranglerExit(`wrangler dev exited early (${JSON.stringify(exited)}):\n${log}`);
      try {
        const r = await fetch(`${base}/.well-known/jwks.json`);
        return readyStatus === 'any' || r.status === readyStatus;
      } catch { return false; }
    }, 600000, 250);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, port, inspectorPort, persistTo, secrets, stop, log: () => log };
}

/**
 * A child process in its own group (a server: wrangler dev, node), offline, answering 200 at
 * `base + readyPath` within two minutes; `stop()` ends the whole group.
 */
export async function spawnServer(command, args, { cwd, env = {}, base, readyPath = '/' }) {
  const child = spawn(command, args, {
    cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: offlineEnv(env),
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  const exit = new Promise((r) => child.on('exit', (code, signal) => { exited = { code, signal }; r(); }));
  const stop = async () => {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await exit;
    clearTimeout(t);
  };
  try {
    await waitFor(`${command} to answer at ${base}`, async () => {
      if (exited) throw new Error(`${command} exited early (${JSON.stringify(exited)}):\n${log}`);
      try {
        return (await fetch(base + readyPath)).status === 200;
      } catch { return false; }
    }, 120000, 100);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, stop, log: () => log };
}

/** Every exchange, for the OpenAPI conformance check. */
/** The operations passkeys.test.mjs exercises (and checks it did). */
export const PASSKEY_OPERATIONS = Object.freeze([
  'get /v1/passkeys', 'post /v1/passkeys', 'post /v1/passkeys/registration-options', 'patch /v1/passkeys/{id}',
  'delete /v1/passkeys/{id}', 'post /v1/login/passkey-options', 'post /v1/login/passkey',
  'post /v1/reauth/passkey-options', 'post /v1/reauth',
]);

export const exchanges = [];

/**
 * An HTTP call: JSON in, JSON (or bytes) out; records the exchange. `clientIp` is sent as
 * `CF-Connecting-IP`, the header the edge reads the client address from (Cloudflare sets it in
 * production; `wrangler dev` passes a client's own on).
 */
export async function call(base, method, path, { token, body, raw, headers = {}, clientIp } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (clientIp) h['cf-connecting-ip'] = clientIp;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(base + path, { method, headers: h, body: payload });
  const type = res.headers.get('content-type') ?? '';
  let data = null;
  if (type.includes('application/json')) data = await res.json();
  else if (type.includes('octet-stream')) data = new Uint8Array(await res.arrayBuffer());
  else data = await res.text();
  const out = { status: res.status, headers: res.headers, body: data };
  exchanges.push({ method, path: path.split('?')[0], status: res.status, body: data, type });
  return out;
}

export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
  };
}

// --- TOTP (RFC 6238, SHA-1, 30 s, 6 digits) computed independently of the worker -------------

export function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

export function totpAt(secretB32, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secretB32)).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 1000 / 30);

// --- revocation updates (the wire format of src/update.rs), for fault injection --------------

const UPDATE_DOMAIN = Buffer.from('epochgate revocation update v1\0');
const ACCOUNT_DOMAIN = Buffer.from('epochgate account key v1\0');

export function accountKey(id) {
  return createHash('sha256').update(ACCOUNT_DOMAIN).update(id).digest().readBigUInt64BE(0);
}

/**
 * Encodes and signs an update (format version 2) with a private JWK. `records`: [{account, epoch,
 * slots}]; `horizon`: seconds (0: nothing expires); `expired`: account ids a delta tells viewers to
 * forget.
 */
export function encodeUpdate({ kind, fromSeq = 0, seq, createdAt, horizon = 0, records = [], expired = [] }, jwk) {
  const parts = [];
  const u8 = (n) => parts.push(Buffer.from([n]));
  const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); parts.push(b); };
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); parts.push(b); };
  const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); parts.push(b); };
  u8(2);
  u8(kind === 'snapshot' ? 1 : 2);
  const kid = Buffer.from(jwk.kid);
  u8(kid.length);
  parts.push(kid);
  u64(fromSeq);
  u64(seq);
  u64(createdAt);
  u64(horizon);
  const sorted = records.map((r) => ({ ...r, key: accountKey(r.account) })).sort((a, b) => (a.key < b.key ? -1 : 1));
  u32(sorted.length);
  for (const r of sorted) {
    u64(r.key);
    u32(r.epoch);
    const slots = [...(r.slots ?? [])].sort((a, b) => a - b);
    u32(slots.length);
    for (const s of slots) u16(s);
  }
  const gone = expired.map((a) => accountKey(a)).sort((a, b) => (a < b ? -1 : 1));
  u32(gone.length);
  for (const k of gone) u64(k);
  const body = Buffer.concat(parts);
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const sig = edSign(null, Buffer.concat([UPDATE_DOMAIN, body]), key);
  return Buffer.concat([body, sig]);
}

/**
 * Decodes an update (format version 2) and checks its signature with the public half of `jwk`
 * (a private or public JWK): `{kind, fromSeq, seq, createdAt, horizon, records: [{key, epoch,
 * slots}], expired: [key]}`, keys as BigInt (see `accountKey`). Throws on a bad signature.
 */
export function decodeUpdate(bytes, jwk) {
  const b = Buffer.from(bytes);
  let at = 0;
  const u8 = () => b.readUInt8(at++);
  const u16 = () => { const v = b.readUInt16LE(at); at += 2; return v; };
  const u32 = () => { const v = b.readUInt32LE(at); at += 4; return v; };
  const u64 = () => { const v = b.readBigUInt64LE(at); at += 8; return v; };
  if (u8() !== 2) throw new Error('not a version 2 update');
  const kind = u8() === 1 ? 'snapshot' : 'delta';
  const kidLen = u8();
  const kid = b.subarray(at, at + kidLen).toString();
  at += kidLen;
  const fromSeq = Number(u64()), seq = Number(u64()), createdAt = Number(u64()), horizon = Number(u64());
  const records = [];
  for (let n = u32(); n > 0; n--) {
    const key = u64();
    const epoch = u32();
    const slots = [];
    for (let m = u32(); m > 0; m--) slots.push(u16());
    records.push({ key, epoch, slots });
  }
  const expired = [];
  for (let x = u32(); x > 0; x--) expired.push(u64());
  const body = b.subarray(0, at);
  const sig = b.subarray(at);
  if (sig.length !== 64) throw new Error(`trailing bytes: ${sig.length} after the body`);
  const { d: _d, ...pub } = jwk;
  const key = createPublicKey({ key: pub, format: 'jwk' });
  if (!edVerify(null, Buffer.concat([UPDATE_DOMAIN, body]), key, sig)) throw new Error('bad signature');
  return { kind, kid, fromSeq, seq, createdAt, horizon, records, expired };
}

// --- a small YAML reader for openapi.yaml (block maps, block lists, scalars, [a, b]) --------

function scalar(text) {
  const t = text.trim();
  if (t === '') return null;
  if ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) return t.slice(1, -1);
  if (t.startsWith('[') && t.endsWith(']')) {
    const inner = t.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((x) => scalar(x));
  }
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null' || t === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

function splitKey(text) {
  // key: value, where key may be quoted
  const m = text.match(/^('[^']*'|"[^"]*"|[^:]+?):(\s+(.*))?$/);
  if (!m) return null;
  return [scalar(m[1]), m[3] ?? ''];
}

export function parseYaml(src) {
  const lines = [];
  for (const raw of src.split('\n')) {
    const noComment = raw.replace(/(^|\s)#.*$/, '');
    if (noComment.trim() === '' || noComment.trim() === '---') continue;
    lines.push({ indent: noComment.length - noComment.trimStart().length, text: noComment.trim() });
  }
  let i = 0;
  function block(indent) {
    if (i >= lines.length) return null;
    if (lines[i].text.startsWith('- ') || lines[i].text === '-') return list(lines[i].indent);
    return map(lines[i].indent);
  }
  function map(indent) {
    const out = {};
    while (i < lines.length && lines[i].indent === indent && !lines[i].text.startsWith('- ')) {
      const kv = splitKey(lines[i].text);
      if (!kv) throw new Error(`yaml: cannot read line ${JSON.stringify(lines[i].text)}`);
      i++;
      const [k, v] = kv;
      if (v === '' || v === '|' || v === '>') {
        if (v === '|' || v === '>') {
          const parts = [];
          while (i < lines.length && lines[i].indent > indent) parts.push(lines[i++].text);
          out[k] = parts.join(v === '|' ? '\n' : ' ');
        } else out[k] = i < lines.length && lines[i].indent > indent ? block(lines[i].indent) : null;
      } else out[k] = scalar(v);
    }
    return out;
  }
  function list(indent) {
    const out = [];
    while (i < lines.length && lines[i].indent === indent && (lines[i].text.startsWith('- ') || lines[i].text === '-')) {
      const rest = lines[i].text.slice(1).trim();
      if (rest === '') { i++; out.push(block(lines[i].indent)); continue; }
      if (splitKey(rest) && !rest.startsWith("'") && !rest.startsWith('"')) {
        // "- key: value" opens a map whose further keys are indented under the first key.
        lines[i] = { indent: indent + 2, text: rest };
        out.push(map(indent + 2));
      } else { out.push(scalar(rest)); i++; }
    }
    return out;
  }
  return block(0);
}

export function loadOpenApi() {
  return parseYaml(readFileSync(join(root, 'openapi.yaml'), 'utf8'));
}

export function resolveRef(doc, schema) {
  let s = schema;
  while (s && s.$ref) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce((o, k) => o?.[k], doc);
  }
  return s;
}

/** Checks `value` against the subset of JSON Schema the spec uses; returns a list of problems. */
export function checkSchema(doc, schema, value, at = '$') {
  const s = resolveRef(doc, schema);
  if (!s) return [];
  const problems = [];
  if (s.oneOf || s.anyOf) {
    const alts = s.oneOf ?? s.anyOf;
    if (!alts.some((a) => checkSchema(doc, a, value, at).length === 0)) problems.push(`${at}: matches no alternative`);
    return problems;
  }
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const typeOf = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (types.length && !types.some((t) => t === typeOf(value) || (t === 'number' && typeof value === 'number'))) {
    problems.push(`${at}: expected ${types.join('|')}, got ${typeOf(value)}`);
    return problems;
  }
  if (s.enum && !s.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`);
  if (typeOf(value) === 'object') {
    for (const r of s.required ?? []) if (!(r in value)) problems.push(`${at}: missing required ${r}`);
    for (const [k, sub] of Object.entries(s.properties ?? {})) if (k in value) problems.push(...checkSchema(doc, sub, value[k], `${at}.${k}`));
  }
  if (typeOf(value) === 'array' && s.items) value.forEach((v, n) => problems.push(...checkSchema(doc, s.items, v, `${at}[${n}]`)));
  return problems;
}

/**
 * What in the recorded `exchanges` disagrees with openapi.yaml: undocumented operations or
 * statuses, bodies off their schema, and (with `errorShape`) error answers that are not
 * `{error, message}`. Also returns the operations seen, as `"get /v1/x"` strings.
 */
export function openApiProblems(list = exchanges, { errorShape = true } = {}) {
  const doc = loadOpenApi();
  const problems = [];
  const seen = new Set();
  for (const x of list) {
    if (errorShape && x.status >= 400 && (typeof x.body?.error !== 'string' || typeof x.body?.message !== 'string')) {
      problems.push(`${x.method} ${x.path} ${x.status}: not {error, message}: ${JSON.stringify(x.body)}`);
    }
    const m = matchOperation(doc, x.method, x.path);
    if (!m) { problems.push(`undocumented ${x.method} ${x.path} (${x.status})`); continue; }
    seen.add(`${x.method.toLowerCase()} ${m.template}`);
    const resp = resolveRef(doc, m.op.responses[String(x.status)]);
    if (!resp) { problems.push(`${x.method} ${m.template}: status ${x.status} not documented`); continue; }
    const schema = resp.content?.['application/json']?.schema;
    if (schema && x.type.includes('application/json')) {
      for (const p of checkSchema(doc, schema, x.body)) problems.push(`${x.method} ${m.template} ${x.status}: ${p}`);
    }
  }
  return { problems: [...new Set(problems)], seen, doc };
}

/** The OpenAPI operation that a concrete method and path belong to. */
export function matchOperation(doc, method, path) {
  for (const [template, item] of Object.entries(doc.paths)) {
    const re = new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+').replace(/\*$/, '.*') + '$');
    if (re.test(path) && item[method.toLowerCase()]) return { template, op: item[method.toLowerCase()] };
  }
  return null;
}

export function cleanup(...dirs) {
  for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
}

/**
 * Opens the `/v1/events` WebSocket of the worker at `base`, collecting every message: with
 * `token` in the Authorization header, or `?access_token=<token>` with `viaQuery` (refused
 * since issue 11), or `?ticket=` with `ticket` (and no Authorization). A refused upgrade
 * rejects `hello` with an Error carrying `status` and the parsed `body`, and is recorded in
 * `exchanges` like any other call.
 */
export function openSocket(base, token, { viaQuery = false, ticket } = {}) {
  const query = ticket !== undefined ? `?ticket=${encodeURIComponent(ticket)}`
    : viaQuery ? `?access_token=${token}` : '';
  const url = `${base.replace('http', 'ws')}/v1/events${query}`;
  const header = ticket === undefined && !viaQuery && token;
  const ws = new WebSocket(url, header ? { headers: { authorization: `Bearer ${token}` } } : {});
  const messages = [];
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  const hello = new Promise((ok, fail) => {
    ws.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      messages.push(msg);
      if (msg.type === 'hello') ok(msg);
    });
    ws.on('error', fail);
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        const type = res.headers['content-type'] ?? '';
        let body = text;
        if (type.includes('application/json')) { try { body = JSON.parse(text); } catch { /* kept as text */ } }
        exchanges.push({ method: 'GET', path: '/v1/events', status: res.statusCode, body, type });
        fail(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${text}`), { status: res.statusCode, body }));
        ws.terminate();
      });
    });
  });
  return { ws, messages, closed, hello, isOpen: () => ws.readyState === WebSocket.OPEN };
}

/**
 * Opens the `/v1/events` WebSocket the way a browser does (it cannot set Authorization on a
 * WebSocket): asks `POST /v1/events/ticket` with `token` for a single-use ticket, then opens
 * `?ticket=`. Resolves to what {@link openSocket} returns, plus the `ticket`.
 */
export async function ticketSocket(base, token) {
  const r = await call(base, 'POST', '/v1/events/ticket', { token, body: {} });
  if (r.status !== 201) throw new Error(`ticket: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...openSocket(base, undefined, { ticket: r.body.ticket }), ticket: r.body.ticket };
}

// --- mail: the development outbox (MAIL_MODE=dev) --------------------------------------------

/** The messages mailed to `to`, newest first (`GET /v1/admin/outbox`); throws unless 200. */
export async function readOutbox(base, adminToken, to) {
  const r = await call(base, 'GET', `/v1/admin/outbox?to=${encodeURIComponent(to)}`, { token: adminToken });
  if (r.status !== 200) throw new Error(`outbox for ${to}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.messages;
}

/** The six-digit code in a mail's text, or null. */
export function codeFrom(text) {
  return text?.match(/\b(\d{6})\b/)?.[1] ?? null;
}

/** The token of a mailed "not you?" link (`PUBLIC_URL/#secure-account=<token>`), or null. */
export function secureAccountTokenFrom(text) {
  return text?.match(/#secure-account=([A-Za-z0-9._~-]+)/)?.[1] ?? null;
}

/**
 * Waits for a message to `to` that is not among `seen` (ids of messages already read) and
 * for which `match(message)` is truthy; returns that message.
 */
export async function newMail(base, adminToken, to, seen, match = () => true, ms = 10000) {
  const known = new Set(seen);
  return waitFor(`a new mail to ${to}`, async () => {
    const all = await readOutbox(base, adminToken, to);
    return all.find((m) => !known.has(m.id) && match(m)) ?? null;
  }, ms, 50);
}
