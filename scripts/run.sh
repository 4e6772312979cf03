#!/usr/bin/env bash
# Runs epochgate locally — edge, origin and the Manage-devices page — on http://127.0.0.1:8787
# (PORT overrides), installing whatever is missing first. State persists in .wrangler/ across runs;
# the dev keys are generated once into .dev-vars. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh
node scripts/gen-dev-vars.mjs
scripts/build-pkg.sh
scripts/stage-www.sh
exec scripts/dev.sh "$@"
