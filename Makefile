# tcpbook — an interactive Jupyter textbook about TCP connection management.
#
#   make book    set everything up, then open the book in JupyterLab
#   make test    set everything up, then run every check (what CI runs)
#
# Set-up is automatic and incremental: a virtual environment in .venv, the
# package installed into it in editable mode with its test tools (re-done only
# when pyproject.toml changes), and Graphviz's `dot` (plus Chromium for the
# browser test), installed with apt-get when run as root on Debian/Ubuntu.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PIP    := $(PY) -m pip --disable-pip-version-check
PYTEST := $(PY) -m pytest

NOTEBOOK  ?= notebooks/00-contents.ipynb
NBVAL_CFG := nbval.cfg
NBVAL     := --nbval --nbval-current-env --nbval-sanitize-with $(NBVAL_CFG) --nbval-cell-timeout=300

# Programs installed into the venv (jupyter, tcpbook, ...) come first on PATH,
# for us and for anything the tests start.
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Jupyter refuses to start as root unless told it is fine.
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: help setup setup-browser book site test lint format unit notebooks notebooks-build browser bench clean distclean

help:
	@echo "tcpbook — an interactive Jupyter textbook about TCP connection management"
	@echo
	@echo "  make book       set up, then open the book in JupyterLab"
	@echo "  make site       build the static web edition into build/site/ (explorers work without a kernel)"
	@echo "  make test       set up, then run every check (lint, types, tests, notebooks, browser)"
	@echo "  make lint       ruff check + mypy --strict on the tcpbook package"
	@echo "  make format     ruff format + ruff check --fix"
	@echo "  make unit       pytest tests/ (without the browser test)"
	@echo "  make notebooks  re-run every notebook and compare with its stored outputs (nbval)"
	@echo "  make notebooks-build  update the navigation links, then re-execute and store every notebook"
	@echo "  make browser    the real-browser test (headless Chromium + JupyterLab)"
	@echo "  make bench      run the benchmarks (python -m tcpbook.bench)"
	@echo "  make clean      remove caches and build output; make distclean also removes .venv"

# ----------------------------------------------------------------- set-up

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "tcpbook needs Python 3.10 or newer; '$(PYTHON)' is $$($(PYTHON) -V 2>&1)." >&2; \
	    echo "Run e.g. 'make PYTHON=python3.11 $(MAKECMDGOALS)'." >&2; exit 1; }
	@echo "==> creating $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "==> installing tcpbook and its test tools into $(VENV)"
	@$(PIP) install -q --upgrade pip
	@$(PIP) install -q -e '.[test]'
	@touch $@

# An editable install made before tcpbook/__init__.py existed maps tcpbook as a
# namespace package and would keep ignoring __init__.py: re-install in that case.
# (-I: look at the installed mapping, not at ./tcpbook through the current directory.)
FIX_EDITABLE = if [ -f tcpbook/__init__.py ] && ! $(PY) -I -c \
	  'import importlib.util as u, sys; s = u.find_spec("tcpbook"); sys.exit(s is None or s.origin is None)'; \
	then echo "==> re-installing tcpbook in editable mode (its package layout changed)"; \
	  $(PIP) install -q --no-deps -e . ; fi

# The compiled core (tcpbook/native.py): built with mypyc when missing or stale, in about 20 s;
# without a C compiler the book runs as pure Python (`tcpbook native` says which runs).
NATIVE_UPDATE = $(VENV)/bin/tcpbook native update

setup: $(STAMP)
	@$(FIX_EDITABLE)
	@$(NATIVE_UPDATE)
	@tools/setup.sh graphviz

setup-browser: $(STAMP)
	@$(FIX_EDITABLE)
	@$(NATIVE_UPDATE)
	@tools/setup.sh graphviz chromium capture

# ----------------------------------------------------------------- the book

# Serves the repository root (as Binder does) and opens the contents notebook;
# extra options go in JUPYTER_ARGS, e.g. make book JUPYTER_ARGS="--port=9999 --no-browser".
JUPYTER_ARGS ?=
book: setup
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir=. \
	  --LabApp.default_url=/lab/tree/$(NOTEBOOK) $(JUPYTER_ARGS)

# ----------------------------------------------------------------- the web edition

# The book as a static web site in build/site/ (index.html = the contents): stored outputs, no
# re-execution. npm installs the Pyodide runtime the explorers use (package-lock.json pins it).
SITE_DIR ?= build/site
NODE_STAMP := node_modules/.package-lock.json

$(NODE_STAMP): package.json package-lock.json
	@tools/setup.sh node
	npm ci --no-audit --no-fund
	@touch $@

site: setup $(NODE_STAMP)
	$(PY) tools/site/build.py --out $(SITE_DIR)

# ----------------------------------------------------------------- checks

# Runs every check even when an earlier one fails, then fails if any did.
test: setup-browser
	@failed=""; passed=0; \
	for step in lint unit notebooks browser; do \
	  echo; echo "==> make $$step"; \
	  if $(MAKE) --no-print-directory $$step; then passed=$$((passed + 1)); \
	  else failed="$$failed $$step"; fi; \
	done; \
	echo; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; fi; \
	nfail=$$(wc -w <<< "$$failed"); \
	echo "checks: $$passed passed, $$nfail failed"; \
	[ -z "$$failed" ]

# Both linters always run, so one report shows every problem.
lint: setup
	@rc=0; \
	echo "$(PY) -m ruff check ."; $(PY) -m ruff check . || rc=1; \
	echo "$(PY) -m mypy --strict -p tcpbook"; $(PY) -m mypy --strict -p tcpbook || rc=1; \
	exit $$rc

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# pytest exits 5 when it collected nothing: that is a failure here, with a reason.
# Every test runs on the build `tcpbook native` reports (compiled when it could be built); the
# runs that pin behaviour down run again as pure Python, so both builds answer alike.
PURE_TESTS := tests/test_golden.py tests/test_runtime.py tests/test_core_transitions.py \
	tests/test_profiles.py tests/test_captures.py tests/test_native.py
unit: setup
	@$(VENV)/bin/tcpbook native status
	@$(PYTEST) -m "not browser" tests/; rc=$$?; \
	[ $$rc -ne 5 ] || echo "error: pytest collected no tests in tests/" >&2; \
	[ $$rc -ne 0 ] || { echo "==> again as pure Python (TCPBOOK_PURE=1)"; \
	  TCPBOOK_PURE=1 $(PYTEST) -q -m "not browser" $(PURE_TESTS); rc=$$?; }; \
	exit $$rc

notebooks: setup
	@$(PYTEST) $(NBVAL) notebooks/; rc=$$?; \
	[ $$rc -ne 5 ] || echo "error: nbval collected no notebook cells in notebooks/" >&2; \
	exit $$rc

# Writes the navigation cells, then executes every chapter in place (deterministically) so the
# book is committed with its outputs; NB="notebooks/02-*.ipynb" limits it to some chapters.
NB ?=
notebooks-build: setup
	$(PY) tools/nav.py
	$(PY) tools/build_notebooks.py $(NB)

browser: setup-browser
	@$(PYTEST) -m browser tests/; rc=$$?; \
	[ $$rc -ne 5 ] || echo "error: no test marked 'browser' found in tests/" >&2; \
	exit $$rc

bench: setup
	$(PY) -m tcpbook.bench

# ----------------------------------------------------------------- cleaning

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis tcpbook/_native
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
	  | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) node_modules
