# Every target sets itself up: a virtual environment in .venv, dependencies
# installed once (re-installed only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench bench-quick soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dialogue-engine serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check dialogue_engine tests bench
	$(BIN)/ruff format --check dialogue_engine tests bench
	$(BIN)/mypy

.PHONY: audit
# pip-audit of every package installed in .venv (the pins and what they pull in);
# says NOT AUDITED, and passes, where no vulnerability service can be reached.
audit: $(STAMP)
	$(PYTHON) .ci/audit-dependencies

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# Schemathesis against a real server: FUZZ_EXAMPLES per operation and phase,
# a random seed unless FUZZ_SEED is given (see README "Fuzzing").
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= random
.PHONY: fuzz
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest tests/fuzz -s

# Three minutes of mixed reads and writes against a real server on 127.0.0.1:
# no error answer, server RSS growth under 10% after warm-up, p99 printed.
soak: $(STAMP)
	$(BIN)/python -m bench.soak --seconds 180

clean:
	rm -rf $(VENV) bench/results.json
