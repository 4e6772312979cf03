#!/usr/bin/env bash
# Installs what building and testing epochgate needs, skipping every tool that is already at the
# pinned version. Safe to run repeatedly; never downloads from anywhere but the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
WASM_PACK_VERSION=0.15.0
CARGO_FUZZ_VERSION=0.13.1

log() { printf '[install] %s\n' "$*" >&2; }
have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# No --locked: one locked dependency of wasm-bindgen-cli is missing from the registry mirror.
have_version wasm-bindgen "$WASM_BINDGEN_VERSION" ||
  { log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"; cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"; }
have_version wasm-pack "$WASM_PACK_VERSION" ||
  { log "cargo install wasm-pack $WASM_PACK_VERSION"; cargo install -q wasm-pack --version "$WASM_PACK_VERSION"; }
cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION" ||
  { log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"; cargo install -q cargo-fuzz --version "$CARGO_FUZZ_VERSION"; }
have_version worker-build "$WORKER_BUILD_VERSION" ||
  { log "cargo install worker-build $WORKER_BUILD_VERSION"; cargo install -q worker-build --version "$WORKER_BUILD_VERSION"; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "tools ready"
