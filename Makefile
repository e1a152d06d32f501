# The two set-up commands are `make run` and `make test`; both install everything they need from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
NODE_STAMP := node_modules/.installed
# jsii prints a 12-line end-of-life banner on Node 20 for every Python process that imports aws_cdk.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: install chromium run test synth diff lint-infra bench clean

install: $(STAMP) $(NODE_STAMP) $(CHECKOV_STAMP) chromium

# Debian's chromium for the browser tests (tests/ui); a no-op when /usr/bin/chromium exists.
chromium:
	bash tests/ui/ensure_chromium.sh

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(STAMP)
	$(BIN)/python -m service run

test: install
	$(BIN)/python -m pytest

synth: $(STAMP) $(NODE_STAMP)
	npx cdk synth --quiet

diff: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m cdk_app.diff

# cfn-lint and checkov on a fresh synth (the tests run the same gates on every stack shape).
lint-infra: synth
	$(BIN)/cfn-lint --non-zero-exit-code error -- cdk.out/*.template.json
	$(CHECKOV_VENV)/bin/checkov -d cdk.out --framework cloudformation --compact --quiet --skip-download

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules cdk.out .pytest_cache
