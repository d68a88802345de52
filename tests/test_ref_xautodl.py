"""Reference tests: DARTS (1st and 2nd order), GDAS and RSPS against the NAS-Bench-201 authors'
released search networks (``xautodl`` 1.0.0, :mod:`tests.xautodl_ref`), in float64 on real
CIFAR-10 batches, with the same weights, architecture parameters and Gumbel noise: logits,
weight gradients and architecture gradients agree to 1e-10, and so do whole search steps
(weight step with the released gradient clip, then the architecture step) run by our loop and
by the released order of operations.

The released loops themselves (``DARTS-V1.py``, ``DARTS-V2.py``, ``GDAS.py`` of AutoDL-Projects)
are not part of the package: where a test needs their order of operations or the second-order
gradient, it spells them out from what those scripts do (the oracle below), on xautodl's network.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from xautodl_ref import cifar_batch, max_diff, pair, weights

from isdarts.search.methods.gdas import GumbelArch
from isdarts.search.methods.rsps import PathSampler
from isdarts.search.step import ArchState, UnrolledArchState, train_epoch
from isdarts.spaces.nb201.names import EDGES, OPS, full_mask

pytest.importorskip("xautodl")

TOL = 1e-10
CLIP = 0.5  # small enough that the clip scales every step here


def _alpha_like(theirs: nn.Module) -> nn.Parameter:
    return nn.Parameter(theirs.arch_parameters.detach().clone())


def _grads(params) -> list[torch.Tensor]:
    """The gradients (zeros where none reached a parameter: an op off the sampled path)."""
    return [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]


def _zero(net: nn.Module) -> None:
    for p in net.parameters():
        p.grad = None


@pytest.mark.parametrize("kind", ["darts", "gdas"])
def test_forward_and_gradients_match(kind: str) -> None:
    """One forward and backward on the same batch: logits, the weights' gradients and alpha's
    gradient (GDAS: the same Gumbel draw on both sides, every temperature of the schedule)."""
    ours, theirs = pair(kind, C=4, N=1)
    x, y = cifar_batch(16)
    taus = [10.0, 10.0, 1.0, 1.0, 0.1, 0.1] if kind == "gdas" else [None]
    moved = 0.0
    for seed, tau in enumerate(taus):
        alpha = _alpha_like(theirs)
        if kind == "gdas":
            arch = GumbelArch(alpha, torch.optim.Adam([alpha]), tau=tau)
            theirs.set_tau(tau)
        else:
            arch = ArchState(alpha, torch.optim.Adam([alpha]))
        _zero(ours), _zero(theirs)
        torch.manual_seed(seed)
        lo = arch.mixture(full_mask(), grad=True).forward(ours, x)
        F.cross_entropy(lo, y).backward()
        torch.manual_seed(seed)
        _, lt = theirs(x)
        F.cross_entropy(lt, y).backward()
        assert max_diff(lo, lt) < TOL
        assert max_diff(_grads(weights(ours)), _grads(weights(theirs))) < TOL
        assert max_diff(alpha.grad, theirs.arch_parameters.grad) < TOL
        moved = max(moved, float(theirs.arch_parameters.grad.abs().max()))
    # (a draw can be degenerate: every path into the last node `none`, the output constant)
    assert moved > 0


def test_gdas_unsampled_ops_carry_gradient() -> None:
    """With the released forward every op's probability gets a gradient, the unsampled ones
    through their zero-valued hard weights; the logits are those of the sampled path alone."""
    ours, _ = pair("gdas", C=4, N=1)
    x, y = cifar_batch(8)
    alpha = nn.Parameter(1e-3 * torch.randn(6, 5, dtype=torch.float64))
    arch = GumbelArch(alpha, torch.optim.Adam([alpha]), tau=1.0)
    for seed in range(50):  # a draw whose output depends on the input
        torch.manual_seed(seed)
        mix = arch.mixture(full_mask(), grad=True)
        logits = mix.forward(ours, x)
        if float(logits.std(0).max()) > 1e-6:
            break
    assert float(mix.options["unsampled"].abs().max()) == 0.0
    plain = ours(x, mix.mask, mix.weights.detach())
    assert torch.equal(logits, plain)
    F.cross_entropy(logits, y).backward()
    assert bool((alpha.grad != 0).all())  # every edge and op, sampled or not


def _released_steps(theirs, batches, valid, *, clip_alpha_scope: bool, unrolled: bool = False):
    """The released loops' order of operations (GDAS.py, DARTS-V1.py; DARTS-V2.py with
    ``unrolled``): weight step with the gradient clip over all the network's parameters (alpha
    included: its ``.grad`` still holds the last architecture step's gradient), then the
    architecture step on a valid batch (DARTS-V2: the architecture step first)."""
    w_opt = torch.optim.SGD(
        theirs.get_weights(), lr=0.025, momentum=0.9, weight_decay=5e-4, nesterov=True
    )
    a_opt = torch.optim.Adam(theirs.get_alphas(), lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    for p in theirs.parameters():  # PyTorch < 2.0: zero_grad keeps zero tensors (dense SGD)
        p.grad = torch.zeros_like(p)
    for (x, y), (vx, vy) in zip(batches, valid, strict=True):
        if unrolled:
            a_opt.zero_grad()
            theirs.arch_parameters.grad = _oracle_unrolled(theirs, w_opt, (x, y), (vx, vy))
            a_opt.step()
        w_opt.zero_grad(set_to_none=False)
        _, logits = theirs(x)
        F.cross_entropy(logits, y).backward()
        scope = theirs.parameters() if clip_alpha_scope else theirs.get_weights()
        nn.utils.clip_grad_norm_(scope, CLIP)
        w_opt.step()
        if not unrolled:
            a_opt.zero_grad(set_to_none=False)
            _, logits = theirs(vx)
            F.cross_entropy(logits, vy).backward()
            a_opt.step()


def _oracle_unrolled(theirs, w_opt, train, valid) -> torch.Tensor:
    """DARTS-V2.py's architecture gradient on xautodl's network: the valid loss' gradient
    after one virtual SGD step ``w' = w - lr (momentum buf + g + wd w)``, minus ``lr`` times
    the Hessian-vector product by central differences at ``w +- R v``, ``R = 0.01 / |v|``."""
    group = w_opt.param_groups[0]
    lr, wd, mom = group["lr"], group["weight_decay"], group["momentum"]
    ws = theirs.get_weights()
    alpha = theirs.arch_parameters
    saved = [w.detach().clone() for w in ws]
    g = torch.autograd.grad(F.cross_entropy(theirs(train[0])[1], train[1]), ws)
    with torch.no_grad():
        for w, s, gi in zip(ws, saved, g, strict=True):
            buf = w_opt.state.get(w, {}).get("momentum_buffer")
            w.copy_(s - lr * ((mom * buf if buf is not None else 0.0) + gi + wd * s))
    d_alpha, *v = torch.autograd.grad(F.cross_entropy(theirs(valid[0])[1], valid[1]), [alpha, *ws])
    r = 1e-2 / torch.cat([t.reshape(-1) for t in v]).norm()
    hv = []
    for sign in (1.0, -1.0):
        with torch.no_grad():
            for w, s, vi in zip(ws, saved, v, strict=True):
                w.copy_(s + sign * r * vi)
        hv.append(torch.autograd.grad(F.cross_entropy(theirs(train[0])[1], train[1]), alpha)[0])
    with torch.no_grad():
        for w, s in zip(ws, saved, strict=True):
            w.copy_(s)
    return d_alpha - lr * (hv[0] - hv[1]) / (2 * r)


@pytest.mark.parametrize("kind", ["gdas", "darts", "darts2"])
def test_search_steps_match_released_loop(kind: str) -> None:
    """Three steps of our loop (:func:`train_epoch`, the clip over alpha too) against the
    released order of operations: the weights and alpha agree afterwards."""
    ours, theirs = pair("darts" if kind == "darts2" else kind, C=4, N=1)
    batches = [cifar_batch(16, offset=32 * i) for i in range(3)]
    valid = [cifar_batch(16, offset=32 * i + 16) for i in range(3)]
    alpha = _alpha_like(theirs)
    adam = torch.optim.Adam([alpha], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    if kind == "gdas":
        arch = GumbelArch(alpha, adam, tau=5.0, clip_alpha=True)
        theirs.set_tau(5.0)
    elif kind == "darts":
        arch = ArchState(alpha, adam, clip_alpha=True)
    else:
        arch = UnrolledArchState(alpha, adam, first=True, clip_alpha=True)
    sgd = torch.optim.SGD(
        ours.parameters(), lr=0.025, momentum=0.9, weight_decay=5e-4, nesterov=True
    )
    torch.manual_seed(7)
    train_epoch(
        ours, iter(batches), 3, sgd, mask=full_mask(), grad_clip=CLIP, desc="ref",
        arch=arch, valid_batches=iter(valid),
    )  # fmt: skip
    torch.manual_seed(7)
    _released_steps(theirs, batches, valid, clip_alpha_scope=True, unrolled=kind == "darts2")
    assert max_diff(alpha, theirs.arch_parameters) < TOL
    assert max_diff(weights(ours), weights(theirs)) < TOL


def test_clip_scope_matters() -> None:
    """The weights-only clip (the setting's other value) does not give the released steps:
    the test above can fail."""
    ours, theirs = pair("darts", C=4, N=1)
    batches = [cifar_batch(16, offset=32 * i) for i in range(2)]
    valid = [cifar_batch(16, offset=32 * i + 16) for i in range(2)]
    alpha = _alpha_like(theirs)
    arch = ArchState(alpha, torch.optim.Adam([alpha], lr=3e-4, betas=(0.5, 0.999)))
    sgd = torch.optim.SGD(ours.parameters(), lr=0.025, momentum=0.9, nesterov=True)
    train_epoch(
        ours, iter(batches), 2, sgd, mask=full_mask(), grad_clip=CLIP, desc="ref",
        arch=arch, valid_batches=iter(valid),
    )  # fmt: skip
    _released_steps(theirs, batches, valid, clip_alpha_scope=True)
    assert max_diff(weights(ours), weights(theirs)) > 1e-8


def test_rsps_path_matches_released_dynamic_forward() -> None:
    """RSPS: one sampled path (the same cell in every searched cell) gives the released
    random-sampling network's logits and weight gradients."""
    from xautodl.models.cell_searchs.genotypes import Structure

    ours, theirs = pair("random", C=4, N=1)
    x, y = cifar_batch(16)
    sampler = PathSampler((6, 5), candidates=1, device="cpu")
    for seed in range(4):
        torch.manual_seed(seed)
        ops = sampler.draw()
        nodes = [
            tuple((OPS[int(ops[e])], j) for e, (i, j) in enumerate(EDGES) if i == node)
            for node in (1, 2, 3)
        ]
        theirs.arch_cache = Structure(nodes)
        _zero(ours), _zero(theirs)
        mix = sampler.path(ops, full_mask())
        lo = mix.forward(ours, x.to(torch.float64))
        F.cross_entropy(lo, y).backward()
        lt = theirs(x)[1]
        F.cross_entropy(lt, y).backward()
        assert max_diff(lo, lt) < TOL
        assert max_diff(_grads(weights(ours)), _grads(weights(theirs))) < TOL
