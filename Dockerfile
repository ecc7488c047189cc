# syntax=docker/dockerfile:1
# sflowscope container image: the compiled server (dist/) and its production dependencies on a
# small Node 20 runtime, running as an unprivileged user.
#
#   docker build -t sflowscope/sflowscope:0.1.0 .
#   docker run -p 8008:8008 -p 6343:6343/udp sflowscope/sflowscope:0.1.0
#
# Settings come from SFLOWSCOPE_* environment variables (docs/configuration.md).
# One base image, pinned by version, for every stage.
ARG NODE_IMAGE=node:20.20.2-alpine3.22

# 1. build: compile the TypeScript sources and the web UI. Dev dependencies exist only in this stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
RUN npm run build

# 2. deps: production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# 3. runtime: node, package.json (ESM "type"), production node_modules, dist/. No package
# managers: nothing is installed at run time.
FROM ${NODE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
        /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
        /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /var/lib/sflowscope \
 && chown 1000:1000 /var/lib/sflowscope
ENV NODE_ENV=production \
    SFLOWSCOPE_DATA_DIR=/var/lib/sflowscope
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
VOLUME ["/var/lib/sflowscope"]
# REST API and UI; sFlow.
EXPOSE 8008/tcp 6343/udp
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "dist/cli/main.js", "health"]
CMD ["node", "dist/cli/main.js", "serve"]
