#!/usr/bin/env bash
# Packaging checks that need no Docker daemon (CI machines may have none):
#   1. the Dockerfile's build step, run as a script on a copy of the build context
#      (.dockerignore applied), and the binary it makes: --version, the shared libraries and glibc
#      version the distroless runtime image provides, the image's settings, and `serve` as a
#      non-root user in an empty data folder until `clavex healthcheck` (the image's HEALTHCHECK)
#      passes, then SIGTERM;
#   2. docker-compose.yml: parses, has the PostgreSQL health check and dependency, and its
#      Clavex settings pass `clavex config check`;
#   3. deploy/clavex.service: `systemd-analyze verify` with no warning, and the exposure score of
#      `systemd-analyze security`; deploy/clavex.env.example passes `clavex config check`;
#   4. only if a Docker daemon answers: the image itself is built, its size reported, and run.
# Idempotent; quick when the release build is warm (the copy keeps file times, so cargo reuses it).
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/clavex-ci-target}"
export CARGO_TERM_COLOR=never
# Outside the clone and readable by the unprivileged user that runs the binary.
WORK="${CLAVEX_PACKAGING_DIR:-/var/tmp/clavex-packaging}"
step() { printf '\n=== packaging: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
fail() { echo "packaging: FAILED: $*" >&2; exit 1; }

mkdir -p "$WORK"
chmod 0755 "$WORK"

step "build context: a copy of the clone with .dockerignore applied"
# .dockerignore patterns are rooted at the context; `**/x` matches at any depth. rsync anchors
# with a leading `/`, and matches an unanchored pattern at any depth.
excludes=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%%#*}"
  line="$(echo "$line" | xargs)"
  [ -z "$line" ] && continue
  case "$line" in
    '!'*) fail ".dockerignore exception $line: this script does not implement them" ;;
    '**/'*) excludes+=("--exclude=${line#\*\*/}") ;;
    *) excludes+=("--exclude=/$line") ;;
  esac
done < .dockerignore
rsync -a --delete --delete-excluded "${excludes[@]}" ./ "$WORK/context/"
for gone in .git target; do
  [ ! -e "$WORK/context/$gone" ] || fail "$gone is in the build context"
done
echo "context: $(du -sh "$WORK/context" | cut -f1) in $WORK/context"

step "the Dockerfile's build command"
build_lines=$(grep -c 'cargo build' Dockerfile || true)
[ "$build_lines" = 1 ] || fail "expected one 'cargo build' in the Dockerfile, found $build_lines"
build_cmd=$(grep -o 'cargo build[^\\&]*' Dockerfile | xargs)
case "$build_cmd" in
  "cargo build --release"*) ;;
  *) fail "the Dockerfile's build is not a release build: $build_cmd" ;;
esac
echo "+ $build_cmd"
started=$(date +%s)
(cd "$WORK/context" && $build_cmd)
echo "build: $(( $(date +%s) - started ))s"
# The Dockerfile copies target/release/clavex to /usr/local/bin/clavex, mode 0755.
install -D -m 0755 "$CARGO_TARGET_DIR/release/clavex" "$WORK/bin/clavex"
BIN="$WORK/bin/clavex"
echo "binary: $(du -h "$BIN" | cut -f1)"

step "the binary: version, libraries, glibc"
version=$("$BIN" --version)
echo "$version"
[[ "$version" =~ ^clavex\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ [^,]+,\ [^,]+,\ release\)$ ]] \
  || fail "unexpected --version: $version"
# gcr.io/distroless/cc-debian12 has glibc 2.36 and libgcc_s, nothing more.
needed=$(readelf -d "$BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | xargs)
echo "needs: $needed"
for lib in $needed; do
  case "$lib" in
    libc.so.6|libm.so.6|libgcc_s.so.1|ld-linux-*.so.*|libdl.so.2|libpthread.so.0|librt.so.1) ;;
    *) fail "$lib is not in the distroless/cc runtime image" ;;
  esac
done
glibc=$(objdump -T "$BIN" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
echo "newest glibc symbol: $glibc (Debian 12 has 2.36)"
[ "$(printf '%s\n2.36\n' "$glibc" | sort -V | tail -n1)" = 2.36 ] \
  || fail "the binary needs glibc $glibc, newer than Debian 12's 2.36"

# As the image: an unprivileged user (65532 there, nobody here) owning only the data folder.
# An array rather than a function, so that `"${as_user[@]}" ... &` execs and $! is the server.
if [ "$(id -u)" = 0 ]; then
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  owner=nobody
else
  as_user=()
  owner=$(id -un)
fi

step "the image's settings pass clavex config check"
# ENV lines of the runtime (last) stage: `ENV A=x \` continued by `    B=y`.
image_env=$(awk -v last="$(grep -c '^FROM ' Dockerfile)" '
  /^FROM /{n++}
  n==last && /^ENV /{on=1; sub(/^ENV /, "")}
  n==last && on {cont = /\\$/; sub(/[[:space:]]*\\$/, ""); print; if (!cont) on=0}
' Dockerfile | xargs -n1)
echo "$image_env"
mapfile -t image_env_list <<< "$image_env"
grep -qx 'CLAVEX_DATABASE_URL=sqlite:///data/clavex.db' <<< "$image_env" \
  || fail "the image does not keep its database in /data"
grep -qx 'CLAVEX_LISTEN=0.0.0.0:8080' <<< "$image_env" || fail "the image does not listen on 0.0.0.0:8080"
grep -q '^EXPOSE 8080$' Dockerfile || fail "the Dockerfile does not EXPOSE 8080"
grep -q '^USER 65532:65532$' Dockerfile || fail "the runtime image does not run as 65532"
grep -q 'CMD \["/usr/local/bin/clavex", "healthcheck"\]' Dockerfile || fail "no clavex healthcheck HEALTHCHECK"
(cd "$WORK" && env -i "${image_env_list[@]}" "$BIN" config check) \
  || fail "the image's settings do not pass config check"

step "serve as $owner in an empty data folder, healthcheck, SIGTERM"
run_dir="$WORK/run"
rm -rf "$run_dir"
install -d -m 0755 "$run_dir"
install -d -m 0700 -o "$owner" "$run_dir/data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The image's settings, with the data folder and port of this run.
serve_env=(CLAVEX_DATABASE_URL="sqlite://$run_dir/data/clavex.db" CLAVEX_LISTEN="0.0.0.0:$port")
# The image's WORKDIR is /data. setpriv and env exec (no fork), so $! is the server itself.
"${as_user[@]}" env -i --chdir="$run_dir/data" "${serve_env[@]}" "$BIN" serve \
  >"$run_dir/stdout" 2>"$run_dir/stderr" &
server=$!
stop_server() { kill -TERM "$server" 2>/dev/null || true; }
trap stop_server EXIT
healthy=""
for _ in $(seq 1 120); do
  if "${as_user[@]}" env -i "${serve_env[@]}" "$BIN" healthcheck >/dev/null 2>&1; then healthy=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
[ -n "$healthy" ] || { cat "$run_dir/stderr" >&2; fail "clavex healthcheck never passed"; }
"${as_user[@]}" env -i "${serve_env[@]}" "$BIN" healthcheck
body=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
  "http://127.0.0.1:$port/readyz")
echo "GET /readyz: $body"
[[ "$body" == *'"ready"'* ]] || fail "/readyz: $body"
for f in clavex.db master.key; do
  [ "$(stat -c %U "$run_dir/data/$f")" = "$owner" ] || fail "$f is not owned by $owner"
done
[ "$(stat -c %a "$run_dir/data/master.key")" = 600 ] || fail "master.key is not mode 0600"
ls -l "$run_dir/data"
kill -TERM "$server"
status=0
wait "$server" || status=$?
trap - EXIT
[ "$status" = 0 ] || { cat "$run_dir/stderr" >&2; fail "serve exited $status after SIGTERM"; }
grep -q 'stopped' "$run_dir/stderr" || fail "no 'stopped' after SIGTERM"
echo "SIGTERM: exit 0 after draining"
if "${as_user[@]}" env -i "${serve_env[@]}" "$BIN" healthcheck 2>/dev/null; then
  fail "clavex healthcheck passed with the server stopped"
fi
echo "healthcheck after stop: fails, as it must"

step "docker-compose.yml"
if ! python3 -c 'import yaml' 2>/dev/null; then
  python3 -m pip install --quiet --user pyyaml
fi
python3 .ci/packaging/compose_check.py docker-compose.yml "$BIN" "${image_env_list[@]}"
if docker compose version >/dev/null 2>&1; then
  CLAVEX_MASTER_KEY=$(head -c 32 /dev/urandom | base64) POSTGRES_PASSWORD=ci \
    docker compose -f docker-compose.yml config --quiet
  echo "docker compose config: ok"
else
  echo "docker compose is not installed: parsed with PyYAML only"
fi

step "systemd unit"
if command -v systemd-analyze >/dev/null 2>&1; then
  # verify needs ExecStart's binary to exist: a copy of the unit names the one built above.
  install -d "$WORK/systemd"
  sed "s|/usr/local/bin/clavex|$BIN|g" deploy/clavex.service > "$WORK/systemd/clavex.service"
  # verify reports problems as warnings with exit 0: any output is a failure.
  out=$(cd "$WORK/systemd" && systemd-analyze verify ./clavex.service 2>&1) || true
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  echo "systemd-analyze verify: no warnings"
  (cd "$WORK/systemd" && systemd-analyze security --offline=true --threshold=20 ./clavex.service) \
    | tail -n1
else
  echo "systemd-analyze is not installed: unit not verified"
fi
# The example environment file is valid as written (systemd's syntax is VAR=value lines).
mapfile -t unit_env < <(grep -E '^CLAVEX_[A-Z_]+=' deploy/clavex.env.example)
(cd "$WORK" && env -i "${unit_env[@]}" "$BIN" config check >/dev/null) \
  || fail "deploy/clavex.env.example does not pass config check"
echo "deploy/clavex.env.example: valid"

step "container image"
if docker info >/dev/null 2>&1; then
  docker build -t clavex:ci .
  size=$(docker image inspect --format '{{.Size}}' clavex:ci)
  echo "image clavex:ci: $((size / 1000000)) MB"
  docker run --rm clavex:ci --version
  cid=$(docker run -d -p 127.0.0.1::8080 clavex:ci)
  state=""
  for _ in $(seq 1 60); do
    state=$(docker inspect --format '{{.State.Health.Status}}' "$cid")
    [ "$state" = healthy ] && break
    sleep 1
  done
  docker stop -t 30 "$cid" >/dev/null
  docker rm "$cid" >/dev/null
  [ "$state" = healthy ] || fail "the container never became healthy ($state)"
  echo "container: healthy, stopped"
else
  echo "no Docker daemon: the image itself was not built (the steps above ran its build as a script)"
fi

step "packaging checks passed"
