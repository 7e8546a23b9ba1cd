# signal-desk: the server and the `signal-desk` CLI on Node.js (Debian bookworm).
#
#   docker build -t signal-desk .
#   docker run -v signal-desk-data:/data -p 3000:3000 signal-desk     # one node on SQLite
#
# Several nodes on PostgreSQL behind nginx: compose.yaml. Operations: docs/OPERATIONS.md.

ARG NODE_VERSION=20

# ---- build: dependencies, compiled server (dist/server, dist/shared) and web app (dist/web) ----
FROM node:${NODE_VERSION}-bookworm-slim AS build

# better-sqlite3 and argon2 are native addons. argon2 ships prebuilt binaries inside its
# package; better-sqlite3 downloads one for this platform and compiles itself with node-gyp
# when it cannot (no prebuilt for the platform, or no way out to fetch it). The compilers are
# for that fallback, which builds against this image's own Node headers (nodedir), so it
# needs no download either.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the lockfile changes.
# --ignore-scripts because the package's own `prepare` script builds, and the sources are not
# copied yet; the install scripts of the dependencies that need one (the allowScripts of
# package.json) run next.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 argon2 esbuild

COPY . .
RUN npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: Node, the production dependencies and the build output, nothing else ----
FROM node:${NODE_VERSION}-bookworm-slim AS runtime

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:/data/signal-desk.db

WORKDIR /app

# Owned by root and read-only to the server: it writes to /data only. package.json is needed
# at run time: it makes the compiled files ES modules ("type": "module").
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin

# The data folder belongs to the unprivileged `node` user of the base image (uid 1000); a
# named volume mounted there starts with this owner and mode. The CLI is on PATH as
# `signal-desk` (docker exec … signal-desk verify).
RUN mkdir -p /data \
  && chown node:node /data \
  && chmod 0700 /data \
  && ln -s /app/bin/signal-desk.js /usr/local/bin/signal-desk

USER node
VOLUME ["/data"]
EXPOSE 3000

# The server finishes in-flight publishes on SIGTERM and exits within 30 s: give `docker stop`
# that long (`--stop-timeout 35`, or `stop_grace_period` in compose).
STOPSIGNAL SIGTERM

# Readiness (the database answers), fetched by Node itself: the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/server/main.js"]
