# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml examples/plugins/supportkit-mariadb/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e examples/plugins/supportkit-mariadb
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m supportkit demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

BENCH := .venv-bench/bin/python

# Benchmarks run in their own environment (.venv-bench, with the peers they compare against);
# figures are written down in benchmarks/README.md. Never part of `make test`.
bench:
	bash benchmarks/bootstrap.sh
	$(BENCH) benchmarks/bench_lifecycle.py
	$(BENCH) benchmarks/bench_routing.py
	$(BENCH) benchmarks/bench_calendar.py
	$(BENCH) benchmarks/bench_kb.py
	$(BENCH) benchmarks/bench_email.py
	$(BENCH) benchmarks/bench_metrics.py
	$(BENCH) benchmarks/bench_web.py
	$(BENCH) benchmarks/bench_import.py
	$(BENCH) benchmarks/bench_relay.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache supportkit-demo.sqlite3*
