#!/usr/bin/env bash
# Interoperability with real relying-party libraries: openid-client (Node) and Authlib (Python),
# each completing discovery, the code flow with PKCE through the real sign-in form, ID token
# validation, userinfo and a refresh against a running `clavex serve`.
#
#   bash .ci/interop/run.sh    (CARGO_TARGET_DIR is honoured, default ./target; CLAVEX_BIN=PATH
#                               runs a ready binary instead of building one)
#
# Needs cargo, node (20+), npm, python3 (3.9+, with venv) and curl, and access to the npm and
# PyPI registries. Everything it installs goes into a temporary folder that it removes; the server
# runs on a free loopback port over a SQLite file in that folder and is always stopped.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
STEP_TIMEOUT="${INTEROP_STEP_TIMEOUT:-300}" # seconds, for each install step and each script run

CI_NAME=interop
# shellcheck source=../server-script.sh
source "$HERE/../server-script.sh"
require_tools cargo node npm "$PYTHON" curl

# 1. The binary (CLAVEX_BIN names a ready one and skips the build).
if [ -n "${CLAVEX_BIN:-}" ]; then
  BIN="$CLAVEX_BIN"
else
  log "building clavex (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --quiet --bin clavex) || die "cargo build failed"
  BIN="$CARGO_TARGET_DIR/debug/clavex"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

# 2. The relying-party libraries, into scratch folders.
log "installing openid-client (npm)"
mkdir -p "$WORK/node"
cp "$HERE/package.json" "$HERE/openid-client.mjs" "$WORK/node/"
(cd "$WORK/node" && timeout "$STEP_TIMEOUT" npm install --no-audit --no-fund --loglevel=error) ||
  die "npm install failed"
log "openid-client $(cd "$WORK/node" && node -p 'require("openid-client/package.json").version')"

log "installing authlib and requests (pip, in a venv)"
"$PYTHON" -m venv "$WORK/venv" || die "$PYTHON -m venv failed (is the venv module installed?)"
timeout "$STEP_TIMEOUT" "$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "authlib>=1.9,<2" requests || die "pip install failed"
log "authlib $("$WORK/venv/bin/python" -c 'import authlib; print(authlib.__version__)')"

# 3. The server, on a free loopback port, in the temporary folder.
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
TOKEN="cxa_interop_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$WORK/server"
log "starting clavex serve on $BASE"
(
  cd "$WORK/server"
  unset CLAVEX_CONFIG CLAVEX_MASTER_KEY CLAVEX_TLS_CERT CLAVEX_TLS_KEY
  exec env CLAVEX_LISTEN="127.0.0.1:$PORT" CLAVEX_PUBLIC_URL="$BASE" \
    CLAVEX_DATABASE_URL="sqlite://./clavex-data/clavex.db" \
    CLAVEX_BOOTSTRAP_ADMIN_TOKEN="$TOKEN" CLAVEX_LOG=warn \
    "$BIN" serve
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq 1 150); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "clavex serve exited during start-up"
  if curl -fsS --max-time 2 "$BASE/readyz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.2
done
[ -n "$ready" ] || die "clavex serve was not ready within 30 s"
log "ready"

# 4. Seed through the Admin API.
# api METHOD PATH [JSON] → prints the body; fails unless the status is 2xx.
api() {
  local method=$1 path=$2 body=${3:-} out status
  out="$WORK/api.out"
  if [ -n "$body" ]; then
    status="$(curl -sS --max-time 10 -o "$out" -w '%{http_code}' -X "$method" \
      -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      --data "$body" "$BASE$path")"
  else
    status="$(curl -sS --max-time 10 -o "$out" -w '%{http_code}' -X "$method" \
      -H "Authorization: Bearer $TOKEN" "$BASE$path")"
  fi
  case "$status" in
    2??) cat "$out" ;;
    *) die "$method $path → $status: $(cat "$out")" ;;
  esac
}
json_field() { "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Two orgs: acme signs RS256, acme-ec signs ES256. In each: groups, alice (grafana-admins), bob
# (grafana-editors), and one confidential client per library; each library uses
# client_secret_basic in one org and client_secret_post in the other.
declare -A SECRET USER_ID METHOD
for org in acme acme-ec; do
  alg=RS256
  [ "$org" = acme-ec ] && alg=ES256
  api POST /api/v1/organizations "{\"slug\":\"$org\",\"name\":\"Acme ($alg)\",\"signing_alg\":\"$alg\"}" >/dev/null
  for group in grafana-admins grafana-editors grafana-viewers; do
    api POST "/api/v1/organizations/$org/groups" "{\"name\":\"$group\"}" >/dev/null
  done
  for user in alice bob; do
    USER_ID[$org/$user]="$(api POST "/api/v1/organizations/$org/users" \
      "{\"username\":\"$user\",\"email\":\"$user@acme.test\",\"name\":\"${user^} Example\",\"password\":\"$user-interop-password-1\",\"email_verified\":true}" |
      json_field id)"
  done
  api PUT "/api/v1/organizations/$org/groups/grafana-admins/members/${USER_ID[$org/alice]}" >/dev/null
  api PUT "/api/v1/organizations/$org/groups/grafana-editors/members/${USER_ID[$org/bob]}" >/dev/null
  for rp in node python; do
    method=client_secret_basic
    if { [ "$org" = acme ] && [ "$rp" = python ]; } || { [ "$org" = acme-ec ] && [ "$rp" = node ]; }; then
      method=client_secret_post
    fi
    SECRET[$org/$rp]="$(api POST "/api/v1/organizations/$org/clients" \
      "{\"client_id\":\"$rp-rp\",\"client_name\":\"$rp relying party\",\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"redirect_uris\":[\"http://127.0.0.1:9/$rp/cb\"],\"scopes\":[\"openid\",\"profile\",\"email\",\"groups\"],\"token_endpoint_auth_method\":\"$method\"}" |
      json_field client_secret)"
    METHOD[$org/$rp]=$method
  done
done
log "seeded orgs acme (RS256) and acme-ec (ES256)"

# 5. The scripts: each library, in each org, signs in one user.
runs=0
failed=0
run_rp() { # run_rp node|python ORG ALG USER GROUPS
  local rp=$1 org=$2 alg=$3 user=$4 groups=$5 cmd
  case "$rp" in
    node) cmd=(node "$WORK/node/openid-client.mjs") ;;
    python) cmd=("$WORK/venv/bin/python" "$HERE/authlib_rp.py") ;;
  esac
  log "running $rp relying party against $org ($alg) as $user"
  runs=$((runs + 1))
  if ! env RP_ISSUER="$BASE/$org" RP_CLIENT_ID="$rp-rp" RP_CLIENT_SECRET="${SECRET[$org/$rp]}" \
    RP_AUTH_METHOD="${METHOD[$org/$rp]}" RP_REDIRECT_URI="http://127.0.0.1:9/$rp/cb" \
    RP_USERNAME="$user" RP_PASSWORD="$user-interop-password-1" RP_EXPECT_GROUPS="$groups" \
    RP_EXPECT_ALG="$alg" timeout "$STEP_TIMEOUT" "${cmd[@]}"; then
    log "FAILED: $rp against $org"
    failed=$((failed + 1))
  fi
}
run_rp node acme RS256 alice grafana-admins
run_rp python acme RS256 bob grafana-editors
run_rp node acme-ec ES256 bob grafana-editors
run_rp python acme-ec ES256 alice grafana-admins

echo "interop: $((runs - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
