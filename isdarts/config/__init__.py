"""Settings of runs: run profiles and their schemas (:mod:`isdarts.config.profiles`, the
``schemas`` folder, which also holds the workflow config's schema) and the random streams a
run derives from its seed (:mod:`isdarts.config.seeds`)."""

from pathlib import Path

# The checkout the package runs from (config/profiles/, config/published.yaml, the data mirror
# beside it); an installed package falls back on the working directory's files.
REPO_ROOT = Path(__file__).resolve().parents[2]
