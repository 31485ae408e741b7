# gthulhu-coordinator: REST API, web UI, control loop. Build from the repository root:
#   buildah bud --storage-driver vfs -f docker/coordinator.Dockerfile -t gthulhu/coordinator:0.1.0 .
# (or docker build -f docker/coordinator.Dockerfile ...). The *_IMAGE arguments let a
# mirror or locally made images stand in for Docker Hub's (scripts/build-images.sh).
ARG BASE_IMAGE=docker.io/library/debian:bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim
# Vite 8 needs Node.js >= 20.19; bookworm's own nodejs is 18.
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

FROM ${NODE_IMAGE} AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
# Optional build secret "ca_bundle": a CA bundle for a TLS-inspecting proxy between the
# build and the npm registry (absent: Node's own CAs, plus a harmless warning).
RUN --mount=type=secret,id=ca_bundle,required=false \
    NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle npm ci --no-audit --no-fund --loglevel=warn
COPY ui/ ./
RUN npx --no-install tsc --noEmit -p . && \
    npx --no-install vite build --logLevel warn --outDir /out/webui --emptyOutDir

FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
RUN docker/build-stage.sh gthulhu-coordinator coordinator/gthulhu-coordinator

FROM ${RUNTIME_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -q && \
    apt-get install -y -q --no-install-recommends ca-certificates $(cat /tmp/runtime-packages) && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /out/bin/gthulhu-coordinator /usr/local/bin/gthulhu-coordinator
COPY --from=ui /out/webui /usr/share/gthulhu/webui
# Non-root (the chart runs it as 65532 with a read-only root filesystem).
USER 65532:65532
ENV GTHULHU_UI_DIRECTORY=/usr/share/gthulhu/webui
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/gthulhu-coordinator"]
