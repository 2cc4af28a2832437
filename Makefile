# saasmall — build, run, test, lint.
#
#   make run       build the CLI (pure Go) and serve the demo mall on 127.0.0.1:8080
#   make build     build the CLI into build/bin/saasmall (CGO_ENABLED=0)
#   make desktop   build the Wails desktop app into build/bin/saasmall-desktop (cgo, GTK/WebKit)
#   make test      go test ./... (with -race where cgo works), then the PostgreSQL pass
#                  when SAASMALL_TEST_POSTGRES is set (required when CI=true)
#   make lint      gofmt, go vet, staticcheck
#   make bench     go run ./cmd/saasbench
#   make clean     remove build/bin
#
# Variables (override on the command line, e.g. `make run ADDR=127.0.0.1:9090`):

ADDR ?= 127.0.0.1:8080
DB   ?= sqlite:./data/saasmall.db

# RACE: -race when cgo and a C compiler are available, empty otherwise. `make test RACE=` turns it off.
RACE ?= $(shell [ "$$(go env CGO_ENABLED)" = 1 ] && command -v "$$(go env CC)" >/dev/null 2>&1 && echo -race)
TESTFLAGS ?=
TEST_TIMEOUT ?= 15m
# Packages that the PostgreSQL pass runs again with SAASMALL_TEST_POSTGRES set.
PG_PKGS ?= ./server/... ./tenants/... ./policies/...

DESKTOP_TAGS := desktop,production,webkit2_40
DESKTOP_PKGS := gtk+-3.0 webkit2gtk-4.0

# staticcheck release that builds and runs on Go 1.26 (2026.2.2).
STATICCHECK_VERSION ?= v0.8.2
GOBIN_DIR   := $(shell go env GOPATH)/bin
STATICCHECK := $(GOBIN_DIR)/staticcheck

BIN := build/bin

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

.PHONY: help run build desktop test test-go test-postgres lint staticcheck bench clean

help:
	@sed -n '3,10p' Makefile | sed 's/^# \{0,1\}//'

## run: build the CLI and serve the demo mall (needs only Go)
run: build
	@mkdir -p data
	./$(BIN)/saasmall serve --addr $(ADDR) --db $(DB) --demo

## build: the headless CLI/server, one static binary
build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/saasmall ./cmd/saasmall

## desktop: the Wails desktop app (needs cgo + libgtk-3-dev libwebkit2gtk-4.0-dev)
desktop:
	@pkg-config --exists $(DESKTOP_PKGS) 2>/dev/null || { \
	  echo "make desktop: needs the GTK 3 and WebKit2GTK 4.0 development packages (pkg-config: $(DESKTOP_PKGS))." >&2; \
	  echo "  Debian/Ubuntu: sudo apt-get install libgtk-3-dev libwebkit2gtk-4.0-dev" >&2; exit 1; }
	@mkdir -p $(BIN)
	CGO_ENABLED=1 go build -tags $(DESKTOP_TAGS) -trimpath -ldflags "-s -w" -o $(BIN)/saasmall-desktop .

## test: unit and integration tests (SQLite), then the PostgreSQL pass
test: test-go test-postgres

test-go:
	@if [ -z "$(RACE)" ]; then echo "make test: running without -race (needs cgo and a C compiler)"; fi
	go test $(RACE) -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

test-postgres:
	@if [ -z "$${SAASMALL_TEST_POSTGRES:-}" ]; then \
	  if [ "$${CI:-}" = true ]; then \
	    echo "make test: FAIL: CI=true but SAASMALL_TEST_POSTGRES is not set; the PostgreSQL suite must run in CI." >&2; exit 1; \
	  fi; \
	  echo "make test: SAASMALL_TEST_POSTGRES is not set: skipping the PostgreSQL pass (see README, 'PostgreSQL tests')."; \
	  exit 0; \
	fi; \
	pkgs=""; for p in $(PG_PKGS); do [ -d "$${p%/...}" ] && pkgs="$$pkgs $$p"; done; \
	if [ -z "$$pkgs" ]; then echo "make test: FAIL: none of $(PG_PKGS) exists" >&2; exit 1; fi; \
	echo "make test: PostgreSQL pass:$$pkgs"; \
	go test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $$pkgs

## lint: gofmt, go vet (also the desktop build when GTK/WebKit are present), staticcheck
lint: staticcheck
	@echo "gofmt -l"; \
	dirs=$$(go list -e -f '{{.Dir}}' ./...); \
	out=$$(gofmt -l $$dirs); \
	if [ -n "$$out" ]; then echo "these files need gofmt -w:" >&2; echo "$$out" >&2; exit 1; fi
	go vet ./...
	@if pkg-config --exists $(DESKTOP_PKGS) 2>/dev/null; then \
	  echo "go vet -tags $(DESKTOP_TAGS) ."; go vet -tags $(DESKTOP_TAGS) .; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "make lint: FAIL: CI=true but the GTK/WebKit dev packages are missing ($(DESKTOP_PKGS))." >&2; exit 1; \
	else \
	  echo "make lint: GTK/WebKit dev packages not found: skipping go vet of the desktop build."; \
	fi
	$(STATICCHECK) ./...

# Installs staticcheck $(STATICCHECK_VERSION) into $(GOBIN_DIR) unless that version is already there.
staticcheck:
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -qF "($(STATICCHECK_VERSION:v%=%))"; then \
	  echo "go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; \
	  GOBIN="$(GOBIN_DIR)" go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); \
	fi

## bench: the load benchmark (cmd/saasbench)
bench:
	@if [ ! -d cmd/saasbench ]; then \
	  echo "make bench: cmd/saasbench does not exist yet; the benchmark arrives with its own issue." >&2; exit 2; \
	fi
	go run ./cmd/saasbench $(BENCHFLAGS)

## clean: remove build outputs (data/ is left alone: it holds your local database)
clean:
	rm -rf $(BIN)
