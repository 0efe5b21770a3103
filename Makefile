# `make run` starts Footfall; `make test` runs every test. Both set themselves up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_SDKS := tests/sdk/node
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps dev bench

run: $(VENV)/.deps
	$(PY) -m footfall up

# Three workers (pytest-xdist), each taking the next test as it frees up: most tests wait on
# processes, sockets and Chromium, so three keep both cores busy.
test: $(VENV)/.dev $(NODE_SDKS)/node_modules/.installed /usr/bin/chromium /usr/lib/postgresql
	$(PY) -m pytest -n 3 --dist worksteal

bench: $(VENV)/.dev
	$(PY) -m bench.ingest
	$(PY) -m bench.dashboard

deps: $(VENV)/.deps
dev: $(VENV)/.dev

# The pinned lock first, then Footfall itself as an editable package (its console script too).
$(VENV)/.deps: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.deps requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The real Treblle npm SDKs the compatibility tests run.
$(NODE_SDKS)/node_modules/.installed: $(NODE_SDKS)/package.json $(NODE_SDKS)/package-lock.json
	npm ci --prefix $(NODE_SDKS) --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium, for the browser tests (Playwright drives it; it never downloads a browser).
/usr/bin/chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-liberation

# Debian's PostgreSQL server, for the tests on the team server's backend: they start throwaway
# clusters of their own (tests/postgres_cluster.py) and never use the package's own.
/usr/lib/postgresql:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql
