# Reunion: `make run` starts the portal, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# A developer's machine runs with DEBUG on unless told otherwise.
export DEBUG ?= true
# Tests use their own Redis database so they never touch the portal's queues.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint bench browser-deps clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) manage.py install_face_weights
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

browser-deps: node_modules/.installed
	@test -x "$${CHROMIUM:-/usr/bin/chromium}" || { echo "Browser tests need Chromium at /usr/bin/chromium: apt-get install chromium"; exit 1; }

run: install
	$(PY) -m reunion.launcher

test: install browser-deps
	$(VENV)/bin/ruff check .
	REDIS_URL=$(TEST_REDIS_URL) $(PY) manage.py makemigrations --check --dry-run
	REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules staticfiles
