# One task file for the project. `make serve` and `make test` are the README's two commands.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
export OMP_WAIT_POLICY ?= PASSIVE
export OPENBLAS_NUM_THREADS ?= 1
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install install-test browser serve test ingest bench i18n-extract i18n-update i18n-check clean

$(BIN)/python:
	@echo "creating the virtual environment $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install -q --upgrade pip >/dev/null

# Stamps inside the venv: pip runs again only when pyproject.toml (or the venv) is newer,
# not on every `make serve`. `make clean` removes them with the venv. pip's own output (and
# setuptools' notes on editable installs) goes to a log that is shown only when pip fails.
INSTALLED      := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test
INSTALL_LOG    := $(VENV)/install.log
QUIET_PIP       = $(PIP) install -q $(1) >>$(INSTALL_LOG) 2>&1 || (cat $(INSTALL_LOG); echo "pip failed: see $(INSTALL_LOG)"; exit 1)

install: $(INSTALLED)

install-test: $(INSTALLED_TEST)

# CPU torch first, from local disk: an unpinned torch would pull a multi-GB CUDA build.
$(INSTALLED): pyproject.toml $(BIN)/python
	@echo "installing the assistant and its dependencies (about 3 minutes the first time; log: $(INSTALL_LOG))"
	@$(call QUIET_PIP,torch==2.13.0)
	@$(call QUIET_PIP,-e .)
	@touch $@

$(INSTALLED_TEST): $(INSTALLED) pyproject.toml
	@echo "installing the test tools (pytest, playwright, hypothesis, ...)"
	@$(call QUIET_PIP,-e '.[test]')
	@touch $@

# Debian's Chromium for the browser tests; never `playwright install` (it downloads a browser).
# axe-core (npm) for the accessibility test, inside the venv so `make clean` removes it.
export AXE_CORE := $(abspath $(VENV))/axe/node_modules/axe-core/axe.min.js
# Outside CI a failed install only skips those tests; under CI (CI=true) it fails the run.
MISSING = if [ "$$CI" = true ]; then echo "error: could not install $(1); CI needs it for the browser tests"; exit 1; \
          else echo "warning: could not install $(1); the tests that need it will be skipped"; fi
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "installing Chromium (Debian) for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	  || { $(call MISSING,chromium); }; fi
	@if [ ! -f "$(AXE_CORE)" ]; then \
	  echo "installing axe-core (npm) for the accessibility test"; \
	  (npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@4 >/dev/null) \
	  || { $(call MISSING,axe-core); }; fi

serve: install
	$(BIN)/assistant serve

ingest: install
	$(BIN)/assistant ingest

test: install-test browser
	$(BIN)/python -m pytest

# Speed on this machine (tables): ingest and ask on the shipped corpus, then ask at 1k/10k/100k chunks.
bench: install
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/scale.py

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 -k N_plural:1,2 --no-location --omit-header -o translations/messages.pot assistant

i18n-update: i18n-extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-fuzzy-matching

i18n-check: install
	$(BIN)/python -m pytest tests/test_i18n.py

clean:
	rm -rf $(VENV) data test-output
