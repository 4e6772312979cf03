#!/usr/bin/env bash
# Stages the browser build of the npm package for the page: pkg/epochgate/dist's wasm-bindgen glue
# (as epochgate.js), epochgate_bg.wasm and snippets/ (or those of $PKG_DIR, a built package
# directory) into www/pkg/ (git-ignored), where `wrangler dev` serves them as static assets. The
# page takes its keys from the worker: /.well-known/jwks.json and /.well-known/revocation-jwks.json.
# Usage: scripts/stage-www.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${PKG_DIR:-pkg/epochgate}/dist"

for f in glue.mjs epochgate_bg.wasm; do
  if [ ! -f "$dist/$f" ]; then
    echo "[stage-www] $dist/$f is missing: build it with scripts/build-pkg.sh" >&2
    exit 1
  fi
done
rm -rf www/pkg
mkdir -p www/pkg
cp "$dist/glue.mjs" www/pkg/epochgate.js
cp "$dist/epochgate_bg.wasm" www/pkg/
# wasm-bindgen puts inline JS the module imports under snippets/.
if [ -d "$dist/snippets" ]; then cp -R "$dist/snippets" www/pkg/; fi

echo "[stage-www] staged $dist into www/pkg" >&2
