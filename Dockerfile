# toritsugi: one static binary on a minimal base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=$(git describe --always --dirty) .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/toritsugi ./cmd/toritsugi \
    && mkdir -p /out/var/lib/toritsugi

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/toritsugi /usr/local/bin/toritsugi
# The data directory belongs to the nonroot user (65532) so that a fresh named
# volume mounted here is writable.
COPY --from=build --chown=65532:65532 /out/var/lib/toritsugi /var/lib/toritsugi
USER 65532:65532
VOLUME ["/var/lib/toritsugi"]
ENTRYPOINT ["/usr/local/bin/toritsugi"]
CMD ["serve", "--config", "/etc/toritsugi/toritsugi.yaml"]
