"""The CUDA-graph checks of ``tests/gpu_checks.py`` under pytest: on the CPU (the graphed
epoch's device-side sums and checks against the eager loop, exactly) and, marked ``gpu``, on
CUDA (captured graphs against eager steps; skipped without CUDA)."""

from __future__ import annotations

import gpu_checks
import pytest
import torch

pytestmark = pytest.mark.usefixtures("one_thread")

CUDA = pytest.param(
    "cuda",
    marks=[
        pytest.mark.gpu,
        pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
    ],
)
FAST = [f for f in gpu_checks.CHECKS if "resumes" not in f.__name__]


@pytest.mark.parametrize("device", ["cpu", CUDA])
@pytest.mark.parametrize("check", FAST, ids=lambda f: f.__name__.removeprefix("check_"))
def test_check(check, device) -> None:
    check(torch.device(device))


@pytest.mark.parametrize("device", [CUDA])
def test_graphed_search_resumes(device, data_root, monkeypatch) -> None:
    """On CUDA only: on the CPU a search runs the eager loop, whose resume the baselines'
    tests cover."""
    monkeypatch.setenv("ISDARTS_DATA_ROOT", str(data_root))
    gpu_checks.check_graphed_search_resumes_to_the_same_cell(torch.device(device))


def test_which_searches_use_graphs() -> None:
    from isdarts.errors import IsdartsError
    from isdarts.search.loop import use_graphs
    from isdarts.search.methods import get_method
    from isdarts.spaces.nb201.profile import load_profile

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    prof = load_profile("smoke")

    def arch(method: str):
        return get_method(method, "nb201").arch(prof, (6, 5), cpu)

    assert use_graphs("auto", cuda, "nb201", None)  # IS-DARTS
    assert use_graphs("auto", cuda, "nb201", arch("darts"))
    assert use_graphs("auto", cuda, "nb201", arch("betadarts"))
    for method in ("darts2", "gdas", "drnas", "pcdarts", "rsps", "setn", "enas"):
        # random draws or host reads
        assert not use_graphs("auto", cuda, "nb201", arch(method)), method
    assert not use_graphs("auto", cuda, "darts", None)  # the DARTS space runs eagerly
    assert not use_graphs("auto", cpu, "nb201", None)
    assert not use_graphs("off", cuda, "nb201", None)
    with pytest.raises(IsdartsError, match="--cuda-graphs on: the run's device is cpu"):
        use_graphs("on", cpu, "nb201", None)


def test_gpu_throughput_benchmark_runs_on_the_cpu() -> None:
    """The benchmark's code path (eager only on the CPU, the smoke profile, one concurrency
    worker process) and its last line."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_throughput.py"
    out = subprocess.run(
        [sys.executable, str(script), "--device", "cpu", "--quick"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    last = out.strip().splitlines()[-1]
    pattern = r"step_ms=[\d.]+ importance_ratio=[\d.]+ paper_minutes=[\d.]+ table_minutes=[\d.]+"
    assert re.fullmatch(pattern, last), last


def test_without_jsonschema_and_pandera_profiles_and_the_table_load_with_a_note(
    monkeypatch, capsys, data_root
) -> None:
    """A GPU machine may lack both (benchmarks/device_check.sh): the checks are skipped, each
    said once on stderr, and everything else works."""
    import sys

    from isdarts._optional import optional
    from isdarts.bench import nb201
    from isdarts.config import profiles
    from isdarts.spaces.nb201.profile import load_profile

    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "pandera", None)
    for cached in (optional, profiles._validator_class, nb201._schema):
        cached.cache_clear()
    try:
        assert load_profile("smoke").name == "smoke"
        assert load_profile("cpu").cells_per_stage == 5
        table = nb201.validate_table(nb201.pd.read_csv(data_root / "nb201" / nb201.TABLE_NAME),
                                     "table.csv")  # fmt: skip
        assert len(table) == 15625
        err = capsys.readouterr().err
        assert err.count("isdarts: jsonschema is not installed") == 1, err
        assert err.count("isdarts: pandera is not installed") == 1, err
    finally:
        for cached in (optional, profiles._validator_class, nb201._schema):
            cached.cache_clear()
