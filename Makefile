# toritsugi — make targets. `make test` is what CI runs (.ci/run).
GO        ?= go
BIN       ?= bin/toritsugi
CONFIG    ?= pkg/config/sample.yaml
PKGS      := ./...
FUZZTIME  ?= 15s

.PHONY: all build test vet fmt-check race bench fuzz run demo check-config clean

all: build

VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

## build: static binaries (no cgo: one built here runs on an older server's glibc)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/toritsugi
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/toritsugi-phone ./cmd/toritsugi-phone

## test: vet, formatting and every test under the race detector
test: vet fmt-check race

## vet: also the end-to-end tests (build tag e2e, run by `make e2e` against a real Asterisk),
## so that they are compiled on every run and do not rot unseen
vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags e2e ./pkg/e2e

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

race:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## bench: benchmarks with allocations (numbers in README come from here)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## run: the service with the sample configuration (needs an Asterisk, see README)
run: build
	$(BIN) serve --config $(CONFIG)

## demo: the controller against the simulated PBX with sample calls (no Asterisk needed);
## flags in ARGS, e.g. make demo ARGS='--listen 127.0.0.1:8099 --every 5s'
demo: build
	$(BIN) demo $(ARGS)

check-config: build
	$(BIN) check-config $(CONFIG)

## e2e: the scripted scenario against a real Asterisk (README "End-to-end test"); not in `make test`
.PHONY: e2e
E2E_VARS := TORITSUGI_E2E_ARI_URL TORITSUGI_E2E_ARI_USER TORITSUGI_E2E_ARI_PASSWORD TORITSUGI_E2E_SIP_ADDR TORITSUGI_E2E_FALLBACK_LOG
e2e:
	@missing=""; for v in $(E2E_VARS); do [ -n "$$(printenv $$v)" ] || missing="$$missing $$v"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make e2e: needs a real Asterisk 22 running asterisk-conf/; set$$missing" >&2; \
	  echo "  (all of: $(E2E_VARS); operator SIP passwords in TORITSUGI_E2E_SIP_PASSWORD or TORITSUGI_E2E_SIP_PASSWORD_OP1001...; see README)" >&2; \
	  exit 1; \
	fi
	$(GO) test -tags e2e -count=1 -v -timeout 5m ./pkg/e2e/

clean:
	rm -rf bin
