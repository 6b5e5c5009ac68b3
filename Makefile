# The two commands a newcomer needs are `make book` and `make test`; both create
# the virtual environment on first use. See README.md.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Where notebooks converted for nbmake go: nbmake skips any path containing
# `_build`, so they live in the project's cache instead.
NB_DIR := .cache/notebooks
# The chapters' code as notebooks, for ruff (which reads .ipynb cell by cell).
LINT_DIR := .cache/lint-chapters
CHAPTERS := $(wildcard book/0*.md)
# Chapters' code cells: 88 characters, the width of the book's content column. UP032, UP045
# and B007 are left out because the chapters show the original tutorial's code in its own style
# (str.format, Optional, an unused loop variable).
CHAPTER_RUFF := --line-length 88 --extend-ignore UP032,UP045,B007
CHAPTER_FORMAT := --line-length 88
export PYTHONDONTWRITEBYTECODE := 1
# The catalogue date of the sample service (EOPF_SAMPLE_DATE): the tutorial's by default.
# `make test` builds the book at the tutorial's date and runs the notebooks under nbmake at
# the current one, so every chapter runs once at each date and none runs twice.
TUTORIAL_DATE := 2025-06-18
CURRENT_DATE  := 2026-11-29
SAMPLE_DATE   ?= $(or $(EOPF_SAMPLE_DATE),$(TUTORIAL_DATE))
NOTEBOOK_DATE ?= $(CURRENT_DATE)
# The notebooks' sample service: its own process, one port above the book's (8765 by default),
# so the notebooks and the book build, run side by side by `make test`, do not share one server.
NOTEBOOK_PORT ?= $(shell echo $$(( $${EOPF_SAMPLE_PORT:-8765} + 1 )))

.PHONY: book test test-steps lint format unit notebooks linkcheck browser-test serve lab bench clean lock

# requirements-no-deps.txt holds xarray-eopf, installed without its dependencies because it
# declares zarr<3 while the book runs it on zarr 3 (that file says why; its real dependencies
# are pinned in requirements.txt). pip check then reports exactly that conflict, which
# KNOWN_CONFLICT accepts by name; any other conflict still fails the install.
KNOWN_CONFLICT := xarray-eopf 0.3.1 has requirement zarr<3,>=2.11

$(STAMP): requirements.txt requirements-no-deps.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-no-deps.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python tests/tools/pip_check.py --allow "$(KNOWN_CONFLICT)"
	@touch $@

## make book: build the HTML book, executing every notebook (errors and warnings are fatal),
## against the catalogue of EOPF_SAMPLE_DATE (default: the tutorial's, 2025-06-18).
book: $(STAMP)
	@# The execution cache is keyed on code only: a build at another date starts it afresh.
	@if [ -f _build/.sample-date ] && [ "$$(cat _build/.sample-date)" != "$(SAMPLE_DATE)" ]; \
	  then rm -rf _build/.jupyter_cache; fi
	@mkdir -p _build && echo "$(SAMPLE_DATE)" > _build/.sample-date
	@EOPF_SAMPLE_DATE=$(SAMPLE_DATE) $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going \
	  || { for f in _build/html/reports/*.err.log _build/html/reports/*/*.err.log; do \
	         [ -f "$$f" ] && { echo "=== $$f"; cat "$$f"; }; done; exit 1; }
	@echo "Book built: _build/html/index.html"

## make test: ruff, the unit tests, every notebook under nbmake at the current date, the
## internal link check, and the book built at the tutorial's date and opened page by page in
## headless Chromium. Three steps run at a time: the book build, the notebooks and the unit
## tests start first, each with its own sample service (the book's on EOPF_SAMPLE_PORT, the
## notebooks' on the next port, the unit tests' in-process), and each step's output is printed
## whole when it ends. Three, on the 2-core machine this was sized on, because the steps wait
## on the network and on simulated latency for much of their time: with two at a time the
## cores were busy about half of it. TEST_JOBS=1 runs them one by one.
TEST_JOBS ?= 3
test: $(STAMP)
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target \
	  SAMPLE_DATE=$(TUTORIAL_DATE) test-steps
# Longest chain first: make starts prerequisites in the order written.
test-steps: browser-test notebooks unit lint linkcheck

## make lint: ruff on helpers/ and tests/, and on the chapters' code cells (via jupytext).
lint: $(STAMP)
	$(BIN)/ruff check helpers tests
	$(BIN)/ruff format --check helpers tests
	@rm -rf $(LINT_DIR)
	@$(BIN)/python tests/tools/convert_notebooks.py book $(LINT_DIR) >/dev/null
	$(BIN)/ruff check $(CHAPTER_RUFF) $(LINT_DIR)/*.ipynb
	$(BIN)/ruff format --check $(CHAPTER_FORMAT) $(LINT_DIR)/*.ipynb

## make format: ruff format (and safe import fixes) on helpers/, tests/ and the chapters' code.
format: $(STAMP)
	$(BIN)/ruff check --fix-only --select I helpers tests
	$(BIN)/ruff format helpers tests
	$(BIN)/python tests/tools/format_chapters.py $(BIN)/ruff $(CHAPTERS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests -p no:cacheprovider

notebooks: $(STAMP)
	@rm -rf $(NB_DIR) && mkdir -p $(NB_DIR)
	$(BIN)/python tests/tools/convert_notebooks.py book $(NB_DIR)
	@# Last chapter first: the book build, run beside this by `make test`, starts with the first,
	@# so the two never run the same heavy chapter (05's triangulation, 07's slow network) at once.
	EOPF_SAMPLE_DATE=$(NOTEBOOK_DATE) EOPF_SAMPLE_PORT=$(NOTEBOOK_PORT) $(BIN)/python -m pytest --nbmake --nbmake-timeout=900 -p no:cacheprovider $$(ls -r $(NB_DIR)/*.ipynb)

## make linkcheck: internal links and references, with execution off and no network.
linkcheck: $(STAMP)
	$(BIN)/python tests/tools/linkcheck_config.py _config.yml .cache/linkcheck/_config.yml
	$(BIN)/jupyter-book build . --builder linkcheck --config .cache/linkcheck/_config.yml \
	  --path-output .cache/linkcheck --warningiserror --nitpick --keep-going

## make browser-test: build the book, open every page in headless Chromium (installed if missing).
browser-test: book
	CHROMIUM_PATH="$$(tests/browser/ensure_chromium.sh)" \
	  $(BIN)/python -m pytest tests/browser -p no:cacheprovider

## make lab: JupyterLab from the project's environment, chapters opening as notebooks
## (jupytext), the sample service started in the background. LAB_PORT=8888 by default.
LAB_PORT ?= 8888
lab: $(STAMP)
	$(BIN)/python -m helpers.lab --port $(LAB_PORT)

## make serve: run the sample service in the foreground (EOPF_SAMPLE_PORT, 8765 by default); it
## serves every supported date and prints the root of EOPF_SAMPLE_DATE's catalogue.
serve: $(STAMP)
	EOPF_SAMPLE_DATE=$(SAMPLE_DATE) $(BIN)/python -m helpers.sample_service

## make bench: every benchmark figure as a ratio against its reference, measured in one run.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks

## make clean: remove build outputs and the caches the project made (never book/ or .venv).
clean:
	rm -rf _build .cache .pytest_cache .ruff_cache
	find helpers tests -name __pycache__ -type d -prune -exec rm -rf {} +

## make lock: re-resolve requirements.in into exact pins in requirements.txt, in a fresh
## environment (so nothing left over from the old pins is frozen). xarray-eopf stays in
## requirements-no-deps.txt, out of the resolution and out of the pins.
LOCK_VENV := .cache/lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -r requirements.in
	$(LOCK_VENV)/bin/python -m pip install --quiet --no-deps -r requirements-no-deps.txt
	{ sed -n '/^#/!q;p' requirements.txt; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable --exclude xarray-eopf; \
	} > requirements.txt.new
	mv requirements.txt.new requirements.txt
	rm -rf $(LOCK_VENV)
