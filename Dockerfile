# SPDX-License-Identifier: Apache-2.0
# The zen-lead image for users: a Release build of zen-lead-controller,
# zen-lead-webhook and zen-lead-certs on Debian, run as uid 65532 on a slim
# runtime that holds only their libraries. Build: docker build -t zen-lead:0.1.0 .

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential pkg-config cmake make git ca-certificates \
      libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libssl-dev \
      libjson-c-dev libcyaml-dev libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" \
      --target zen-lead-controller zen-lead-webhook zen-lead-certs

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libcurl4 libjson-c5 libcyaml1 libyaml-0-2 libmicrohttpd12 libgnutls30 \
      libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/controller/zen-lead-controller /usr/local/bin/
COPY --from=build /build/webhook/zen-lead-webhook /usr/local/bin/
COPY --from=build /build/certs/zen-lead-certs /usr/local/bin/
LABEL org.opencontainers.image.title="zen-lead" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/zen-lead-controller"]
