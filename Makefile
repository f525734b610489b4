# flashvox — see README.md. `make run` and `make test` are the two set-up commands.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Debian packages the tests drive as real peers or link against (cgo).
DEPS := ffmpeg rtmpdump nginx-light libnginx-mod-rtmp sox libspeex-dev libspeexdsp-dev libopus-dev pkg-config gcc chromium haxe sip-tester sipvicious baresip g++ make libssl-dev iproute2 nftables curl postgresql nats-server
FUZZTIME ?= 30s
TEST_FUZZTIME ?= 3s
BENCHTIME ?= 1s
SOAKTIME ?= 80s
SOAKLIMIT ?= 40m

.PHONY: run build test deps vet unit fuzz fuzz-short bench clean flash screenshots soak

run: build
	./bin/flashvox run

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/flashvox ./cmd/flashvox

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:" $$missing; \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		else \
			echo "missing packages (run as root or: sudo apt-get install -y $$missing)"; exit 1; \
		fi; \
	fi

vet:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet ./...

# The process tests run bin/flashvox (TEST_FLASHVOX_BIN), built once here.
# The longest packages are named first, so that they start first: go test
# runs two at a time in the order given, and one started last would run
# alone at the end (./... adds the rest, each once).
LONGEST_TESTS := ./sipbridge ./cmd/flashvox ./internal/app ./session
unit: build
	TEST_FLASHVOX_BIN=$(CURDIR)/bin/flashvox $(GO) test -race -count=1 -timeout 12m $(LONGEST_TESTS) ./...

# Every fuzz target for a few seconds: the seed corpus always, new inputs briefly.
fuzz-short:
	scripts/fuzz.sh $(TEST_FUZZTIME)

test: deps vet flash unit fuzz-short soak

# The SWF softphone (Flash Player 10.3) from flash-client/; never committed.
flash:
	mkdir -p bin
	cd flash-client && haxe build.hxml -swf ../bin/flashvox.swf

# A PNG of the web page (headless chromium): docs/ when small enough to commit.
screenshots:
	mkdir -p bin
	FLASHVOX_SCREENSHOT=$(CURDIR)/bin/page.png $(GO) test -count=1 -run 'TestPageSignalling/longpoll' ./web/
	@size=$$(stat -c %s bin/page.png); if [ $$size -le 102400 ]; then cp bin/page.png docs/page.png; echo "docs/page.png ($$size bytes)"; else echo "bin/page.png is $$size bytes: too large to commit"; fi
	FLASHVOX_ADMIN_SCREENSHOT=$(CURDIR)/docs/dashboard.png $(GO) test -count=1 -run 'TestPeerAdminDashboard' ./web/
	FLASHVOX_SCREENSHOT_CALL=$(CURDIR)/bin/page-call.png $(GO) test -count=1 -run 'TestPeerPageCallP2P' ./internal/app/
	@size=$$(stat -c %s bin/page-call.png); if [ $$size -le 102400 ]; then cp bin/page-call.png docs/page-call.png; echo "docs/page-call.png ($$size bytes)"; else echo "bin/page-call.png is $$size bytes: too large to commit"; fi
	FLASHVOX_SCREENSHOT_CONF=$(CURDIR)/bin/page-conference.png $(GO) test -count=1 -run 'TestPeerPageConference' ./internal/app/
	@size=$$(stat -c %s bin/page-conference.png); if [ $$size -le 102400 ]; then cp bin/page-conference.png docs/page-conference.png; echo "docs/page-conference.png ($$size bytes)"; else echo "bin/page-conference.png is $$size bytes: too large to commit"; fi

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...
	FLASHVOX_LOSSY_SECONDS=60 $(GO) test -count=1 -timeout 5m -run 'Long$$' -v ./rtmfp/
	$(GO) run ./bench/conference -flashvox bin/flashvox -sizes 5,10 -total 40 -ramp 80 -window 5s -timeout 2m

# The soak (bench/soak, BENCHMARKS.md "Soak"): mixed normal load while
# hostile clients take turns; SOAKTIME=30m for the full run (SOAKLIMIT bounds the
# whole target; raise it for runs over 35 minutes). Not in `make test`:
# see BENCHMARKS.md for why.
soak: build
	$(GO) build -o bin/soak ./bench/soak
	timeout -s INT $(SOAKLIMIT) bin/soak -flashvox bin/flashvox -duration $(SOAKTIME)

clean:
	rm -rf bin
