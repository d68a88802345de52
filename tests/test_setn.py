"""SETN as a plug-in of the search loop: its released settings, its loaders, its two steps, the
final selection, and a smoke search through the command line that resumes after a kill to the
same log (the comparison with the released network: ``tests/test_ref_setn.py``)."""

from __future__ import annotations

import json

import pytest
import torch
from cli_helpers import isdarts

from isdarts.config.baselines import SetnSettings
from isdarts.errors import IsdartsError
from isdarts.search.methods import get_method
from isdarts.search.methods.setn import SetnArch, ranked_cells
from isdarts.search.step import ArchState
from isdarts.spaces.nb201.names import OPS as OP_NAMES
from isdarts.spaces.nb201.names import full_mask, parse, to_str
from isdarts.spaces.nb201.profile import load_profile
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def test_defaults_are_the_released_settings() -> None:
    s = load_profile("paper").setn
    assert s == SetnSettings()
    assert (s.epochs, s.weight_decay, s.nesterov, s.grad_clip) == (250, 5e-4, True, None)
    assert (s.arch_lr, s.arch_betas, s.arch_weight_decay) == (3e-4, (0.5, 0.999), 1e-3)
    assert (s.candidates, s.select_batch_size, s.valid_sampling) == (100, 512, "replacement")
    assert not s.arch_step_first and not s.clip_alpha
    method = get_method("setn")
    prof = load_profile("paper")
    assert method.grad_clip(prof) is None and method.schedule(prof) == (250, [])
    assert get_method("gdas").grad_clip(prof) == prof.grad_clip  # the others keep the clip


def test_loaders_the_valid_half_with_replacement_and_the_candidates_batches(cifar10) -> None:
    prof = load_profile("smoke")
    loaders = get_method("setn").loaders(prof, cifar10, None, 0, torch.device("cpu"))
    valid, select = loaders.valid, loaders.select
    assert valid.augment and valid.replacement and valid.batch_size == prof.batch_size
    assert not select.augment and not select.replacement
    assert select.batch_size == prof.setn.select_batch_size and select.seed != valid.seed
    assert torch.equal(select.images, valid.images)
    assert loaders.train.augment and not loaders.train.replacement


def test_the_weight_step_trains_one_uniform_cell_and_alpha_steps_on_the_mixture() -> None:
    prof = load_profile("smoke")
    torch.manual_seed(0)
    arch = get_method("setn").arch(prof, (6, 5), "cpu")
    assert isinstance(arch, SetnArch) and not arch.graphable and arch.dense_sgd
    assert not arch.first and arch.optimizer.param_groups[0]["lr"] == 3e-4
    arch.begin_epoch(0, 1)
    assert arch.steps
    for _ in range(3000):
        mix = arch.mixture(full_mask(), grad=False)
        assert all(sum(row) == 1 for row in mix.mask)  # one op per edge reaches the forward
    counts = arch.paths.counts / 3000
    assert abs(counts - 0.2).max() < 0.03  # uniform, whatever alpha says
    torch.manual_seed(0)
    net = Supernet(SupernetConfig(4, 1, 10)).double()
    arch.alpha.data = torch.randn(6, 5, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 3, 8, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (6,), generator=g)
    loss = arch.loss(net, full_mask(), (x, y), "test")
    joint = ArchState.mixture(arch, full_mask(), grad=True)
    expected = torch.nn.functional.cross_entropy(joint.forward(net, x), y)
    assert torch.equal(loss, expected)
    (grad,) = arch.gradient(net, full_mask(), (x, y), None, None, "test")
    assert (grad.abs() > 0).all()  # every op of every edge


def test_clip_alpha_is_refused() -> None:
    import dataclasses

    prof = load_profile("smoke")
    prof = dataclasses.replace(prof, setn=dataclasses.replace(prof.setn, clip_alpha=True))
    with pytest.raises(IsdartsError, match="setn.clip_alpha"):
        get_method("setn").arch(prof, (6, 5), "cpu")


def test_ranking_ties_keep_the_enumeration_order() -> None:
    alpha = torch.zeros(6, 5)
    alpha[5, 3] = 1.0  # the last edge's op 3 first, then ties in the enumeration order
    cells, log_probs = ranked_cells(alpha, 7)
    assert cells.tolist()[:2] == [[0, 0, 0, 0, 0, 3], [0, 0, 0, 0, 1, 3]]
    assert (log_probs[:-1] >= log_probs[1:]).all()
    assert len(ranked_cells(alpha, -1)[0]) == len(ranked_cells(alpha, 10**6)[0]) == 5**6


def _rows(out) -> list[dict]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_smoke_search_through_the_cli_resumes_to_the_same_log(tmp_path, cifar10, bench) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    res = isdarts(
        "search", "--method", "setn", "--profile", "smoke", "--device", "cpu",
        "--out", str(tmp_path / "a"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    result = json.loads((tmp_path / "a" / "result.json").read_text())
    prof = load_profile("smoke")
    assert result["method"] == "setn" and result["epochs"] == prof.setn.epochs
    assert to_str(parse(result["arch"])) == result["arch"] and result["index"] is not None
    rows = _rows(tmp_path / "a")
    assert rows[-1]["arch"] == result["arch"]
    # the rows before the last: alpha's most probable cell; the last: the chosen candidate
    for r in rows[:-1]:
        ops = torch.tensor(r["alphas"]).argmax(-1).tolist()
        assert r["arch"] == to_str([OP_NAMES[k] for k in ops])
    candidates = rows[-1]["arch_state"]["candidates"]
    assert len(candidates) == prof.setn.candidates
    log_probs = [c["log_prob"] for c in candidates]
    assert log_probs == sorted(log_probs, reverse=True)
    accs = [c["valid_acc"] for c in candidates]
    chosen = candidates[accs.index(max(accs))]["ops"]
    assert result["arch"] == to_str([OP_NAMES[k] for k in chosen])
    assert all(sum(map(sum, r["arch_state"]["sampled"])) == 6 * 4 for r in rows)  # 4 steps
    req = SearchRequest("setn", "cifar10", 0, prof, tmp_path / "b", device="cpu")

    def kill(epoch: int) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=kill)
    resumed = run_search(req)
    assert (resumed["arch"], resumed["index"]) == (result["arch"], result["index"])
    assert _rows(tmp_path / "b") == rows
