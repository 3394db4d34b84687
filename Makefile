# Every target sets up what it needs on a fresh machine: a .venv from requirements-dev.txt
# and Azurite from package-lock.json.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install lint test demo bench check-infra clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: install lint
	$(PY) -m pytest -q

demo: install
	$(PY) -m rotators demo

bench: install
	$(PY) benchmarks/cold_start.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .hypothesis
