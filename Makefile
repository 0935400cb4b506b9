# Every target sets up what it needs: .venv is created if missing and the package
# with its extras is (re)installed whenever pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hptaa-installed

.PHONY: demo test lint typecheck unit perf clean

demo: $(STAMP)
	$(BIN)/hptaa demo

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check hptaa_lab tests scripts examples
	$(BIN)/ruff format --check hptaa_lab tests scripts examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

perf: $(STAMP)
	$(BIN)/python scripts/bench_perf.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,bench,jupyter]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
