# Changxiang 常享: the two commands are `make run` and `make test` (README.md).
# Everything is set up from this repository's own files: a virtualenv from requirements.lock (hashes
# checked), the PWA from pwa/package-lock.json, Debian's Chromium for the end-to-end tests.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PWA_SOURCES := $(shell find pwa/src pwa/public -type f 2>/dev/null) pwa/index.html pwa/vite.config.js pwa/package.json

.PHONY: run test test-pg bench lint setup pwa db test-packages wrk clean help

help:
	@echo "make run    - set up and start the server on SQLite (http://127.0.0.1:8000)"
	@echo "make test   - set up and run the whole test suite (SQLite; DATABASE_URL/REDIS_URL for PostgreSQL+Redis)"
	@echo "make bench  - benchmarks, printed as ratios against baselines measured in the same run"
	@echo "make lint   - ruff, mypy, the import contract (lint-imports), ESLint"

$(STAMPS):
	@mkdir -p $(STAMPS)

$(STAMPS)/venv: requirements.lock pyproject.toml | $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(STAMPS)/npm: pwa/package-lock.json pwa/package.json | $(STAMPS)
	cd pwa && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

pwa/dist/index.html: $(STAMPS)/npm $(PWA_SOURCES)
	cd pwa && npm run build --silent
	@touch $@

setup: $(STAMPS)/venv pwa/dist/index.html

pwa: pwa/dist/index.html

db: $(STAMPS)/venv
	$(BIN)/changxiang migrate
	$(BIN)/changxiang load-content

# development mode (README): SMS sign-in codes on the console, the Stripe stand-in when no keys are set
run: setup db
	CHANGXIANG_DEV=$${CHANGXIANG_DEV:-1} $(BIN)/changxiang run

# Debian packages the tests use: Chromium (not a downloaded browser) for the end-to-end tests, CJK
# fonts for its screenshots, and zbar + librsvg to read the pass QR as an ordinary reader would.
DEBIAN_TEST_PACKAGES := chromium fonts-noto-cjk zbar-tools librsvg2-bin ffmpeg
test-packages:
	@{ test -x /usr/bin/chromium && command -v zbarimg >/dev/null && command -v rsvg-convert >/dev/null && command -v ffmpeg >/dev/null; } || \
	  { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(DEBIAN_TEST_PACKAGES) >/dev/null; }

wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }

# `make test` is the lint, the PWA's unit tests (Vitest) and the whole pytest suite.
test: setup test-packages lint
	cd pwa && npm run --silent test:unit
	$(BIN)/pytest -q

# The second pass CI runs: the same suite on PostgreSQL and Redis.
test-pg:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 $(MAKE) test

bench: setup wrk
	$(BIN)/python -m bench

# ruff (style), mypy (strict on lib/ and every services.py: pyproject.toml [tool.mypy]), the floors of
# ARCHITECTURE.md (lint-imports: pyproject.toml [tool.importlinter]) and ESLint on the PWA.
lint: $(STAMPS)/venv $(STAMPS)/npm
	$(BIN)/ruff check backend integrations tests bench tools
	$(BIN)/ruff format --check --quiet backend integrations tests bench tools
	MYPY=$(BIN)/mypy bash tools/typecheck.sh
	$(BIN)/lint-imports --no-cache
	cd pwa && npm run --silent lint

clean:
	rm -rf $(STAMPS) $(VENV) pwa/node_modules pwa/dist var *.egg-info
