# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest docs bench bench-all clean differential-deps oidc-server clerk-js

# @clerk/backend, pinned by tests/differential/package-lock.json, for the differential test
# (tests/clerk/test_differential.py). Needs node and the npm registry.
DIFF_DIR := tests/differential
DIFF_STAMP := $(DIFF_DIR)/node_modules/.installed

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[tests,typing,docs,bench,demo]'
	touch $(STAMP)

$(DIFF_STAMP): $(DIFF_DIR)/package.json $(DIFF_DIR)/package-lock.json
	cd $(DIFF_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(DIFF_STAMP)

differential-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(DIFF_STAMP); \
	else echo "npm not found: the differential test against @clerk/backend will be skipped"; fi

# @clerk/clerk-js, pinned by clerkjs/package-lock.json: the local identity provider serves it to
# the example app's /clerk-js page and the browser test (never a CDN). Needs npm once. Only the
# bundle's static files are used: no package's install script runs.
CLERK_JS_DIR := clerkjs
CLERK_JS_STAMP := $(CLERK_JS_DIR)/node_modules/.installed

$(CLERK_JS_STAMP): $(CLERK_JS_DIR)/package.json $(CLERK_JS_DIR)/package-lock.json
	cd $(CLERK_JS_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

clerk-js:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(CLERK_JS_STAMP); \
	else echo "npm not found: the /clerk-js page and its browser test need @clerk/clerk-js and will be skipped"; fi

demo: $(STAMP) clerk-js
	$(PY) -m example_app

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

# The real OpenID Provider (oidc-provider, npm) the tests start on loopback; without npm the
# tests that need it are skipped and say so.
OIDC_SERVER := tests/oidc_server
OIDC_STAMP := $(OIDC_SERVER)/node_modules/.installed

$(OIDC_STAMP): $(OIDC_SERVER)/package.json $(OIDC_SERVER)/package-lock.json
	cd $(OIDC_SERVER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

oidc-server:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(OIDC_STAMP); \
	else echo "npm not found: the tests against a real OpenID Provider will be skipped"; fi

pytest: $(STAMP) differential-deps oidc-server clerk-js
	$(PY) -m pytest -q

test: lint typecheck docs pytest

docs: $(STAMP)
	$(PY) -m sphinx -q -W -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/bench_requests.py

# Every benchmark of docs/performance.rst (about 20 minutes); needs Debian's wrk and valgrind.
bench-all: bench
	$(PY) benchmarks/instructions.py
	$(PY) benchmarks/bench_gunicorn.py
	$(PY) benchmarks/bench_startup.py
	$(PY) benchmarks/bench_memory.py

clean:
	rm -rf $(VENV) docs/_build build dist *.egg-info $(DIFF_DIR)/node_modules \
		$(OIDC_SERVER)/node_modules $(CLERK_JS_DIR)/node_modules
