# Both targets create and reuse .venv themselves: nothing needs to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	# Bytecode up front, even where PYTHONDONTWRITEBYTECODE is set: the workflow sandbox
	# re-imports workflow modules for every workflow run.
	$(BIN)/python -m compileall -q careflow workflows activities
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/careflow up --rules rules/demo.yaml --demo --fake-platform

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The console's browser tests drive Debian's chromium (Playwright's own download is unreachable):
# installed here when missing and the machine allows it; where not, those tests skip and say why.
test: lint
	@command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
		|| echo "could not install chromium: the console's browser tests will be skipped"
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/rules_bench.py
	$(BIN)/python bench/workflow_bench.py
	$(BIN)/python bench/intake_bench.py
	$(BIN)/python bench/queue_bench.py
	$(BIN)/python bench/whatif_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
