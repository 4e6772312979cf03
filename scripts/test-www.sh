#!/usr/bin/env bash
# Tests the Manage-devices page: unit tests of its helpers (QR encoder against golden symbols,
# device prefill, relative times) and browser tests in headless Chromium (playwright-core,
# /usr/bin/chromium or $CHROMIUM_BIN) against a real `wrangler dev` that the tests start on a
# free port with fresh state and stop afterwards. Builds the package (pkg/epochgate) first when
# missing or older than the sources it is built from.
# Exits non-zero when anything fails; node's own summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-wasm-bindgen}"

stale=$(find src crates/epochgate-wasm/src Cargo.toml crates/epochgate-wasm/Cargo.toml js -newer pkg/epochgate/package.json -print -quit 2>/dev/null || true)
if [ ! -f pkg/epochgate/package.json ] || [ -n "$stale" ]; then
  echo "[www] pkg/epochgate is missing or older than the sources: building it with scripts/build-pkg.sh" >&2
  scripts/build-pkg.sh
fi
echo "[www] staging the package's browser build into www/pkg" >&2
scripts/stage-www.sh

echo "[www] node --test tests/www" >&2
# One file at a time: the browser test starts wrangler dev, whose build step must not run twice at once.
exec node --test --test-concurrency=1 tests/www/*.test.mjs
