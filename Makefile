# Two commands on a fresh machine: `make run` (the service, embedded: no Docker,
# no Redis, no API key) and `make test`. Both create .venv and install as needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint up down logs ps scale compose-test bench clean chaos redis-password eval

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

# compose.yaml needs REDIS_PASSWORD (Redis requires it; every service's REDIS_URL carries it) and
# stops without one: there is no default password. Unless the environment sets it, the first
# compose target writes a random one to .env (created 0600 if missing; in an existing .env only an
# empty REDIS_PASSWORD= line is filled in, or the line added; nothing else in it is touched). Keep
# .env: it is the stack's secret (.gitignore'd). 64 hex digits: safe in a URL and a redis.conf.
redis-password:
	@if [ -z "$$REDIS_PASSWORD" ] && ! grep -Eqs '^[[:space:]]*REDIS_PASSWORD=[^[:space:]]' .env; then \
		set -e; \
		password=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))'); \
		[ -e .env ] || (umask 077 && : > .env); \
		if grep -Eqs '^[[:space:]]*REDIS_PASSWORD=' .env; then \
			sed -i.bak -E "s/^[[:space:]]*REDIS_PASSWORD=.*/REDIS_PASSWORD=$$password/" .env && rm -f .env.bak; \
		else \
			[ ! -s .env ] || [ -z "$$(tail -c 1 .env)" ] || echo >> .env; \
			echo "REDIS_PASSWORD=$$password" >> .env; \
		fi; \
		echo "wrote a random REDIS_PASSWORD to .env (Redis requires it; keep the file)"; \
	fi

up: redis-password ## redis + api + workers in containers, detached, once healthy
	docker compose up --build -d --wait

down: redis-password
	docker compose down

logs: redis-password
	docker compose logs -f

ps: redis-password
	docker compose ps

scale: redis-password ## make scale WORKERS=N: N worker containers, the rest left running
	docker compose up -d --no-recreate --scale worker=$(WORKERS)

# Its own random REDIS_PASSWORD, in its own environment (it beats .env, which is not written).
compose-test: $(VENV)/.test ## build and run the real stack; kill a worker and restart Redis mid-run
	$(BIN)/python tests/compose/check_stack.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info

# The peers (arq, SAQ, dramatiq) get a venv of their own: arq holds redis-py below 6, and this
# project's processes must run as users install them (the project's venv, redis-py 8).
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.ready: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -e ".[test,bench]"
	touch $@

bench: $(VENV)/.test $(BENCH_VENV)/.ready ## W1-W5 and memory beside arq, SAQ and dramatiq; scheduling beside FIFO; 500 jobs interactive vs batch (needs redis-server, wrk)
	command -v wrk >/dev/null || apt-get install -y -qq wrk
	BENCH_OURS_PYTHON=$(BIN)/python $(BENCH_VENV)/bin/python -m bench
	$(BIN)/python -m bench.scheduling
	$(BIN)/python -m bench.batch

chaos: $(VENV)/.test ## the chaos soak, full form: CHAOS_SECONDS (240) of faults, a random seed; CHAOS_SEED=S replays
	$(BIN)/python -m tests.chaos.soak --seconds $(or $(CHAOS_SECONDS),240) $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))

# The `eval` extra is installed only when missing: once it is there, the whole run is offline (eval/data).
eval: $(VENV)/.run ## ROUGE of the offline summarizer beside LEAD-1, LEAD-3 and TextRank (eval/README.md)
	$(BIN)/python -c "import rouge_score" 2>/dev/null || $(BIN)/python -m pip install -q -e ".[eval]"
	$(BIN)/python -m eval.rouge
