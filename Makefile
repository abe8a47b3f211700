# Two commands for a new user: `make run` (the demo district) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTHON ?= python3
export FLASK_APP := wsgi

.PHONY: setup run worker test lint db clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(BIN)/.installed

db: setup
	$(BIN)/flask db upgrade

# Migrations, the demo district (a second run writes nothing), then the Procfile under honcho:
# gunicorn on $(PORT) and the job worker (solver runs) beside it. Ctrl-C stops both.
run: db
	$(BIN)/flask seed-demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile --port $(PORT)

# The job worker alone (when the web server runs elsewhere, e.g. another machine with the same
# DATABASE_URL and JOBS_URL/REDIS_URL).
worker: db
	$(BIN)/flask jobs-worker

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) instance .pytest_cache
