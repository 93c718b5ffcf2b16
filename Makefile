# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv and install everything they need (Debian packages included).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
PG_PORT ?= 55432

.PHONY: demo test venv system-deps bench bench-sagris web clean

# Debian packages: PostgreSQL for the catalog tests (SQLite is the default catalog),
# libpq5, the client library psycopg uses, and chromium for the demo page's browser tests.
system-deps:
	@scripts/ensure-debian-packages.sh postgresql libpq5 chromium

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(PY) scripts/demo.py
	$(VENV)/bin/petacube --home petacube-data serve --host 127.0.0.1 --port 8080

# The demo page's bundle (OpenLayers, proj4 and the page's code) is committed, so installing
# petacube needs no node; `make web` rebuilds it from web-src/ (npm ci + esbuild) when the
# sources changed. tests/web/test_bundle.py fails when the bundle is older than its sources.
WEB_BUNDLE := src/petacube/web/assets/app.js
WEB_SOURCES := $(wildcard web-src/src/*) web-src/build.mjs web-src/package.json web-src/package-lock.json

web: $(WEB_BUNDLE)

$(WEB_BUNDLE): $(WEB_SOURCES)
	cd web-src && npm ci --no-audit --no-fund && npm run build

test: venv system-deps
	scripts/pg-test-server.sh start $(PG_PORT)
	PETACUBE_TEST_POSTGRES_URL=postgresql+psycopg://petacube@127.0.0.1:$(PG_PORT)/petacube \
	  $(VENV)/bin/pytest -q -p no:cacheprovider; status=$$?; \
	  scripts/pg-test-server.sh stop $(PG_PORT); exit $$status

bench: venv
	$(PY) bench/bench_foundation.py
	$(PY) -W ignore bench/bench_wcps.py

# the Sentinel-2 pre-processor against GDAL's command-line tools on a full 10980² granule (~10 min)
bench-sagris: venv
	@scripts/ensure-debian-packages.sh gdal-bin
	$(PY) -W ignore bench/bench_sagris_s2.py

clean:
	rm -rf $(VENV) petacube-data .pg
