# Local development: `make run` starts the system, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM ?= chromium

.PHONY: run test install chromium bench clean

install: $(VENV)/.installed node_modules/.installed chromium

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The screenshot test runs Debian's chromium headless. CI is a fresh machine where
# make runs as root; elsewhere apt-get goes through sudo.
chromium:
	@command -v $(CHROMIUM) >/dev/null || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Azurite (started unless one runs) plus the dev host on http://127.0.0.1:7071/api.
run: install
	$(PY) -m devhost

# pytest starts an in-memory Azurite unless one runs, and stops what it started.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/intake.py
	$(PY) bench/cold_import.py

clean:
	rm -rf .local test-output
