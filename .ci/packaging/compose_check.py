"""Checks docker-compose.yml without Docker: it parses, PostgreSQL has a health check that Clavex
waits for, the file refuses to start without CLAVEX_MASTER_KEY, every CLAVEX_* variable is one
Clavex reads, and Clavex's settings, interpolated as compose would and laid over the image's own
ENV, pass `clavex config check`.

Usage: compose_check.py docker-compose.yml CLAVEX_BINARY [IMAGE_ENV=VALUE ...]
"""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

import yaml


def fail(message):
    sys.exit(f"docker-compose.yml: {message}")


# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; $$ is a literal $.
PATTERN = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, variables):
    def one(m):
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3)
        have = variables.get(name)
        empty = have is None or (op is not None and op.startswith(":") and have == "")
        if op and op.endswith("-") and empty:
            return arg
        if op and op.endswith("?") and empty:
            raise KeyError(f"{name}: {arg}")
        return have or ""

    return PATTERN.sub(one, value)


def service_env(service, variables):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(str(v), variables) for k, v in env.items()}


def main():
    path, binary, image_env = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path) as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    for name in ("clavex", "postgres"):
        if name not in services:
            fail(f"no service {name}")
    pg, clavex = services["postgres"], services["clavex"]

    if not str(pg.get("image", "")).startswith("postgres:15"):
        fail(f"postgres image is {pg.get('image')}, expected postgres:15")
    test = pg.get("healthcheck", {}).get("test")
    if not test or "pg_isready" not in " ".join(test if isinstance(test, list) else [test]):
        fail("postgres has no pg_isready health check")
    condition = (clavex.get("depends_on") or {}).get("postgres", {}).get("condition")
    if condition != "service_healthy":
        fail(f"clavex depends on postgres with condition {condition!r}, not service_healthy")
    if clavex.get("build") not in (".", {"context": "."}):
        fail("clavex is not built from this folder's Dockerfile")
    if not any(str(p).endswith(":8080") for p in clavex.get("ports", [])):
        fail("no port is mapped to the container's 8080")
    for volume in pg.get("volumes", []):
        name = str(volume).split(":", 1)[0]
        if not name.startswith(("/", ".")) and name not in (compose.get("volumes") or {}):
            fail(f"volume {name} is not declared")

    raw_env = clavex.get("environment") or {}
    if "CLAVEX_MASTER_KEY:?" not in str(raw_env.get("CLAVEX_MASTER_KEY", "")):
        fail("CLAVEX_MASTER_KEY must be ${CLAVEX_MASTER_KEY:?...}, required from .env")

    # What .env would hold, as the comment at the top of the file makes it.
    variables = {
        "CLAVEX_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
    }
    for missing in variables:
        try:
            service_env(clavex, {k: v for k, v in variables.items() if k != missing})
        except KeyError:
            continue
        fail(f"clavex starts without {missing}; it must be required")
    env = service_env(clavex, variables)
    pg_env = service_env(pg, variables)

    url = urlsplit(env.get("CLAVEX_DATABASE_URL", ""))
    if url.scheme not in ("postgres", "postgresql") or url.hostname != "postgres":
        fail("CLAVEX_DATABASE_URL does not name the postgres service")
    expected = (pg_env.get("POSTGRES_USER"), pg_env.get("POSTGRES_PASSWORD"), pg_env.get("POSTGRES_DB"))
    if (url.username, url.password, url.path.lstrip("/")) != expected:
        fail("CLAVEX_DATABASE_URL's user, password or database differ from the postgres service's")

    with tempfile.TemporaryDirectory() as cwd:
        base = dict(item.split("=", 1) for item in image_env)
        known_run = subprocess.run(
            [binary, "config", "check", "--json"],
            env={"PATH": os.environ.get("PATH", "")},
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        if known_run.returncode != 0:
            fail(f"clavex config check with defaults failed: {known_run.stderr}")
        known = {row["variable"] for row in json.loads(known_run.stdout)["settings"]}
        known.add("CLAVEX_CONFIG")
        unknown = sorted(k for k in env if k.startswith("CLAVEX_") and k not in known)
        if unknown:
            fail(f"variables Clavex does not read: {', '.join(unknown)}")

        run = subprocess.run(
            [binary, "config", "check"],
            env={"PATH": os.environ.get("PATH", ""), **base, **env},
            cwd=cwd,
            capture_output=True,
            text=True,
        )
    if run.returncode != 0:
        fail(f"clavex config check refuses the clavex service's settings:\n{run.stderr}")
    for secret in variables.values():
        if secret in run.stdout or secret in run.stderr:
            fail("clavex config check printed a secret")
    print(run.stdout.rstrip())
    print("docker-compose.yml: ok")


if __name__ == "__main__":
    main()
