# Every target sets up what it needs: .venv is created if missing, and the package
# with its extras (and the JupyterLab extension, built by npm) is reinstalled
# whenever pyproject.toml or the extension's sources change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hptaa-installed
SYSTEM_STAMP := $(VENV)/.system-deps
EXTENSION_SOURCES := labextension/package.json labextension/package-lock.json \
	$(wildcard labextension/src/*.ts) $(wildcard labextension/style/*)

.PHONY: demo test lint typecheck unit perf lab clean

demo: $(STAMP)
	$(BIN)/hptaa demo

test: $(STAMP) $(SYSTEM_STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check hptaa_lab tests scripts examples
	$(BIN)/ruff format --check hptaa_lab tests scripts examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/pytest -q --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/jupyter/nbval_sanitize.cfg \
		--nbval-cell-timeout=300 tests notebooks

perf: $(STAMP)
	$(BIN)/python scripts/bench_perf.py

# As root (a container), Jupyter refuses to start without --allow-root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab --ip=127.0.0.1 $(ALLOW_ROOT) --HptaaServer.store=$(CURDIR)/.hptaa/studies.db notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"

$(STAMP): pyproject.toml $(EXTENSION_SOURCES) | $(BIN)/python
	cd labextension && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m pip install --quiet -e ".[dev,bench,jupyter]"
	touch $(STAMP)

$(SYSTEM_STAMP): scripts/install_system_deps.sh | $(BIN)/python
	scripts/install_system_deps.sh
	touch $(SYSTEM_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache labextension/node_modules
