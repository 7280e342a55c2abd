# wavecast: `make demo` runs the main job on the embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two install stamps: the demo needs the package only; the tests, linters and browsers come
# with `make test` (installing them for the demo took most of a newcomer's first minutes).
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
EXAMPLE := examples/smartnation

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck bench faults screenshots clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || (echo "wavecast needs Python 3.11 or newer" >&2; exit 1)
	@echo "==> creating $(VENV), with a current pip (older ones resolve and install slower)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# --no-compile: Python compiles each module the first time it is imported, instead of pip
# compiling every file of every package up front (most of the install's time). The demo keeps
# what it compiled (PYTHONDONTWRITEBYTECODE is lifted for it), so only its first step pays.
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing wavecast and its dependencies into $(VENV) (the test tools come with make test)"
	$(BIN)/python -m pip install --no-compile --progress-bar on -e .
	@touch $(DEMO_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "==> installing wavecast with the test tools into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e '.[test]'
	@touch $(TEST_STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP) ## The whole story on the embedded default (SQLite, in-process, .eml outbox)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m frontends.demo $(EXAMPLE) $(if $(AS_OF),--as-of $(AS_OF))

test: $(TEST_STAMP) ## Install what the tests need into .venv and run the whole suite
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --durations=15

lint: $(TEST_STAMP) ## ruff lint and format check, import-linter's layer contracts, mypy
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# BENCH_ARGS, e.g. "--growth-sizes 10000,100000,1000000" (the growth charts up to 1M: hours more) or
# "--only throughput,post_office". The django-post-office peer's environment is made on first use.
bench: $(TEST_STAMP) ## Benchmarks: ratios against baselines measured in the same run, charts into docs/
	$(BIN)/python -m bench $(BENCH_ARGS)

faults: $(TEST_STAMP) ## Fault-injection and fuzz suites at full size; worker and scheduler tests on SQLite too
	WAVECAST_FAULTS_FULL=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m faults tests
	WAVECAST_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_*.py
	WAVECAST_TEST_ALL_DATABASES=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m slow tests

screenshots: $(TEST_STAMP) ## Every page of the web app at desktop and phone width, into docs/screenshots/
	$(BIN)/python docs/screenshots.py

clean: ## Remove the demo's database, outbox and previews
	rm -rf wavecast.db wavecast.db-wal wavecast.db-shm outbox preview report.html .wavecast-demo-token
