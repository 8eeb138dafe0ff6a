# Two commands do all the set-up on a fresh machine:
#   make run   - virtualenv, install, migrate, demo data, daphne on http://127.0.0.1:8000 and the task worker
#   make test  - virtualenv, install, lint and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# As DAPHNE_FLAGS in tests/processes.py: the app's frame limit, and a keepalive ping a minute.
DAPHNE_FLAGS := --websocket-max-message-size 65536 --ping-interval 60

.PHONY: run test lint chromium system-packages bench-tools bench bench-quick

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "asgi_blog needs Python 3.12 or newer (Django 6.1); found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The task worker (email) and daphne on one recipe line, so one shell holds both: the worker in the
# background, stopped by the trap when daphne stops (Ctrl-C reaches both). The worker runs with
# --no-reload: the reloader's child would outlive a kill of its parent.
run: $(VENV)/.runtime-installed
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo
	@echo "asgi_blog is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops it)."
	@echo "Open it in two browsers: log in as one of the demo users above in one, stay anonymous in the other."
	@echo "The task worker runs beside it: the email it sends is printed here."
	DJANGO_DEBUG=1 $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	DJANGO_DEBUG=1 $(BIN)/daphne -b $(HOST) -p $(PORT) $(DAPHNE_FLAGS) asgi_blog.asgi:application

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

# The browser tests drive Debian's Chromium (test tools cannot download their own browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; \
	  fi; \
	}

# The end-to-end tests run Redis (several processes) and nginx (the deploy recipe, deploy/nginx/).
# nginx lives in /usr/sbin, which is not on every user's PATH.
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	PATH="$$PATH:/usr/sbin:/sbin" command -v nginx >/dev/null 2>&1 || missing="$$missing nginx-light"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing$$missing for the end-to-end tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "The end-to-end tests need:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
	  fi; \
	fi

test: lint chromium system-packages
	$(BIN)/pytest

$(VENV)/.bench-installed: requirements.txt requirements-dev.txt requirements-bench.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# The benchmark's servers run from the runtime requirements alone, as deployed. In the development
# virtualenv a linter's dependency (click) is importable, and autobahn then colours a debug line it
# never prints for every frame it sends: some 6% of a busy server's time, app and ceiling alike.
SERVE_VENV := $(VENV)/serve
$(SERVE_VENV)/.installed: requirements.txt | $(BIN)/python
	$(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# The benchmark measures the HTTP rows with wrk and runs its own Redis (Debian's packages).
bench-tools:
	@missing=""; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing$$missing for the benchmark"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "The benchmark needs:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
	  fi; \
	fi

# The whole benchmark (about 20 minutes; docs/benchmark.md): bench/results/full.json, PNG plots,
# then the markdown summary to paste into bench/RESULTS.md, printed even when the run failed
# (something lost): that is when it is needed.
bench: $(VENV)/.bench-installed $(SERVE_VENV)/.installed bench-tools
	BENCH_SERVER_PYTHON=$(SERVE_VENV)/bin/python $(BIN)/python -m bench.run; status=$$?; $(BIN)/python -m bench.report; exit $$status

# Every section at small sizes, about a minute; fails if anything was lost or any row errored.
bench-quick: $(VENV)/.bench-installed $(SERVE_VENV)/.installed bench-tools
	BENCH_SERVER_PYTHON=$(SERVE_VENV)/bin/python $(BIN)/python -m bench.run --quick
