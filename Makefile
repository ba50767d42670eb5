# uprising: `make demo` runs the flagship scenario, `make test` lints, type-checks and tests.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test validate lint typecheck bench clean browser

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

# Debian's Chromium for the dashboard's browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || (test "$$(id -u)" = 0 && DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium missing and not installable (needs root and apt-get): browser tests will be skipped (a failure under CI=true)"

test: lint typecheck browser
	$(BIN)/python -m pytest -n 2 -q

validate: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m validation

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_vs_mesa.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
