#!/usr/bin/env bash
# A short libFuzzer run of every target in fuzz/ (FUZZ_SECONDS each, default 15), seeded with the
# golden samples. cargo-fuzz passes -Z flags to rustc: RUSTC_BOOTSTRAP lets the stable toolchain
# accept them, and --sanitizer none avoids needing a sanitizer runtime. For long runs use a nightly
# toolchain and the address sanitizer.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-15}"
export RUSTC_BOOTSTRAP=1
for target in validate_token apply_update load_keys decode_update webauthn; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  case "$target" in
    validate_token) cp ../tests/samples/*.jwt "$corpus"/ ;;
    apply_update | decode_update) cp ../tests/samples/*.bin "$corpus"/ ;;
    load_keys) cp ../tests/samples/*.json "$corpus"/ ;;
    webauthn) cp ../crates/epochgate-webauthn/tests/vectors/seeds/* "$corpus"/ ;;
  esac
  echo "[fuzz] $target for ${seconds}s"
  log="$(mktemp)"
  if ! cargo fuzz run --sanitizer none "$target" "$corpus" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "[fuzz] $target FAILED (the crashing input is in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units)' "$log"
  rm -f "$log"
done
echo "[fuzz] all targets ran clean"
