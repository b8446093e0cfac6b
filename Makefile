# Two commands on a fresh machine with Python 3.11:
#   make run    the service (web on :8000 + a Celery worker) on the embedded default (SQLite)
#   make test   the whole test suite, against the PostgreSQL and Redis on this machine
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The embedded default's data: SQLite and the filesystem broker (settings never create it).
VAR_DIR ?= $(or $(MODELGATE_VAR_DIR),var)

.PHONY: run test services migrate clean bench bench-webhooks

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.run-deps

migrate: $(VENV)/.run-deps
	mkdir -p $(VAR_DIR)/broker/out $(VAR_DIR)/broker/processed $(VAR_DIR)/broker/control
	$(PY) manage.py migrate --noinput

# Ctrl-C stops the web server and the worker within 10 s (bin/run-local). Emails are printed
# by the worker (the console backend) unless EMAIL_BACKEND says otherwise.
run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py bootstrap_demo --host $(HOST) --port $(PORT)
	EMAIL_BACKEND="$${EMAIL_BACKEND:-django.core.mail.backends.console.EmailBackend}" \
	MODELGATE_PUBLIC_URL="$${MODELGATE_PUBLIC_URL:-http://$(HOST):$(PORT)}" VENV=$(VENV) bin/run-local $(HOST) $(PORT)

services:
	bin/ensure-services
	bin/ensure-browser

test: $(VENV)/.test-deps services
	$(VENV)/bin/pytest

# Modelgate beside MLflow's own server and a raw WSGI app, the same REST calls under wrk
# (bench/registry.py); MODELS=100000 adds Modelgate's search over that many models.
MODELS ?= 1000
bench: $(VENV)/.test-deps services
	command -v wrk >/dev/null || apt-get install -y -q wrk
	$(PY) bench/registry.py --models $(MODELS)

# Webhook delivery throughput and approval-to-receiver latency (bench/webhooks.py): a real
# worker, PostgreSQL and Redis on this machine, bounded in time, nothing beyond 127.0.0.1.
bench-webhooks: $(VENV)/.test-deps services
	$(PY) bench/webhooks.py

clean:
	rm -rf $(VENV) var staticfiles
