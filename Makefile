# Backchannel: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint typecheck contracts unit docs bench browsers axe postgres compiler pdf-libraries clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (idempotent; Playwright never downloads a browser).
browsers:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# axe-core, the accessibility checker the browser tests inject into every page: taken from the
# npm registry at this pinned version, its tarball checked against the registry's sha512, and
# kept (with its licence, MPL-2.0) under tests/browser/vendor/ (ignored by git); the tests
# never load it from the network.
AXE_VERSION := 4.14.1
AXE_SHA512 := FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR := tests/browser/vendor/axe-core-$(AXE_VERSION)
axe:
	@test -f $(AXE_DIR)/axe.min.js || ( \
	  rm -rf $(AXE_DIR).tmp && mkdir -p $(AXE_DIR).tmp && cd $(AXE_DIR).tmp && \
	  npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  test "$$(openssl dgst -sha512 -binary axe-core-$(AXE_VERSION).tgz | base64 -w0)" = "$(AXE_SHA512)" && \
	  tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js package/LICENSE package/LICENSE-3RD-PARTY.txt && \
	  rm axe-core-$(AXE_VERSION).tgz && cd .. && mv axe-core-$(AXE_VERSION).tmp axe-core-$(AXE_VERSION))

# PostgreSQL server binaries for the storage tests (the tests start their own server on loopback).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

# A C compiler for the power-cut trials (tests/durability compile an LD_PRELOAD shim at test time).
compiler:
	@command -v gcc >/dev/null 2>&1 || command -v cc >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc >/dev/null)

# Pango (with HarfBuzz's subsetter) and the DejaVu fonts (Latin and Cyrillic) for WeasyPrint,
# which lays out the PDF readouts, and poppler's pdftoppm, with which the browser test turns an
# issued PDF readout into PNG pages; idempotent, and nothing is ever fetched at run time.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
pdf-libraries:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES) >/dev/null)

run: $(STAMP) pdf-libraries
	$(BIN)/backchannel keys init --if-missing
	$(BIN)/backchannel demo
	$(BIN)/backchannel serve

test: $(STAMP) browsers axe postgres compiler pdf-libraries lint typecheck contracts docs unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

docs: $(STAMP)
	$(BIN)/python -m backchannel.cli.reference --check docs/reference/cli.md

# The whole suite under a coverage floor: what the suite reached when the gate came in, rounded
# down. Raise it as coverage grows; never lower it. A run that executes no test fails as well
# (pytest exits 5 when it collects none).
COVERAGE_FLOOR := 93

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q --cov=backchannel --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# Re-extract every msgid (babel.cfg) and update each catalogue (src/backchannel/locale/*/LC_MESSAGES/
# messages.po): new msgids come in untranslated, unused ones go. Then translate what is empty.
messages: $(STAMP)
	$(BIN)/python -m backchannel.catalogues update

bench: $(STAMP) pdf-libraries
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
