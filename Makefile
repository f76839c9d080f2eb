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

.PHONY: help setup demo test lint neo4j-start neo4j-stop clean

help:
	@echo "make demo   - install (locked) and build the sample knowledge graph, answer 3 queries"
	@echo "make test   - install (locked) and run every test, with a real Neo4j started here"
	@echo "make lint   - ruff + mypy"

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
	  || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --locked --extra local-llm --extra dev
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/verikg demo

# Neo4j 5.26 from Maven Central, started for the test run and stopped by its PID afterwards.
test: setup
	deploy/neo4j/with-neo4j.sh $(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check pipeline flows verikg_cli tests
	$(VENV)/bin/mypy pipeline flows verikg_cli

clean:
	rm -rf .verikg .run
