import subprocess
import sys

import numpy as np
import pytest
import torch

from isdarts.config.profiles import resolve_prefixed
from isdarts.data.loader import fixed_subset
from isdarts.errors import IsdartsError
from isdarts.run.device import select_device
from isdarts.run.folder import load_checkpoint


def test_corrupt_checkpoint_is_a_one_line_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"garbage")
    with pytest.raises(IsdartsError, match=r"checkpoint\.pt: corrupt or unreadable checkpoint"):
        load_checkpoint(path, torch.device("cpu"))
    torch.save({"net": {}}, path)
    with pytest.raises(IsdartsError, match="not an isdarts checkpoint"):
        load_checkpoint(path, torch.device("cpu"))


def test_search_cli_refuses_a_corrupt_checkpoint(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"garbage")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "isdarts",
            "search",
            "--space",
            "nb201",
            "--method",
            "isdarts",
            "--dataset",
            "cifar10",
            "--seed",
            "0",
            "--profile",
            "smoke",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert res.stderr.startswith("isdarts: error: ") and "Traceback" not in res.stderr


def test_profiles_are_found_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_prefixed("cpu", "", "profile").name == "cpu.yaml"
    assert (
        resolve_prefixed("cpu", "darts-train-", "training profile").name == "darts-train-cpu.yaml"
    )
    with pytest.raises(IsdartsError, match="profile 'nosuch' not found"):
        resolve_prefixed("nosuch", "", "profile")


def test_fixed_subset_is_seed_independent_and_sorted():
    a, b = fixed_subset(100, 10), fixed_subset(100, 10)
    assert np.array_equal(a, b) and np.all(np.diff(a) > 0) and len(a) == 10
    assert np.array_equal(fixed_subset(5, None), np.arange(5))
    assert select_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(IsdartsError, match="no CUDA device"):
            select_device("cuda")
