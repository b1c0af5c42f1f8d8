PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= out
WORKERS ?= 2

.PHONY: install clean-corpus test eval eval-real bench clean

# The core package (what a run needs); the compiled kernels are built here when a C compiler is there.
$(VENV)/.core: pyproject.toml pipeline/text/_native.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -qq -e .
	touch $@

# The test tools and the Ray extra, for the test suite.
$(VENV)/.dev: $(VENV)/.core
	$(PY) -m pip install -qq -e '.[dev,ray]'
	touch $@

install: $(VENV)/.core

## Clean the sample corpus in seeds/ with the default config and the local executor.
clean-corpus: install
	$(PY) -m pipeline run configs/default.yaml --input seeds --output $(OUT) --workers $(WORKERS)

## Run the test suite (slow tests included, each once).
test: $(VENV)/.dev
	$(PY) -m pytest -q

## Score the pipeline on the evaluation corpus, where it is present (../shared/eval/dev).
eval: install
	$(PY) scripts/eval_dev.py

## Score the pipeline on the hand-labelled real web pages, where they are present (../shared/eval/real/dev).
eval-real: install
	$(PY) scripts/eval_real.py

## Speed: MB/s per core, wall time, peak memory (docs/performance.md).
bench: install
	$(PY) scripts/bench.py

clean:
	rm -rf $(OUT) .pytest_cache
