# The two commands: `make run` and `make test`. Both build .venv from the requirements
# files on first use (and again when they change); nothing else needs installing by hand.

# Python 3.13, the Lambda runtime's: scripts/find-python finds one that runs (a python3.13
# shim of pyenv's may not) or says in one line that there is none.
PYTHON_VERSION := 3.13
PYTHON ?= $(shell scripts/find-python $(PYTHON_VERSION))
VENV := .venv
PY := $(VENV)/bin/python
DEPS := $(VENV)/.installed
# A .venv made by another Python (an older checkout's 3.11) is made again.
VENV_STAMP := $(VENV)/.python-$(PYTHON_VERSION)

.PHONY: run test

$(VENV_STAMP):
	@test -n "$(PYTHON)" || exit 1
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	touch $@

# moto (the embedded DynamoDB) is a development tool, so `make run` uses the dev
# requirements too; requirements.txt alone is what ships to Lambda.
$(DEPS): requirements.txt requirements-dev.txt $(VENV_STAMP)
	@echo "Installing the requirements into $(VENV) (the first time: one to two minutes, about 600 MB)..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(DEPS)
	@$(PY) -m devstack

# The browser tests drive Debian's Chromium and the Postman collection runs under newman
# (npm, pinned by package-lock.json); `make test` installs both when they are missing.
CHROMIUM := /usr/bin/chromium
NODE_DEPS := node_modules/.installed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The Zapier integration is its own npm package (what `zapier push` uploads), with its own
# lock file: zapier-platform-core, run by tests/integration/test_zapier.py.
ZAPIER_DEPS := integrations/zapier/node_modules/.installed

$(ZAPIER_DEPS): integrations/zapier/package.json integrations/zapier/package-lock.json
	npm ci --prefix integrations/zapier --no-audit --no-fund
	touch $@

# With line and branch coverage of the app's packages, its child processes included
# (pyproject.toml's [tool.coverage]): the run fails below fail_under. Two runs, one report:
# the tests that need no live stack spread over the machine's cores (pytest-xdist), then the
# live-stack ones one at a time (their processes and timings want the cores to themselves),
# adding to the first run's coverage data.
TEST_WORKERS ?= auto
test: $(DEPS) $(CHROMIUM) $(NODE_DEPS) $(ZAPIER_DEPS)
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not integration" --cov --cov-report= --cov-fail-under=0
	$(PY) -m pytest -m integration --cov --cov-append --cov-report=term-missing:skip-covered

.PHONY: lint
lint: $(DEPS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: bench
# Every operation through the real stack against the store's own floor, in one table
# (the bench package; docs/PERFORMANCE.md). BENCH_SECONDS per scenario (10); `make test`
# runs it with BENCH_SECONDS=1 (tests/integration/test_bench_smoke.py): no verdict, numbers.
BENCH_SECONDS ?= 10
bench: $(DEPS)
	BENCH_SECONDS=$(BENCH_SECONDS) $(PY) -m bench

.PHONY: screenshots
# The README's pictures of the console (docs/screenshots/console-*.png), taken in headless
# Chromium from the stack `make run` started (run it in another shell first).
screenshots: $(DEPS) $(CHROMIUM)
	$(PY) -m scripts.screenshots

# The Lambda zips, built from requirements.txt and the app's source only (docs/DEPLOY.md):
# one per function of the stage (the API, the stream's fan-out, the dispatcher), since each
# zip holds its function's own Zappa settings.
STAGE ?= prod
.PHONY: package bench-coldstart
package: $(DEPS)
	for function in $(STAGE) $(STAGE)_stream $(STAGE)_dispatch; do $(PY) scripts/package.py --stage $$function || exit 1; done

bench-coldstart: package
	$(PY) -m bench.coldstart dist/triggerapi-prod.zip
