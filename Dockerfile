# syntax=docker/dockerfile:1
#
# Slotway's container image.
#   docker build -t slotway .
#   docker run --rm -p 7777:7777 -p 9121:9121 -e SLOTWAY_CLUSTER=redis-0:6379 slotway
#
# Three stages, all on the same base so what is built in one runs in the other:
#   build    dev dependencies + TypeScript -> dist/src
#   deps     production dependencies only (npm ci --omit=dev)
#   runtime  Node + tini + deps' node_modules + build's dist/src + package.json
# Nothing of the first two stages reaches the image but what runtime copies: no
# compiler, no tests, no benchmarks, no npm cache.
#
# Base: Debian bookworm-slim rather than Alpine. Slotway's CI and development
# machines are Debian (glibc), so the image runs Node on the same libc it is
# tested on; bookworm ships `tini` as an ordinary apt package; and the size
# difference is small next to Node itself.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency of Slotway needs an install script (all pure
# JavaScript), so none is run.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p .

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# tini as PID 1. Node run as PID 1 gets no default signal dispositions: a
# SIGTERM it has no handler for is ignored, and nothing reaps orphans. Slotway
# does install SIGTERM/SIGINT handlers (src/cli.ts) and its --threads primary
# reaps its workers, but a signal that arrives before those handlers exist, or
# any orphan, would still be mishandled. `docker run --init` solves this only
# for docker run: Kubernetes has no equivalent, so tini is in the image.
# tini passes signals to node alone (no -g): with --threads the primary
# forwards SIGTERM to each worker itself.
#
# User and group 999, like the official Redis image; the node image has only
# `node` (uid 1000), and 999 is free in it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 999 slotway \
 && useradd --system --uid 999 --gid 999 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin slotway
WORKDIR /app
ENV NODE_ENV=production
# Root owns the files; the process (uid 999) can read but not change them.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
USER 999
# 7777: Redis clients (--port); 9121: /metrics, /healthz, /readyz (--metrics-port).
EXPOSE 7777 9121
# Slim images have no curl or wget: Node's own fetch asks /healthz (liveness,
# not readiness: a container that is up but waiting for its cluster is healthy).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SLOTWAY_METRICS_PORT || 9121) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Options come as arguments (docker run slotway --cluster host:6379) or as
# SLOTWAY_* environment variables; `--help` lists them.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli.js"]
