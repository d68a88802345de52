"""The NAS-Bench-201 baselines (GDAS, PC-DARTS, DrNAS, beta-DARTS, RSPS): each method's
distinctive step on a tiny case, and whole smoke searches that resume to the same cell."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from isdarts.config.baselines import BLOCKS
from isdarts.search.methods import METHODS, get_method
from isdarts.spaces.nb201.names import EDGES, NONE, full_mask
from isdarts.spaces.nb201.profile import load_profile
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig, channel_shuffle

BASELINES = sorted(BLOCKS)
pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny(partial: int = 1) -> Supernet:
    torch.manual_seed(0)
    return Supernet(SupernetConfig(4, 1, 10, partial)).double()


def _batch(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, 8, 8, generator=g, dtype=torch.float64), torch.randint(
        0, 10, (n,), generator=g
    )


def _arch(method: str, partial_edges: bool = True):
    prof = load_profile("smoke")
    torch.manual_seed(0)
    arch = get_method(method).arch(prof, (6, 5), "cpu")
    for p in getattr(arch, "parameters", lambda: [])():
        p.data = p.data.double()
        p.data.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    return arch


def test_the_method_names_agree_everywhere() -> None:
    """The torch-free names (command line, workflow, reports) are the registered plug-ins."""
    from isdarts.config import methods
    from isdarts.config.documents import schema

    assert set(methods.METHODS) == set(METHODS["nb201"])
    assert {m for m in methods.METHODS if m not in methods.NB201_ONLY} == set(METHODS["darts"])
    enum = schema("workflow-config")["properties"]["methods"]["items"]["enum"]
    assert tuple(enum) == methods.METHODS


def test_every_baseline_is_a_registered_method_with_its_block() -> None:
    prof = load_profile("paper")
    for name in BASELINES:
        method = METHODS["nb201"][name]
        assert method.block == name and method.schedule(prof) == (getattr(prof, name).epochs, [])
    assert (prof.gdas.epochs, prof.rsps.epochs, prof.betadarts.epochs) == (250, 250, 100)


# --- GDAS -----------------------------------------------------------------------------------


def test_gdas_forward_computes_exactly_one_op_per_edge_with_a_soft_gradient() -> None:
    net, (x, y) = _tiny(), _batch()
    arch = _arch("gdas")
    arch.begin_epoch(0, 10)
    torch.manual_seed(5)
    mix = arch.mixture(full_mask(), grad=True)
    assert all(sum(row) == 1 for row in mix.mask)  # one op per edge reaches the forward
    chosen = [row.index(True) for row in mix.mask]
    assert torch.allclose(mix.weights.detach(), F.one_hot(torch.tensor(chosen), 5).double())
    # the single path equals the full mixture with the one-hot weights (every op computed)
    full = net(x, full_mask(), mix.weights.detach(), fast=False)
    assert torch.allclose(mix.forward(net, x), full)
    loss = F.cross_entropy(mix.forward(net, x), y)
    (grad,) = torch.autograd.grad(loss, [arch.alpha])
    # straight-through: the softmax's gradient reaches every op of an edge whose sampled op
    # has an output (`none` has none); shifting an edge's alpha changes nothing
    live = [e for e, k in enumerate(chosen) if k != NONE]
    assert live and all((grad[e].abs() > 0).all() for e in live)
    assert torch.allclose(grad.sum(-1), torch.zeros(6, dtype=grad.dtype), atol=1e-12)


def test_gdas_step_survives_a_sample_with_no_path_to_the_output() -> None:
    """Every edge into the last node sampled `none`: the loss does not depend on alpha, whose
    gradient is then zero (not an error: one such step stopped real searches)."""
    from isdarts.search.step import Mixture

    net, batch = _tiny(), _batch()
    arch = _arch("gdas")
    arch.begin_epoch(0, 10)
    none_path = [[k == 0 for k in range(5)] for _ in range(6)]
    arch.mixture = lambda mask, grad: Mixture(none_path, torch.softmax(arch.alpha, -1))
    (grad,) = arch.gradient(net, full_mask(), batch, batch, None, "test")
    assert torch.equal(grad, torch.zeros_like(arch.alpha))


def test_gdas_temperature_falls_linearly_from_tau_max_to_tau_min() -> None:
    arch = _arch("gdas")
    taus = []
    for e in range(5):
        arch.begin_epoch(e, 5)
        taus.append(arch.tau)
    assert taus == pytest.approx([10.0, 7.525, 5.05, 2.575, 0.1])


def test_gdas_samples_follow_alpha() -> None:
    arch = _arch("gdas")
    arch.begin_epoch(0, 1)  # tau 10: nearly uniform
    arch.tau = 1.0  # the Gumbel-max trick: argmax frequencies are softmax(alpha)
    torch.manual_seed(0)
    counts = np.zeros((6, 5))
    for _ in range(4000):
        for e, row in enumerate(arch.mixture(full_mask(), grad=False).mask):
            counts[e, row.index(True)] += 1
    expected = torch.softmax(arch.alpha.detach(), -1).numpy()
    assert np.abs(counts / 4000 - expected).max() < 0.03


# --- PC-DARTS -------------------------------------------------------------------------------


def test_pcdarts_sends_one_kth_of_the_channels_through_the_ops() -> None:
    net, (x, _) = _tiny(partial=4), _batch()
    cell = net.layers[0]
    assert cell.edges[0]["nor_conv_3x3"][1].weight.shape == (1, 1, 3, 3)  # C/K = 1 of 4
    src = net.stem(x)
    zero = torch.zeros(6, 5, dtype=x.dtype)
    # with every op weighted 0 an edge passes exactly its bypass channels, shuffled
    out = cell.forward_partial(src, full_mask(), zero, None)
    bypass = channel_shuffle(torch.cat([torch.zeros_like(src[:, :1]), src[:, 1:]], 1), 4)
    # node 3 sums node 0's bypass and those of nodes 1, 2 (themselves built from node 0)
    node1 = bypass
    node2 = bypass + channel_shuffle(torch.cat([torch.zeros_like(src[:, :1]), node1[:, 1:]], 1), 4)
    expected = bypass
    for prev in (node1, node2):
        expected = expected + channel_shuffle(
            torch.cat([torch.zeros_like(src[:, :1]), prev[:, 1:]], 1), 4
        )
    assert torch.allclose(out, expected)
    assert torch.equal(
        channel_shuffle(torch.arange(8.0).view(1, 8, 1, 1), 4).flatten()[:4],
        torch.tensor([0.0, 2, 4, 6]),
    )


def test_pcdarts_edge_weights_are_a_softmax_over_each_nodes_inputs() -> None:
    arch = _arch("pcdarts")
    ew = arch.edge_weights()
    for node in (1, 2, 3):
        idx = [e for e, (dst, _) in enumerate(EDGES) if dst == node]
        assert float(ew[idx].sum().detach()) == pytest.approx(1.0)
    net, (x, y) = _tiny(partial=4), _batch()
    mix = arch.mixture(full_mask(), grad=True)
    loss = F.cross_entropy(mix.forward(net, x), y)
    g_alpha, g_beta = torch.autograd.grad(loss, arch.parameters())
    assert g_alpha.abs().sum() > 0 and g_beta[1:].abs().sum() > 0  # node 1 has one input
    assert float(g_beta[0]) == 0.0


def test_pcdarts_takes_no_architecture_step_in_its_warm_up() -> None:
    prof = load_profile("paper")
    arch = get_method("pcdarts").arch(prof, (6, 5), "cpu")
    arch.begin_epoch(14, 50)
    assert not arch.steps
    arch.begin_epoch(15, 50)
    assert arch.steps and arch.first


# --- DrNAS ----------------------------------------------------------------------------------


def test_drnas_weights_lie_on_the_simplex_and_carry_a_pathwise_gradient() -> None:
    arch = _arch("drnas")
    torch.manual_seed(0)
    w = arch.mixture(full_mask(), grad=True).weights
    assert (w >= 0).all() and torch.allclose(w.sum(-1), torch.ones(6, dtype=w.dtype))
    (grad,) = torch.autograd.grad((w * torch.arange(5.0, dtype=w.dtype)).sum(), [arch.alpha])
    assert (grad.abs() > 0).all()
    # the sample's mean is the Dirichlet's: elu(alpha) + 1, normalised
    draws = torch.stack([arch.mixture(full_mask(), grad=False).weights for _ in range(4000)])
    beta = F.elu(arch.alpha.detach()) + 1
    assert torch.allclose(draws.mean(0), beta / beta.sum(-1, keepdim=True), atol=0.02)
    assert torch.equal(arch.cell_logits().argmax(-1), arch.alpha.detach().argmax(-1))


def test_drnas_regularisers() -> None:
    prof = load_profile("paper")
    l2 = get_method("drnas").arch(prof, (6, 5), "cpu")
    assert l2.optimizer.param_groups[0]["weight_decay"] == pytest.approx(1e-3)  # reg_scale
    assert l2.regulariser() == 0.0
    import dataclasses

    kl_prof = dataclasses.replace(prof, drnas=dataclasses.replace(prof.drnas, regulariser="kl"))
    kl = get_method("drnas").arch(kl_prof, (6, 5), "cpu")
    assert kl.optimizer.param_groups[0]["weight_decay"] == 0.0
    kl.alpha.data.zero_()  # elu(0) + 1 = 1: the uniform Dirichlet itself
    assert float(kl.regulariser().detach()) == pytest.approx(0.0, abs=1e-6)
    kl.alpha.data.fill_(2.0)
    assert float(kl.regulariser().detach()) > 0


# --- beta-DARTS -----------------------------------------------------------------------------


def test_beta_decay_gradient_is_softmax_alpha_over_the_edges_times_lambda() -> None:
    arch = _arch("betadarts")
    arch.begin_epoch(0, 4)
    assert arch.regulariser() == 0.0  # lambda 0 at the first epoch
    arch.begin_epoch(3, 4)
    assert arch.weight == pytest.approx(50.0 * 3 / 4)
    (grad,) = torch.autograd.grad(arch.regulariser(), [arch.alpha])
    expected = arch.weight * torch.softmax(arch.alpha.detach(), -1) / 6
    assert torch.allclose(grad, expected)


# --- RSPS -----------------------------------------------------------------------------------


def test_rsps_trains_one_uniform_path_and_picks_the_best_candidate() -> None:
    arch = get_method("rsps").arch(load_profile("smoke"), (6, 5), "cpu")
    assert not arch.steps and arch.cell_logits() is None
    arch.begin_epoch(0, 1)
    torch.manual_seed(0)
    for _ in range(3000):
        mix = arch.mixture(full_mask(), grad=False)
        assert all(sum(row) == 1 for row in mix.mask)
    assert np.abs(arch.counts / 3000 - 0.2).max() < 0.03  # uniform over the 5 ops
    net = _tiny().float()
    g = torch.Generator().manual_seed(2)
    batches = iter(
        [
            (torch.randn(16, 3, 8, 8, generator=g), torch.randint(0, 10, (16,), generator=g))
            for _ in range(8)
        ]
    )
    arch.finish(net, full_mask(), batches)
    accs = [c["valid_acc"] for c in arch.scores]
    assert len(accs) == 8 and arch.chosen == arch.scores[int(np.argmax(accs))]["ops"]
    assert arch.cell_logits().argmax(-1).tolist() == arch.chosen
    assert net.training  # back in training mode


def test_rsps_candidates_see_unaugmented_batches(cifar10) -> None:
    prof = load_profile("smoke")
    loaders = get_method("rsps").loaders(prof, cifar10, None, 0, torch.device("cpu"))
    assert (
        loaders.valid.augment is False and loaders.valid.batch_size == prof.rsps.select_batch_size
    )
    assert loaders.train.augment is True


# --- whole searches -------------------------------------------------------------------------


def _kill_at(epoch: int):
    def hook(e: int) -> None:
        if e == epoch:
            raise KeyboardInterrupt

    return hook


def _rows(out) -> list[dict]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.parametrize("method", BASELINES)
def test_smoke_search_logs_its_state_and_resumes_to_the_same_cell(
    method, tmp_path, cifar10, bench
) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    prof = load_profile("smoke")
    whole = run_search(SearchRequest(method, "cifar10", 0, prof, tmp_path / "a", device="cpu"))
    assert whole["method"] == method and whole["epochs"] == getattr(prof, method).epochs
    rows = _rows(tmp_path / "a")
    assert rows[-1]["arch"] == whole["arch"] and all("arch_state" in r for r in rows)
    assert all(r["importance"] is None for r in rows)  # no shrink step
    req = SearchRequest(method, "cifar10", 0, prof, tmp_path / "b", device="cpu")
    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=_kill_at(2))
    resumed = run_search(req)
    assert (resumed["arch"], resumed["index"]) == (whole["arch"], whole["index"])
    assert _rows(tmp_path / "b") == rows
    if method == "rsps":
        assert len(rows[-1]["arch_state"]["candidates"]) == prof.rsps.candidates
        assert all(r["arch"] is None for r in rows[:-1])
