# All Python of the workflow: config validation, paths, wildcard constraints and the input
# functions. The rule files only name inputs and outputs and call `python -m isdarts <verb>`.
import os
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")

# Project inputs (run profiles, published numbers) are found relative to the repository root,
# outputs (results/, reports/, logs/) and the data root relative to the working directory.
REPO = Path(workflow.basedir)
DATA = config["data_root"]
BENCH_TABLE = f"{DATA}/nb201/nb201-200ep-accuracies.csv"
BENCH_SPLITS = f"{DATA}/nb201/splits/cifar-split.txt"
RUN = "results/{profile}/{space}/{method}/{dataset}/seed{seed}"
REPORT = "reports/{profile}"
FIGURES = ("accuracy", "ops", "importance")


def repo_file(path):
    """A project file named in the config: absolute, or relative to the repository root."""
    path = Path(path)
    return path if path.is_absolute() else REPO / path


def run_profile_file(profile):
    path = REPO / "config" / "profiles" / f"{profile}.yaml"
    if not path.is_file():
        raise WorkflowError(
            f"config profile: run profile '{profile}' has no file {path}"
        )
    return path


def search_threads():
    """Threads of a search job: the run profile's `threads` if it fixes them (the search then
    uses exactly that many), else the workflow's `threads_per_search`."""
    settings = yaml.safe_load(run_profile_file(config["profile"]).read_text()) or {}
    fixed = settings.get("threads")
    return int(fixed) if fixed else config["threads_per_search"]


PUBLISHED = repo_file(config["published"])
if not PUBLISHED.is_file():
    raise WorkflowError(f"config published: {PUBLISHED} not found")
SEARCH_THREADS = search_threads()


wildcard_constraints:
    profile=config["profile"],
    space="|".join(config["spaces"]),
    method="|".join(config["methods"]),
    dataset="|".join(d.replace("-", r"\-") for d in config["datasets"]),
    seed=r"\d+",


def run_dirs(profile):
    """Every search folder of the config: space x method x dataset x seed."""
    return [
        RUN.format(profile=profile, space=s, method=m, dataset=d, seed=k)
        for s in config["spaces"]
        for m in config["methods"]
        for d in config["datasets"]
        for k in config["seeds"]
    ]


def all_results(wildcards):
    return [f"{run}/result.json" for run in run_dirs(wildcards.profile)]


def all_evaluations(wildcards):
    return [f"{run}/evaluation.json" for run in run_dirs(wildcards.profile)]


def search_data(wildcards):
    return f"{DATA}/{wildcards.dataset}/meta.json"


def search_profile(wildcards):
    return run_profile_file(wildcards.profile)


def data_root_of(path):
    """The data root `<root>/<dataset>/meta.json` or `<root>/nb201/<table>` lives in."""
    return str(Path(path).parent.parent)


def get_final_output():
    """The report, and every run's own files: Snakemake regenerates a missing file only when
    it is requested, so naming them here makes a deleted run (or its result.json alone) rerun
    that search and what depends on it, and nothing else."""
    profile = config["profile"]
    folder = REPORT.format(profile=profile)
    return [
        *(
            f"{run}/{name}"
            for run in run_dirs(profile)
            for name in ("result.json", "evaluation.json")
        ),
        f"{folder}/README.md",
        f"{folder}/runs.csv",
        f"{folder}/summary.csv",
        *(f"{folder}/figures/{name}.png" for name in FIGURES),
    ]
