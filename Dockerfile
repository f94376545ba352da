# syntax=docker/dockerfile:1
# Falconer: one image, one CLI. Every agent runs `falconer agent <name>`.
#
# Build:  docker build -t falconer:0.1.0 .
#         (or: podman build / buildah bud / kaniko with the same context)
# Run:    docker run --rm --read-only --tmpfs /tmp falconer:0.1.0 --help
#
# Two stages: the build stage has the compiler toolchain that better-sqlite3
# needs to build its native module; the runtime stage has only Node, the
# production node_modules and the sources (TypeScript run through tsx, as
# bin/falconer.js does in a clone). The runtime runs as uid 10001 and needs no
# writable path but /tmp (tsx's cache) and /var/lib/falconer (state), so it
# works with a read-only root filesystem.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Debian package versions are not pinned: they follow the pinned base image's bookworm snapshot.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="falconer" \
      org.opencontainers.image.description="Real-time multi-agent security operations for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOME=/tmp \
    FALCONER_DATA_DIR=/var/lib/falconer
RUN groupadd --system --gid 10001 falconer \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin falconer \
 && mkdir -p /var/lib/falconer /etc/falconer /var/run/falconer/tls \
 && chown 10001:10001 /var/lib/falconer
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY deploy/prompts ./deploy/prompts
# The embedded policy engine's Wasm bundle (src/policy/bundle.ts reads it from here).
COPY policies/bundle.tar.gz ./policies/bundle.tar.gz
USER 10001:10001
VOLUME ["/var/lib/falconer"]
EXPOSE 2801 7401 7402 7403 7404 7405 7501 7502 7503 7504 7505 7600
ENTRYPOINT ["node", "bin/falconer.js"]
CMD ["--help"]
