"""SNAS, DSNAS and iDARTS: no reference implementation exists in xautodl, so each method's
defining property is checked against its formula, in float64 on a tiny supernet (or a small
quadratic problem), and each runs a smoke search end to end that resumes to the same log."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from isdarts.search.methods import get_method
from isdarts.search.methods import snas as snas_module
from isdarts.search.methods.idarts import ImplicitArchState, implicit_hypergradient
from isdarts.search.step import train_epoch
from isdarts.spaces.nb201.names import NONE, full_mask
from isdarts.spaces.nb201.profile import load_profile
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig

pytestmark = pytest.mark.usefixtures("one_thread")
TOL = 1e-10


def _tiny() -> Supernet:
    torch.manual_seed(0)
    return Supernet(SupernetConfig(4, 1, 10)).double()


def _batch(seed: int = 1, n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 8, 8, generator=g, dtype=torch.float64)
    return x, torch.randint(0, 10, (n,), generator=g)


def _arch(method: str, **options):
    """The method's architecture state at the smoke profile, alpha in float64 and spread out
    (a fresh Adam on it, so that a step sees the float64 parameter)."""
    prof = load_profile("smoke")
    torch.manual_seed(0)
    arch = get_method(method).arch(prof, (6, 5), "cpu")
    arch.alpha.data = arch.alpha.data.double()
    arch.alpha.data.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    group = arch.optimizer.param_groups[0]
    arch.optimizer = torch.optim.Adam(
        [arch.alpha], lr=group["lr"], betas=group["betas"], weight_decay=group["weight_decay"]
    )
    for key, value in options.items():
        setattr(arch, key, value)
    return arch


def _one_single_level_step(arch, net, batch):
    """One weight step of the loop (train_epoch on one batch) with ``arch``; returns alpha's
    gradient as its optimiser saw it (after alpha's own clip) and the net after the step."""
    seen = []
    step = arch.optimizer.step

    def recording_step(*args, **kw):
        seen.append(arch.alpha.grad.detach().clone())
        return step(*args, **kw)

    arch.optimizer.step = recording_step
    sgd = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    train_epoch(net, iter([batch]), 1, sgd, mask=full_mask(), grad_clip=5.0, desc="t", arch=arch)
    assert len(seen) == 1 and arch.alpha.grad is None  # consumed by alpha's step
    return seen[0]


def _reference_weight_step(net, batch, mask, weights) -> None:
    """The weight step on ``weights`` held fixed: what the loop's SGD step must have done."""
    sgd = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=3e-4)
    F.cross_entropy(net(batch[0], mask, weights.detach()), batch[1]).backward()
    torch.nn.utils.clip_grad_norm_(list(net.parameters()), 5.0)
    sgd.step()


def _same_params(a, b) -> float:
    pairs = zip(a.parameters(), b.parameters(), strict=True)
    return max(float((p - q).detach().abs().max()) for p, q in pairs)


# --- SNAS -----------------------------------------------------------------------------------


def test_snas_weights_are_the_concrete_sample_of_the_forwards_gumbel_noise() -> None:
    arch = _arch("snas")
    arch.begin_epoch(1, 4)
    gumbel = -torch.empty(6, 5, dtype=torch.float64).exponential_().log()
    expected = torch.softmax((arch.alpha.detach() + gumbel) / arch.tau, -1)
    assert torch.allclose(arch.relaxed(gumbel), expected, rtol=0, atol=1e-15)
    # a forward's mixture: every op, weighted by the sample of the noise drawn for it
    torch.manual_seed(7)
    mix = arch.mixture(full_mask(), grad=True)
    torch.manual_seed(7)
    noise = -torch.empty(6, 5, dtype=torch.float64).exponential_().log()
    assert mix.mask == full_mask() and mix.weights.requires_grad
    assert torch.equal(mix.weights, arch.relaxed(noise))
    assert torch.allclose(mix.weights.sum(-1), torch.ones(6, dtype=torch.float64))
    assert not arch.mixture(full_mask(), grad=False).weights.requires_grad


def test_snas_single_level_step_takes_alphas_gradient_from_the_weight_steps_backward(
    monkeypatch,
) -> None:
    """One batch, one noise draw, one backward: alpha's gradient is the closed form
    ``(1/tau) W * (G - <W, G>)`` per edge of the loss' gradient G to the relaxed weights W, and
    the weights took the SGD step of the same loss."""
    net, batch = _tiny(), _batch()
    ref = copy.deepcopy(net)
    arch = _arch("snas", arch_grad_clip=1e6)
    arch.begin_epoch(0, 4)
    alpha = arch.alpha.detach().clone()
    gumbel = -torch.empty(6, 5, dtype=torch.float64).exponential_().log()
    calls = []
    monkeypatch.setattr(snas_module, "gumbel_like", lambda x: calls.append(1) or gumbel)
    seen = _one_single_level_step(arch, net, batch)
    assert len(calls) == 1  # one draw for the step: the weights' and alpha's gradient share it

    w = torch.softmax((alpha + gumbel) / arch.tau, -1).requires_grad_()
    (g,) = torch.autograd.grad(F.cross_entropy(ref(batch[0], full_mask(), w), batch[1]), [w])
    closed = w * (g - (w * g).sum(-1, keepdim=True)) / arch.tau
    assert (seen - closed).abs().max() < TOL
    _reference_weight_step(ref, batch, full_mask(), w)
    assert _same_params(net, ref) < TOL


def test_snas_clips_alphas_gradient_on_its_own() -> None:
    net, batch = _tiny(), _batch()
    arch = _arch("snas", arch_grad_clip=1e-3)
    arch.begin_epoch(0, 4)
    seen = _one_single_level_step(arch, net, batch)
    assert float(seen.norm()) == pytest.approx(1e-3, rel=1e-4)  # clip_grad_norm_'s 1e-6


def test_snas_temperature_falls_linearly_to_tau_min_at_the_last_epoch() -> None:
    arch = _arch("snas")
    taus = []
    for e in range(150):
        arch.begin_epoch(e, 150)
        taus.append(arch.tau)
    # the released scheduler steps once before the first epoch: 1 - 0.97/150, ..., 0.03
    assert taus[0] == pytest.approx(1.0 - 0.97 / 150, abs=1e-15)
    assert taus[-1] == 0.03 and min(taus) == 0.03
    assert np.allclose(np.diff(taus), -0.97 / 150, rtol=0, atol=1e-14)


# --- DSNAS ----------------------------------------------------------------------------------


def test_dsnas_forward_computes_exactly_one_op_per_edge_with_weight_one() -> None:
    net, (x, _) = _tiny(), _batch()
    arch = _arch("dsnas")
    arch.begin_epoch(0, 4)
    torch.manual_seed(5)
    mix = arch.mixture(full_mask(), grad=True)
    assert all(sum(row) == 1 for row in mix.mask)
    chosen = [row.index(True) for row in mix.mask]
    hard = F.one_hot(torch.tensor(chosen), 5).double()
    assert torch.equal(mix.weights.detach(), hard)  # exactly one-hot in value
    assert torch.equal(arch.mixture(full_mask(), grad=False).weights.detach().sum(-1), hard.sum(-1))
    # the single path equals the full mixture with the one-hot weights (every op computed)
    assert torch.allclose(mix.forward(net, x), net(x, full_mask(), hard, fast=False), atol=1e-12)
    assert arch.counts.sum() == 12  # two draws of 6 edges this epoch


def test_dsnas_samples_follow_softmax_alpha() -> None:
    arch = _arch("dsnas")
    arch.begin_epoch(0, 1)
    torch.manual_seed(0)
    for _ in range(4000):
        arch.mixture(full_mask(), grad=False)
    expected = torch.softmax(arch.alpha.detach(), -1).numpy()
    assert np.abs(arch.counts / 4000 - expected).max() < 0.03
    assert arch.log_state()["sampled"] == arch.counts.tolist()


def test_dsnas_search_gradient_is_the_log_probability_times_the_sampled_ops_reward() -> None:
    """For a fixed sample Z: alpha's gradient per edge is ``dL/dZ[e, s] (onehot(s) - p[e])``
    (``dL/dZ`` by autograd with Z a leaf), zero on an edge that sampled ``none``; the weights
    took the SGD step of the same loss."""
    net, batch = _tiny(), _batch()
    ref = copy.deepcopy(net)
    arch = _arch("dsnas", arch_grad_clip=1e6)
    arch.begin_epoch(0, 4)
    alpha = arch.alpha.detach().clone()
    index = torch.tensor([3, NONE, 2, 1, 4, 3])
    arch.sample = lambda: index
    seen = _one_single_level_step(arch, net, batch)

    hard = F.one_hot(index, 5).double()
    single = hard.bool().tolist()
    z = hard.clone().requires_grad_()
    (dz,) = torch.autograd.grad(F.cross_entropy(ref(batch[0], single, z), batch[1]), [z])
    reward = (dz * hard).sum(-1, keepdim=True)
    expected = reward * (hard - torch.softmax(alpha, -1))
    assert (seen - expected).abs().max() < TOL
    assert float(seen[1].abs().max()) == 0.0  # `none` has no output: no reward
    assert all(float(seen[e].abs().max()) > 0 for e in (0, 2, 3, 4, 5))
    _reference_weight_step(ref, batch, single, hard)
    assert _same_params(net, ref) < TOL


# --- iDARTS ---------------------------------------------------------------------------------


def _quadratic(n_w: int = 6, n_a: int = 3):
    """A quadratic inner problem with a known inverse Hessian: ``L_train = w'Aw/2 + a'Bw``
    (H = A, eigenvalues in [1, 4]; mixed derivative B), ``L_valid = (w-c)'M(w-c)/2 + a'Ew +
    |a|^2/2``. Returns the closures, the parameters and the matrices."""
    g = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    q, _ = torch.linalg.qr(rand(n_w, n_w))
    A = q @ torch.diag(torch.linspace(1.0, 4.0, n_w, dtype=torch.float64)) @ q.T
    B, E, c = rand(n_a, n_w), rand(n_a, n_w), rand(n_w)
    m = rand(n_w, n_w)
    M = m @ m.T + torch.eye(n_w, dtype=torch.float64)
    w = torch.nn.Parameter(rand(n_w))
    a = torch.nn.Parameter(rand(n_a))

    def train() -> torch.Tensor:
        return 0.5 * w @ A @ w + a @ B @ w

    def valid() -> torch.Tensor:
        return 0.5 * (w - c) @ M @ (w - c) + a @ E @ w + 0.5 * a @ a

    return train, valid, w, a, A, B, M, E, c


def test_idarts_neumann_hypergradient_matches_its_formula_and_converges_to_the_implicit_one():
    """``dLv/da - eta B sum_{k<=K} (I - eta A)^k dLv/dw`` exactly (to rounding) for each K, the
    central difference exact on this bilinear coupling; as K grows it converges to the implicit
    function theorem's ``dLv/da - B A^-1 dLv/dw`` (eta 0.3: |1 - eta lambda| <= 0.7)."""
    train, valid, w, a, A, B, M, E, c = _quadratic()
    eta = 0.3
    v = M @ (w.detach() - c) + E.T @ a.detach()
    direct = E @ w.detach() + a.detach()
    exact = direct - B @ torch.linalg.solve(A, v)
    before = w.detach().clone()
    errors = []
    for K in (0, 1, 2, 5, 20, 60, 120):
        d, i = implicit_hypergradient(train, valid, [w], [a], eta, K, 0.01)
        ours = d[0] - i[0]
        step = torch.eye(6, dtype=torch.float64) - eta * A
        series = sum(torch.linalg.matrix_power(step, k) for k in range(K + 1))
        assert (ours - (direct - eta * B @ series @ v)).abs().max() < TOL
        assert torch.equal(w.detach(), before)  # the weights are put back exactly
        errors.append(float((ours - exact).abs().max()))
    assert all(x > y for x, y in zip(errors[:5], errors[1:6], strict=True))
    assert errors[0] > 1e-2 and errors[-1] < TOL
    assert abs(errors[2] / errors[1] - 0.7) < 0.1  # the slowest mode's rate, 1 - eta * 1


def test_idarts_supernet_hypergradient_matches_explicit_hessian_matrices() -> None:
    """On a tiny float64 supernet whose trainable weights are the classifier's (a Hessian small
    enough to form): the architecture step's gradient equals ``dLv/da - eta B sum_{k<=K}
    (I - eta H)^k dLv/dw`` with H and B built entry by entry by autograd; the weights and the
    batch-norm buffers are left as they were."""
    net, train, valid = _tiny(), _batch(1), _batch(2)
    params = list(net.classifier.parameters())
    for p in net.parameters():
        p.requires_grad_(any(p is q for q in params))
    arch = _arch("idarts", epsilon=1e-6)
    mask = full_mask()
    sgd = torch.optim.SGD(params, lr=0.05)
    eta, K = 0.05, arch.neumann_terms

    def loss(batch):
        return F.cross_entropy(net(batch[0], mask, torch.softmax(arch.alpha, -1)), batch[1])

    def flat(xs):
        return torch.cat([x.reshape(-1) for x in xs])

    g = flat(torch.autograd.grad(loss(train), params, create_graph=True))
    H = torch.stack([flat(torch.autograd.grad(gi, params, retain_graph=True)) for gi in g])
    ga = torch.autograd.grad(loss(train), [arch.alpha], create_graph=True)[0].reshape(-1)
    B = torch.stack([flat(torch.autograd.grad(gi, params, retain_graph=True)) for gi in ga])
    direct, *v = torch.autograd.grad(loss(valid), [arch.alpha, *params])
    v = flat(v)
    step = torch.eye(len(v), dtype=torch.float64) - eta * H
    series = sum(torch.linalg.matrix_power(step, k) for k in range(K + 1))
    expected = direct - eta * (B @ series @ v).view(6, 5)

    before = [t.detach().clone() for t in (*net.parameters(), *net.buffers())]
    (ours,) = arch.gradient(net, mask, valid, train, sgd, "test")
    after = [t.detach() for t in (*net.parameters(), *net.buffers())]
    assert all(torch.equal(x, y) for x, y in zip(before, after, strict=True))
    assert float((expected - direct).abs().max()) > 1e-4  # the implicit term counts
    assert (ours - expected).abs().max() < TOL
    # at the released step r = 0.01 / |v| the central difference is still close
    arch.epsilon = 0.01
    (released,) = arch.gradient(net, mask, valid, train, sgd, "test")
    assert (released - expected).abs().max() < 1e-5  # measured 4.6e-7 (|expected| 0.14)


def test_idarts_steps_after_every_t_th_weight_step_and_checkpoints_the_count() -> None:
    arch = _arch("idarts", inner_steps=3)
    calls = []
    arch.gradient = lambda *args: calls.append(args[2]) or [torch.ones_like(arch.alpha)]
    for k in range(7):
        arch.step(None, full_mask(), ("valid", k), ("train", k), None, "t")
    assert calls == [("valid", 2), ("valid", 5)] and arch.weight_steps == 7
    state = arch.state_dict()
    fresh = _arch("idarts", inner_steps=3)
    fresh.load_state_dict(state)
    assert fresh.weight_steps == 7 and torch.equal(fresh.alpha, arch.alpha)
    assert isinstance(arch, ImplicitArchState) and not arch.graphable


# --- whole searches -------------------------------------------------------------------------


def _rows(out) -> list[dict]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.mark.parametrize("method", ["snas", "dsnas", "idarts"])
def test_smoke_search_runs_the_loop_and_resumes_to_the_same_log(
    method, tmp_path, cifar10, bench
) -> None:
    from isdarts.search.loop import SearchRequest, run_search

    prof = load_profile("smoke")
    prof = dataclasses.replace(
        prof, **{method: dataclasses.replace(getattr(prof, method), epochs=3)}
    )
    loaders = get_method(method).loaders(prof, cifar10, None, 0, torch.device("cpu"))
    if method == "idarts":  # bilevel: the halves of the split file
        assert loaders.valid is not None and len(loaders.train) == prof.train_subset // 2 // 32
    else:  # single-level: the training subset, no valid half
        assert loaders.valid is None and len(loaders.train_index) == prof.train_subset
    whole = run_search(SearchRequest(method, "cifar10", 0, prof, tmp_path / "a", device="cpu"))
    rows = _rows(tmp_path / "a")
    assert whole["method"] == method and len(rows) == 3 and rows[-1]["arch"] == whole["arch"]
    states = [r["arch_state"] for r in rows]
    if method == "snas":
        assert [s["tau"] for s in states] == pytest.approx([0.6766666, 0.3533333, 0.03])
    elif method == "dsnas":
        assert all(np.sum(s["sampled"], axis=1).tolist() == [8] * 6 for s in states)
    else:  # 4 weight steps an epoch, one architecture step per 2
        assert [s["arch_steps"] for s in states] == [2, 2, 2]
        assert all(s["implicit_norm"] > 0 for s in states)
    # alpha moved from its initialisation
    assert rows[0]["alphas"] != rows[-1]["alphas"]

    req = SearchRequest(method, "cifar10", 0, prof, tmp_path / "b", device="cpu")

    def kill(e: int) -> None:
        if e == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(req, on_epoch_end=kill)
    torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)  # plain types only
    resumed = run_search(req)
    assert (resumed["arch"], resumed["index"]) == (whole["arch"], whole["index"])
    assert _rows(tmp_path / "b") == rows
