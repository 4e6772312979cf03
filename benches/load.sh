#!/usr/bin/env bash
# Load on the edge's token validation: wrk against GET /v1/me with one warm token (cached in the
# isolate), loopback only, bounded duration. Needs a running worker (scripts/dev.sh).
#   BASE=http://127.0.0.1:8787 DURATION=10s CONNECTIONS=16 THREADS=2 benches/load.sh
set -euo pipefail
BASE="${BASE:-http://127.0.0.1:8787}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
case "$BASE" in
  http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
  *) echo "BASE must be a loopback URL" >&2; exit 2 ;;
esac
case "$DURATION" in
  [0-9]s|[0-9][0-9]s|[0-5][0-9][0-9]s) ;;
  *) echo "DURATION must be 1s to 599s" >&2; exit 2 ;;
esac
email="load-$(date +%s%N)@example.com"
password="load benchmark password"
curl -fsS -X POST "$BASE/v1/accounts" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" >/dev/null
token=$(curl -fsS -X POST "$BASE/v1/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"device\":{\"name\":\"wrk\",\"type\":\"bench\"}}" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
curl -fsS "$BASE/v1/me" -H "authorization: Bearer $token" >/dev/null   # warm the cache
before=$(curl -fsS "$BASE/v1/edge/stats")
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" "$BASE/v1/me"
after=$(curl -fsS "$BASE/v1/edge/stats")
node -e '
const [b, a] = process.argv.slice(1).map(JSON.parse);
const v = a.validations - b.validations, f = a.origin_fetches - b.origin_fetches, h = a.cache_hits - b.cache_hits;
console.log(JSON.stringify({ isolate_same: a.isolate === b.isolate, validations: v, cache_hits: h, origin_fetches: f,
  fetch_ratio_percent: +(100 * f / Math.max(1, v)).toFixed(4) }, null, 2));
' "$before" "$after"
