# Two set-up commands for a fresh machine: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test test-slow lint bench conformance clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (or run: make PY=python3 ...)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[app]'
	@touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/streamlite run

# The suite waits on real servers and processes far more than it computes: two pytest
# workers (pytest-xdist, one test file per worker at a time) halve its wall time.
# Tests marked slow (hundreds of kills, long fuzzing) run in CI after it: make test-slow.
WORKERS ?= 2

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -m "not slow" -n $(WORKERS) --dist loadfile

test-slow: $(TEST_STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

$(BENCH_STAMP): $(TEST_STAMP) pyproject.toml
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

# Redis's own Tcl test suite against streamlite and redis-server (needs tclsh and a
# deb-src line for `apt-get source redis`, or REDIS_SRC=<a redis source tree>)
conformance: $(TEST_STAMP)
	$(BIN)/python -m tests.conformance.redis_suite --out docs/conformance-results.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
