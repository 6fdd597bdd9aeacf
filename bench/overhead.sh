#!/usr/bin/env bash
# The cost of metrics and of token audit events on the token endpoint, in one run (issue #6).
#   bench/overhead.sh [SECONDS=5] [ROUNDS=3] [CONNECTIONS=16]
# Starts three release servers, each on its own SQLite file, identical but for:
#   base    CLAVEX_METRICS=on,  CLAVEX_AUDIT_TOKEN_EVENTS=off  (the defaults)
#   nometr  CLAVEX_METRICS=off, CLAVEX_AUDIT_TOKEN_EVENTS=off
#   audit   CLAVEX_METRICS=on,  CLAVEX_AUDIT_TOKEN_EVENTS=on   (one audit row per token)
# and measures client_credentials (RS256) and refresh rotation against each, the servers taking
# turns round after round so that a slow moment of the machine hits all three alike. Prints each
# round and the median per server and workload. Only one server is under load at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
connections=${3:-16}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p clavex -p clavex-bench
bin=$CARGO_TARGET_DIR/release/clavex
bench=$CARGO_TARGET_DIR/release/clavex-bench
scratch=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
token=bench-token-$RANDOM$RANDOM$RANDOM
declare -A port=([base]=18180 [nometr]=18181 [audit]=18182)
declare -A env=(
  [base]="CLAVEX_METRICS=on CLAVEX_AUDIT_TOKEN_EVENTS=off"
  [nometr]="CLAVEX_METRICS=off CLAVEX_AUDIT_TOKEN_EVENTS=off"
  [audit]="CLAVEX_METRICS=on CLAVEX_AUDIT_TOKEN_EVENTS=on"
)
servers=(base nometr audit)
for s in "${servers[@]}"; do
  mkdir -p "$scratch/$s"
  # shellcheck disable=SC2086 # the settings are words on purpose
  env ${env[$s]} CLAVEX_BOOTSTRAP_ADMIN_TOKEN="$token" CLAVEX_LOG=warn \
    CLAVEX_PUBLIC_URL="http://127.0.0.1:${port[$s]}" \
    "$bin" serve --listen "127.0.0.1:${port[$s]}" \
    --database-url "sqlite://$scratch/$s/clavex.db" >/dev/null 2>&1 &
  pids+=($!)
done
for s in "${servers[@]}"; do
  until curl -sf -o /dev/null "http://127.0.0.1:${port[$s]}/readyz"; do sleep 0.05; done
done
results=$scratch/results
: >"$results"
for round in $(seq "$rounds"); do
  for workload in client-credentials-rs256 refresh; do
    for s in "${servers[@]}"; do
      line=$("$bench" --url "http://127.0.0.1:${port[$s]}" --admin-token "$token" \
        load --workload "$workload" --connections "$connections" --seconds "$seconds" | tail -n1)
      rate=$(grep -oE '[0-9.]+ (req|ops)/s' <<<"$line" | head -n1 | cut -d' ' -f1)
      errors=$(grep -oE 'errors [0-9]+' <<<"$line" | cut -d' ' -f2 || echo "?")
      echo "round $round  $workload  $s  ${rate:-?}/s  errors ${errors:-?}"
      echo "$workload $s ${rate:-0}" >>"$results"
      if [ "${errors:-?}" != 0 ]; then
        echo "errors against $s: $line" >&2
        exit 1
      fi
    done
  done
done
echo
echo "| workload | defaults (metrics on) | metrics off | token audit on | metrics cost | audit cost |"
echo "|---|---:|---:|---:|---:|---:|"
for workload in client-credentials-rs256 refresh; do
  median() { grep "^$workload $1 " "$results" | cut -d' ' -f3 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  b=$(median base) n=$(median nometr) a=$(median audit)
  awk -v w="$workload" -v b="$b" -v n="$n" -v a="$a" 'BEGIN {
    printf "| %s | %.0f/s | %.0f/s | %.0f/s | %+.1f %% | %+.1f %% |\n", w, b, n, a, (n - b) / n * 100, (b - a) / b * 100 }'
done
echo
echo "metrics cost: how much faster the server is without metrics; audit cost: how much slower"
echo "it is with a token.issued row per token. Medians of $rounds rounds of ${seconds}s at $connections connections."
