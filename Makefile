PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
OUT    ?= out
WORKERS ?= 2

.PHONY: install clean-corpus test eval bench clean

$(VENV)/.installed: pyproject.toml pipeline/text/_native.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -qq -e '.[dev,ray]'
	touch $@

install: $(VENV)/.installed

## Clean the sample corpus in seeds/ with the default config and the local executor.
clean-corpus: install
	$(PY) -m pipeline run configs/default.yaml --input seeds --output $(OUT) --workers $(WORKERS)

## Run the test suite (slow tests included, each once).
test: install
	$(PY) -m pytest -q

## Score the pipeline on ../shared/eval/dev (only where ../shared is present).
eval: install
	$(PY) scripts/eval_dev.py

bench: install
	$(PY) scripts/bench.py

clean:
	rm -rf $(OUT) .pytest_cache
