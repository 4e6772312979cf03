#!/usr/bin/env bash
# Builds the WebAssembly packages and runs every test of the wasm face:
#   1. wasm-bindgen tests in Node.js          (wasm-pack test --node)
#   2. the same tests in headless Chromium    (wasm-pack test --headless --chrome)
#   3. Node tests against the npm package (node --test tests/node/*.test.mjs): jose interop,
#      step-up, the JavaScript verdict cache, and the two Ed25519 paths over every vector set
# Runs all of them even when one fails, prints each runner's own summary, and exits non-zero
# if any failed. Installs nothing: scripts/install-tools.sh provides the tools.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# wasm-pack runs cargo inside the crate: a relative target directory must be made absolute first.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  CARGO_TARGET_DIR="$(realpath -m "$CARGO_TARGET_DIR")"
  export CARGO_TARGET_DIR
fi
cd "$root"
crate=crates/epochgate-wasm
chromedriver="${CHROMEDRIVER:-/usr/bin/chromedriver}"

failed=()
step() {
  local name="$1"
  shift
  echo
  echo "=== $name: $*"
  if "$@"; then
    echo "=== $name: passed"
  else
    echo "=== $name: FAILED"
    failed+=("$name")
  fi
}

scripts/build-pkg.sh || { echo "=== build: FAILED"; exit 1; }

step "wasm-bindgen tests, Node" wasm-pack test --node "$crate"
# The runner adds --headless and --no-sandbox; crates/epochgate-wasm/webdriver.json adds flags
# that keep Chromium off the network.
step "wasm-bindgen tests, headless Chromium" \
  wasm-pack test --headless --chrome --chromedriver "$chromedriver" "$crate"
step "Node tests against pkg/epochgate" node --test tests/node/*.test.mjs

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-wasm: FAILED: ${failed[*]}"
  exit 1
fi
echo "test-wasm: all passed"
