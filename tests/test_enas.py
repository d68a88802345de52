"""ENAS (:mod:`isdarts.search.methods.enas`): the controller's exact marginals, the released
learning-rate schedule and batch size, the checkpointed state, and a smoke search through the
loop that resumes to the same log. (The comparison with the released code:
``tests/test_ref_enas.py``.)"""

from __future__ import annotations

import io
import itertools
import json
import math

import pytest
import torch

from isdarts.config.baselines import EnasSettings
from isdarts.search.methods import get_method
from isdarts.search.methods.enas import Controller, EnasArch
from isdarts.spaces.nb201.profile import load_profile

pytestmark = pytest.mark.usefixtures("one_thread")


def _peaked(seed: int = 0) -> Controller:
    """A float64 controller far from uniform (its initial one is nearly uniform)."""
    torch.manual_seed(seed)
    c = Controller(6, 5).double()
    with torch.no_grad():
        for p in c.parameters():
            p.mul_(8)
        c.head.weight.mul_(8)
    return c


def _joint(c: Controller) -> tuple[torch.Tensor, torch.Tensor]:
    """Every cell [5**6, 6] and its probability, by feeding each cell through the LSTM."""
    cells = torch.tensor(list(itertools.product(range(c.ops), repeat=c.edges)))
    n = len(cells)
    with torch.no_grad():
        inputs = torch.cat([c.start.expand(1, n, -1), c.embedding(cells[:, :-1]).transpose(0, 1)])
        out, _ = c.lstm(inputs)  # [edges, cells, hidden]
        log_p = torch.log_softmax(c.logits(out), -1)
        chosen = log_p.gather(-1, cells.T[..., None])[..., 0].sum(0)
    return cells, chosen.exp()


def test_marginals_are_the_exact_per_edge_marginals_of_the_sampler() -> None:
    c = _peaked()
    cells, p = _joint(c)
    assert abs(float(p.sum()) - 1) < 1e-12
    exact = torch.stack(
        [torch.zeros(5, dtype=p.dtype).index_add_(0, cells[:, e], p) for e in range(6)]
    )
    marginals = c.marginals()
    assert (marginals - exact).abs().max() < 1e-12
    assert marginals.max() > 0.5  # far from uniform: the test means something
    for seed in range(5):  # a sample's log-probability is its cell's
        torch.manual_seed(seed)
        ops, log_prob, _ = c.sample()
        index = sum(op * 5 ** (5 - e) for e, op in enumerate(ops))
        assert abs(float(log_prob.detach()) - math.log(float(p[index]))) < 1e-12


def test_learning_rate_follows_enas_config_and_the_others_keep_the_profiles() -> None:
    prof = load_profile("paper")
    enas = get_method("enas")
    s = prof.enas
    lrs = [enas.learning_rate(prof, e, s.epochs) for e in range(s.epochs)]
    for e, lr in enumerate(lrs):  # xautodl's CosineAnnealingLR with T_max 10, no warm-up
        want = s.lr_min + (s.lr - s.lr_min) * (1 + math.cos(math.pi * e / 10)) / 2
        assert lr == pytest.approx(want, abs=1e-15)
    assert lrs[0] == lrs[20] == 0.05 and lrs[10] == pytest.approx(5e-4)
    darts, isdarts = get_method("darts"), get_method("isdarts")
    assert darts.learning_rate(prof, 0, 50) == prof.lr
    assert isdarts.learning_rate(prof, 30, 30) == pytest.approx(prof.lr_min)


def test_settings_are_the_released_ones(cifar10) -> None:
    s = EnasSettings()
    assert (s.epochs, s.lr, s.lr_min, s.lr_period, s.weight_decay, s.batch_size) == (
        310, 0.05, 5e-4, 10, 2.5e-4, 128
    )  # fmt: skip
    assert (s.arch_lr, s.arch_betas, s.arch_eps) == (1e-3, (0.0, 0.999), 1e-3)
    assert (s.controller_steps, s.controller_aggregate, s.candidates) == (50, 20, 100)
    assert (s.entropy_weight, s.baseline_decay, s.lstm_size, s.lstm_layers) == (1e-4, 0.99, 32, 2)
    prof = load_profile("smoke")
    loaders = get_method("enas").loaders(prof, cifar10, None, 0, torch.device("cpu"))
    assert loaders.train.batch_size == loaders.valid.batch_size == prof.enas.batch_size != 64
    assert loaders.train.augment and loaders.valid.augment  # ENAS.py: train transforms on both


def test_state_round_trips_through_a_weights_only_checkpoint() -> None:
    prof = load_profile("smoke")
    torch.manual_seed(0)
    a = get_method("enas").arch(prof, (6, 5), "cpu")
    torch.manual_seed(1)  # a step of the controller, so that Adam has state
    _, log_prob, _ = a.controller.sample()
    (-log_prob).backward()
    a.optimizer.step()
    a.baseline, a.chosen, a.scores = 0.25, [1, 2, 3, 4, 0, 1], [{"ops": [1] * 6, "valid_acc": 50.0}]
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = EnasArch((6, 5), prof.enas, "cpu")
    b.load_state_dict(torch.load(buf, weights_only=True))
    assert (b.baseline, b.chosen, b.scores) == (a.baseline, a.chosen, a.scores)
    assert b.optimizer.state_dict()["state"][0]["exp_avg_sq"].abs().max() > 0
    for seed in range(3):
        torch.manual_seed(seed)
        ops_a = a.draw()
        torch.manual_seed(seed)
        assert torch.equal(b.draw(), ops_a)
    assert torch.equal(a.controller.marginals(), b.controller.marginals())


def _rows(out) -> list[dict]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_smoke_search_logs_the_controller_and_resumes_to_the_same_log(
    tmp_path, cifar10, bench
) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    prof = load_profile("smoke")
    s = prof.enas
    whole = run_search(SearchRequest("enas", "cifar10", 0, prof, tmp_path / "a", device="cpu"))
    rows = _rows(tmp_path / "a")
    assert len(rows) == s.epochs and whole["arch"] == rows[-1]["arch"]
    assert [r["lr"] for r in rows] == [
        pytest.approx(get_method("enas").learning_rate(prof, e, s.epochs)) for e in range(s.epochs)
    ]
    for r in rows:
        state = r["arch_state"]
        assert {"sampled", "baseline", "reward", "valid_acc", "entropy", "grad_norm"} <= set(state)
        assert sum(state["sampled"][0]) == math.ceil(prof.train_subset / 2 / s.batch_size)
        assert state["baseline"] is not None and 0 < state["entropy"] <= 6 * math.log(5) + 1e-6
    for r in rows[:-1]:  # the controller's marginals, their argmax the row's cell
        alphas, marginals = torch.tensor(r["alphas"]), torch.tensor(r["arch_state"]["marginals"])
        assert (alphas - marginals).abs().max() < 1e-6
    final = rows[-1]
    assert len(final["arch_state"]["candidates"]) == s.candidates
    best = max(final["arch_state"]["candidates"], key=lambda c: c["valid_acc"])
    chosen = [row.index(max(row)) for row in final["alphas"]]
    assert all(max(row) == 1.0 for row in final["alphas"]) and chosen == best["ops"]
    req = SearchRequest("enas", "cifar10", 0, prof, tmp_path / "b", device="cpu")

    def kill(epoch: int) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=kill)
    resumed = run_search(req)
    assert (resumed["arch"], resumed["index"]) == (whole["arch"], whole["index"])
    assert _rows(tmp_path / "b") == rows
