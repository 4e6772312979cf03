#!/usr/bin/env bash
# Builds the WebAssembly package of epochgate, offline:
#   pkg/node  (wasm-pack --target nodejs)   pkg/web  (wasm-pack --target web)
# Both are named `epochgate` (epochgate.js, epochgate_bg.wasm, epochgate.d.ts).
#
# wasm-pack is told not to run wasm-opt (crates/epochgate-wasm/Cargo.toml), because it would
# download binaryen; the npm binaryen in node_modules optimises the module here instead.
# Installs nothing: scripts/install-tools.sh provides wasm-pack, wasm-bindgen and node_modules.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# wasm-pack runs cargo inside the crate: a relative target directory must be made absolute first.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  CARGO_TARGET_DIR="$(realpath -m "$CARGO_TARGET_DIR")"
  export CARGO_TARGET_DIR
fi
cd "$root"
crate=crates/epochgate-wasm
wasm_opt="$root/node_modules/binaryen/bin/wasm-opt"

fail() { echo "build-pkg: $*" >&2; exit 1; }

command -v wasm-pack >/dev/null || fail "wasm-pack is not on PATH; run scripts/install-tools.sh"
command -v wasm-bindgen >/dev/null || fail "wasm-bindgen is not on PATH; run scripts/install-tools.sh"
# wasm-pack downloads its own wasm-bindgen unless the one on PATH is the Cargo.lock version.
locked="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
installed="$(wasm-bindgen --version | awk '{ print $2 }')"
[ "$locked" = "$installed" ] ||
  fail "wasm-bindgen on PATH is $installed but Cargo.lock has $locked; install wasm-bindgen-cli $locked"
[ -x "$wasm_opt" ] || fail "$wasm_opt is missing; run npm ci"

for target in nodejs web; do
  out="pkg/${target/nodejs/node}"
  rm -rf "$out"
  wasm-pack --quiet build "$crate" --release --target "$target" \
    --out-dir "$root/$out" --out-name epochgate
  # -O: -Os/-Oz shrink it by under 1% and -O3 is no faster here (docs/BENCHMARKS.md).
  "$wasm_opt" -O "$out/epochgate_bg.wasm" -o "$out/epochgate_bg.wasm"
  # wasm-pack leaves the inline JS snippets out of package.json "files"; an npm pack needs them.
  node -e '
    const fs = require("fs");
    const file = process.argv[1] + "/package.json";
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    if (fs.existsSync(process.argv[1] + "/snippets") && !pkg.files.includes("snippets/")) pkg.files.push("snippets/");
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  ' "$out"
done

raw=$(wc -c < pkg/web/epochgate_bg.wasm)
gz=$(gzip -9 -c pkg/web/epochgate_bg.wasm | wc -c)
echo "build-pkg: pkg/node and pkg/web built; pkg/web/epochgate_bg.wasm is $raw bytes, $gz gzipped (gzip -9)"
