# Sourced by the CI scripts that start a clavex server (interop/run.sh, browser/run.sh): logging,
# a scratch folder in $WORK, and a cleanup that stops the server in $SERVER_PID (SIGTERM, then
# SIGKILL after 5 s) and shows the end of its log when the script fails.
# Set CI_NAME (the log prefix) before sourcing.

log() { printf '[%s %s] %s\n' "$CI_NAME" "$(date -u +%H:%M:%S)" "$*"; }
die() {
  log "ERROR: $*" >&2
  exit 1
}
# Fails with the first of the named commands that is missing.
require_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
  done
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/clavex-$CI_NAME.XXXXXX")"
SERVER_PID=""
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    log "server log (last 40 lines):" >&2
    tail -n 40 "$WORK/server.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
