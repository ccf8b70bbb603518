# kpi_kit — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
CLIENT ?= data/clients/demo.yaml
OUT    ?= reports
JOBS   ?= 2
UV_VERSION ?= 0.13.9
MUTATE_JOBS ?= 2
TEST_JOBS ?= auto
# the unit tests and nbval in one pytest run, a test file's tests (and a notebook's cells) in one process
PYTEST_ARGS = tests notebooks -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --durations=15 \
	--nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

# uv installs the locked packages side by side and compiles their bytecode in parallel: a fresh
# install with the test extras takes 16-22 s instead of pip's 34-45 s. Where uv cannot be had or fails
# (no network for it, an unsupported platform), pip installs the same locked versions.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	-$(PIP) install --quiet uv==$(UV_VERSION)

# The kit is installed editable: its bytecode is compiled here too, so a process that imports it (each
# Dask task, kernel and test process) does not compile it again where PYTHONDONTWRITEBYTECODE is set.
LOCKED_INSTALL = ($(BIN)/python -m uv pip install --quiet --python $(BIN)/python --compile-bytecode \
	-c requirements.lock $(1) || $(PIP) install --quiet -c requirements.lock $(1)) \
	&& $(BIN)/python -m compileall -q -j 0 kpi_kit

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(call LOCKED_INSTALL,-e .)
	@touch $@

# one run for the kit and its test extras (the kit's own install is part of it)
$(VENV)/.installed-test: $(BIN)/python pyproject.toml requirements.lock
	$(call LOCKED_INSTALL,-e ".[test]")
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-mutate: $(VENV)/.installed-test
	$(call LOCKED_INSTALL,-e ".[test,mutate]")
	@touch $@

install: $(VENV)/.installed ## Create .venv and install the kit
install-test: $(VENV)/.installed-test ## Create .venv and install the kit with its test extras

report: install ## Render every notebook for the demo client (CLIENT=path/to/client.yaml for another)
	$(BIN)/kpi-kit run $(CLIENT) --out $(OUT)

reports-all: install ## Render every client in data/clients/ (JOBS clients side by side)
	$(BIN)/kpi-kit run data/clients --out $(OUT) --jobs $(JOBS)

examples: install ## Import the real public datasets (DATASETS=../shared/datasets) and render their reports
	$(BIN)/kpi-kit examples --datasets $${DATASETS:-../shared/datasets} --out $(OUT) --jobs $(JOBS)

bench: install-test ## Batch speed (naive loop vs kpi-kit run, CLIENTS=100), phases vs the drawing floor, Dask 1 vs 2 workers (DASK_CLIENTS=20), scale (CONTACTS=1000000, then 2x)
	$(BIN)/python benchmarks/batch_speed.py --clients $${CLIENTS:-100} --naive-sample 2 --jobs $(JOBS) \
		--dask-clients $${DASK_CLIENTS:-20} --scale-contacts $${CONTACTS:-1000000}

test: install-test ## Lint, then the unit tests and nbval on the committed notebooks, TEST_JOBS processes side by side
	$(BIN)/ruff check kpi_kit tests notebooks data benchmarks
	@$(BIN)/python -m compileall -q -j 0 kpi_kit  # the kit's changed files, once for every test process
	$(BIN)/python -m pytest $(PYTEST_ARGS)

coverage: install-test ## The same tests as make test, with the kit's line and branch coverage (slower by a third)
	$(BIN)/python -m pytest $(PYTEST_ARGS) --cov=kpi_kit --cov-branch --cov-report=term-missing:skip-covered

mutate: $(VENV)/.installed-mutate ## Mutation testing of the metric layer (slow, not in CI; MUTATE_JOBS=2 workers)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) > mutants.log 2>&1 || { tail -c 2000 mutants.log; exit 1; }
	$(BIN)/python tests/mutation/summary.py --fail-under 90

lab: install ## Open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks

demo-data: install ## Regenerate the demo client's data (same bytes every time)
	$(BIN)/kpi-kit demo data/demo

notebooks: install ## Re-execute the committed notebooks in place on the demo data (refresh outputs)
	$(BIN)/python -m kpi_kit.refresh notebooks

docs: install ## Regenerate docs/metrics.md from the metric catalogue
	$(BIN)/kpi-kit docs

clean: ## Remove reports and caches (keeps .venv)
	rm -rf $(OUT) build/examples .pytest_cache .ruff_cache

.PHONY: help install install-test coverage mutate report reports-all examples bench test lab demo-data notebooks docs clean
