#!/usr/bin/env node
// Writes a .dev-vars file for `wrangler dev` with fresh Ed25519 keys and an admin token, unless
// one exists. Usage: node scripts/gen-dev-vars.mjs [path]   (default: .dev-vars at the repo root)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
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
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
  };
}

export function format(vars) {
  // .dev-vars is dotenv: JSON values go in single quotes so their double quotes survive.
  return Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('gen-dev-vars.mjs')) {
  if (existsSync(target)) {
    console.error(`[dev-vars] ${target} exists; keeping it`);
  } else {
    writeFileSync(target, format(devVars()), { mode: 0o600 });
    console.error(`[dev-vars] wrote ${target} with fresh keys and an ADMIN_TOKEN`);
  }
}
