# All Python of the workflow: config validation, paths, wildcard constraints and the input
# functions. The rule files only name inputs and outputs and call `python -m isdarts <verb>`.
import functools
import os
from argparse import Namespace
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from isdarts._io import read_yaml
from isdarts.cli import job_profile_path, load_job_profile
from isdarts.config.documents import check_document
from isdarts.config.methods import NB201_ONLY
from isdarts.errors import IsdartsError


def check_config(where, doc):
    """The workflow config against its schema: the first problem as one line naming the field."""
    try:
        check_document(where, doc, "workflow-config")
    except IsdartsError as exc:
        raise WorkflowError(f"config {exc}") from None


# Required keys are enforced on the user's own config (--configfile files and --config values)
# alone: merged over the Snakefile's default configfile, a file without `profile:` would
# silently run the default's profile.
# Snakemake's own YAML reader keeps the later of a key given twice: each config file is read
# again with the harness' reader, which refuses it, naming the key and both lines.
for _configfile in workflow.overwrite_configfiles:
    try:
        read_yaml(_configfile)
    except IsdartsError as exc:
        raise WorkflowError(f"config {exc}") from None
if workflow.overwrite_configfiles:
    check_config(
        " + ".join(
            [
                *map(str, workflow.overwrite_configfiles),
                *(["--config"] if workflow.config_settings.config else []),
            ]
        ),
        workflow.config_settings.overwrite_config,
    )
check_config("(merged)", config)
validate(
    config, schema="../../isdarts/config/schemas/workflow-config.schema.yaml"
)  # defaults

# Project inputs (run profiles, published numbers) are found relative to the repository root,
# outputs (results/, reports/, logs/) and the data root relative to the working directory.
REPO = Path(workflow.basedir)
DATA = config["data_root"]
BENCH_TABLE = f"{DATA}/nb201/nb201-200ep-accuracies.csv"
BENCH_SPLITS = f"{DATA}/nb201/splits/cifar-split.txt"
RUN = "results/{profile}/{space}/{method}/{dataset}/seed{seed}"
# DARTS space: the final training of a cell, `{cell}` = a method (the cell that method found
# with the same seed) or a reference genotype (config `darts_references`).
TRAIN = "results/{profile}/darts-train/{cell}/seed{seed}"
# The surrogate's scores of the DARTS-space cells (an input of the table, not committed: a
# message in it may name a path of the machine).
SURROGATE = "results/{profile}/darts-surrogate.json"
# config `report`: a sub-folder of its own (config/baselines.yaml: reports/cpu/baselines)
REPORT = "/".join(
    ["reports/{profile}", *([config["report"]] if config.get("report") else [])]
)
DARTS_REPORT = f"{REPORT}/darts"
# The scale study (a list of run profiles): the runs of every profile side by side.
SCALE_REPORT = f"reports/{config.get('study', 'scale')}"
# The DARTS-space search is on CIFAR-10 only (the paper's; `datasets` is NAS-Bench-201's).
DARTS_DATASET = "cifar10"
FIGURES = ("accuracy", "ops", "importance", "alphas")


def repo_file(path):
    """A project file named in the config: absolute, or relative to the repository root."""
    path = Path(path)
    return path if path.is_absolute() else REPO / path


# Run profile of each kind of job (nb201, darts, train): config/profiles/<prefix><profile>.yaml,
# checked by isdarts.cli, so a bad profile stops the workflow here, before any job starts.
@functools.cache
def run_profile(profile, kind):
    """(file, checked profile)."""
    path = job_profile_path(kind, profile, REPO)
    if not path.is_file():
        raise WorkflowError(
            f"config 'profile': run profile '{profile}' has no file {path}"
        )
    try:
        return path, load_job_profile(kind, path)
    except IsdartsError as exc:
        raise WorkflowError(f"config 'profile': {exc}") from None


def run_profile_file(profile, kind="nb201"):
    return run_profile(profile, kind)[0]


def profile_threads(profile, kind):
    """Threads of a job: the run profile's `threads` if it fixes them (the job then uses
    exactly that many), else the workflow's `threads_per_search`."""
    return run_profile(profile, kind)[1].threads or config["threads_per_search"]


# The run profiles: one name, or a list (the scale study: every search at each profile, one
# report per profile, and reports/scale/ across them).
PROFILES = (
    config["profile"] if isinstance(config["profile"], list) else [config["profile"]]
)


PUBLISHED = repo_file(config["published"])
if not PUBLISHED.is_file():
    raise WorkflowError(f"config published: {PUBLISHED} not found")
# The verdicts' criteria, stated before the runs (config/criteria.yaml by default).
CRITERIA = repo_file(config.get("criteria", "config/criteria.yaml"))
if not CRITERIA.is_file():
    raise WorkflowError(f"config criteria: {CRITERIA} not found")
STUDY = config.get("study", "scale")
SPACES = config["spaces"]
# The methods of each space: the baselines but first-order DARTS run on NAS-Bench-201 only.
METHODS = {
    "nb201": config["methods"],
    "darts": [m for m in config["methods"] if m not in NB201_ONLY],
}
if "darts" in SPACES and not METHODS["darts"]:
    raise WorkflowError(
        f"config methods: {', '.join(NB201_ONLY)} run(s) on NAS-Bench-201 only; the DARTS space "
        "needs isdarts or darts"
    )
REFERENCES = config.get("darts_references", []) if "darts" in SPACES else []
# The cells of the DARTS-space trainings, table and diagrams: found ones, then references.
CELLS = [*METHODS["darts"], *REFERENCES]
JOB_KINDS = [*SPACES, *(["train"] if "darts" in SPACES else [])]
THREADS = {(p, kind): profile_threads(p, kind) for p in PROFILES for kind in JOB_KINDS}


def search_threads(wildcards):
    return THREADS[(wildcards.profile, wildcards.space)]


def train_threads(wildcards):
    return THREADS[(wildcards.profile, "train")]


wildcard_constraints:
    profile="|".join(PROFILES),
    space="|".join(config["spaces"]),
    method="|".join(config["methods"]),
    dataset="|".join(d.replace("-", r"\-") for d in config["datasets"]),
    seed=r"\d+",
    cell="|".join(CELLS),
    reference="|".join(REFERENCES) or "-",


def run_dirs(profile, space):
    """Every search folder of one space: method x dataset x seed."""
    if space not in SPACES:
        return []
    datasets = config["datasets"] if space == "nb201" else [DARTS_DATASET]
    return [
        RUN.format(profile=profile, space=space, method=m, dataset=d, seed=k)
        for m in METHODS[space]
        for d in datasets
        for k in config["seeds"]
    ]


def all_results(wildcards):
    """NAS-Bench-201 search results (the figures are drawn from their logs)."""
    return [f"{run}/result.json" for run in run_dirs(wildcards.profile, "nb201")]


def all_evaluations(wildcards):
    return [f"{run}/evaluation.json" for run in run_dirs(wildcards.profile, "nb201")]


def search_inputs(wildcards):
    """A search's data set and run profile; a NAS-Bench-201 search also its benchmark files."""
    inputs = {
        "data": f"{DATA}/{wildcards.dataset}/meta.json",
        "profile": run_profile_file(wildcards.profile, wildcards.space),
    }
    if wildcards.space == "nb201":
        inputs |= {"table": BENCH_TABLE, "splits": BENCH_SPLITS}
    return inputs


def search_bench_arg(wildcards, input):
    return f"--bench {input.table}" if wildcards.space == "nb201" else ""


def found_cell(profile, method, seed):
    """The search result holding the cell `method` found with `seed` (DARTS space)."""
    run = RUN.format(
        profile=profile, space="darts", method=method, dataset=DARTS_DATASET, seed=seed
    )
    return f"{run}/result.json"


def train_inputs(wildcards):
    """A training's data and run profile, and the search result when the cell is a found one."""
    inputs = {
        "data": f"{DATA}/{DARTS_DATASET}/meta.json",
        "profile": run_profile_file(wildcards.profile, "train"),
    }
    if wildcards.cell in METHODS["darts"]:
        inputs["genotype"] = found_cell(
            wildcards.profile, wildcards.cell, wildcards.seed
        )
    return inputs


def train_genotype_arg(wildcards, input):
    """`--genotype`: the search result.json of a found cell, else the reference's name."""
    return input.genotype if "genotype" in input.keys() else wildcards.cell


def all_trainings(wildcards):
    folders = (
        TRAIN.format(profile=wildcards.profile, cell=c, seed=k)
        for c in CELLS
        for k in config["seeds"]
    )
    return [f"{folder}/result.json" for folder in folders]


def darts_searches(wildcards):
    return [f"{run}/result.json" for run in run_dirs(wildcards.profile, "darts")]


def shrink_inputs(wildcards):
    """The IS-DARTS searches' shrink table and figure the DARTS report shows (none without
    IS-DARTS in `methods`)."""
    if "isdarts" not in config["methods"]:
        return {}
    folder = DARTS_REPORT.format(profile=wildcards.profile)
    return {"shrink": f"{folder}/shrink.csv", "shrink_png": f"{folder}/shrink.png"}


def isdarts_darts_searches(wildcards):
    return [p for p in darts_searches(wildcards) if "/darts/isdarts/" in p]


def cell_diagrams(wildcards):
    """One PNG per found cell (method x seed) and per reference genotype."""
    folder = DARTS_REPORT.format(profile=wildcards.profile)
    found = [
        f"{folder}/cells/{m}-seed{k}.png"
        for m in METHODS["darts"]
        for k in config["seeds"]
    ]
    return [*found, *(f"{folder}/cells/{r}.png" for r in REFERENCES)]


def data_root_of(path):
    """The data root `<root>/<dataset>/meta.json` or `<root>/nb201/<table>` lives in."""
    return str(Path(path).parent.parent)


def get_final_output():
    """The report, and every run's own files: Snakemake regenerates a missing file only when
    it is requested, so naming them here makes a deleted run (or its result.json alone) rerun
    that search and what depends on it, and nothing else."""
    outputs = []
    for profile in PROFILES:
        outputs += profile_outputs(profile)
    if len(PROFILES) > 1 and "nb201" in SPACES:
        outputs += [f"{SCALE_REPORT}/README.md", f"{SCALE_REPORT}/scale.csv"]
    return outputs


def profile_outputs(profile):
    """What the workflow makes at one run profile."""
    wildcards = Namespace(profile=profile)
    outputs = []
    if "nb201" in SPACES:
        folder = REPORT.format(profile=profile)
        outputs += [
            *(
                f"{run}/{name}"
                for run in run_dirs(profile, "nb201")
                for name in ("result.json", "evaluation.json")
            ),
            f"{folder}/README.md",
            f"{folder}/runs.csv",
            f"{folder}/summary.csv",
            *(f"{folder}/figures/{name}.png" for name in FIGURES),
        ]
    if "darts" in SPACES:
        folder = DARTS_REPORT.format(profile=profile)
        outputs += [
            *darts_searches(wildcards),
            *all_trainings(wildcards),
            *cell_diagrams(wildcards),
            SURROGATE.format(profile=profile),
            f"{folder}/README.md",
            f"{folder}/runs.csv",
            f"{folder}/summary.csv",
            *shrink_inputs(wildcards).values(),
        ]
    return outputs
