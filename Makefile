# Local development: `make run` starts the system, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM ?= chromium
CHECKOV_VENV := .venv-checkov

.PHONY: run test install chromium scan bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt -r requirements-dev.txt
	touch $@

# checkov pins an old packaging that breaks pytest, so it gets a venv of its own.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The screenshot and portal tests run Debian's chromium headless. CI is a fresh
# machine where make runs as root; elsewhere apt-get goes through sudo.
chromium:
	@command -v $(CHROMIUM) >/dev/null || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Azurite (started unless one runs) plus the dev host on http://127.0.0.1:7071/api.
run: install
	$(PY) -m devhost

# Offline security scan of the Bicep template; every suppression in it gives its
# reason. CKV_PARSE_ERROR_FAIL makes a file checkov cannot parse fail the scan.
scan: $(CHECKOV_VENV)/.installed
	CKV_PARSE_ERROR_FAIL=true $(CHECKOV_VENV)/bin/checkov --directory infra \
		--framework bicep --skip-download --compact --quiet

# pytest starts an in-memory Azurite unless one runs, and stops what it started.
test: install chromium scan
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/intake.py
	$(PY) bench/cold_import.py
	$(PY) bench/telemetry_start.py
	$(PY) bench/review.py
	$(PY) bench/render.py
	$(PY) bench/pipeline.py

clean:
	rm -rf .local test-output
