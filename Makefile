# The two commands of the README. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# This machine's pip serves this torch/torchvision pair; users may install any newer pair.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1

.PHONY: test reproduce install lint clean-results

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(PY) -m isdarts data prepare cifar10 nb201
	$(MAKE) lint
	$(PY) -m pytest -q

reproduce: $(STAMP)
	$(PY) -m isdarts data prepare cifar10 nb201
	$(PY) -m isdarts nb201 query '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'
