#!/usr/bin/env bash
# Stages the browser build of the wasm package (epochgate.js, epochgate_bg.wasm and snippets/)
# from pkg/web (or $PKG_DIR, built by scripts/build-pkg.sh) into www/pkg/ (git-ignored), where
# `wrangler dev` serves it as static assets. The page takes its keys from the worker:
# /.well-known/jwks.json and /.well-known/revocation-jwks.json.
# Usage: scripts/stage-www.sh
set -euo pipefail
cd "$(dirname "$0")/.."
pkg="${PKG_DIR:-pkg/web}"

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

echo "[stage-www] staged $pkg into www/pkg" >&2
