# Two set-up commands for a fresh machine: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test test-slow lint bench conformance clientsuite clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (or run: make PY=python3 ...)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# setup.py builds the optional C accelerator (src/streamlite/_speedups.c) in place:
# a changed C source is rebuilt by installing again
$(STAMP): $(BIN)/python pyproject.toml setup.py src/streamlite/_speedups.c src/streamlite/_fastpath.c src/streamlite/_readpath.c src/streamlite/_fastpath.h
	$(BIN)/pip install -q -e '.[app]'
	@touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml setup.py src/streamlite/_speedups.c src/streamlite/_fastpath.c src/streamlite/_readpath.c src/streamlite/_fastpath.h
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(STAMP)

# options for `streamlite run`: make run PORT=8150, make run ARGS="--port 8150 --demo 5"
PORT ?=
ARGS ?=
run: $(STAMP)
	$(BIN)/streamlite run $(if $(PORT),--port $(PORT)) $(ARGS)

# The suite waits on real servers and processes far more than it computes: two pytest
# workers (pytest-xdist, one test file per worker at a time) halve its wall time.
# Tests marked slow (hundreds of kills, long fuzzing) run in CI after it: make test-slow.
WORKERS ?= 2

# The suite runs once as installed (with the C accelerator when it was built: see
# streamlite/accel.py), then the tests that cover the code with compiled twins run
# again on the pure-Python path (STREAMLITE_PURE=1), so neither path goes untested:
# the engine and the hypothesis twin tests (tests/engine: Stream.entries, encode),
# the differential tests against Redis 8.2 (tests/diff: replies encoded by
# resp.encode), the wire (test_protocol.py; test_stream_wire_redis.py: XRANGE's and
# XREAD's pre-encoded RawResp replies against Redis byte for byte), the embedded
# conversion (tests/embedded/test_convert.py) and the loaders (test_dump_restore.py,
# test_rdb.py, test_dump_redis.py: listpacks to nodes).
PURE_TESTS := tests/engine tests/diff tests/server/test_protocol.py \
	tests/server/test_stream_wire_redis.py tests/embedded/test_convert.py \
	tests/persistence/test_dump_restore.py tests/persistence/test_rdb.py \
	tests/persistence/test_dump_redis.py

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	@$(BIN)/python -c "from streamlite import accel; print(accel.describe())"
	$(BIN)/python -m pytest -m "not slow" -n $(WORKERS) --dist loadfile
	STREAMLITE_PURE=1 $(BIN)/python -m pytest -m "not slow" -n $(WORKERS) --dist loadfile \
		$(PURE_TESTS)

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

# redis-py's own test suite against streamlite and Redis 8.2, compared test by test
# (downloads redis-py's sdist from PyPI; about 3 minutes; also part of make test-slow)
clientsuite: $(TEST_STAMP)
	$(BIN)/python -m tests.clientsuite.redispy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
