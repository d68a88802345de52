"""The one-node SLURM cluster as a fixture. Where it cannot run (not root, no apt-get, a real
SLURM installation at /etc/slurm) its tests are skipped with a one-line reason; with
ISDARTS_REQUIRE_SLURM=1 (set by .ci/run) they fail instead, so CI never passes without them."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # snakemake_helpers

import slurm_cluster  # noqa: E402
from snakemake_helpers import REPO  # noqa: E402

PROFILES = REPO / "workflow" / "profiles"


def unavailable(reason: str):
    if os.environ.get("ISDARTS_REQUIRE_SLURM") == "1":
        pytest.fail(f"SLURM test cluster required (ISDARTS_REQUIRE_SLURM=1): {reason}")
    pytest.skip(f"no SLURM test cluster: {reason}")


def largest_request(resource: str) -> int:
    """The largest per-job request of `resource` in the shipped SLURM profiles."""
    values = [
        res[resource]
        for name in ("slurm", "slurm-cpu")
        for res in yaml.safe_load((PROFILES / name / "config.yaml").read_text())[
            "set-resources"
        ].values()
        if resource in res
    ]
    return max(values)


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    if sys.platform != "linux":
        unavailable(f"needs Linux, not {sys.platform}")
    if os.geteuid() != 0:
        unavailable(f"needs root to install and run slurmctld/slurmd (uid {os.geteuid()})")
    start = time.perf_counter()
    cluster = slurm_cluster.new_cluster(largest_request("cpus_per_task"), largest_request("mem_mb"))
    try:
        cluster.start()
    except slurm_cluster.Unavailable as exc:
        unavailable(str(exc))
    print(
        f"SLURM test cluster: install {cluster.install_seconds:.1f} s, up after"
        f" {time.perf_counter() - start:.1f} s"
    )
    try:
        yield cluster
    finally:
        # keep the daemons' logs of this run beside pytest's other temporary files
        keep = tmp_path_factory.mktemp("slurm-logs")
        for log in [*cluster.logs, cluster.jobcomp]:
            if log.is_file():
                (keep / log.name).write_bytes(log.read_bytes())
        cluster.stop()
