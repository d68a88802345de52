"""Reference tests: SETN against the NAS-Bench-201 authors' released network (``xautodl``
1.0.0's ``TinyNetworkSETN``, :mod:`tests.xautodl_ref`), in float64 on real CIFAR-10 batches with
the same weights and alpha: the weight step on one sampled cell (``dynamic`` mode), the
architecture step (``joint`` mode), the ranking of the candidates by summed log-softmax(alpha)
(``return_topK``), a few whole search steps against the released order of operations
(``SETN.py``'s ``search_func``: no gradient clip) and the final selection (its
``get_best_arch``: eval mode, one batch per candidate, the first of the best).

The released script is not part of the package; where a test needs its order of operations it
spells it out from what ``SETN.py`` does, on xautodl's network.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from xautodl_ref import cifar_batch, max_diff, pair, weights

from isdarts.search.methods.setn import SetnArch, ranked_cells
from isdarts.search.step import ArchState, train_epoch
from isdarts.spaces.nb201.names import EDGES, OPS, full_mask

pytest.importorskip("xautodl")
pytestmark = pytest.mark.usefixtures("one_thread")

TOL = 1e-10


def _structure(ops):
    """xautodl's ``Structure`` of a cell given as an op index per edge (``EDGES`` order)."""
    from xautodl.models.cell_searchs.genotypes import Structure

    return Structure(
        [
            tuple((OPS[int(ops[e])], j) for e, (i, j) in enumerate(EDGES) if i == node)
            for node in (1, 2, 3)
        ]
    )


def _ops(structure) -> list[int]:
    """The op index per edge of an xautodl ``Structure`` (its nodes list edges in order)."""
    return [OPS.index(op) for node in structure.nodes for op, _ in node]


def _grads(params) -> list[torch.Tensor]:
    """The gradients (zeros where none reached a parameter: an op off the sampled cell)."""
    return [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]


def _zero(net: nn.Module) -> None:
    for p in net.parameters():
        p.grad = None


def _arch(theirs: nn.Module, candidates: int = 100) -> SetnArch:
    """Our SETN state with xautodl's alpha, made non-trivial on both sides."""
    with torch.no_grad():
        theirs.arch_parameters.normal_(0, 0.5, generator=torch.Generator().manual_seed(3))
    alpha = nn.Parameter(theirs.arch_parameters.detach().clone())
    adam = torch.optim.Adam([alpha], lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    return SetnArch(alpha, adam, candidates=candidates)


def test_weight_step_on_one_sampled_cell_matches_dynamic_mode() -> None:
    """The weight step: one uniformly drawn cell, the same in every searched cell, gives the
    released ``dynamic`` forward's logits and weight gradients (cells with an all-``none``
    node among them)."""
    ours, theirs = pair("setn", C=4, N=1)
    arch = _arch(theirs)
    x, y = cifar_batch(16)
    arch.begin_epoch(0, 1)
    cells = [None] * 4 + [[0, 1, 0, 0, 0, 3], [0, 0, 0, 0, 0, 0]]  # None: drawn
    for seed, fixed in enumerate(cells):
        torch.manual_seed(seed)
        if fixed is None:
            mix = arch.mixture(full_mask(), grad=False)
            ops = [row.index(True) if any(row) else 0 for row in mix.mask]
        else:
            ops = fixed
            mix = arch.paths.path(torch.tensor(ops), full_mask())
        assert torch.equal(mix.weights.argmax(-1), torch.tensor(ops))
        theirs.set_cal_mode("dynamic", _structure(ops))
        _zero(ours), _zero(theirs)
        lo = mix.forward(ours, x)
        F.cross_entropy(lo, y).backward()
        _, lt = theirs(x)
        F.cross_entropy(lt, y).backward()
        assert max_diff(lo, lt) < TOL
        assert max_diff(_grads(weights(ours)), _grads(weights(theirs))) < TOL
        assert arch.alpha.grad is None  # the weight step leaves alpha alone
    assert arch.paths.counts.sum() == 4 * len(EDGES)  # the drawn cells were counted


def test_architecture_step_matches_joint_mode() -> None:
    """The architecture step: the softmax mixture of every op (``joint``) gives the released
    logits, weight gradients and alpha gradient."""
    ours, theirs = pair("setn", C=4, N=1)
    arch = _arch(theirs)
    x, y = cifar_batch(16, offset=16)
    theirs.set_cal_mode("joint")
    lo = ArchState.mixture(arch, full_mask(), grad=True).forward(ours, x)
    loss = arch.loss(ours, full_mask(), (x, y), "test")
    params = [arch.alpha, *weights(ours)]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    ours_grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    _zero(theirs)
    _, lt = theirs(x)
    F.cross_entropy(lt, y).backward()
    assert max_diff(lo, lt) < TOL
    assert max_diff(ours_grads[0], theirs.arch_parameters.grad) < TOL
    assert max_diff(ours_grads[1:], _grads(weights(theirs))) < TOL
    assert float(theirs.arch_parameters.grad.abs().max()) > 0


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_candidate_ranking_matches_return_topk(dtype) -> None:
    """Our top K by summed log-softmax(alpha) is ``return_topK(K)``: for random alphas (K =
    100) and for alphas whose rows repeat values, where many cells tie (the whole ranking: the
    released stable sort keeps the enumeration order)."""
    _, theirs = pair("setn", C=4, N=1)
    theirs = theirs.to(dtype)
    g = torch.Generator().manual_seed(11)
    cases = [
        (torch.randn(6, 5, generator=g, dtype=dtype), 100),
        (1e-3 * torch.randn(6, 5, generator=g, dtype=dtype), 100),
        (torch.randint(0, 3, (6, 5), generator=g).to(dtype), -1),  # ties, all 15,625
        (torch.zeros(6, 5, dtype=dtype), 100),  # every cell ties
    ]
    for alpha, k in cases:
        with torch.no_grad():
            theirs.arch_parameters.copy_(alpha)
        cells, log_probs = ranked_cells(alpha, k)
        expected = theirs.return_topK(k)
        assert cells.tolist() == [_ops(s) for s in expected]
        assert log_probs[:100].tolist() == [theirs.get_log_prob(s) for s in expected[:100]]
        assert len(cells) == (5 ** len(EDGES) if k < 0 else k)
        assert len(set(log_probs.tolist())) < len(cells) or k == 100  # ties where meant


def _released_steps(theirs, batches, valid, cells) -> None:
    """SETN.py's ``search_func`` under the PyTorch of its runs (< 2.0: ``zero_grad`` zeroes the
    gradients and keeps them): per step, the weights' SGD step on the given cell (``dynamic``,
    no gradient clip), then alpha's Adam step on the valid batch (``joint``). Every gradient
    exists from the start, as from the released loop's second step on (before its first
    architecture step, the weights no forward had reached yet had none)."""
    w_opt = torch.optim.SGD(
        theirs.get_weights(), lr=0.025, momentum=0.9, weight_decay=5e-4, nesterov=True
    )
    a_opt = torch.optim.Adam(theirs.get_alphas(), lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    for p in theirs.parameters():
        p.grad = torch.zeros_like(p)
    for (x, y), (vx, vy), ops in zip(batches, valid, cells, strict=True):
        theirs.set_cal_mode("dynamic", _structure(ops))
        theirs.zero_grad(set_to_none=False)
        F.cross_entropy(theirs(x)[1], y).backward()
        w_opt.step()
        theirs.set_cal_mode("joint")
        theirs.zero_grad(set_to_none=False)
        F.cross_entropy(theirs(vx)[1], vy).backward()
        a_opt.step()


def _our_steps(batches, valid, grad_clip: float | None, dense: bool):
    """Our loop's steps (:func:`train_epoch`) from the shared start; the network and state."""
    ours, theirs = pair("setn", C=4, N=1)
    arch = _arch(theirs)
    arch.dense_sgd = dense
    sgd = torch.optim.SGD(
        ours.parameters(), lr=0.025, momentum=0.9, weight_decay=5e-4, nesterov=True
    )
    arch.begin_epoch(0, 1)
    torch.manual_seed(7)
    train_epoch(
        ours, iter(batches), len(batches), sgd, mask=full_mask(), grad_clip=grad_clip,
        desc="ref", arch=arch, valid_batches=iter(valid),
    )  # fmt: skip
    return ours, arch


def test_search_steps_match_released_loop() -> None:
    """Three steps of our loop (no clip, every weight stepping) against the released order of
    operations with the same cells: the weights, batch-norm statistics and alpha agree
    afterwards; with a clip, or with the weights off the cell skipped, they do not."""
    batches = [cifar_batch(16, offset=32 * i) for i in range(3)]
    valid = [cifar_batch(16, offset=32 * i + 16) for i in range(3)]
    ours, arch = _our_steps(batches, valid, None, dense=True)
    torch.manual_seed(7)  # the same draws: the path sampler's, one per step
    cells = [arch.paths.draw().tolist() for _ in range(3)]
    assert arch.paths.counts.sum() == 3 * len(EDGES)
    _, theirs = pair("setn", C=4, N=1)
    _arch(theirs)
    _released_steps(theirs, batches, valid, cells)
    assert max_diff(arch.alpha, theirs.arch_parameters) < TOL
    assert max_diff(weights(ours), weights(theirs)) < TOL
    assert max_diff(list(ours.buffers()), list(theirs.buffers())) < TOL
    for clip, dense in ((0.1, True), (None, False)):
        other, _ = _our_steps(batches, valid, clip, dense)
        assert max_diff(weights(other), weights(theirs)) > 1e-6


def _released_best_arch(theirs, batches, k: int) -> tuple[list[int], list[float]]:
    """SETN.py's ``get_best_arch``: eval mode, the top ``k`` by ``return_topK``, each scored
    by top-1 accuracy on the next batch, ``np.argmax`` (the first of the best)."""
    with torch.no_grad():
        theirs.eval()
        archs, accs = theirs.return_topK(k), []
        it = iter(batches)
        for arch in archs:
            theirs.set_cal_mode("dynamic", arch)
            x, y = next(it)
            logits = theirs(x)[1]
            accs.append(100.0 * float((logits.argmax(1) == y).double().mean()))
        theirs.train()
    return _ops(archs[int(np.argmax(accs))]), accs


def test_final_selection_matches_get_best_arch() -> None:
    """The candidates in alpha's order, scored in eval mode on one batch each, the first of
    the most accurate chosen: the released cell and accuracies (ties among them)."""
    ours, theirs = pair("setn", C=4, N=1)
    # forwards first (the uniform mixture on both sides: alpha 0), so that the batch norms'
    # running statistics are not their initial ones
    with torch.no_grad():
        theirs.arch_parameters.zero_()
    theirs.set_cal_mode("joint")
    for i in range(2):
        x, _ = cifar_batch(16, offset=16 * i)
        ours(x)
        theirs(x)
    assert max_diff(list(ours.buffers()), list(theirs.buffers())) < TOL
    assert float(next(ours.buffers()).abs().max()) > 0
    arch = _arch(theirs, candidates=12)
    batches = [cifar_batch(8, offset=200 + 8 * i) for i in range(12)]
    arch.finish(ours, full_mask(), iter(batches))
    chosen, accs = _released_best_arch(theirs, batches, 12)
    assert [c["valid_acc"] for c in arch.paths.scores] == pytest.approx(accs, abs=1e-9)
    assert len(set(accs)) < len(accs)  # ties to break
    assert arch.paths.chosen == chosen
    assert arch.cell_logits().argmax(-1).tolist() == chosen
    assert ours.training
