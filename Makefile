# kanal — `make run` brings everything up; `make test` runs the whole suite. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 ?= $(shell command -v python3.11 || command -v python3)
PY310 ?= $(firstword $(wildcard /root/.pyenv/versions/3.10.*/bin/python) $(shell command -v python3.10))
VENV := .venv
RASA_VENV := .venv-rasa
KANAL_PORT ?= 8000
export KANAL_PORT
# `make run`: the stream process (`kanal streams`, in the Procfile) on its own port, and the
# pages follow their live streams there (docs/live.md).
KANAL_STREAM_PORT ?= 8001
PYTEST_ARGS ?=
BENCH_ARGS ?=
TEST_WORKERS ?= 2

.PHONY: help install run test test-fast lint format bench bench-full train migrate seed browser nginx clean translations

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

$(RASA_VENV)/.installed: bots/rasa/requirements.txt
	@test -n "$(PY310)" || (echo "Rasa 3.6 needs Python 3.10: set PY310=/path/to/python3.10" && exit 1)
	$(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --upgrade pip
	$(RASA_VENV)/bin/pip install -q -r bots/rasa/requirements.txt
	touch $@

install: $(VENV)/.installed $(RASA_VENV)/.installed ## create both virtual environments (app: 3.11, Rasa: 3.10)

train: install ## train the bot if bots/rasa/ changed (content hash)
	$(VENV)/bin/python -m bots.train

migrate: $(VENV)/.installed ## apply database migrations (SQLite under instance/ by default)
	$(VENV)/bin/kanal db upgrade

seed: migrate ## create demo staff and citizens if the database is empty
	$(VENV)/bin/kanal seed

run: install train seed ## bring up web + scheduler + Rasa + actions (Ctrl-C stops all)
	@echo
	@echo "  kanal is starting (Rasa needs ~15 s before the bot answers):"
	@echo "    front door     http://127.0.0.1:$(KANAL_PORT)/"
	@echo "    citizen chat   http://127.0.0.1:$(KANAL_PORT)/chat"
	@echo "    agent desk     http://127.0.0.1:$(KANAL_PORT)/desk/   (logins above)"
	@echo "    dashboard      http://127.0.0.1:$(KANAL_PORT)/dashboard   (manager, supervisor)"
	@echo "    SMS outbox     http://127.0.0.1:$(KANAL_PORT)/sandbox/outbox"
	@echo "    try SMS        $(VENV)/bin/kanal sms --from +4512345678 \"when is my payment\""
	@echo "    try the phone  $(VENV)/bin/kanal phone --from +4512345678"
	@echo "    health         http://127.0.0.1:$(KANAL_PORT)/readyz"
	@echo "    live streams   http://127.0.0.1:$(KANAL_STREAM_PORT)/streams/healthz   (kanal streams)"
	@echo
	KANAL_STREAM_PORT=$(KANAL_STREAM_PORT) \
	  KANAL_STREAM_URL=$${KANAL_STREAM_URL:-http://127.0.0.1:$(KANAL_STREAM_PORT)} \
	  $(VENV)/bin/honcho start -f Procfile

browser: ## install Debian's Chromium for the browser tests (needs root)
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium) \
	  || echo "could not install chromium: browser tests will skip outside CI"

nginx: ## install Debian's nginx for the deployment test (needs root; the test runs its own)
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx \
	  || (apt-get update -q && apt-get install -y -q nginx) \
	  || echo "could not install nginx: the deployment test will skip outside CI"

test: install train browser nginx ## run the whole suite (SQLite + PostgreSQL, real Rasa, browser, deploy/)
	KANAL_HYPOTHESIS=deep $(VENV)/bin/python -m pytest -q -ra -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

test-fast: $(VENV)/.installed ## unit tests only (property tests draw a fifth of their examples)
	$(VENV)/bin/python -m pytest -q tests/unit

lint: $(VENV)/.installed ## ruff + the import-linter layering contract
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

translations: $(VENV)/.installed ## extract kanal's texts and update every catalogue (docs/translations.md)
	$(VENV)/bin/pybabel extract -F babel.cfg --sort-output --no-wrap --project kanal \
	  --copyright-holder "kanal contributors" -c TRANSLATORS: -o router/translations/messages.pot .
	$(VENV)/bin/pybabel update -D messages -i router/translations/messages.pot \
	  -d router/translations --no-wrap --ignore-obsolete

bench: install train ## every benchmark within 15 min, each a ratio to a baseline; README table
	@command -v wrk >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q wrk)
	$(VENV)/bin/python -m benchmarks $(BENCH_ARGS)

bench-full: install train ## every benchmark at full size (1 M contacts: hours the first time)
	@command -v wrk >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q wrk)
	$(VENV)/bin/python -m benchmarks --full $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(RASA_VENV) instance bots/rasa/models
