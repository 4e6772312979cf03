#!/usr/bin/env bash
# Runs every test of epochgate: formatting and lints, the core's unit, vector, property and
# sample tests, the wasm package in Node and headless Chromium, the Workers end-to-end suite
# against a real `wrangler dev`, the npm package as a user installs it (with its examples), and
# the browser tests of the page. Installs what is missing
# first. Exits non-zero on any failure; the last line is the total over every runner.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TERM_COLOR=never NO_COLOR=1 FORCE_COLOR=0
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
status=()
failed_stages=0

stage() {
  local name=$1
  shift
  printf '\n==== %s ====\n' "$name"
  local log="$logs/$(printf '%02d' ${#status[@]})-${name// /_}.log"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then status+=("ok    $name"); else status+=("FAIL  $name (exit $rc)"); failed_stages=$((failed_stages + 1)); fi
  return 0
}

stage "install tools" scripts/install-tools.sh
stage "rustfmt" cargo fmt --all -- --check
stage "clippy (native)" cargo clippy --workspace --all-targets --locked -- -D warnings
stage "clippy (wasm32 faces)" cargo clippy --locked --target wasm32-unknown-unknown -p epochgate -p epochgate-webauthn -p epochgate-wasm -p epochgate-worker -- -D warnings
stage "core builds for wasm32" cargo build --locked --target wasm32-unknown-unknown -p epochgate
stage "core tests" cargo test --locked -p epochgate
stage "webauthn tests" cargo test --locked -p epochgate-webauthn
stage "golden samples unchanged" bash -c 'cargo run -q --locked -p epochgate --example samples && git diff --exit-code -- tests/samples'
stage "benches compile" cargo bench --locked -p epochgate --no-run
stage "fuzz smoke" scripts/fuzz-smoke.sh
stage "wasm package" scripts/test-wasm.sh
stage "workers end to end" scripts/test-e2e.sh
stage "npm package" scripts/test-package.sh
stage "browser page" scripts/test-www.sh

printf '\n==== summary ====\n'
printf '%s\n' "${status[@]}"
# Totals over every runner: cargo test and wasm-bindgen-test ("test result: ... N passed; M failed")
# and node --test ("# pass N" / "# fail N", or the spec reporter's "ℹ pass N").
cat "$logs"/*.log | awk -v stages="$failed_stages" '
  /test result: .* passed; .* failed/ {
    for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?/) p += $i; if ($(i+1) ~ /^failed;?/) f += $i }
  }
  /^(# |ℹ )pass [0-9]+$/ { p += $NF }
  /^(# |ℹ )fail [0-9]+$/ { f += $NF }
  END {
    if (f == 0 && stages > 0) f = stages
    printf "%d passed, %d failed\n", p, f
  }'
[ "$failed_stages" -eq 0 ]
