# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv and install everything they need (Debian packages included).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
PG_PORT ?= 55432

.PHONY: demo test venv system-deps bench clean

# Debian packages: PostgreSQL for the catalog tests (SQLite is the default catalog) and
# libpq5, the client library psycopg uses.
system-deps:
	@scripts/ensure-debian-packages.sh postgresql libpq5

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(PY) scripts/demo.py
	$(VENV)/bin/petacube --home petacube-data serve --host 127.0.0.1 --port 8080

test: venv system-deps
	scripts/pg-test-server.sh start $(PG_PORT)
	PETACUBE_TEST_POSTGRES_URL=postgresql+psycopg://petacube@127.0.0.1:$(PG_PORT)/petacube \
	  $(VENV)/bin/pytest -q -p no:cacheprovider; status=$$?; \
	  scripts/pg-test-server.sh stop $(PG_PORT); exit $$status

bench: venv
	$(PY) bench/bench_foundation.py
	$(PY) -W ignore bench/bench_wcps.py

clean:
	rm -rf $(VENV) petacube-data .pg
