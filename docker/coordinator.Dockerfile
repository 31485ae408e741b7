# gthulhu-coordinator: REST API, web UI, control loop. Build from the repository root:
#   buildah bud --storage-driver vfs -f docker/coordinator.Dockerfile -t gthulhu/coordinator:0.1.0 .
# (or docker build -f docker/coordinator.Dockerfile ...). BASE_IMAGE lets a mirror or a
# locally made Debian image stand in for Docker Hub's.
ARG BASE_IMAGE=docker.io/library/debian:bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
# The web UI (npm ci + vite) is built by the normal build into build/webui.
RUN EXTRA_TARGETS=web_ui docker/build-stage.sh gthulhu-coordinator coordinator/gthulhu-coordinator && \
    cp -r build/webui /out/webui

FROM ${RUNTIME_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -q && \
    apt-get install -y -q --no-install-recommends ca-certificates $(cat /tmp/runtime-packages) && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /out/bin/gthulhu-coordinator /usr/local/bin/gthulhu-coordinator
COPY --from=build /out/webui /usr/share/gthulhu/webui
# Non-root (the chart runs it as 65532 with a read-only root filesystem).
USER 65532:65532
ENV GTHULHU_UI_DIRECTORY=/usr/share/gthulhu/webui
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/gthulhu-coordinator"]
