# KDCS: `make run` serves the demo company on SQLite; `make test` runs the test suite.
# Both bootstrap .venv themselves; only Python 3.11 is needed.
# The distribution's Python 3.11 when it has one with venv (Debian builds it with PGO and LTO:
# ~15 % less CPU a request than a plain source build such as pyenv's default, see README's
# benchmark), the interpreter a deployment's `python3 -m venv` uses; else python3 on the PATH.
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 && echo /usr/bin/python3.11 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := kdcs

.PHONY: run test test-e2e install install-dev translations lint bench clean which-python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	$(BIN)/flask compile-translations

run: $(VENV)/.installed translations
	$(BIN)/flask db upgrade
	$(BIN)/flask tickets seed-reference
	$(BIN)/flask seed-demo --if-empty
	@echo "KDCS: http://127.0.0.1:$(PORT)  (a Huey worker runs beside it for imports)"
	$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Real-browser tests only (Debian's Chromium at /usr/bin/chromium; skipped if missing, failed when CI=true).
test-e2e: $(VENV)/.installed-dev translations
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache

which-python:  # the interpreter a new .venv is built on
	@echo ".venv is built on $(PYTHON): $$($(PYTHON) --version 2>&1)"
