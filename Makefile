# Two commands for a new user: `make run` (the demo district) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTHON ?= python3
export FLASK_APP := wsgi

.PHONY: setup run worker prod test lint db clean translations catalogues

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# The pages' languages: the .po files are committed, the compiled .mo files are made here.
translations: $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d dispatch/translations

# axe-core for the browser tests' accessibility checks, from package-lock.json (when node is there).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility checks of the browser tests will not run"; fi

setup: $(BIN)/.installed translations node_modules/.installed

# After changing _() strings: extract them all (babel.cfg) and update the catalogues; then translate.
catalogues: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -o dispatch/translations/messages.pot --no-location --sort-output \
		--ignore-dirs=".venv node_modules tests bench migrations" .
	$(BIN)/pybabel update -i dispatch/translations/messages.pot -d dispatch/translations --width=100

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

# Production on this machine in one command (README "Production"): nginx on $(PROD_PORT) in front of
# $(WEB) gunicorn processes, $(WORKERS) job worker(s), PostgreSQL and Redis (its own under instance/prod
# unless DATABASE_URL / REDIS_URL are set), all under honcho; Ctrl-C stops everything. Needs SECRET_KEY.
PROD_PORT ?= 8000
WEB ?= 2
WORKERS ?= 1
DEPLOY_ARGS ?=
prod: setup
	deploy/run start --port $(PROD_PORT) --web $(WEB) --workers $(WORKERS) $(DEPLOY_ARGS)

test: setup
	$(BIN)/pytest

# ruff, and the import contracts in pyproject.toml (imports flow one way; a new cycle fails).
lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules
