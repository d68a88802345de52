"""DARTS-space supernet, importance probe, node-wise shrink, genotype extraction, and
``isdarts search --space darts`` end to end on the smoke profile."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from isdarts.cli import main
from isdarts.errors import IsdartsError
from isdarts.spaces.darts.adapter import genotype_from_alpha, genotype_from_mask
from isdarts.spaces.darts.importance import ImportanceProbe, shrink_nodes
from isdarts.spaces.darts.names import EDGES, NONE, PRIMITIVES, full_mask, genotype_from_dict
from isdarts.spaces.darts.profile import load_search_profile
from isdarts.spaces.darts.supernet import DartsSupernet, DartsSupernetConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def test_probe_matches_the_spec_formula() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 6, 4, 4, dtype=torch.float64)
    mu, sigma = x.mean(1, keepdim=True), x.std(1, keepdim=True)
    spec = (3 * (x - mu) ** 2 / sigma**6).mean(dim=(1, 2, 3)).sum()
    probe = ImportanceProbe(1)
    probe.add(0, 0, 1, x)
    assert probe.sums[0, 0, 1].item() == pytest.approx(spec.item(), rel=1e-9)
    probe.add(0, 0, 2, torch.zeros(2, 6, 4, 4))
    assert math.isinf(probe.sums[0, 0, 2].item())


def test_the_search_network_ends_with_the_authors_head() -> None:
    """After the last cell: batch norm (affine, running statistics), ReLU, global average
    pooling, linear layer (the authors' `lastact` head), not pooling straight away."""
    torch.manual_seed(0)
    net = DartsSupernet(DartsSupernetConfig(channels=4, layers=3))
    assert [name for name, _ in net.named_children()] == ["stem", "cells", "classifier"]
    head = net.classifier
    assert [type(m) for m in head.children()] == [torch.nn.BatchNorm2d, torch.nn.Linear]
    assert head.bn.affine and head.bn.track_running_stats
    assert head.bn.num_features == head.fc.in_features == 4 * 4 * 4  # 4 nodes x 4C channels
    x = torch.randn(2, 3, 16, 16)
    features = {}
    head.bn.register_forward_hook(lambda m, i, o: features.update(cell=i[0]))
    net.eval()
    with torch.no_grad():
        logits = net(x)
        cell = features["cell"]
        expected = head.fc(torch.relu(head.bn(cell)).mean(dim=(2, 3)))
    assert torch.equal(logits, expected)
    assert not torch.equal(logits, head.fc(cell.mean(dim=(2, 3))))


@pytest.mark.parametrize("pool_bn", [False, True])
def test_pool_candidates_get_a_batch_norm_only_in_the_original_darts_supernet(pool_bn) -> None:
    net = DartsSupernet(DartsSupernetConfig(channels=4, layers=3, pool_bn=pool_bn))
    for cell in net.cells:
        for edge in cell.edges:
            for name, op in zip(PRIMITIVES, edge, strict=True):
                wrapped = isinstance(op, torch.nn.Sequential) and isinstance(
                    op[-1], torch.nn.BatchNorm2d
                )
                if name.endswith("pool_3x3"):
                    assert wrapped == pool_bn, name
                    if wrapped:
                        assert not op[-1].affine and not op[-1].track_running_stats
                elif name not in ("sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"):
                    assert not wrapped, name


def test_node_wise_shrink_schedule_leaves_two_pairs_per_node() -> None:
    rng = np.random.default_rng(0)
    mask = full_mask()
    counts = []
    for step in range(7):
        scores = rng.random((2, len(EDGES), 8))
        scores[:, :, NONE] = np.inf
        mask = shrink_nodes(mask, scores, step, 7)
        counts.append(sum(sum(mask[0][e]) for e, (node, _) in enumerate(EDGES) if node == 3))
        assert not any(mask[t][e][NONE] for t in range(2) for e in range(len(EDGES)))
    assert counts == [34, 28, 22, 17, 12, 7, 2]  # node 3: 5 inputs x 8 ops = 40 at the start
    g = genotype_from_mask(mask)
    assert g is not None and g.steps == 4
    assert genotype_from_dict(g.to_dict()) == g


def test_darts_genotype_excludes_none() -> None:
    alpha = torch.zeros(2, len(EDGES), 8)
    alpha[:, :, NONE] = 10.0
    alpha[:, :, 3] = 1.0
    g = genotype_from_alpha(alpha)
    assert all(op == "sep_conv_5x5" for op, _ in g.normal + g.reduce)


def test_removed_ops_change_nothing_but_their_own_term() -> None:
    torch.manual_seed(0)
    net = DartsSupernet(DartsSupernetConfig(2, 3)).eval()
    x = torch.randn(2, 3, 16, 16)
    mask = full_mask()
    mask[0][0][NONE] = False  # `none` contributes zeros either way
    assert torch.allclose(net(x), net(x, mask), atol=1e-6)
    w = torch.softmax(torch.randn(2, len(EDGES), 8), -1)
    assert net(x, None, w).shape == (2, 10)


def _kill_at(n: int):
    def hook(epoch: int) -> None:
        if epoch == n:
            raise KeyboardInterrupt

    return hook


def _losses(folder) -> list[float]:
    return [json.loads(x)["train_loss"] for x in (folder / "log.jsonl").read_text().splitlines()]


def test_cli_search_smoke_end_to_end_and_resume(cifar10, tmp_path, capsys) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    out = tmp_path / "s"
    assert (
        main(
            [
                "search",
                "--space",
                "darts",
                "--method",
                "isdarts",
                "--profile",
                "smoke",
                "--seed",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads((out / "result.json").read_text())
    g = genotype_from_dict(result["genotype"])
    assert len(g.normal) == len(g.reduce) == 8 and result["params_m"] > 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [row["remaining"][0] for row in log][0] == [14, 20, 27, 34]
    assert log[-1]["remaining"] == [[2, 2, 2, 2], [2, 2, 2, 2]]
    assert "params_m" in capsys.readouterr().out
    png = tmp_path / "g.png"
    assert main(["genotype", str(out / "result.json"), "--plot", str(png)]) == 0

    req = SearchRequest("isdarts", "cifar10", 1, load_search_profile("smoke"), tmp_path / "killed")
    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=_kill_at(4))  # mid-shrink: masks in the checkpoint
    assert run_search(req)["genotype"] == result["genotype"]
    assert _losses(tmp_path / "killed") == _losses(out)


def test_threads_option_applies_and_a_run_resumes_with_other_threads(cifar10, tmp_path) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    out = tmp_path / "t"
    req = SearchRequest("isdarts", "cifar10", 1, load_search_profile("smoke"), out)
    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=_kill_at(2))
    assert (
        main(
            [
                "search",
                "--space",
                "darts",
                "--method",
                "isdarts",
                "--profile",
                "smoke",
                "--seed",
                "1",
                "--threads",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads((out / "result.json").read_text())
    assert result["threads"] == 2
    assert len((out / "log.jsonl").read_text().splitlines()) == result["epochs"]


def test_darts_baseline_resume_after_kill(cifar10, tmp_path) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    prof = load_search_profile("smoke")
    full = run_search(SearchRequest("darts", "cifar10", 2, prof, tmp_path / "full"))
    req = SearchRequest("darts", "cifar10", 2, prof, tmp_path / "killed")
    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=_kill_at(1))
    assert run_search(req)["genotype"] == full["genotype"]
    assert _losses(tmp_path / "killed") == _losses(tmp_path / "full")


def test_search_profiles_load_and_validate(tmp_path) -> None:
    paper = load_search_profile("paper")
    assert (paper.epochs, paper.shrink_steps, paper.shrink_interval, paper.layers) == (50, 7, 3, 8)
    load_search_profile("cpu")
    bad = tmp_path / "x.yaml"
    bad.write_text("shrink_step: 7\n")
    with pytest.raises(IsdartsError, match=r"x\.yaml: unknown key 'shrink_step'"):
        load_search_profile(bad)


def test_darts_in_the_darts_space_is_the_original_darts_search(cifar10) -> None:
    """The DARTS space's `darts` has the original DARTS search's settings; NAS-Bench-201's
    keeps the NAS-Bench-201 authors' variant, and its profiles (hence the identities of its
    finished runs) gain no key."""
    from isdarts.config.profiles import settings
    from isdarts.search.methods import Darts, OriginalDarts, get_method
    from isdarts.spaces.nb201.profile import load_profile

    darts_prof, nb201_prof = load_search_profile("cpu"), load_profile("cpu")
    original, variant = get_method("darts", "darts"), get_method("darts", "nb201")
    assert type(original) is OriginalDarts and type(variant) is Darts
    assert (original.weight_decay(darts_prof), original.nesterov(darts_prof)) == (3e-4, False)
    assert (variant.weight_decay(nb201_prof), variant.nesterov(nb201_prof)) == (5e-4, True)
    assert original.supernet_options(darts_prof) == {"pool_bn": True}
    assert variant.supernet_options(nb201_prof) == {}
    assert original.arch(darts_prof, (2, 14, 8), "cpu").first
    assert not variant.arch(nb201_prof, (6, 5), "cpu").first
    assert sorted(settings(nb201_prof)["darts"]) == [
        "arch_betas",
        "arch_lr",
        "arch_weight_decay",
        "clip_alpha",
        "epochs",
        "valid_sampling",
        "weight_decay",
    ]
    tr, va = original.halves(darts_prof, cifar10, None)
    assert (tr.tolist(), va.tolist()) == (list(range(25000)), list(range(25000, 50000)))
    split_file = dataclasses.replace(
        darts_prof, darts=dataclasses.replace(darts_prof.darts, split="file")
    )
    tr_file, _ = original.halves(split_file, cifar10, None)
    assert sorted(tr_file.tolist()) != tr.tolist() and len(tr_file) == 25000


@pytest.mark.parametrize("first", [True, False])
def test_the_architecture_step_comes_first_only_where_asked(monkeypatch, first) -> None:
    from isdarts.search.step import ArchState, train_epoch

    torch.manual_seed(0)
    net = DartsSupernet(DartsSupernetConfig(channels=2, layers=3))
    alpha = torch.nn.Parameter(1e-3 * torch.randn(2, 14, 8))
    arch = ArchState(alpha, torch.optim.Adam([alpha], lr=3e-4), first=first)
    weights = torch.optim.SGD(net.parameters(), lr=0.01)
    order: list[str] = []
    arch_step, weight_step = arch.step, weights.step
    monkeypatch.setattr(arch, "step", lambda *a: (order.append("alpha"), arch_step(*a))[1])
    monkeypatch.setattr(weights, "step", lambda *a: (order.append("w"), weight_step(*a))[1])
    batch = (torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,)))
    train_epoch(
        net,
        iter([batch, batch]),
        2,
        weights,
        mask=full_mask(),
        grad_clip=5.0,
        desc="t",
        arch=arch,
        valid_batches=iter([batch, batch]),
    )
    assert order == (["alpha", "w"] * 2 if first else ["w", "alpha"] * 2)
