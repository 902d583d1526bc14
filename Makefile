# jobdeck: `make run` starts the TUI, `make test` runs every check. Only python3 and make needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.dev-installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck layers pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# compileall: the editable install leaves our modules uncompiled, and with
# PYTHONDONTWRITEBYTECODE set Python compiles them again at every start.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q core console >/dev/null
	touch $@

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q core console >/dev/null
	touch $@ $(STAMP)

run: $(STAMP)
	@$(BIN)/python -m compileall -q core console >/dev/null
	$(BIN)/jobdeck

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

layers: $(DEV_STAMP)
	$(BIN)/lint-imports

pytest: $(DEV_STAMP)
	$(BIN)/pytest -q --durations=25

test: lint typecheck layers pytest

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/runs_paging.py --rows 200000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
