# wavecast: `make demo` runs the main job on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/smartnation

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck bench faults clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || (echo "wavecast needs Python 3.11 or newer" >&2; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) ## The whole story on the embedded default (SQLite, in-process, .eml outbox)
	$(BIN)/python -m frontends.demo $(EXAMPLE)

test: $(STAMP) ## Install what the tests need into .venv and run the whole suite
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --durations=15

lint: $(STAMP) ## ruff lint and format check, import-linter's layer contracts, mypy
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) ## Benchmarks: ratios against baselines measured in the same run
	$(BIN)/python -m bench

faults: $(STAMP) ## Fault-injection and fuzz suites at full size; worker and scheduler tests on SQLite too
	WAVECAST_FAULTS_FULL=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m faults tests
	WAVECAST_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_*.py
	WAVECAST_TEST_ALL_DATABASES=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m slow tests

clean: ## Remove the demo's database, outbox and previews
	rm -rf wavecast.db wavecast.db-wal wavecast.db-shm outbox preview report.html
