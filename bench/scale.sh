#!/usr/bin/env bash
# Does Clavex stay flat from a small to a large installation? (issue #7, scale)
#
#   bench/scale.sh [--users N] [--clients N] [--orgs N] [--backend sqlite|postgres]
#                  [--seconds S] [--signin-runs N] [--list-runs N] [--rounds N] [--keep]
#
# Seeds two databases straight through SQL (clavex-scale seed: orgs with their keys, clients with
# their secrets, users sharing one Argon2id hash), a small one (50 orgs, 1,000 users, 100 clients,
# all in org scale-big, so that every list page is full) and a large one (default 10,000 orgs,
# 1,000,000 users, 100,000 clients; a tenth of the users and clients in scale-big), starts a
# release `clavex serve` on each and measures both the same way (clavex-scale measure), in
# --rounds rounds alternating small and large: the whole sign-in flow, token-endpoint throughput
# at 16 connections (clavex-bench, which seeds its own small org through the Admin API), and the
# first and a deep Admin API list page of scale-big's users and clients and of the orgs. Prints a
# Markdown table (small, large, ratio, flat within 20 %; each figure the median of its rounds)
# and writes it with the JSON results to bench/results/scale-<stamp>.md and .{small,large}-<round>.json.
#
# Databases live in a scratch folder under $CLAVEX_SCALE_DIR (default /tmp) and are deleted at
# the end (--keep keeps the folder). PostgreSQL: CLAVEX_BENCH_POSTGRES (a server URL without a
# database, default postgres://postgres@127.0.0.1:5432); the databases are created and dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

users=1000000 clients=100000 orgs=10000 backend=sqlite
seconds=5 signin_runs=50 list_runs=50 rounds=3 keep=0
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --users) users=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --orgs) orgs=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --signin-runs) signin_runs=$2; shift 2 ;;
    --list-runs) list_runs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "scale.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
case $backend in sqlite|postgres) ;; *) echo "scale.sh: --backend must be sqlite or postgres" >&2; exit 2 ;; esac
for n in "$users" "$clients" "$orgs"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "scale.sh: --users, --clients and --orgs take whole numbers" >&2; exit 2; }
done
[ "$orgs" -ge 1 ] || { echo "scale.sh: --orgs must be at least 1" >&2; exit 2; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p clavex -p clavex-bench
bin=$CARGO_TARGET_DIR/release/clavex
scale=$CARGO_TARGET_DIR/release/clavex-scale
pg=${CLAVEX_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
pg=${pg%/}

root=${CLAVEX_SCALE_DIR:-/tmp}
mkdir -p "$root"
dir=$(mktemp -d "$root/clavex-scale.XXXXXX")
# About 0.7 kB per user on SQLite and twice that on PostgreSQL, indexes included; ask for
# twice that and a gigabyte more.
need_mb=$(( users * 3 / 1000 + 1024 ))
free_mb=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
echo "scratch $dir: ${free_mb} MB free, about ${need_mb} MB wanted" >&2
if [ "$backend" = sqlite ] && [ "$free_mb" -lt "$need_mb" ]; then
  echo "scale.sh: not enough free disk under $root (set CLAVEX_SCALE_DIR)" >&2
  exit 1
fi

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for db in "${pg_dbs[@]}"; do
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  done
  if [ "$keep" = 1 ]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
}
trap cleanup EXIT

token=scale-token-$(head -c 18 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')
export CLAVEX_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export CLAVEX_BENCH_ADMIN_TOKEN=$token

# seed LABEL ORGS USERS CLIENTS BIG_SHARE: a fresh database for LABEL, seeded.
seed() {
  local label=$1 db_url
  if [ "$backend" = sqlite ]; then
    db_url=sqlite://$dir/$label.db
  else
    local db=clavex_scale_${label}_$RANDOM$RANDOM
    psql -q "$pg/postgres" -c "CREATE DATABASE $db"
    pg_dbs+=("$db")
    db_url=$pg/$db
  fi
  echo "== $label: seeding $2 orgs, $3 users, $4 clients on $backend" >&2
  "$scale" seed --database-url "$db_url" --orgs "$2" --users "$3" --clients "$4" \
    --big-share "$5" --out "$dir/$label-seed.json" >&2
  urls[$label]=$db_url
}

# serve LABEL PORT: a release server on LABEL's database, ready.
serve() {
  local label=$1 url=http://127.0.0.1:$2
  CLAVEX_DATABASE_URL=${urls[$label]} CLAVEX_LISTEN=127.0.0.1:$2 CLAVEX_PUBLIC_URL=$url \
    CLAVEX_BOOTSTRAP_ADMIN_TOKEN=$token CLAVEX_LOG=warn \
    "$bin" serve >"$dir/$label-server.log" 2>&1 &
  pids[$label]=$!
  local tries=0
  until curl -sf -o /dev/null "$url/readyz"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ] || ! kill -0 "${pids[$label]}" 2>/dev/null; then
      echo "scale.sh: the $label server did not become ready; its log:" >&2
      cat "$dir/$label-server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

declare -A urls pids ports=([small]=18090 [large]=18091)
pg_dbs=()
# Small: every list page as full as at scale (50 rows), so pages compare like for like: 50 orgs,
# and org scale-big holds all 1,000 users and 100 clients.
seed small 50 1000 100 1
seed large "$orgs" "$users" "$clients" 0.1
serve small "${ports[small]}"
serve large "${ports[large]}"
# Rounds alternate small and large, so that whatever else runs on the machine meets both alike;
# the report takes each figure's median over the rounds.
for round in $(seq 1 "$rounds"); do
  for label in small large; do
    echo "== round $round, $label (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$scale" measure --label "$label" --url "http://127.0.0.1:${ports[$label]}" \
      --server-pid "${pids[$label]}" --seed "$dir/$label-seed.json" --seconds "$seconds" \
      --signin-runs "$signin_runs" --list-runs "$list_runs" --out "$dir/$label-$round.json"
  done
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p bench/results
for f in "$dir"/small-[0-9]*.json "$dir"/large-[0-9]*.json; do
  cp "$f" "bench/results/scale-$stamp.$(basename "$f")"
done
{
  echo "# Scale, $backend, $stamp"
  echo
  echo "\`bench/scale.sh --users $users --clients $clients --orgs $orgs --backend $backend\`"
  echo "on $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  "$scale" report --small "$dir"/small-[0-9]*.json --large "$dir"/large-[0-9]*.json
} | tee "bench/results/scale-$stamp.md"
