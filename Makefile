# countysim: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= results/baseline

.PHONY: run test lint reference venv clean bench bench-quick

# Bootstrap: a .venv from the first Python 3.12+ on the machine (pyenv's shim honours
# .python-version), then the project with its dev extras. Re-installs when pyproject changes.
$(STAMP): pyproject.toml
	@set -e; \
	if [ ! -x $(PY) ]; then \
	  for cand in python3 python3.13 python3.12 python; do \
	    if command -v $$cand >/dev/null 2>&1 && $$cand -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	      echo "creating $(VENV) with $$($$cand --version)"; $$cand -m venv $(VENV); break; \
	    fi; \
	  done; \
	  if [ ! -x $(PY) ]; then echo "error: no Python 3.12+ found (install one, e.g. pyenv install 3.12)" >&2; exit 1; fi; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m experiments.viz.assets
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/countysim run configs/scenarios/baseline.yaml --out $(OUT)
	$(VENV)/bin/countysim report $(OUT)

test: $(STAMP)
	$(VENV)/bin/ruff check sim experiments tests benchmarks
	$(PY) -m pytest -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check sim experiments tests benchmarks
	$(VENV)/bin/ruff format --check sim experiments tests benchmarks

# Speed and memory: every benchmark, raw results in benchmarks/results/, their tables written
# into docs/PERFORMANCE.md (benchmarks/report.py; the analysis around them is by hand).
# Slow (minutes); not part of `make test`.
bench: $(STAMP)
	$(PY) -m benchmarks.presets --sizes small median large --repeats 3 --profile
	$(PY) -m benchmarks.household_decision --sizes 10000 100000 1000000 --repeats 5
	$(PY) -m benchmarks.scaling
	$(PY) -m benchmarks.replan_scaling
	$(PY) -m benchmarks.routing_gap --instances 200
	$(PY) -m benchmarks.bench_runner
	$(PY) -m benchmarks.report

# A quick speed regression guard (warns on a slowdown over 25%; never fails).
bench-quick: $(STAMP)
	$(PY) -m benchmarks.quick

# Regenerate the golden files of the reference scenarios and show what changed.
# After a change of model behaviour, first run the statistical equivalence check (20 seeds
# per reference scenario before and after, a few minutes) and explain any real difference:
#   $(PY) -m experiments.run.equivalence --before <last commit of the old behaviour>
reference: $(STAMP)
	$(PY) -m experiments.run.reference --update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
