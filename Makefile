# Everyday commands. `make demo` and `make test` work on a fresh clone: they install uv
# (if missing) and the locked environment first.
SHELL := /bin/bash
# uv from PATH, else a private copy in .tools/ (installed with pip from the package registry).
UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
export UV_PYTHON ?= 3.11

.PHONY: setup debian-packages browser demo test test-distributed reliability lint fmt bench clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

setup: .venv/.synced

# Debian packages the tests use: Chromium for the browser test of the reports (Playwright
# drives it; it never downloads a browser) and docker-compose, which validates
# docker-compose.yml (there is no Docker engine here). Installed when running as root with
# apt-get; otherwise say how.
DEBIAN_PACKAGES := chromium docker-compose
debian-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q $$missing >/dev/null || \
	      { apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; }; \
	  else \
	    echo "missing Debian packages:$$missing (install them for the browser and compose tests)"; \
	  fi; fi

browser: debian-packages

demo: setup
	$(UV) run --frozen lupa demo

test: setup debian-packages
	$(UV) run --frozen ruff check .
	$(UV) run --frozen pytest

# Airflow's production topology natively: PostgreSQL, Redis, api-server, scheduler,
# dag-processor and two Celery workers as processes (also part of `make test`).
test-distributed: setup
	$(UV) run --frozen pytest -m distributed

# The fault catalog (testbed.fault_catalog) audited fault by fault through Airflow, then all
# at once with bad registry rows: a row per fault and a JSON summary (lupa.reliability).
reliability: setup
	$(UV) run --frozen python -m lupa.reliability

bench: setup
	$(UV) run --frozen python bench/run_all.py

lint: setup
	$(UV) run --frozen ruff check .

fmt: setup
	$(UV) run --frozen ruff format .

clean:
	rm -rf var .pytest_cache .ruff_cache .tools
