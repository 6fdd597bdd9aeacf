#!/usr/bin/env bash
# Sign-ins and refreshes per second with one node and with two nodes on the same PostgreSQL.
#   bench/nodes.sh [SECONDS=10] [CONNECTIONS=16]
# Builds the release binaries, creates a fresh database on the local PostgreSQL
# (CLAVEX_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432), starts node A, measures,
# starts node B on the same database and measures again with connections spread over A and B.
# Both nodes and the load generator share this machine's cores, so the two-node figure shows
# what the shared database allows, not what two machines would.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
pg=${CLAVEX_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p clavex -p clavex-bench
bin=$CARGO_TARGET_DIR/release/clavex
bench=$CARGO_TARGET_DIR/release/clavex-bench
db=clavex_bench_$RANDOM$RANDOM
psql -q "$pg/postgres" -c "CREATE DATABASE $db"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
}
trap cleanup EXIT
token=bench-token-$RANDOM$RANDOM$RANDOM
export CLAVEX_DATABASE_URL=$pg/$db CLAVEX_BOOTSTRAP_ADMIN_TOKEN=$token CLAVEX_LOG=warn
CLAVEX_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export CLAVEX_MASTER_KEY
export CLAVEX_PUBLIC_URL=http://127.0.0.1:18080
start_node() {
  "$bin" serve --listen "127.0.0.1:$1" >/dev/null 2>&1 &
  pids+=($!)
  until curl -sf -o /dev/null "http://127.0.0.1:$1/readyz"; do sleep 0.05; done
}
run() {
  "$bench" --url "$CLAVEX_PUBLIC_URL" --admin-token "$token" "${@:2}" \
    load --workload "$1" --connections "$connections" --seconds "$seconds"
}
start_node 18080
run signin --node http://127.0.0.1:18080
run refresh --node http://127.0.0.1:18080
start_node 18081
run signin --node http://127.0.0.1:18080 --node http://127.0.0.1:18081
run refresh --node http://127.0.0.1:18080 --node http://127.0.0.1:18081
