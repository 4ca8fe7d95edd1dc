# Everyday commands. `make demo` and `make test` work on a fresh clone: they install uv
# (if missing) and the locked environment first.
SHELL := /bin/bash
# uv from PATH, else a private copy in .tools/ (installed with pip from the package registry).
UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
export UV_PYTHON ?= 3.11

.PHONY: setup browser demo test test-distributed lint fmt bench clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

setup: .venv/.synced

# Debian's Chromium, for the browser test of the reports (Playwright drives it; it never
# downloads a browser). Installed when running as root with apt-get; otherwise say how.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null || \
	      { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	  else \
	    echo "Chromium is missing: install Debian's chromium package for the browser test"; \
	  fi; }

demo: setup
	$(UV) run --frozen lupa demo

test: setup browser
	$(UV) run --frozen ruff check .
	$(UV) run --frozen pytest

# Airflow's production topology natively: PostgreSQL, Redis, api-server, scheduler,
# dag-processor and two Celery workers as processes (also part of `make test`).
test-distributed: setup
	$(UV) run --frozen pytest -m distributed

bench: setup
	$(UV) run --frozen python bench/run_all.py

lint: setup
	$(UV) run --frozen ruff check .

fmt: setup
	$(UV) run --frozen ruff format .

clean:
	rm -rf var .pytest_cache .ruff_cache .tools
