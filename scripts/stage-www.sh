#!/usr/bin/env bash
# Stages what the page loads next to itself into www/pkg/ (git-ignored), where `wrangler dev`
# serves it as static assets:
#   - the browser build of the wasm package: epochgate.js, epochgate_bg.wasm and snippets/ from pkg/web
#     (or from $PKG_DIR), built by scripts/build-pkg.sh;
#   - revocation-jwks.json: the public half of REVOCATION_SIGNING_JWK from ENV_FILE, so the page's
#     validator can verify the signed revocation updates. The page prefers a route
#     /.well-known/revocation-jwks.json when the worker serves one.
# Usage: scripts/stage-www.sh [ENV_FILE]    (default: .dev-vars, the secrets file of scripts/dev.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
pkg="${PKG_DIR:-pkg/web}"
env_file="${1:-.dev-vars}"

for f in epochgate.js epochgate_bg.wasm; do
  if [ ! -f "$pkg/$f" ]; then
    echo "[stage-www] $pkg/$f is missing: build it with scripts/build-pkg.sh" >&2
    exit 1
  fi
done
rm -rf www/pkg
mkdir -p www/pkg
cp "$pkg/epochgate.js" "$pkg/epochgate_bg.wasm" www/pkg/
# wasm-bindgen puts inline JS the module imports under snippets/.
if [ -d "$pkg/snippets" ]; then cp -R "$pkg/snippets" www/pkg/; fi

if [ -f "$env_file" ]; then
  node - "$env_file" www/pkg/revocation-jwks.json <<'JS'
const { readFileSync, writeFileSync } = require('node:fs');
const [file, out] = process.argv.slice(2);
const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('REVOCATION_SIGNING_JWK='));
if (!line) {
  console.error(`[stage-www] ${file} has no REVOCATION_SIGNING_JWK; the page will not check revocations`);
  process.exit(0);
}
let value = line.slice(line.indexOf('=') + 1).trim();
if (/^'.*'$|^".*"$/.test(value)) value = value.slice(1, -1);
const jwk = JSON.parse(value);
// Only the public members: never the private `d`.
const { kty, crv, x, kid, alg, use } = jwk;
if (kty !== 'OKP' || crv !== 'Ed25519' || !x || !kid) throw new Error('REVOCATION_SIGNING_JWK is not an Ed25519 OKP key with a kid');
writeFileSync(out, JSON.stringify({ keys: [{ kty, crv, x, kid, alg: alg ?? 'EdDSA', use: use ?? 'sig' }] }) + '\n');
console.error(`[stage-www] published revocation key ${kid}`);
JS
else
  echo "[stage-www] no $env_file: the page will not check revocations locally" >&2
fi
echo "[stage-www] staged $pkg into www/pkg" >&2
