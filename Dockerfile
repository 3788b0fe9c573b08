# dschat in a container: a Debian 12 build stage that takes the same path as the README quick start
# (scripts/setup-debian, meson), then a slim runtime stage with the binary and its shared libraries only.

FROM debian:12 AS build
WORKDIR /src
COPY scripts/setup-debian scripts/setup-debian
RUN ./scripts/setup-debian --build-only && rm -rf /var/lib/apt/lists/*
COPY . .
RUN ./scripts/build-release /build /install

FROM debian:12-slim AS runtime
# Keep this list in step with `ldd dschat` (tests/e2e/package_test.py checks it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 libgcc-s1 libfmt9 libspdlog1.10 libedit2 libicu72 libssl3 \
    libbsd0 libmd0 libtinfo6 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin dschat
COPY --from=build /install/usr/local/bin/dschat /usr/local/bin/dschat
COPY --from=build /install/usr/local/share/man/man1/dschat.1 /usr/local/share/man/man1/dschat.1
USER dschat
EXPOSE 8080 8888
ENTRYPOINT ["dschat"]
# Inside a container the port is published explicitly, so listening on every interface is the right default.
CMD ["serve", "--mode", "async", "--host", "0.0.0.0"]
