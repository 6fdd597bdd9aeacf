#!/usr/bin/env bash
# Browser tests of the Admin Console: console.test.mjs drives Debian's Chromium (headless, through
# playwright-core, which downloads no browser) through the console of a running `clavex serve`,
# as a person would: signing in, creating an org, users, groups and a client, rotating secrets and
# keys, and an org admin who must not see other orgs. It takes a full-page screenshot of every
# page it visits.
#
#   bash .ci/browser/run.sh    (CARGO_TARGET_DIR is honoured, default /var/tmp/clavex-ci-target;
#                               CLAVEX_BIN=PATH runs a ready binary instead of building one;
#                               ARTIFACTS_DIR=PATH keeps the screenshots there, default
#                               .ci/artifacts/browser/; BROWSER_PORT=N and
#                               BROWSER_PUBLIC_HOST=localhost give the URLs the screenshots show,
#                               default a free port on 127.0.0.1)
#
# Needs cargo, node (20+), npm, curl and python3, and installs Chromium (Debian's package) when
# /usr/bin/chromium is missing. The server runs on a free loopback port over a SQLite file in a
# temporary folder that is removed afterwards, and is always stopped.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/clavex-ci-target}"
ARTIFACTS_DIR="${ARTIFACTS_DIR:-$ROOT/.ci/artifacts/browser}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
STEP_TIMEOUT="${BROWSER_STEP_TIMEOUT:-600}" # seconds, for each install step and the test run

CI_NAME=browser
# shellcheck source=../server-script.sh
source "$HERE/../server-script.sh"
require_tools cargo node npm curl python3

# 1. Chromium, from Debian's packages when it is not there yet.
if [ ! -x "$CHROMIUM" ]; then
  log "installing chromium (apt-get)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "$CHROMIUM is missing and installing it needs root or sudo"
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  timeout "$STEP_TIMEOUT" $SUDO apt-get update -qq || die "apt-get update failed"
  timeout "$STEP_TIMEOUT" $SUDO apt-get install -y -qq chromium >"$WORK/apt.log" 2>&1 || {
    tail -n 20 "$WORK/apt.log" >&2
    die "apt-get install chromium failed"
  }
fi
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM"
log "$("$CHROMIUM" --version 2>/dev/null | head -n1)"

# 2. playwright-core, exactly as package-lock.json pins it.
log "installing playwright-core (npm ci)"
(cd "$HERE" && timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"

# 3. The binary (CLAVEX_BIN names a ready one and skips the build).
if [ -n "${CLAVEX_BIN:-}" ]; then
  BIN="$CLAVEX_BIN"
else
  log "building clavex (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --quiet --bin clavex) || die "cargo build failed"
  BIN="$CARGO_TARGET_DIR/debug/clavex"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

# 4. The server, on a free loopback port, over a fresh SQLite file, with a console superadmin
#    (root) for the browser and an API token for set-up and checks outside the browser.
PORT="${BROWSER_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
BASE="http://${BROWSER_PUBLIC_HOST:-127.0.0.1}:$PORT"
TOKEN="cxa_browser_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
ROOT_PASSWORD="root-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$WORK/server"
log "starting clavex serve on $BASE"
(
  cd "$WORK/server"
  unset CLAVEX_CONFIG CLAVEX_MASTER_KEY CLAVEX_TLS_CERT CLAVEX_TLS_KEY
  exec env CLAVEX_LISTEN="127.0.0.1:$PORT" CLAVEX_PUBLIC_URL="$BASE" \
    CLAVEX_DATABASE_URL="sqlite://./clavex-data/clavex.db" \
    CLAVEX_BOOTSTRAP_ADMIN_TOKEN="$TOKEN" \
    CLAVEX_BOOTSTRAP_ADMIN_USERNAME=root CLAVEX_BOOTSTRAP_ADMIN_PASSWORD="$ROOT_PASSWORD" \
    CLAVEX_LOG=warn "$BIN" serve
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

# 5. The walk. Screenshots go to a fresh artifacts folder.
rm -rf "$ARTIFACTS_DIR"
mkdir -p "$ARTIFACTS_DIR"
log "running console.test.mjs (screenshots in $ARTIFACTS_DIR)"
status=0
env BASE_URL="$BASE" ADMIN_TOKEN="$TOKEN" ROOT_PASSWORD="$ROOT_PASSWORD" \
  ARTIFACTS_DIR="$ARTIFACTS_DIR" CHROMIUM="$CHROMIUM" \
  timeout "$STEP_TIMEOUT" node --test "$HERE/console.test.mjs" || status=$?
log "$(find "$ARTIFACTS_DIR" -name '*.png' | wc -l) screenshots in $ARTIFACTS_DIR"
[ "$status" -eq 0 ] || die "the browser walk failed (exit $status)"
log "passed"
