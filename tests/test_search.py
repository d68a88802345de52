"""The search: shrink schedule, profiles, and whole smoke runs (determinism, resume, NaN)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from isdarts.errors import IsdartsError
from isdarts.spaces.importance import shrink_points
from isdarts.spaces.nb201.importance import shrink, strongest
from isdarts.spaces.nb201.names import full_mask
from isdarts.spaces.nb201.profile import load_profile

REPO = Path(__file__).resolve().parents[1]
VOLATILE = {"seconds"}  # wall-clock fields; everything else must repeat exactly


def test_shrink_points_match_the_paper():
    assert shrink_points(30, 4, 2) == [22, 24, 26, 28]
    assert shrink_points(50, 7, 3) == [29, 32, 35, 38, 41, 44, 47]
    assert shrink_points(6, 4, 1) == [2, 3, 4, 5]


def test_shrink_removes_the_largest_scores_one_op_per_step():
    scores = np.array([[math.inf, 5.0, 1.0, 2.0, 3.0]] * 6)
    mask = full_mask()
    removed = []
    for step in range(4):
        new = shrink(mask, scores, step, 4)
        gone = [k for k in range(5) if mask[0][k] and not new[0][k]]
        removed.append(gone)
        mask = new
    assert removed == [[0], [1], [4], [3]]  # none (inf) first, then by decreasing score
    assert mask == [[False, False, True, False, False]] * 6
    assert strongest(mask, None) == [2] * 6


def test_shrink_with_fewer_steps_removes_several_ops():
    scores = np.array([[math.inf, 5.0, 1.0, 2.0, 3.0]] * 6)
    mask = shrink(full_mask(), scores, 0, 2)  # ceil(4 / 2) = 2 ops per edge
    assert mask[0] == [False, False, True, True, True]
    mask = shrink(mask, scores, 1, 2)
    assert mask[0] == [False, False, True, False, False]


def test_strongest_is_the_lowest_remaining_score():
    scores = np.array([[math.inf, 5.0, 1.0, 2.0, 3.0]] * 6)
    mask = [[False, True, False, True, True]] * 6
    assert strongest(mask, scores) == [3] * 6
    assert strongest(full_mask(), None) is None


def test_profiles_load_and_match_the_paper_settings():
    paper = load_profile("paper")
    assert (paper.channels, paper.cells_per_stage, paper.batch_size, paper.epochs) == (
        16,
        5,
        64,
        30,
    )
    assert (paper.shrink_steps, paper.shrink_interval, paper.lr, paper.lr_min) == (
        4,
        2,
        0.025,
        0.001,
    )
    assert (paper.weight_decay, paper.grad_clip, paper.train_subset) == (3e-4, 5.0, None)
    assert paper.darts.arch_betas == (0.5, 0.999) and paper.darts.epochs == 50
    for name in ("smoke", "cpu"):
        assert load_profile(name).name == name


@pytest.mark.parametrize(
    "text, needle",
    [
        ("chanels: 8\n", "unknown key 'chanels'"),
        ("epochs: ten\n", "'epochs'"),
        ("order: random\n", "'order'"),
        ("darts:\n  arch_lr: -1\n", "'darts.arch_lr'"),
        ("darts:\n  betas: [0.5, 0.9]\n", "unknown key 'darts.betas'"),
        ("epochs: 8\nshrink_steps: 4\nshrink_interval: 2\n", "'epochs'"),
        ("nesterov: 1\n", "'nesterov'"),
    ],
)
def test_bad_profile_is_a_clear_error(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(IsdartsError, match=needle) as info:
        load_profile(path)
    assert str(path) in str(info.value)


def test_unknown_profile_name_is_an_error():
    with pytest.raises(IsdartsError, match="profile 'nosuch' not found"):
        load_profile("nosuch")


# --- whole runs on the smoke profile -------------------------------------------------------


def _cmd(out: Path, method: str = "isdarts", seed: int = 0) -> list[str]:
    return [
        sys.executable,
        "-m",
        "isdarts",
        "search",
        "--method",
        method,
        "--profile",
        "smoke",
        "--seed",
        str(seed),
        "--device",
        "cpu",
        "--out",
        str(out),
    ]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _log(out: Path) -> list[dict]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, cifar10, bench):
    out = tmp_path_factory.mktemp("run") / "a"
    subprocess.run(_cmd(out), check=True, cwd=REPO, env=_env(), capture_output=True)
    return out


def test_smoke_search_writes_result_log_and_checkpoint(uninterrupted, bench):
    result = json.loads((uninterrupted / "result.json").read_text())
    for key in (
        "space",
        "method",
        "dataset",
        "seed",
        "profile",
        "data_source",
        "arch",
        "index",
        "benchmark",
        "epochs",
        "wall_seconds",
        "device",
        "torch_version",
        "isdarts_version",
        "order",
        "benchmark_format",
    ):
        assert key in result, key
    assert result["index"] == bench.index(result["arch"])
    assert set(result["benchmark"]) == {
        "cifar10_valid",
        "cifar10_test",
        "cifar100_valid",
        "cifar100_test",
        "imagenet16_valid",
        "imagenet16_test",
    }
    assert (uninterrupted / "checkpoint.pt").is_file()
    log = _log(uninterrupted)
    assert [r["epoch"] for r in log] == list(range(1, 7))
    shrunk = [r["epoch"] for r in log if r["importance"] is not None]
    assert shrunk == [2, 3, 4, 5]
    assert [max(sum(e) for e in r["masks"]) for r in log] == [5, 4, 3, 2, 1, 1]
    assert all(row[0] == "inf" for row in log[1]["importance"])  # none goes first
    assert log[-1]["arch"] == result["arch"]
    assert log[0]["arch"] is None  # no measurement yet


def test_finished_search_is_not_repeated(uninterrupted):
    before = (uninterrupted / "result.json").read_text()
    proc = subprocess.run(_cmd(uninterrupted), cwd=REPO, env=_env(), capture_output=True, text=True)
    assert proc.returncode == 0
    assert "nothing to do" in proc.stderr
    assert (uninterrupted / "result.json").read_text() == before


def test_killed_search_resumes_to_the_same_cell_and_numbers(uninterrupted, tmp_path):
    """Kill a real search after its second checkpoint, rerun: same log and cell as a run that
    was never interrupted (this also checks run-to-run determinism)."""
    out = tmp_path / "b"
    proc = subprocess.Popen(_cmd(out), cwd=REPO, env=_env(), stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("epoch 3/"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "result.json").exists()
    assert 1 <= len(_log(out)) < 6
    resumed = subprocess.run(_cmd(out), cwd=REPO, env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    assert _log(out) == _log(uninterrupted)
    a = json.loads((uninterrupted / "result.json").read_text())
    b = json.loads((out / "result.json").read_text())
    assert (a["arch"], a["index"], a["benchmark"]) == (b["arch"], b["index"], b["benchmark"])


@pytest.mark.parametrize("method", ["darts", "darts2"])
def test_darts_smoke_search(tmp_path, cifar10, bench, method):
    out = tmp_path / method
    subprocess.run(_cmd(out, method), check=True, cwd=REPO, env=_env(), capture_output=True)
    result = json.loads((out / "result.json").read_text())
    assert result["method"] == method and result["epochs"] == 4
    log = _log(out)
    assert all(r["importance"] is None for r in log)
    alphas = np.array(log[-1]["alphas"])
    assert alphas.shape == (6, 5) and np.allclose(alphas.sum(1), 1)
    assert log[-1]["arch"] == result["arch"]


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, cifar10, bench):
    import torch

    from isdarts.search import step as train
    from isdarts.search.loop import SearchRequest, run_search

    real = train.F.cross_entropy
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * math.nan if calls["n"] > 20 else loss  # epoch 3 of 8 steps each

    monkeypatch.setattr(train.F, "cross_entropy", poisoned)
    threads = torch.get_num_threads()
    req = SearchRequest("isdarts", "cifar10", 0, load_profile("smoke"), tmp_path, device="cpu")
    try:
        with pytest.raises(IsdartsError, match="became nan at epoch 3/6.*epoch 2"):
            run_search(req)
    finally:
        torch.set_num_threads(threads)
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ckpt["state"]["epoch"] == 2
    assert all(math.isfinite(r["train_loss"]) for r in ckpt["state"]["log"])
    assert not (tmp_path / "result.json").exists()


def test_cli_wires_the_search_verb():
    from isdarts.cli import build_parser

    args = build_parser().parse_args(["search", "--method", "darts", "--out", "x"])
    assert args.profile == "cpu" and args.dataset == "cifar10" and args.device == "auto"


def test_second_order_darts_gradient_matches_the_exact_unrolled_gradient() -> None:
    """darts2's architecture gradient (finite-difference Hessian-vector product) against the
    exact gradient of L_valid(w - xi (m + dL_train/dw + wd w), alpha) w.r.t. alpha by autograd
    through the virtual step, on a tiny float64 supernet; the weights and batch-norm buffers
    are left as they were."""
    import torch
    from torch.func import functional_call

    from isdarts.search.step import ArchState, UnrolledArchState
    from isdarts.spaces.nb201.names import full_mask
    from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig

    torch.manual_seed(0)
    net = Supernet(SupernetConfig(4, 1, 10)).double()
    mask = full_mask()
    alpha = torch.nn.Parameter(0.5 * torch.randn(6, 5, dtype=torch.float64))
    train = (torch.randn(8, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (8,)))
    valid = (torch.randn(8, 3, 8, 8, dtype=torch.float64), torch.randint(0, 10, (8,)))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss = torch.nn.functional.cross_entropy(net(*train[:1], mask, alpha.softmax(-1)), train[1])
    loss.backward()
    opt.step()  # a momentum buffer to take into account
    before = [t.detach().clone() for t in (*net.parameters(), *net.buffers())]

    names = [n for n, _ in net.named_parameters()]
    w = [p.detach().clone().requires_grad_() for p in net.parameters()]
    a = alpha.detach().clone().requires_grad_()

    def ce(params, batch):
        logits = functional_call(net, dict(zip(names, params)), (batch[0], mask, a.softmax(-1)))
        return torch.nn.functional.cross_entropy(logits, batch[1])

    g = torch.autograd.grad(ce(w, train), w, create_graph=True)
    bufs = [opt.state[p]["momentum_buffer"] for p in net.parameters()]
    unrolled = [wi - 0.05 * (gi + 5e-4 * wi + 0.9 * b) for wi, gi, b in zip(w, g, bufs)]
    (exact,) = torch.autograd.grad(ce(unrolled, valid), [a])
    for p, t in zip(net.parameters(), before, strict=False):
        p.data.copy_(t)  # functional_call left the parameters alone; buffers may have moved
    for b, t in zip(net.buffers(), before[len(names) :], strict=True):
        b.copy_(t)

    # DARTS' step r = 0.01 / |v| is the default; a smaller one checks the formula to float64
    # precision (at 0.01 this tiny random network's ReLU kinks dominate the difference).
    assert UnrolledArchState(alpha, torch.optim.Adam([alpha])).epsilon == 0.01
    second = UnrolledArchState(alpha, torch.optim.Adam([alpha]), first=True, epsilon=1e-6)
    (ours,) = second.gradient(net, mask, valid, train, opt, "test")
    after = [t.detach() for t in (*net.parameters(), *net.buffers())]
    assert all(torch.equal(x, y) for x, y in zip(before, after, strict=True))
    (first,) = ArchState(alpha, torch.optim.Adam([alpha])).gradient(
        net, mask, valid, train, opt, "test"
    )
    assert torch.allclose(ours, exact, rtol=1e-6, atol=1e-8), (ours - exact).abs().max()
    assert (first - exact).abs().max() > 100 * (ours - exact).abs().max()
