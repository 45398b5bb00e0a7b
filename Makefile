# Set-up and everyday commands. Each target creates the virtual environment
# in .venv on first use: torch first, then lrkit with every extra.

PYTHON ?= python3
VENV ?= .venv
# Where the first step installs torch from (default: pip's own index). On
# Linux x86_64 PyPI's torch wheel pulls in the CUDA libraries, and
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu gives the CPU build.
TORCH_INDEX_URL ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt \
		$(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL)) torch
	$(BIN)/python -m pip install --quiet --constraint constraints.txt -e '.[all]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/finetune_digits.py

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
