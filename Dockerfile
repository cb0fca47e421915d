# syntax=docker/dockerfile:1
#
# bedrock-sidecar image.
#
#   build      dev dependencies + `tsc -p tsconfig.build.json` → dist/ (JavaScript; `.ts` imports are
#              rewritten to `.js`). No TypeScript and no tsx reach the image.
#   prod-deps  `npm ci --omit=dev`: the production dependencies the compiled output needs (all pure
#              JavaScript; tsx and TypeScript are dev dependencies).
#   run        distroless Node.js LTS, non-root (65532), no shell, no package manager. `node` is PID 1: the
#              sidecar handles SIGTERM itself (readiness 503, drain streams for server.drain_timeout_s,
#              exit 0) and SIGHUP (reload), and it starts no child processes, so no init is needed.
#
# Both build stages run on the builder's own platform ($BUILDPLATFORM): their output is
# platform-independent JavaScript, so `docker buildx build --platform linux/amd64,linux/arm64 .` needs no
# emulation. For releases, pin the base images by digest (`node:24-bookworm-slim@sha256:…`).
#
#   docker build -t bedrock-sidecar .
#   docker run --rm -p 9901:9901 -e AWS_REGION=us-east-1 -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     -v "$PWD/sidecar.yaml:/etc/bedrock-sidecar/sidecar.yaml:ro" bedrock-sidecar
#
# The config is read from $SIDECAR_CONFIG (/etc/bedrock-sidecar/sidecar.yaml; in Kubernetes a ConfigMap is
# mounted there). The image carries the repository's sidecar.yaml at that path as a default.

ARG NODE_MAJOR=24

FROM --platform=$BUILDPLATFORM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node node_modules/@typescript/native/bin/tsc -p tsconfig.build.json

FROM --platform=$BUILDPLATFORM node:${NODE_MAJOR}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot AS run
LABEL org.opencontainers.image.title="bedrock-sidecar" \
      org.opencontainers.image.description="OpenAI-compatible sidecar proxy for AWS Bedrock" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production \
    SIDECAR_CONFIG=/etc/bedrock-sidecar/sidecar.yaml
# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY sidecar.yaml /etc/bedrock-sidecar/sidecar.yaml
# Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# 4000: the proxy (binds 127.0.0.1 by default: reachable only from inside the pod); 9901: probes + /metrics.
EXPOSE 4000 9901
# For `docker run` / compose; Kubernetes ignores HEALTHCHECK and uses the probes in k8s/base/deployment.yaml.
# Assumes the default admin port (server.admin_port: 9901).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:9901/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The distroless ENTRYPOINT is /nodejs/bin/node; these are its arguments.
CMD ["--enable-source-maps", "dist/main.js"]
