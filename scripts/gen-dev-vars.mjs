#!/usr/bin/env node
// Writes a .dev-vars file for `wrangler dev` with fresh Ed25519 keys, a data key and an admin
// token. An existing file keeps its values; only the variables it lacks are added (so a file from
// an older version gains DATA_KEY and can still open what it sealed).
// Usage: node scripts/gen-dev-vars.mjs [path]   (default: .dev-vars at the repo root)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = resolve(process.argv[2] ?? join(root, '.dev-vars'));

export function privateJwk(kid) {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
}

export function devVars() {
  const stamp = new Date().toISOString().slice(0, 10);
  return {
    TOKEN_SIGNING_JWK: JSON.stringify(privateJwk(`tokens-${stamp}-${randomBytes(3).toString('hex')}`)),
    REVOCATION_SIGNING_JWK: JSON.stringify(privateJwk(`revocations-${stamp}-${randomBytes(3).toString('hex')}`)),
    // Signs the Epochgate-Assertion the edge adds to requests it forwards to /app's upstream.
    UPSTREAM_SIGNING_JWK: JSON.stringify(privateJwk(`upstream-${stamp}-${randomBytes(3).toString('hex')}`)),
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
    // Seals TOTP secrets and keys the hashes of stored codes: 32 bytes, base64url.
    DATA_KEY: randomBytes(32).toString('base64url'),
  };
}

export function format(vars) {
  // .dev-vars is dotenv: JSON values go in single quotes so their double quotes survive.
  return Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('gen-dev-vars.mjs')) {
  if (existsSync(target)) {
    const text = readFileSync(target, 'utf8');
    const present = new Set(text.split('\n').map((l) => l.match(/^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=/)?.[1]));
    const missing = Object.fromEntries(Object.entries(devVars()).filter(([k]) => !present.has(k)));
    if (Object.keys(missing).length === 0) {
      console.error(`[dev-vars] ${target} exists; keeping it`);
    } else {
      appendFileSync(target, (text === '' || text.endsWith('\n') ? '' : '\n') + format(missing));
      console.error(`[dev-vars] ${target} exists; kept it and added ${Object.keys(missing).join(', ')}`);
    }
  } else {
    writeFileSync(target, format(devVars()), { mode: 0o600 });
    console.error(`[dev-vars] wrote ${target} with fresh keys, a DATA_KEY and an ADMIN_TOKEN`);
  }
}
