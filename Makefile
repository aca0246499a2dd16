# Everything a fresh machine needs, from python3 and make alone.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
RUN := $(UV) run --locked --no-sync
HOST ?= 127.0.0.1
PORT ?= 8000
# bench/workers.py compares one and two server processes, which needs PostgreSQL.
BENCH_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: run test test-fast lint fmt schema snapshots bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	@touch $(STAMP)

run: $(STAMP)
	$(RUN) localsync serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(RUN) pytest

lint: $(STAMP)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports

fmt: $(STAMP)
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

schema: $(STAMP)
	$(RUN) localsync export-schema > schema.graphql

snapshots: $(STAMP)
	$(RUN) pytest tests/tui --snapshot-update

bench: $(STAMP)
	$(RUN) python bench/push_batch.py
	$(RUN) python bench/merge_bench.py
	$(RUN) python bench/connector_sync.py
	$(RUN) python bench/tui_merge.py
	$(RUN) python bench/hostile.py
	$(RUN) python bench/live_feeds.py
	$(RUN) python bench/compute_turns.py
	$(RUN) python bench/emoji_push.py
	$(RUN) python bench/push_growth.py
	$(RUN) python bench/idle_subscriptions.py
	$(RUN) python bench/workers.py --database-url $(BENCH_PG_URL)
	$(RUN) python bench/tui_open.py
	$(RUN) python bench/history.py
	$(RUN) python bench/export_git.py

clean:
	rm -rf $(TOOLS) $(VENV)
