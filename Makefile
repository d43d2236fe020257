# Tsunagaru: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
FUZZ_RUNS ?= 1000000

.PHONY: demo test deps deps-test lint typecheck pytest fuzz fuzz-eap fuzz-toml fuzz-zone bench clean

demo: deps
	$(BIN)/tsunagaru demo

test: deps-test lint typecheck pytest

deps:
	@scripts/install-deps.sh demo

deps-test:
	@scripts/install-deps.sh test

lint:
	$(BIN)/ruff check src tests $(wildcard bench fuzz)

typecheck:
	$(BIN)/mypy --strict src

pytest:
	$(BIN)/pytest -q

# Long fuzz run of the RADIUS decoder (a short run is part of the tests).
fuzz: deps-test
	$(BIN)/python fuzz/fuzz_radius.py -atheris_runs=$(FUZZ_RUNS)

fuzz-eap: deps-test
	$(BIN)/python fuzz/fuzz_eap.py -atheris_runs=$(FUZZ_RUNS)

# The TOML configuration readers and the zone-file reader (short runs are part of the tests).
fuzz: fuzz-toml fuzz-zone

fuzz-toml: deps-test
	$(BIN)/python fuzz/fuzz_toml.py -atheris_runs=$(FUZZ_RUNS)

fuzz-zone: deps-test
	$(BIN)/python fuzz/fuzz_zonefile.py -atheris_runs=$(FUZZ_RUNS)

bench: deps-test
	$(BIN)/python bench/radius_codec.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
