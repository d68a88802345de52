"""The workflow through SLURM for real: a one-node cluster on this machine (conftest.py), the
shipped profiles and snakemake-executor-plugin-slurm. Two workflows run side by side on it:

- config/smoke.yaml (NAS-Bench-201) with workflow/profiles/slurm-cpu; one search is cancelled
  with `scancel` mid-run, resubmitted by the profile's `retries` and resumed from its checkpoint;
- config/darts-smoke.yaml (DARTS space: searches, then trainings) with workflow/profiles/slurm,
  each job with one (typed) GPU of the test node.

The profiles are used as shipped. Each run names the test partition (and GPU type) the two
ways the README ("On a SLURM cluster") gives a site: `--default-resources slurm_partition=...`
on the command line (NAS-Bench-201), a site profile with `default-resources` passed with
`--profile` (DARTS). `scontrol show job` then shows what SLURM was asked for and gave.
Both smoke configs with one seed of their two (an extra --configfile): every job costs about
20 s of the 2 cores, so the number of jobs is the test's time. About two minutes on 2 cores."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake_helpers import PNG, REPO, SMOKE, env, snakemake_cmd

pytestmark = [pytest.mark.slow, pytest.mark.slurm]

DARTS_SMOKE = REPO / "config" / "darts-smoke.yaml"
METHODS = ("isdarts", "darts")  # as in both smoke configs
SEEDS = (0,)  # of the configs' two
DARTS_CELLS = (*METHODS, "isdarts_published", "darts_v2")
CANCELLED = ("isdarts", 0)  # the NB201 search cancelled mid-run
TIMEOUT = 600
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/(\w+)/")


@dataclass
class Run:
    """One snakemake through SLURM in its own working directory."""

    name: str
    workdir: Path
    profile: str
    configfiles: tuple[Path, ...]
    site: tuple[str, ...]  # the site's settings, as the README gives them
    proc: subprocess.Popen | None = None
    start: float = 0.0
    wall: float = 0.0
    output: str = ""

    def launch(self, data_root: Path) -> None:
        self.log = (self.workdir / "snakemake.out").open("w")
        cmd = snakemake_cmd(
            self.workdir,
            data_root,
            *self.site,
            configfile=self.configfiles[0],
            profile=self.profile,
        )
        # the extra config files after the first, merged over it
        at = cmd.index("--configfile") + 2
        cmd[at:at] = [str(f) for f in self.configfiles[1:]]
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env(), stdout=self.log, stderr=subprocess.STDOUT
        )

    def poll(self) -> int | None:
        rc = self.proc.poll()
        if rc is not None and not self.wall:
            self.wall = time.perf_counter() - self.start
        return rc

    def finish(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # snakemake cancels its SLURM jobs
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.output = (self.workdir / "snakemake.out").read_text()

    def submitted(self) -> dict[int, tuple[str, str]]:
        """SLURM job id -> (rule, wildcards) of every job this run submitted."""
        return {int(m[1]): (m[2], m[3]) for m in SUBMITTED.finditer(self.output)}


def nb201_run_dir(workdir: Path, method: str, seed: int) -> Path:
    return workdir / "results" / "smoke" / "nb201" / method / "cifar10" / f"seed{seed}"


def cancel_mid_run(run: Run, cluster, deadline: float) -> int:
    """scancel the SLURM job of the CANCELLED search once it has written two epochs (so a
    checkpoint exists) and before it finishes; returns its job id."""
    method, seed = CANCELLED
    folder = nb201_run_dir(run.workdir, method, seed)
    comment = f"rule_search_wildcards_smoke_nb201_{method}_cifar10_{seed}"
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"the workflow ended before the search could be cancelled:\n{run.output}")
        log = folder / "log.jsonl"
        if log.is_file() and len(log.read_text().splitlines()) >= 2:
            running = [
                jid
                for jid, (state, c) in cluster.queue().items()
                if c == comment and state == "RUNNING"
            ]
            assert len(running) == 1, cluster.queue()
            assert not (folder / "result.json").exists(), "search finished before scancel"
            subprocess.run(["scancel", str(running[0])], check=True, timeout=30)
            return running[0]
        time.sleep(0.2)
    pytest.fail("the search to cancel did not reach its second epoch in time")


@pytest.fixture(scope="module")
def runs(slurm, tmp_path_factory, data_root):
    config = tmp_path_factory.mktemp("slurm-config")
    one_seed = config / "one-seed.yaml"
    one_seed.write_text(f"seeds: {list(SEEDS)}\n")
    site = config / "site"  # a site profile, as in the README
    site.mkdir()
    site_resources = {"slurm_partition": slurm.partition, "gpu_model": slurm.gpu_type}
    (site / "config.yaml").write_text(yaml.safe_dump({"default-resources": site_resources}))
    nb201 = Run(
        "nb201",
        tmp_path_factory.mktemp("slurm-nb201"),
        "slurm-cpu",
        (SMOKE, one_seed),
        ("--default-resources", f"slurm_partition={slurm.partition}"),
    )
    darts = Run(
        "darts",
        tmp_path_factory.mktemp("slurm-darts"),
        "slurm",
        (DARTS_SMOKE, one_seed),
        ("--profile", str(site)),
    )
    start = time.perf_counter()
    deadline = time.monotonic() + TIMEOUT
    both = (nb201, darts)
    try:
        for run in both:
            run.launch(data_root)
        cancelled = cancel_mid_run(nb201, slurm, deadline)
        while time.monotonic() < deadline and None in [r.poll() for r in both]:
            time.sleep(0.5)
    finally:
        for run in both:
            run.finish()
    for run in both:
        if run.proc.returncode != 0:
            pytest.fail(
                f"{run.name} workflow through SLURM failed ({run.proc.returncode}):\n"
                f"{run.output[-5000:]}\n{slurm.tail()}"
            )
    print(
        f"through SLURM, side by side: nb201 smoke {nb201.wall:.1f} s (one search cancelled),"
        f" DARTS smoke {darts.wall:.1f} s, both {time.perf_counter() - start:.1f} s wall"
        f" on {os.cpu_count()} cores"
    )
    jobs = {jid: slurm.job(jid) for run in both for jid in run.submitted()}
    return {"nb201": nb201, "darts": darts, "cancelled": cancelled, "jobs": jobs}


def check_jobs(run: Run, jobs: dict, partition: str, gpus: str | None) -> dict[str, int]:
    """Every search and training ran as a SLURM job with the profile's requests and the site's
    partition (and GPU type); returns the number of jobs per rule."""
    per_rule: dict[str, int] = {}
    for jid, (rule, wildcards) in run.submitted().items():
        per_rule[rule] = per_rule.get(rule, 0) + 1
        job = jobs[jid]
        assert job["Comment"] == f"rule_{rule}_wildcards_{wildcards}", job
        assert job["Partition"] == partition, job
        assert (job["NumCPUs"], job["MinMemoryNode"]) == ("8", "16000M"), job
        assert job["TimeLimit"] == {"search": "12:00:00", "train": "2-00:00:00"}[rule], job
        assert job.get("TresPerJob") == gpus, job
    return per_rule


def test_nb201_smoke_through_slurm_writes_the_report(runs, slurm):
    run = runs["nb201"]
    per_rule = check_jobs(run, runs["jobs"], slurm.partition, gpus=None)
    assert per_rule == {"search": len(METHODS) * len(SEEDS) + 1}  # one resubmitted
    report = run.workdir / "reports" / "smoke"
    table = pd.read_csv(report / "runs.csv")
    assert sorted(zip(table["method"], table["seed"], strict=True)) == sorted(
        (m, s) for m in METHODS for s in SEEDS
    )
    assert (pd.read_csv(report / "summary.csv")["n"] == len(SEEDS)).all()
    text = (report / "README.md").read_text()
    assert "**IS-DARTS, this harness** (`smoke`: C=4, N=1, 256 images, 6 epochs; 1 seed)" in text
    for name in ("accuracy", "ops", "importance"):
        assert (report / "figures" / f"{name}.png").read_bytes().startswith(PNG)


def test_a_search_cancelled_mid_run_is_resubmitted_and_resumes(runs):
    run, jobs, cancelled = runs["nb201"], runs["jobs"], runs["cancelled"]
    method, seed = CANCELLED
    assert jobs[cancelled]["JobState"] == "CANCELLED"
    wildcards = run.submitted()[cancelled][1]
    tries = [jid for jid, (_, w) in run.submitted().items() if w == wildcards]
    assert len(tries) == 2 and tries[0] == cancelled
    assert jobs[tries[1]]["JobState"] == "COMPLETED"
    others = [jid for jid in run.submitted() if jid not in tries]
    assert {jobs[jid]["JobState"] for jid in others} == {"COMPLETED"}
    log = (
        run.workdir / "logs" / "smoke" / "search" / "nb201" / method / "cifar10" / f"seed{seed}.log"
    )
    resumed = re.search(r"isdarts: resuming \S+ after epoch (\d+)/(\d+)", log.read_text())
    assert resumed, log.read_text()
    assert 1 <= int(resumed[1]) < int(resumed[2])
    result = json.loads((nb201_run_dir(run.workdir, method, seed) / "result.json").read_text())
    assert result["seed"] == seed


def test_darts_smoke_searches_and_trainings_are_gpu_jobs(runs, slurm):
    run = runs["darts"]
    per_rule = check_jobs(run, runs["jobs"], slurm.partition, f"gres:gpu:{slurm.gpu_type}:1")
    n = len(SEEDS)
    assert per_rule == {"search": len(METHODS) * n, "train": len(DARTS_CELLS) * n}
    assert {runs["jobs"][jid]["JobState"] for jid in run.submitted()} == {"COMPLETED"}
    folder = run.workdir / "reports" / "smoke" / "darts"
    table = pd.read_csv(folder / "runs.csv")
    assert sorted(zip(table["cell"], table["seed"], strict=True)) == sorted(
        (c, s) for c in DARTS_CELLS for s in SEEDS
    )
    assert (
        "**IS-DARTS published cell, trained here** (`smoke`, 1 seed"
        in (folder / "README.md").read_text()
    )
    for cell in DARTS_CELLS:
        trained = run.workdir / "results" / "smoke" / "darts-train" / cell
        assert all((trained / f"seed{s}" / "result.json").is_file() for s in SEEDS)
