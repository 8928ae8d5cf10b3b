# syntax=docker/dockerfile:1
# Build: a release binary. Run: distroless (glibc, CA certificates, no shell),
# as a non-root user, with a health check that needs no curl.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin roost \
 && cp target/release/roost /usr/local/bin/roost \
 && mkdir -p /data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/roost /usr/local/bin/roost
COPY --from=build --chown=nonroot:nonroot /data /data
ENV ROOST_BIND=0.0.0.0:8000 \
    ROOST_DATA_DIR=/data \
    ROOST_LOG_FORMAT=json
USER nonroot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/roost", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/roost"]
CMD ["serve"]
