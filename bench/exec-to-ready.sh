#!/usr/bin/env bash
# Time from exec of `clavex serve` to the first 200 from /readyz, N runs, printed sorted (ms).
#   bench/exec-to-ready.sh target/release/clavex [RUNS=10]
# Each run uses one SQLite file kept across runs (created by a first, unmeasured run), a random
# loopback port, and polls /readyz with curl every 2 ms; the server is stopped after each run.
set -euo pipefail
bin=${1:?path to the clavex binary}
runs=${2:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
once() {
  local port=$((20000 + RANDOM % 20000)) start end pid
  start=$(date +%s%N)
  CLAVEX_LISTEN=127.0.0.1:$port CLAVEX_LOG=warn "$bin" --database-url "sqlite://$dir/clavex.db" serve >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; do sleep 0.002; done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo $(((end - start) / 1000000))
}
once >/dev/null
for _ in $(seq "$runs"); do once; done | sort -n | tr '\n' ' '
echo
