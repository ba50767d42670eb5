# uprising: `make demo` runs the flagship scenario, `make test` lints, type-checks and tests.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test validate lint typecheck bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/uprising run kazakhstan-2022 --seed 7 --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q

validate: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m validation

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_vs_mesa.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
