"""The two SLURM profiles as files (no cluster needed): the CPU variant is the GPU profile
without its GPU requests, and both carry what a site without accounting needs."""

from __future__ import annotations

import copy

import yaml
from snakemake_helpers import REPO

PROFILES = REPO / "workflow" / "profiles"


def profile(name: str) -> dict:
    return yaml.safe_load((PROFILES / name / "config.yaml").read_text())


def test_cpu_profile_is_the_gpu_profile_without_its_gpu_requests():
    gpu, cpu = profile("slurm"), profile("slurm-cpu")
    with_gpu = {rule for rule, res in gpu["set-resources"].items() if res.get("gpu")}
    assert with_gpu == {"search", "train"}
    stripped = copy.deepcopy(gpu)
    for res in stripped["set-resources"].values():
        res.pop("gpu", None)
    assert stripped == cpu


def test_slurm_profiles_need_no_accounting_and_leave_site_settings_to_the_site():
    for name in ("slurm", "slurm-cpu"):
        p = profile(name)
        assert p["executor"] == "slurm"
        # job states from squeue (no accounting database needed), first check soon
        assert p["slurm-status-command"] == "squeue"
        assert 1 <= p["slurm-init-seconds-before-status-checks"] <= 10
        # a site's --default-resources (account, partition, GPU type) passes through a
        # workflow profile without default-resources, and replaces nothing of it
        assert "default-resources" not in p
        for rule in ("search", "train"):
            assert {"cpus_per_task", "mem_mb", "runtime"} <= set(p["set-resources"][rule])
        assert p["retries"] >= 1  # a cancelled or timed-out search resumes on the next try
