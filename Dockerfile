# syntax=docker/dockerfile:1
#
# One image for every Emporium process: the static `emporium` binary, CA
# certificates, the built web shop at /srv/web and the admin panel at
# /srv/admin (an edge process serves them with --web-dir=/srv/web and
# --admin-dir=/srv/admin, or EMPORIUM_WEB_DIR and EMPORIUM_ADMIN_DIR). It runs as a
# non-root user on distroless/static, which has CA certificates and tzdata and
# nothing else: no shell, no package manager.
#
#   docker build -t emporium:dev .
#   docker run --rm emporium:dev version
#
# compose.yaml and deploy/ (Kubernetes) use this image; docs/deploy.md walks
# through both. Versions are pinned: bump them here and in .ci/run together.

ARG GO_VERSION=1.26.8
ARG NODE_VERSION=20.20.2

# The web shop: the TypeScript SDK first (the shop imports it from ../../sdk-ts),
# then the shop. Lockfiles are copied before the sources so `npm ci` is cached
# until the dependencies change.
FROM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src
COPY sdk-ts/package.json sdk-ts/package-lock.json sdk-ts/
RUN --mount=type=cache,target=/root/.npm npm ci --prefix sdk-ts --no-audit --no-fund --loglevel=error
COPY apps/web/package.json apps/web/package-lock.json apps/web/
RUN --mount=type=cache,target=/root/.npm npm ci --prefix apps/web --no-audit --no-fund --loglevel=error
COPY apps/admin/package.json apps/admin/package-lock.json apps/admin/
RUN --mount=type=cache,target=/root/.npm npm ci --prefix apps/admin --no-audit --no-fund --loglevel=error
COPY sdk-ts/ sdk-ts/
RUN npm run --prefix sdk-ts build
COPY apps/web/ apps/web/
RUN npm run --prefix apps/web build --silent
COPY apps/admin/ apps/admin/
RUN npm run --prefix apps/admin build --silent

# The binary: static (no cgo; SQLite is modernc.org/sqlite, pure Go), without
# file paths or symbol tables.
FROM golang:${GO_VERSION}-bookworm AS go
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags='-s -w' -o /out/emporium ./cmd/emporium \
 && /out/emporium version \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=go /out/emporium /usr/local/bin/emporium
COPY --from=web /src/apps/web/dist /srv/web
COPY --from=web /src/apps/admin/dist /srv/admin
# /data is where serve keeps the files it makes (signing keys, a Bleve index,
# labels) unless flags put them elsewhere; it belongs to nonroot (uid 65532)
# so that a volume mounted there starts writable.
COPY --from=go --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/emporium", "health"]
ENTRYPOINT ["/usr/local/bin/emporium"]
CMD ["serve"]
