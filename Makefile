# Tolk. The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help run check-ports test install train lint format check-content nlu-eval e2e unit lock clean browser fuzz

help:
	@echo "make run     set up, train if needed, start Rasa + actions + bot, print where to chat"
	@echo "make test    everything CI checks (lint, data validation, unit, NLU accuracy, end to end)"
	@echo "make train   retrain the model if data, domain or config changed"
	@echo "make lint | format | unit | nlu-eval | e2e | lock | clean"

# The environment: Python 3.10 (Rasa 3.6), every package pinned in requirements.txt.
$(VENV)/.installed: requirements.txt
	@python=$$(scripts/find-python310) || exit 1; \
	  [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null \
	  || { echo "creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.txt
	@touch $@

install: $(VENV)/.installed

# Re-resolve every requirement in one pass (after editing requirements.in).
lock: install
	$(VENV)/bin/uv pip compile --quiet --python-version 3.10 requirements.in -o requirements.txt

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

check-ports: install
	@$(PY) -m scripts.stack --check-ports

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Questions, answers and `rasa data validate` in one report (README "For content editors").
check-content: install
	$(PY) -m bot content check

unit: install
	$(PY) -m pytest -m "not nlu and not e2e"

# Accuracy per language on both held-out sets, the worst confusions, escalation P/R; then
# the gates (tests marked `nlu`).
nlu-eval: train
	PYTHONWARNINGS=ignore $(PY) -m tests.nlu.heldout_eval
	PYTHONWARNINGS=ignore $(PY) -m tests.handoff.quality
	$(PY) -m pytest -m nlu

e2e: train browser
	$(PY) -m pytest -m e2e

# Hostile input against the live service (tests/fuzz, also part of `make test`): hypothesis
# on every route, 1,500 requests to `python -m bot serve`, schemathesis against
# docs/openapi.yaml. More: make fuzz TOLK_FUZZ_PROFILE=fuzz-long TOLK_LOAD_REQUESTS=20000
fuzz: install
	$(PY) -m pytest tests/fuzz

test: lint check-content train browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) models var .pytest_cache .ruff_cache
