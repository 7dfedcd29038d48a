# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= --cov --cov-report=term --cov-fail-under=90

DJANGO_SETTINGS_MODULE ?= taskplatform.settings.dev
export DJANGO_SETTINGS_MODULE
# the Procfile names gunicorn and celery: find them in the venv
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install browser run migrate test test-fast test-faults smoke lint format typecheck schema check ci clean

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)  ## create .venv and install everything

migrate: install
	$(BIN)/python manage.py migrate --noinput

# `make run` listens on HOST:PORT — this machine only unless HOST=0.0.0.0 (or an address of
# this machine) opens it to the network. .env has the last word on the processes'
# environment (taskplatform/supervise.py), so HOST and PORT are read from .env first here too.
dotenv = $(shell test -f .env && sed -n 's/^[[:space:]]*$(1)=//p' .env | tail -n 1 | tr -d "\"' ")
PORT := $(or $(call dotenv,PORT),$(PORT),8000)
HOST := $(or $(call dotenv,HOST),$(HOST),127.0.0.1)
# where to open it from this machine (a wildcard address is reached through loopback)
RUN_HOST := $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
RUN_URL := http://$(if $(and $(findstring :,$(RUN_HOST)),$(filter-out [%,$(RUN_HOST))),[$(RUN_HOST)],$(RUN_HOST)):$(PORT)

# SITE_URL (links in emails) follows HOST and PORT unless the environment or .env sets it
run: export HOST := $(HOST)
run: export SITE_URL ?= $(RUN_URL)
run: migrate  ## set up and start web + worker + beat + live on the embedded default (a process that dies is started again)
	$(BIN)/python manage.py ensure_admin --url $(RUN_URL)
	$(BIN)/python -m taskplatform.supervise --port $(PORT)

CHROMIUM ?= /usr/bin/chromium

browser:  ## Debian's chromium for the browser test (Playwright never downloads one)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "no $(CHROMIUM) and no root apt-get: the browser test will be skipped"; fi; }

# `make test` runs everything but the fault suite, end-to-end tests included, under the
# coverage gate; `make test-fast` is the quick loop while working: no test marked e2e (real
# Celery worker or beat, gunicorn, manage.py subprocesses, live_server + chromium,
# schemathesis) and no coverage
test: install browser  ## the whole suite but faults, with coverage (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
	DJANGO_SETTINGS_MODULE=taskplatform.settings.test $(BIN)/pytest $(PYTEST_ARGS)

test-fast: install  ## the suite without e2e and faults tests and without coverage (about a minute)
	DJANGO_SETTINGS_MODULE=taskplatform.settings.test $(BIN)/pytest -m "not e2e and not faults"

# the production shape as real processes, broken on purpose (needs PostgreSQL's initdb and
# redis-server on the PATH; ~10 min): see "What survives what" in docs/operations.md
test-faults: install
	DJANGO_SETTINGS_MODULE=taskplatform.settings.test $(BIN)/pytest -m faults -v

smoke: install  ## a fresh requirements.txt-only venv running the Procfile on prod settings
	bash .ci/prod-smoke

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the settings module it loads is [tool.django-stubs] in pyproject.toml; tests and migrations
# are not checked yet
typecheck: install  ## mypy with the Django and DRF plugins (config: [tool.mypy] in pyproject.toml)
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install  ## validate the OpenAPI schema and write it to var/openapi.yaml
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

ci:  ## what CI runs (needs PostgreSQL and Redis on 127.0.0.1)
	bash .ci/run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .coverage coverage.xml
