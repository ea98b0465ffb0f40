# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REGION ?= demo
PORT ?= 5000

.PHONY: run test build serve bench lint format demo-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files so that a re-run only reinstalls when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# axe-core (accessibility checks in the browser tests) comes from the npm registry.
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/axe axe-core@4 \
	    || echo "could not install axe-core: the accessibility tests will skip"; \
	else echo "npm not found: the accessibility tests will skip (.ci/run installs npm)"; fi
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/placeintel build $(REGION)
	$(BIN)/placeintel serve $(REGION) --port $(PORT)

build: $(VENV)/.installed
	$(BIN)/placeintel build $(REGION)

serve: $(VENV)/.installed
	$(BIN)/placeintel serve $(REGION) --port $(PORT)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# On top of the dev install (which also fetches axe-core for the browser tests).
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check placeintel tests benchmarks
	$(BIN)/ruff format --check placeintel tests benchmarks

format: $(VENV)/.installed-dev
	$(BIN)/ruff format placeintel tests benchmarks
	$(BIN)/ruff check --fix placeintel tests benchmarks

demo-data: $(VENV)/.installed
	$(BIN)/placeintel demo-data

clean:
	rm -rf $(VENV) releases .pytest_cache .ruff_cache
