# Tsunagaru: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test deps deps-test lint typecheck pytest pytest-pg mypyc mypyc-clean fuzz fuzz-eap fuzz-ttls fuzz-peap fuzz-toml fuzz-zone fuzz-radius bench clean

demo: deps $(if $(MYPYC),mypyc)
	$(BIN)/tsunagaru demo $(DEMO_ARGS)

test: deps-test lint typecheck pytest pytest-pg

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

# The other parts' store-backed tests again on a private PostgreSQL (tests/support/pgserver.py); tests/store,
# tests/sites and tests/idp/test_store.py already run on both backends in `pytest`.
PG_TESTS := tests/web/test_matrix.py tests/web/dashboard/test_incidents_api.py tests/web/test_apconfig.py \
	tests/web/enrol/test_api.py tests/web/test_bad_input.py tests/web/dashboard/test_idps.py
pytest-pg:
	TSUNAGARU_TEST_DB=postgresql $(BIN)/pytest -q $(PG_TESTS)

# Long atheris runs (FUZZ_RUNS each, at nice FUZZ_NICE; short runs are part of the tests): `make fuzz` runs
# them all. Each logs to fuzz/runs/NAME.log (git-ignored; the last line says "Done N runs") and writes any
# crashing input there as fuzz/runs/NAME-crash-*.
FUZZ_RUNS ?= 10000000
FUZZ_NICE ?= 19
FUZZ_LOGS := fuzz/runs
fuzz_run = mkdir -p $(FUZZ_LOGS) && set -o pipefail && nice -n $(FUZZ_NICE) $(BIN)/python fuzz/$(1).py \
	-atheris_runs=$(FUZZ_RUNS) -artifact_prefix=$(FUZZ_LOGS)/$(1)- 2>&1 | tee $(FUZZ_LOGS)/$(1).log

fuzz: fuzz-radius fuzz-eap fuzz-ttls fuzz-peap fuzz-toml fuzz-zone

fuzz-radius: deps-test
	$(call fuzz_run,fuzz_radius)

fuzz-eap: deps-test
	$(call fuzz_run,fuzz_eap)

fuzz-ttls: deps-test
	$(call fuzz_run,fuzz_ttls_avp)

fuzz-peap: deps-test
	$(call fuzz_run,fuzz_peap_tlv)

fuzz-toml: deps-test
	$(call fuzz_run,fuzz_toml)

fuzz-zone: deps-test
	$(call fuzz_run,fuzz_zonefile)

# The ANP's sans-IO hot path compiled with mypyc, in place (setup.py lists the modules; `make demo MYPYC=1`
# runs the demo on it). Needs gcc and python3-dev (DEMO_DEBS). `make mypyc-clean` goes back to pure Python,
# e.g. before `make test`: compiled classes cannot be monkeypatched, and some tests do.
mypyc: deps
	$(BIN)/python -m pip install -q 'mypy>=1.10'
	TSUNAGARU_MYPYC=1 $(BIN)/python setup.py -q build_ext --inplace

mypyc-clean:
	find src -name '*.cpython-*.so' -delete
	rm -rf build

bench: deps-test
	$(BIN)/python bench/radius_codec.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
