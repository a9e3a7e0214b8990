# Two commands matter: `make run` (the demo) and `make test` (lint, types, tests).
# Both create .venv on first use; they need only python3 and pip.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/esmsim run config.yaml

lint: $(VENV)/.test-installed
	$(BIN)/ruff format --check esmsim tests bench
	$(BIN)/ruff check esmsim tests bench
	$(BIN)/mypy --strict esmsim

typecheck: lint

pytest: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q

# pytest exits 5 when it collected no test; any non-zero exit fails the target.
test: lint pytest

# Every benchmark, short runs (a smoke test); the full targets: bench/run_all.py without --quick.
bench: $(VENV)/.test-installed
	$(BIN)/python bench/run_all.py --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
