#!/usr/bin/env bash
# Runs once inside the new conda environment, from Snakemake's working directory (the
# repository root, unless ISDARTS_REPO names it).
set -euo pipefail
python -m pip install -e "${ISDARTS_REPO:-$PWD}[workflow]"
