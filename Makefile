# saasmall — build, run, test, lint.
#
#   make run       build the console and the CLI, serve the demo mall on 127.0.0.1:8080
#                  (staff console at /console)
#   make build     build the CLI into build/bin/saasmall (CGO_ENABLED=0), console embedded
#   make desktop   build the Wails desktop app into build/bin/saasmall-desktop (cgo, GTK/WebKit)
#   make console   build the staff console (frontend/dist: npm ci when needed, npm run build)
#   make test      the console's unit tests (vitest), go test ./... (with -race where cgo
#                  works), then the PostgreSQL pass when SAASMALL_TEST_POSTGRES is set
#                  (required when CI=true)
#   make lint      gofmt, go vet, staticcheck
#   make bench     go run ./cmd/saasbench
#   make clean     remove build/bin and the console build (frontend/dist)
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

.PHONY: help run build desktop console console-deps test test-console test-go test-postgres lint staticcheck bench clean

# The staff console (frontend/): Vue + Vite, built into frontend/dist, which
# package frontend embeds into the server and the desktop app. dist is not
# committed; `go build` works without it (the server then says how to build it).
FRONTEND      := frontend
NPM           ?= npm
# npm ci runs again only when package-lock.json is newer than this stamp.
CONSOLE_STAMP := $(FRONTEND)/node_modules/.saasmall-npm-ci
CONSOLE_SRC   := $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
                 $(wildcard $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig*.json $(FRONTEND)/package.json)
NEED_NPM = @command -v $(NPM) >/dev/null 2>&1 || { \
	  echo "make: '$(NPM)' was not found: the staff console needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)." >&2; exit 1; }

help:
	@sed -n '3,13p' Makefile | sed 's/^# \{0,1\}//'

## console: the staff console, built into frontend/dist (needs Node.js 20+ and npm)
console: $(FRONTEND)/dist/index.html

$(CONSOLE_STAMP): $(FRONTEND)/package-lock.json $(FRONTEND)/package.json
	$(NEED_NPM)
	cd $(FRONTEND) && $(NPM) ci --no-audit --no-fund
	@touch $@

console-deps: $(CONSOLE_STAMP)

$(FRONTEND)/dist/index.html: $(CONSOLE_STAMP) $(CONSOLE_SRC)
	$(NEED_NPM)
	cd $(FRONTEND) && $(NPM) run build

## run: build the console and the CLI and serve the demo mall
run: build
	@mkdir -p data
	./$(BIN)/saasmall serve --addr $(ADDR) --db $(DB) --demo

## build: the headless CLI/server, one static binary (console embedded)
build: console
	@mkdir -p $(BIN)
	CGO_ENABLED=0 go build -trimpath -o $(BIN)/saasmall ./cmd/saasmall

## desktop: the Wails desktop app (needs cgo + libgtk-3-dev libwebkit2gtk-4.0-dev)
desktop: console
	@pkg-config --exists $(DESKTOP_PKGS) 2>/dev/null || { \
	  echo "make desktop: needs the GTK 3 and WebKit2GTK 4.0 development packages (pkg-config: $(DESKTOP_PKGS))." >&2; \
	  echo "  Debian/Ubuntu: sudo apt-get install libgtk-3-dev libwebkit2gtk-4.0-dev" >&2; exit 1; }
	@mkdir -p $(BIN)
	CGO_ENABLED=1 go build -tags $(DESKTOP_TAGS) -trimpath -ldflags "-s -w" -o $(BIN)/saasmall-desktop .

## test: the console's unit tests, unit and integration tests (SQLite), then the PostgreSQL pass
# The console is built first: the browser tests drive it (they skip without
# it outside CI).
test: test-console test-go test-postgres

test-console: console
	$(NEED_NPM)
	cd $(FRONTEND) && $(NPM) test

test-go: console
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
	find $(FRONTEND)/dist -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
