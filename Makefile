# The README's commands. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The torch/torchvision pair every committed report was made with; TORCH_PINS= keeps yours.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
XAUTODL_PIN ?= xautodl==1.0.0

# The workflow (Snakefile): its rules call `python -m isdarts`, so the venv comes first on PATH.
# Snakemake 8/9 never pick up workflow/profiles/default by themselves: pass it explicitly.
export PATH := $(abspath $(VENV))/bin:$(PATH)
SNAKEMAKE := $(VENV)/bin/snakemake
WORKFLOW_PROFILE ?= workflow/profiles/default
CONFIG ?= config/config.yaml
RUN_PROFILE = $(shell $(PY) -c "import yaml; c = yaml.safe_load(open('$(CONFIG)')); p = c['profile']; print(p if isinstance(p, str) else c.get('study', 'scale'))")
# One HTML report per config (config/config.yaml and config/darts.yaml share the `cpu` profile).
REPORT_HTML = reports/$(RUN_PROFILE)/report-$(notdir $(basename $(CONFIG))).html

.PHONY: test test-slurm reproduce baselines scale regime readme verify install lint lint-workflow clean-results

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e ".[dev]"
	# the reference tests' NAS-Bench-201 search networks (MIT); its metadata pins an old numpy
	$(PY) -m pip install -q --no-deps $(XAUTODL_PIN)
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check isdarts tests benchmarks
	$(VENV)/bin/lint-imports

lint-workflow: $(STAMP)
	$(SNAKEMAKE) --lint --configfile config/smoke.yaml
	$(VENV)/bin/snakefmt --check Snakefile workflow/rules/*.smk

test: $(STAMP)
	$(PY) -m isdarts data prepare cifar10 nb201
	$(MAKE) lint
	$(MAKE) lint-workflow
	$(PY) -m pytest -q

# The workflow through SLURM on a one-node cluster started where the tests run (tests/cluster; also
# part of `pytest -q` above): needs root, installs Debian's slurm packages if missing, skipped
# with the reason where it cannot run (ISDARTS_REQUIRE_SLURM=1: fails instead). About 2 minutes.
test-slurm: $(STAMP)
	$(PY) -m isdarts data prepare cifar10 nb201
	$(PY) -m pytest -q tests/cluster

# Rerun one committed search of REPORT on the CPU and compare its log with the committed one
# (timings ignored): prints `identical` or the first epoch and key that differ, exit status 0/1.
# VERIFY_ARGS: --method M --seed K --dataset D (default: the report's first method, seed 0).
REPORT ?= reports/cpu
VERIFY_ARGS ?=
verify: $(STAMP)
	$(PY) -m isdarts verify $(REPORT) $(VERIFY_ARGS)

# Every NAS-Bench-201 method of the harness (the paper's thirteen search rows) at the default cpu
# profile, 3 seeds (many hours on 2 cores): the report lands in reports/cpu/baselines/.
baselines:
	$(MAKE) reproduce CONFIG=config/baselines.yaml

# The scale study (config/scale.yaml): IS-DARTS and DARTS at every rung of a ladder of
# reductions of the paper profile, 2 seeds a rung (about 2 hours on 2 cores): reports/scale/.
scale:
	$(MAKE) reproduce CONFIG=config/scale.yaml

# The DARTS regime study (config/regime.yaml): first-order DARTS at the cpu profile with its
# architecture learning rate x1, x10 and x53, 2 seeds a rung (about 35 minutes on 2 cores):
# reports/regime/ and reports/<rung>/.
regime:
	$(MAKE) reproduce CONFIG=config/regime.yaml

# The results blocks of the README and docs/*.md, copied from the committed reports (after a
# report changed); the tests fail while one is stale.
readme: $(STAMP)
	for page in $$(grep -lE '^<!-- from [^ ]+#.* -->$$' README.md docs/*.md); do \
		$(PY) -m isdarts readme $$page || exit 1; done

# The default workflow config end to end (CONFIG=config/smoke.yaml for a 1-minute check,
# CONFIG=config/darts.yaml for the DARTS space), then the Snakemake HTML report beside
# reports/<profile>/README.md. The workflow prepares the data itself, so that Snakemake keeps
# their provenance (data prepared outside it make --report warn "Missing metadata").
reproduce: $(STAMP)
	$(SNAKEMAKE) --workflow-profile $(WORKFLOW_PROFILE) --configfile $(CONFIG)
	$(SNAKEMAKE) --workflow-profile $(WORKFLOW_PROFILE) --configfile $(CONFIG) \
		--report $(REPORT_HTML)
