# Two commands on a fresh machine: `make run` (the service, embedded: no Docker,
# no Redis, no API key) and `make test`. Both create .venv and install as needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint up down logs ps scale compose-test bench clean chaos

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.run

run: $(VENV)/.run ## the service: API on :3000 and a worker, in one process
	$(BIN)/python -m app

test: $(VENV)/.test ## unit, integration (starts its own redis-server) and API tests
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check .

WORKERS ?= 2

up: ## redis + api + workers in containers, detached, once healthy
	docker compose up --build -d --wait

down:
	docker compose down

logs:
	docker compose logs -f

ps:
	docker compose ps

scale: ## make scale WORKERS=N: N worker containers, the rest left running
	docker compose up -d --no-recreate --scale worker=$(WORKERS)

compose-test: $(VENV)/.test ## build and run the real stack; kill a worker and restart Redis mid-run
	$(BIN)/python tests/compose/check_stack.py

clean:
	rm -rf $(VENV) build *.egg-info

bench: $(VENV)/.test ## W1-W5 and memory, beside arq, SAQ and dramatiq in the same run (needs redis-server, wrk)
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python -m bench

chaos: $(VENV)/.test ## the chaos soak, full form: CHAOS_SECONDS (240) of faults, a random seed; CHAOS_SEED=S replays
	$(BIN)/python -m tests.chaos.soak --seconds $(or $(CHAOS_SECONDS),240) $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))
