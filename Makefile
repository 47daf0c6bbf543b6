# lvs-agentx: see README.md. `make demo` and `make test` are the two entry points.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Debian packages the tests and the demo use.
TEST_DEBS := snmpd snmp ipvsadm user-mode-linux kmod busybox-static smitools curl \
	erlang-snmp iproute2 util-linux procps libcap2-bin

.PHONY: all build test unit e2e demo bench lint install deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/lvs-agentx ./cmd/lvs-agentx

deps:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.22 or newer (https://go.dev/doc/install)" >&2; exit 1; }
	@scripts/ensure-deps $(TEST_DEBS)

# Every test: unit tests on the host, then the end-to-end tests, which boot
# UML guests with real IPVS and start real snmpd instances (verbose, so the
# log shows each guest that ran).
test: deps lint unit e2e

unit:
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /test/)

e2e: deps
	$(GO) test -count=1 -v -timeout 40m ./test/...

demo: deps
	$(GO) run ./test/cmd/demo

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l . | grep -v '^vendor/'); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

install: build
	install -D -m 0755 bin/lvs-agentx $(DESTDIR)$(PREFIX)/sbin/lvs-agentx

clean:
	rm -rf bin
