# Tolk. The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Two environments (docs/architecture.md): the gateway (bot/) on Python 3.12+ in .venv,
# Rasa, the action server and the NLU components on Python 3.10 in .venv-rasa; each with
# every package pinned in requirements/<environment>.txt.
VENV := .venv
PY := $(VENV)/bin/python
RASA_VENV := .venv-rasa
RASA_PY := $(RASA_VENV)/bin/python
UV := $(RASA_VENV)/bin/uv
UV_VERSION := 0.13.9
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# The private PostgreSQL and Redis `make services` starts for the tests marked postgres and
# redis (tests/servers.py); ports nobody's default uses, data in .cache/services/.
export TOLK_TEST_POSTGRES_URL ?= postgresql://tolk:tolk@127.0.0.1:15433/tolk
export TOLK_TEST_REDIS_URL ?= redis://127.0.0.1:16380/0
# pytest picks the tests of the environment it runs in (tests/conftest.py); these name them.
GATEWAY_TESTS := tests/bot tests/telegram tests/tolk_core tests/tolk_tools tests/scripts/test_stack.py tests/scripts/test_deploy.py tests/fuzz tests/e2e
RASA_TESTS := tests/tolk_core tests/actions tests/nlu_components tests/rasa_channels tests/scripts/test_actions_server.py tests/scripts/test_rasa_server.py tests/nlu tests/handoff tests/dialogue

.PHONY: help run run-scaled check-ports test install train lint format check-content nlu-eval e2e unit lock clean browser fuzz version services services-stop migrate

help:
	@echo "make run     set up, train if needed, start Rasa + actions + bot, print where to chat"
	@echo "make run-scaled  two of each on PostgreSQL and Redis (README \"Scaling out\")"
	@echo "make test    everything CI checks (lint, data validation, unit, NLU accuracy, end to end)"
	@echo "make train   retrain the model if data, domain or config changed"
	@echo "make lint | format | unit | nlu-eval | e2e | lock | version | clean"
	@echo "make migrate   the database schema to the newest revision (make run does it)"
	@echo "make services  start the test PostgreSQL and Redis (make test does it)"

# Rasa's environment: Python 3.10 (Rasa 3.6 supports nothing newer). It also holds uv.
$(RASA_VENV)/.installed: requirements/rasa.txt
	@python=$$(scripts/find-python rasa) || exit 1; \
	  [ -x $(RASA_PY) ] && $(RASA_PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null \
	  || { echo "creating $(RASA_VENV) with $$python"; rm -rf $(RASA_VENV); "$$python" -m venv $(RASA_VENV); }
	$(RASA_PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --python $(RASA_PY) requirements/rasa.txt
	@touch $@

# The gateway's environment: Python 3.12 or newer, current aiohttp and SQLAlchemy 2.
$(VENV)/.installed: requirements/gateway.txt $(RASA_VENV)/.installed
	@python=$$(scripts/find-python gateway) || exit 1; \
	  [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 12))' 2>/dev/null \
	  || { echo "creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV); }
	$(UV) pip sync --quiet --python $(PY) requirements/gateway.txt
	@touch $@

install: $(VENV)/.installed $(RASA_VENV)/.installed

# Re-resolve each environment's requirements in one pass (after editing requirements/*.in).
lock: install
	$(UV) pip compile --quiet --python-version 3.10 requirements/rasa.in -o requirements/rasa.txt
	$(UV) pip compile --quiet --python-version 3.12 requirements/gateway.in -o requirements/gateway.txt

# The interpreter and key library versions of both environments.
version: install
	@$(PY) -m bot version

# The browser tests use Debian's chromium (never a browser downloaded by a test tool).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (Debian package) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	  fi; }

train: install
	@scripts/train-if-changed

# Ports from TOLK_PORT, TOLK_RASA_PORT, TOLK_ACTIONS_PORT; a taken one is named (pid and
# command) before minutes of training. Ctrl-C or SIGTERM stops all three within 10 s.
run: install check-ports train
	$(PY) -m scripts.stack

# Two Rasas, two action servers and two gateways (ports one above each of `make run`'s)
# on the PostgreSQL and Redis of `make services`, unless TOLK_DATABASE_URL,
# TOLK_TRACKER_URL and TOLK_REDIS_URL name others. Ctrl-C stops all six.
SCALED_DB ?= postgresql://tolk:tolk@127.0.0.1:15433/tolk
run-scaled: install train services
	TOLK_DATABASE_URL="$${TOLK_DATABASE_URL:-$(SCALED_DB)}" \
	TOLK_TRACKER_URL="$${TOLK_TRACKER_URL:-$(SCALED_DB)}" \
	TOLK_REDIS_URL="$${TOLK_REDIS_URL:-redis://127.0.0.1:16380/0}" \
	$(PY) -m scripts.stack --scaled

check-ports: install
	@$(PY) -m scripts.stack --check-ports

# The database schema to the newest revision (bot/migrations/); `make run` does it too.
migrate: install
	$(PY) -m bot db upgrade

# Debian's postgresql and redis-server (installed when missing, as root), started on
# 127.0.0.1:15433 and :16380 with their data in .cache/services/ (scripts/services).
services:
	@scripts/services

services-stop:
	@scripts/services stop

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Questions, answers and `rasa data validate` in one report (README "For content editors").
check-content: install
	$(PY) -m bot content check

unit: install services
	$(PY) -m pytest -m "not nlu and not e2e" $(GATEWAY_TESTS)
	$(RASA_PY) -m pytest -m "not nlu and not e2e" $(RASA_TESTS)

# Accuracy per language on both held-out sets, the worst confusions, escalation P/R; then
# the gates (tests marked `nlu`).
nlu-eval: train
	PYTHONWARNINGS=ignore $(RASA_PY) -m tests.nlu.heldout_eval
	PYTHONWARNINGS=ignore $(RASA_PY) -m tests.handoff.quality
	$(RASA_PY) -m pytest -m nlu $(RASA_TESTS)

e2e: train browser services
	$(PY) -m pytest -m e2e tests/e2e

# Hostile input against the live service (tests/fuzz, also part of `make test`): hypothesis
# on every route, 1,500 requests to `python -m bot serve`, schemathesis against
# docs/openapi.yaml. More: make fuzz TOLK_FUZZ_PROFILE=fuzz-long TOLK_LOAD_REQUESTS=20000
fuzz: install
	$(PY) -m pytest tests/fuzz

test: lint check-content train browser services
	$(PY) -m pytest $(GATEWAY_TESTS)
	$(RASA_PY) -m pytest $(RASA_TESTS)

clean:
	-@scripts/services stop
	rm -rf $(VENV) $(RASA_VENV) models var .cache .pytest_cache .ruff_cache
