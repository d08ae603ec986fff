# pscore developer and user entry points. Everything runs in a local virtual environment (.venv)
# built from this repository's own files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCES := pyproject.toml $(shell find scoring xlplugin reports templates -type f \( -name '*.py' -o -name '*.yaml' -o -name '*.html' -o -name '*.css' -o -name '*.j2' -o -name '*.ttf' \) 2>/dev/null)

.PHONY: install demo test bench clean

install: $(STAMP)

# A regular (non-editable) install, reinstalled whenever a source file changes, so the `pscore`
# command always runs what is in the tree.
$(STAMP): $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps .
	$(BIN)/python -m pip install --quiet '.[test]'
	touch $(STAMP)

demo: install
	$(BIN)/pscore demo demo/partners.xlsx --force
	$(BIN)/pscore score demo/partners.xlsx -o demo/scored.xlsx
	$(BIN)/pscore report scorecards demo/partners.xlsx -o demo/scorecards

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_score.py
	$(BIN)/python benchmarks/bench_workbook.py
	$(BIN)/python benchmarks/bench_calibrate.py
	$(BIN)/python benchmarks/bench_udf.py
	$(BIN)/python benchmarks/bench_reports.py
	$(BIN)/python benchmarks/bench_governance.py
	$(BIN)/python benchmarks/bench_history.py

clean:
	rm -rf $(VENV) build *.egg-info demo/*.xlsx demo/*.csv demo/*.yaml demo/*.pdf demo/scorecards demo/scorecards-*
