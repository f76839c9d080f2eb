# VeriKG — two commands on a fresh machine:
#   make demo   set up (locked install into .venv) and run the demo on embedded defaults
#   make test   set up and run the whole test suite, starting the real Neo4j it needs
.DEFAULT_GOAL := help
SHELL := /bin/bash

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
VENV := .venv
# llama-cpp-python builds from source once (cached by uv afterwards); portable build
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help setup demo test lint neo4j-start neo4j-stop clean ui ui-stop chromium

help:
	@echo "make demo   - install (locked) and build the sample knowledge graph, answer 3 queries"
	@echo "make test   - install (locked) and run every test, with a real Neo4j started here"
	@echo "make lint   - ruff + mypy + import-linter (the layers of docs/architecture.md)"
	@echo "make ui     - Prefect server on 127.0.0.1:$(UI_PORT) + worker, deployments, one demo build"
	@echo "make ui-stop - stop what make ui started (by the PIDs in .run/)"

# --compile-bytecode: every command imports torch and transformers; compiled once at install,
# a command starts seconds sooner (a process under PYTHONDONTWRITEBYTECODE would recompile
# them every time)
$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --locked --compile-bytecode --extra local-llm --extra dev
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/verikg demo

# Neo4j 5.26 from Maven Central, started for the test run and stopped by its PID afterwards.
# The Prefect UI test drives Debian's chromium: installed here if missing.
# Property tests draw the same examples every run (hypothesis profile "ci", tests/conftest.py).
# The vector index's tests run a second time on a portable build of its C kernel (x86-64-v2:
# no AVX-512 / AMX loops), so no test passes only on this machine's CPU.
test: setup chromium
	deploy/neo4j/with-neo4j.sh $(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)
	@if [ "$$(uname -m)" = x86_64 ] && [ -z "$(PYTEST_ARGS)" ]; then \
	  VERIKG_INT8_MARCH=x86-64-v2 $(VENV)/bin/pytest -p no:cacheprovider -q tests/unit/index; fi

lint: setup
	$(VENV)/bin/ruff check pipeline flows verikg_cli tests benchmarks
	$(VENV)/bin/mypy pipeline flows verikg_cli
	$(VENV)/bin/lint-imports --no-cache

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# The Prefect UI locally: server (SQLite under .run/prefect), every deployment, a worker of the
# verikg pool, one demo build of the sample corpus. Server and worker keep running (PIDs in
# .run/); `make ui-stop` stops them.
UI_PORT ?= 4200
UI_API := http://127.0.0.1:$(UI_PORT)/api
UI_ENV := PREFECT_HOME=$(CURDIR)/.run/prefect PREFECT_API_URL=$(UI_API) \
	PREFECT_UI_API_URL=$(UI_API) VERIKG_REPO=$(CURDIR)
ui: setup
	@mkdir -p .run/prefect
	@if [ -f .run/prefect-server.pid ] && kill -0 $$(cat .run/prefect-server.pid) 2>/dev/null; then \
	  echo "Prefect server already running (PID $$(cat .run/prefect-server.pid))"; \
	else \
	  $(UI_ENV) nohup $(VENV)/bin/prefect server start --host 127.0.0.1 \
	    --port $(UI_PORT) > .run/prefect-server.log 2>&1 & echo $$! > .run/prefect-server.pid; \
	  echo "Prefect server starting (PID $$(cat .run/prefect-server.pid), log .run/prefect-server.log)"; \
	fi
	@for i in $$(seq 1 180); do \
	  curl -sf $(UI_API)/health >/dev/null && break; \
	  kill -0 $$(cat .run/prefect-server.pid) 2>/dev/null || { tail -20 .run/prefect-server.log; exit 1; }; \
	  sleep 1; done; curl -sf $(UI_API)/health >/dev/null || { echo "server did not answer"; exit 1; }
	$(UI_ENV) $(VENV)/bin/verikg serve
	@if [ -f .run/prefect-worker.pid ] && kill -0 $$(cat .run/prefect-worker.pid) 2>/dev/null; then \
	  echo "worker already running (PID $$(cat .run/prefect-worker.pid))"; \
	else \
	  $(UI_ENV) VERIKG_MAX_RETRIES=$${VERIKG_MAX_RETRIES:-1} nohup $(VENV)/bin/prefect worker start \
	    --pool verikg --type process > .run/prefect-worker.log 2>&1 & echo $$! > .run/prefect-worker.pid; \
	  echo "worker started (PID $$(cat .run/prefect-worker.pid), log .run/prefect-worker.log)"; \
	fi
	$(UI_ENV) $(VENV)/bin/prefect deployment run build_kg/build-kg
	@echo "Prefect UI: http://127.0.0.1:$(UI_PORT)  (the demo build runs on the worker; make ui-stop stops all)"

# by PID: SIGTERM, then SIGKILL if it has not gone within 30 s (a worker that lost its
# server can hang in its shutdown); the worker first, while the server still answers it
ui-stop:
	@for name in worker server; do \
	  f=.run/prefect-$$name.pid; \
	  if [ -f $$f ] && kill -0 $$(cat $$f) 2>/dev/null; then \
	    pid=$$(cat $$f); kill $$pid; \
	    for i in $$(seq 1 30); do kill -0 $$pid 2>/dev/null || break; sleep 1; done; \
	    if kill -0 $$pid 2>/dev/null; then kill -9 $$pid; fi; \
	    echo "stopped Prefect $$name (PID $$pid)"; fi; \
	  rm -f $$f; done

clean:
	rm -rf .verikg .run
