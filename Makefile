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

.PHONY: book test lint format unit notebooks linkcheck browser-test serve lab bench clean lock

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@

## make book: build the HTML book, executing every notebook (errors and warnings are fatal).
book: $(STAMP)
	@$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going \
	  || { for f in _build/html/reports/*.err.log _build/html/reports/*/*.err.log; do \
	         [ -f "$$f" ] && { echo "=== $$f"; cat "$$f"; }; done; exit 1; }
	@echo "Book built: _build/html/index.html"

## make test: ruff, the unit tests, every notebook under nbmake, the internal link check,
## then the built book opened page by page in headless Chromium.
test: lint unit notebooks linkcheck browser-test

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
	$(BIN)/python -m pytest --nbmake --nbmake-timeout=900 -p no:cacheprovider $(NB_DIR)

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

## make serve: run the sample service in the foreground (PORT=8765 by default).
serve: $(STAMP)
	$(BIN)/python -m helpers.sample_service

## make bench: every benchmark figure as a ratio against its reference, measured in one run.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks

## make clean: remove build outputs and the caches the project made (never book/ or .venv).
clean:
	rm -rf _build .cache .pytest_cache .ruff_cache
	find helpers tests -name __pycache__ -type d -prune -exec rm -rf {} +

## make lock: re-resolve requirements.in into exact pins in requirements.txt.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements.in
	{ head -2 requirements.txt; $(BIN)/python -m pip freeze --exclude-editable; } > requirements.txt.new
	mv requirements.txt.new requirements.txt
