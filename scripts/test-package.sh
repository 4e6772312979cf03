#!/usr/bin/env bash
# Tests the npm package `epochgate` as its users get it:
#   - its JavaScript layer in Node (RevocationFollower, authenticate, Authenticator, the Hono
#     middleware) against fake origins serving real signed updates;
#   - the packed tarball installed into a fresh project: Node ESM and CommonJS, tsc --strict over
#     every exported type, a browser bundle and a <script type="module"> page in headless
#     Chromium, a Workers bundle, and the README's snippets run;
#   - examples/hono-worker under `wrangler dev` next to the epochgate worker, and
#     examples/node-server, following its sign-outs.
# Builds the package and the worker first when missing or older than their sources. Exits
# non-zero when anything fails; node's own summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  case "$CARGO_TARGET_DIR" in /*) ;; *) export CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
fi
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-wasm-bindgen}"

stale=$(find src crates/epochgate-wasm js Cargo.toml -newer pkg/epochgate/package.json -print -quit 2>/dev/null || true)
if [ ! -f pkg/epochgate/package.json ] || [ -n "$stale" ]; then
  echo "[package] pkg/epochgate is missing or older than its sources: scripts/build-pkg.sh" >&2
  scripts/build-pkg.sh
fi
worker=crates/epochgate-worker/build/worker/shim.mjs
stale=$(find src crates/epochgate-worker/src crates/epochgate-webauthn/src -newer "$worker" -print -quit 2>/dev/null || true)
if [ ! -f "$worker" ] || [ -n "$stale" ]; then
  echo "[package] the epochgate worker is missing or older than its sources: building it" >&2
  (cd crates/epochgate-worker &&
    WASM_OPT_BIN="${WASM_OPT_BIN:-../../node_modules/binaryen/bin/wasm-opt}" \
    ESBUILD_BIN="${ESBUILD_BIN:-../../node_modules/esbuild/bin/esbuild}" \
    worker-build --release)
fi

echo "[package] node --test tests/package" >&2
# One file at a time: the example tests start wrangler dev, whose build step must not run twice at once.
exec node --test --test-concurrency=1 tests/package/*.test.mjs
