# lvs-agentx: see README.md. `make demo` and `make test` are the two entry points.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
# The version: the VERSION file's release on its release commit, else
# VERSION+gitYYYYMMDD.N.HASH (dist/version.sh; without git, the release).
ifeq ($(origin VERSION),undefined)
VERSION := $(shell dist/version.sh)
endif
LDFLAGS := -X main.version=$(VERSION)
# Where build, install and deb put what they make; a test sets its own so
# that concurrent runs do not collide.
BUILDDIR ?= bin

# Debian packages the tests and the demo use. qemu-system-x86, cpio and
# busybox-static boot a guest kernel where the host's kernel has no IPVS
# (test/testbed), and so does user-mode-linux, faster, on CPUs without AMX;
# on a kernel with IPVS they serve only the scenarios that unload ip_vs. Cacti with MariaDB and PHP, and Zabbix 6.0's server and
# frontend, serve the graph tests' private instances (no web server).
TEST_DEBS := snmpd snmp snmptrapd ipvsadm qemu-system-x86 cpio kmod busybox-static user-mode-linux smitools curl dpkg groff-base man-db \
	lintian rpmlint rpm systemd adduser file git \
	erlang-snmp iproute2 util-linux procps libcap2-bin \
	rrdtool cacti mariadb-server php-cli php-snmp php-intl php8.2-cgi \
	prometheus-snmp-exporter prometheus \
	zabbix-server-mysql zabbix-frontend-php php-mysql php-gd php-bcmath php-mbstring php-xml

# keepalived, the subagent LVS operators already run, is the bench's
# yardstick (it is not installed for the tests).
BENCH_DEBS := keepalived

.PHONY: all build test unit e2e demo bench fuzz soak lint install deb rpm deps clean generate prometheus cacti zabbix version pkgbin

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BUILDDIR)/lvs-agentx ./cmd/lvs-agentx

version:
	@echo $(VERSION)

deps:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 or newer (https://go.dev/doc/install)" >&2; exit 1; }
	@scripts/ensure-deps $(TEST_DEBS)

# Every test: unit tests on the host, every fuzz target for FUZZTIME, then
# the end-to-end tests with real IPVS and real snmpd instances, each
# scenario in its own network namespace, on this kernel when it has IPVS,
# in one guest per test package otherwise (verbose, so the log shows which
# backend ran).
test: deps lint unit fuzz e2e

unit:
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /test/)

# One package and one scenario at a time: the fault tests bound recovery
# times, which two cores shared by several scenarios (or guests) cannot keep.
# The test bed's own tests run once more on QEMU, the backend of the bench
# and of hosts where UML cannot boot, so it is tested wherever the rest
# ran on another backend.
e2e: deps
	$(GO) test -count=1 -v -p 1 -parallel 1 -timeout 60m ./test/...
	LVS_TESTBED=qemu $(GO) test -count=1 -v -timeout 20m ./test/testbed

demo: deps
	$(GO) run ./test/cmd/demo

# Host Go benchmarks, then the scale benchmark on the test bed (sizes 1x1 to
# 5000x10; takes a long time: BENCH_SIZES="1x1 100x4" for a short run).
# Results go to bin/bench-go.txt and bin/bench-bed.txt; BENCHMARKS.md says
# how to read them.
BENCH_SIZES ?= 1x1 100x4 1000x10 5000x10
bench: deps
	@scripts/ensure-deps $(BENCH_DEBS)
	mkdir -p $(BUILDDIR)
	$(GO) test -run '^$$' -bench . -benchmem ./mib/ ./agent/ ./ipvsstats/ > $(BUILDDIR)/bench-go.txt; \
		rc=$$?; cat $(BUILDDIR)/bench-go.txt; [ $$rc = 0 ] || exit $$rc
	$(GO) run ./test/bench $(BENCH_SIZES) > $(BUILDDIR)/bench-bed.txt; \
		rc=$$?; cat $(BUILDDIR)/bench-bed.txt; exit $$rc

# Every fuzz target for FUZZTIME each (go test allows one -fuzz target per run).
# A count of executions, not a duration: with a duration Go's fuzzing
# coordinator can fail a target with "context deadline exceeded" and no
# failing input when the time runs out while a worker is busy (an upstream
# race; seen here while a large new input was being minimized). A real
# failure still writes its input to testdata/fuzz and fails the run.
# FuzzMaintenanceTransactions drives a whole agent session through a fake
# master per input, about a thousand a second here: it runs a tenth as many.
FUZZTIME ?= 300000x
FUZZTIME_SESSION ?= 30000x
fuzz:
	@$(GO) test -list '^Fuzz' $$($(GO) list ./... | grep -v /test/) | \
		awk '/^Fuzz/ { f[n++] = $$1 } /^ok / { for (i = 0; i < n; i++) print $$2, f[i]; n = 0 }' | \
		while read -r pkg fn; do \
			t=$(FUZZTIME); [ "$$fn" = FuzzMaintenanceTransactions ] && t=$(FUZZTIME_SESSION); \
			echo "== $$pkg $$fn ($$t)"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $$t -fuzzminimizetime 10s "$$pkg" || exit 1; \
		done

# Ten minutes of 8 bulkwalkers, churn and snmpd restarts every 2 minutes on
# the test bed, then snmpd away for five minutes; prints the report
# (SOAK_MINUTES and SOAK_OUTAGE_MINUTES change the lengths).
SOAK_MINUTES ?= 10
SOAK_OUTAGE_MINUTES ?= 5
soak: deps
	mkdir -p $(BUILDDIR)
	SOAK_OUTAGE_MINUTES=$(SOAK_OUTAGE_MINUTES) $(GO) run ./test/bench -soak $(SOAK_MINUTES) > $(BUILDDIR)/soak.txt; \
		rc=$$?; cat $(BUILDDIR)/soak.txt; exit $$rc

# Regenerates every generated file in contrib/. Each generator sits beside
# what it makes; each needs the program its output is for (Debian's
# prometheus-snmp-generator, Cacti, Zabbix: make deps installs them).
generate: prometheus cacti zabbix

# Regenerates contrib/prometheus/snmp.yml from generator.yml with Debian's
# prometheus-snmp-generator (in prometheus-snmp-exporter); test/graphs fails
# when the committed file differs from a fresh generation.
prometheus:
	contrib/prometheus/generate.sh

# Regenerates contrib/zabbix/template_lvs_agentx.yaml: the source that
# contrib/zabbix/gen makes from the MIB package's column table, imported
# into a private Zabbix 6.0 and exported again, so the file is Zabbix's own.
# contrib/zabbix/gen's test (in unit) fails when the committed file lacks
# anything the generator makes.
zabbix:
	GO=$(GO) contrib/zabbix/gen/build-template.sh

# Regenerates Cacti's files: the data query definitions
# (contrib/cacti/resource/snmp_queries, which Cacti reads as they are) from
# the MIB package's column table, then the templates: the source that
# contrib/cacti/gen makes, imported into a private Cacti and exported again,
# so the files are Cacti's own. contrib/cacti/gen's tests (in unit) fail
# when either is not what the generator makes today.
cacti:
	$(GO) generate ./contrib/cacti/gen
	GO=$(GO) contrib/cacti/gen/build-templates.sh

lint:
	@out=$$(gofmt -l . | grep -v '^vendor/'); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Installs the binary, the MIB modules, the systemd unit, the example
# environment file, the sysusers.d file and the man page. Honours DESTDIR and PREFIX; the unit and
# /etc files go where systemd and Debian expect them whatever PREFIX is.
install: build
	install -D -m 0755 $(BUILDDIR)/lvs-agentx $(DESTDIR)$(PREFIX)/sbin/lvs-agentx
	install -D -m 0644 mib/LVS-MIB.txt $(DESTDIR)$(PREFIX)/share/snmp/mibs/LVS-MIB.txt
	install -D -m 0644 mib/OC-MIB.txt $(DESTDIR)$(PREFIX)/share/snmp/mibs/OC-MIB.txt
	install -D -m 0644 dist/lvs-agentx.8 $(DESTDIR)$(PREFIX)/share/man/man8/lvs-agentx.8
	install -D -m 0644 dist/lvs-agentx.service $(DESTDIR)/lib/systemd/system/lvs-agentx.service
	sed -i 's|/usr/sbin/lvs-agentx|$(PREFIX)/sbin/lvs-agentx|' $(DESTDIR)/lib/systemd/system/lvs-agentx.service
	install -D -m 0644 dist/lvs-agentx.default $(DESTDIR)/etc/default/lvs-agentx
	install -D -m 0644 dist/lvs-agentx.sysusers $(DESTDIR)/usr/lib/sysusers.d/lvs-agentx.conf
	install -D -m 0644 dist/snmpd.conf.example $(DESTDIR)$(PREFIX)/share/doc/lvs-agentx/snmpd.conf.example

# The Debian and RPM packages of the same files (PREFIX=/usr), built by
# dist/pkg with nfpm from the one description dist/nfpm.yaml, from a
# stripped binary. dist/pkg is a module of its own (nfpm's requirements stay
# out of the agent's go.mod; it needs Go 1.26.4, which the go command
# fetches when older). The packages land in BUILDDIR.
PKG_BIN = $(abspath $(BUILDDIR))/pkg/lvs-agentx
pkgbin:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o $(PKG_BIN) ./cmd/lvs-agentx
deb rpm: pkgbin
	$(GO) -C dist/pkg run . -repo $(CURDIR) -version '$(VERSION)' -bin $(PKG_BIN) -out $(abspath $(BUILDDIR)) $@

clean:
	rm -rf bin
