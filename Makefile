# Every target sets up what it needs on a fresh machine: a .venv from requirements-dev.txt
# and Azurite from package-lock.json.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install lint unit test demo bench check-infra clean

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
	$(PY) -m mypy

# The pure core and the static checks, in seconds: no stand-in, no Azurite.
unit: $(VENV)/.installed
	$(PY) -m pytest -q -n 0 -m "not stand_in and not slow"

test: install lint check-infra
	$(PY) -m pytest -q

demo: install
	$(PY) -m localazure.demo

bench: install
	$(PY) benchmarks/cost.py

.venv-checkov/.installed: requirements-infra.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet -r requirements-infra.txt
	touch $@

# Offline checks of infra/: Checkov (failed checks and unparsable files fail); every resource body
# against Azure's published types and every value Bicep needs at the start of a deployment
# (tools/bicep-types); every action of every custom role against Microsoft's published operations
# (tools/rbac-actions). Both checkers are vendored, must report 0 findings, and run their own tests.
check-infra: $(VENV)/.installed .venv-checkov/.installed
	BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov -d infra --framework bicep --skip-download --quiet \
		--compact -o json > .checkov.json || true
	$(PY) infra/checkov_gate.py .checkov.json
	$(PY) tools/bicep-types/check.py infra
	$(PY) tools/rbac-actions/check.py infra
	cd tools/bicep-types && ../../$(PY) -m unittest -q test_check.py
	cd tools/rbac-actions && ../../$(PY) -m unittest -q test_check.py

clean:
	rm -rf $(VENV) .venv-checkov node_modules .pytest_cache .ruff_cache .hypothesis .checkov.json
