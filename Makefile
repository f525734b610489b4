# flashvox — see README.md. `make run` and `make test` are the two set-up commands.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Debian packages the tests drive as real peers or link against (cgo).
DEPS := ffmpeg rtmpdump nginx-light libnginx-mod-rtmp sox libspeex-dev libspeexdsp-dev pkg-config gcc
FUZZTIME ?= 30s
TEST_FUZZTIME ?= 3s
BENCHTIME ?= 1s

.PHONY: run build test deps vet unit fuzz fuzz-short bench clean

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

unit:
	$(GO) test -race -count=1 -timeout 12m ./...

# Every fuzz target for a few seconds: the seed corpus always, new inputs briefly.
fuzz-short:
	scripts/fuzz.sh $(TEST_FUZZTIME)

test: deps vet unit fuzz-short

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin
