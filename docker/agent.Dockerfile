# gthulhu-agent: the node agent with the BPF tracker and the sched_ext scheduler built
# in (skeletons). Build from the repository root:
#   buildah bud --storage-driver vfs -f docker/agent.Dockerfile -t gthulhu/agent:0.1.0 .
ARG BASE_IMAGE=docker.io/library/debian:bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY . .
# scripts/deps.sh (inside) builds bpftool 7.5 and a static libbpf 1.5 for the skeletons.
RUN docker/build-stage.sh gthulhu-agent agent/gthulhu-agent

FROM ${RUNTIME_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -q && \
    apt-get install -y -q --no-install-recommends $(cat /tmp/runtime-packages) && \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /out/bin/gthulhu-agent /usr/local/bin/gthulhu-agent
# Root, but the chart grants only CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (not privileged):
# capabilities of a non-root container user never reach its effective set.
USER 0:0
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gthulhu-agent"]
