# make run   — set everything up and open the dashboard on the shipped config.yaml
# make test  — set everything up and run the whole suite: ruff, import-linter, mypy, pytest
# make bench — performance benchmarks, printing name=value lines
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types pytest bench bytecode clean constraints

# constraints.txt pins the versions installed (and tested): see its header.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# lenient: two package roots (tui/, adapters/); the import hook is asked only for names the ordinary path search misses
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt --config-settings editable_mode=lenient
	touch $(STAMP)

# The newest versions pyproject.toml allows, written to constraints.txt: then make test,
# look at any snapshot that changed, and commit both.
constraints: $(STAMP)
	$(BIN)/python -m pip install --quiet --upgrade -e '.[dev]' --config-settings editable_mode=lenient
	{ sed -n '/^#/p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^#'; } > constraints.new
	mv constraints.new constraints.txt
	touch $(STAMP)

# Bytecode for the project's own modules, as pip writes it for installed packages:
# an editable install has none, and with PYTHONDONTWRITEBYTECODE set (as on some
# servers) every start would compile ~40 modules again (~40 ms). Only changed
# files are recompiled.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q tui adapters

run: bytecode
	$(BIN)/sportello --config config.yaml

test: lint types pytest

# The layering (adapters, core, screens, the numbers): import-linter's contracts in
# pyproject.toml. --no-cache: it takes well under a second, and leaves no folder.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

types: $(STAMP)
	$(BIN)/mypy

# In parallel, one worker per core; files of one module stay on one worker (their
# fixtures and real processes are set up once).
pytest: $(STAMP)
	$(BIN)/pytest -q -n auto --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
