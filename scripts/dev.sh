#!/usr/bin/env bash
# Runs epochgate locally on http://127.0.0.1:${PORT:-8787}: creates .dev-vars with fresh keys on
# first run (passed with --env-file), builds the Worker (wrangler runs the [build] command of wrangler.toml) and starts
# wrangler dev on real workerd, offline. Extra arguments go to wrangler (e.g. --persist-to DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
# The build runs inside crates/epochgate-worker: a relative CARGO_TARGET_DIR must not move with it.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  case "$CARGO_TARGET_DIR" in /*) ;; *) export CARGO_TARGET_DIR="$PWD/$CARGO_TARGET_DIR" ;; esac
fi
node scripts/gen-dev-vars.mjs
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-wasm-bindgen}"
exec npx wrangler dev --env-file .dev-vars --local --ip 127.0.0.1 --port "${PORT:-8787}" --show-interactive-dev-session=false "$@"
