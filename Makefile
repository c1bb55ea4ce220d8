# Fellowship: `make run` to try it, `make test` to test it. Needs Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := fellowship

.PHONY: run test lint install translations-compile translations-update db demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change.
$(VENV)/.stamp-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt $(VENV)/.stamp-runtime
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.stamp-runtime

translations-compile: $(VENV)/.stamp-runtime
	$(BIN)/pybabel compile --statistics -d fellowship/translations 2>&1 | grep -v '^$$' || true
	@test -f fellowship/translations/es/LC_MESSAGES/messages.mo

# After changing strings: extract them, merge into the catalogs, then translate the new ones.
translations-update: $(VENV)/.stamp-runtime
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o fellowship/translations/messages.pot .
	$(BIN)/pybabel update --width 100 --no-fuzzy-matching --ignore-obsolete -i fellowship/translations/messages.pot -d fellowship/translations

db: install
	mkdir -p instance
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo load

run: translations-compile demo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two workers (pytest-xdist), each with its own databases; PYTEST_ARGS="-n 0" runs in one.
# Then the performance bars (`-m timing`), alone on the machine, so that what they time is the
# app and not the other worker (exit code 5: the PYTEST_ARGS subset has none of them).
test: $(VENV)/.stamp-dev translations-compile lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not timing" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m timing $(PYTEST_ARGS) || test $$? -eq 5

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
