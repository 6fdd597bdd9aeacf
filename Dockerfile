# syntax=docker/dockerfile:1
# Clavex container image: built in the official Rust image, run in distroless (glibc and
# libgcc only: no shell, no package manager) as an unprivileged user.
#
#   docker build -t clavex .
#   docker run -p 8080:8080 -v clavex-data:/data clavex
#
# See docs/operations/docker.md. .ci/packaging/run.sh runs the build step below as a script.

# Same toolchain as CI (the workspace needs 1.94 or later).
ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# The cache mounts keep downloaded crates and compiled dependencies between builds (BuildKit).
# target/ is a cache mount, so the binary is copied out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p clavex \
    && install -D -m 0755 target/release/clavex /out/clavex \
    && mkdir -p /out/data

# Debian 12 like the build stage, so the binary finds the glibc it was linked against.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/clavex /usr/local/bin/clavex
# COPY creates /data with the --chown owner (the image's unprivileged user 65532, "nonroot"), and
# a new named volume mounted there starts with the same owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV CLAVEX_DATABASE_URL=sqlite:///data/clavex.db \
    CLAVEX_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
WORKDIR /data
USER 65532:65532
EXPOSE 8080
# No curl in the image: clavex asks its own /readyz, at the address CLAVEX_LISTEN names.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/clavex", "healthcheck"]
# clavex is PID 1 and drains on SIGTERM (docker stop); give it time: docker stop -t 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/clavex"]
CMD ["serve"]
