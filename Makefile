# Everyday commands. `make demo` and `make test` work on a fresh clone: they install uv
# (if missing) and the locked environment first.
SHELL := /bin/bash
# uv from PATH, else a private copy in .tools/ (installed with pip from the package registry).
UV ?= $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
export UV_PYTHON ?= 3.11

.PHONY: setup demo test lint fmt bench clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

setup: .venv/.synced

demo: setup
	$(UV) run --frozen lupa demo

test: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen pytest

bench: setup
	$(UV) run --frozen python bench/run_all.py

lint: setup
	$(UV) run --frozen ruff check .

fmt: setup
	$(UV) run --frozen ruff format .

clean:
	rm -rf var .pytest_cache .ruff_cache .tools
