# Greenlight: two commands. `make run` serves the portal with its demo; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint mypy install install-dev system-packages system-packages-test migrate seed clean

help:
	@echo "make run       install, migrate, seed the demo, and run web + worker + beat (Ctrl-C stops)"
	@echo "make test       install with dev tools, lint (ruff, mypy, migrations), run the whole suite (20 slowest shown)"
	@echo "make test-fast  ruff, then the tests without Chromium, a Celery worker or PostgreSQL (a few minutes)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian packages some features need, installed when we can (root with apt); otherwise the features say what is missing.
# Runtime: libomp5 + libvulkan1 (Real-ESRGAN upscaling), Pango (PDF reports). Tests add Chromium (browser tests),
# prometheus (promtool checks the alert rules), kubernetes-client (kubectl kustomize builds the overlays) and
# espeak-ng (speech for the transcription tests).
RUNTIME_DEBS := libomp5 libvulkan1 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
# kubernetes-client only where no kubectl is installed yet (a kubectl from another source owns /usr/bin/kubectl).
TEST_DEBS := $(RUNTIME_DEBS) chromium espeak-ng prometheus $(if $(shell command -v kubectl),,kubernetes-client)

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing (needs root and apt); the features that need them will say so."; \
	  fi; \
	fi
endef

system-packages:
	$(call apt_install,$(RUNTIME_DEBS))

system-packages-test:
	$(call apt_install,$(TEST_DEBS))

run: install system-packages
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py runportal

migrate: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate

seed: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py seed_demo

# mypy needs only the settings importable (no database): DJANGO_DEBUG=1 gives them their development defaults.
# Errors already in mypy-baseline.txt are accepted; any other fails (scripts/mypy_baseline.py).
mypy: install-dev
	DJANGO_DEBUG=1 $(BIN)/python scripts/mypy_baseline.py

lint: install-dev mypy
	$(BIN)/ruff check .
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

test: install-dev system-packages-test lint
	$(BIN)/python -m pytest --durations=20 $(PYTEST_ARGS)

# The quick loop: ruff only, and no browser, worker or PostgreSQL-marked tests.
test-fast: install-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not browser and not worker and not postgres" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var tests/browser/artifacts
