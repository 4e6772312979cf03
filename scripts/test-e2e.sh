#!/usr/bin/env bash
# Builds the Worker and runs the end-to-end suite against real `wrangler dev` instances (each
# test file starts its own on a free port with a fresh state directory and stops it after).
# Exits non-zero when anything fails; node's own summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
# The build runs inside crates/epochgate-worker: a relative CARGO_TARGET_DIR must not move with it.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  case "$CARGO_TARGET_DIR" in /*) ;; *) export CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
fi
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-wasm-bindgen}"

echo "[e2e] unit tests of the Worker face and the shared-vocabulary check" >&2
cargo test -q --locked -p epochgate-worker --lib --tests

echo "[e2e] building the Worker" >&2
(cd crates/epochgate-worker &&
  WASM_OPT_BIN="${WASM_OPT_BIN:-../../node_modules/binaryen/bin/wasm-opt}" \
  ESBUILD_BIN="${ESBUILD_BIN:-../../node_modules/esbuild/bin/esbuild}" \
  worker-build --release)

# One file at a time: each starts wrangler dev, whose build step must not run twice at once.
# Every suite runs twice: accounts in one origin object, then spread over eight (ORIGIN_SHARDS).
# A suite may pin its own count (shards.test.mjs does). The summary of the second run is last.
status=0
for shards in 1 8; do
  echo "[e2e] node --test tests/e2e with ORIGIN_SHARDS=$shards" >&2
  ORIGIN_SHARDS=$shards node --test --test-concurrency=1 tests/e2e/*.test.mjs || status=1
done
exit $status
