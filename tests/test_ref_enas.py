"""Reference tests: ENAS against the NAS-Bench-201 authors' release (``xautodl`` 1.0.0: the
``Controller`` of ``search_model_enas_utils`` and ``TinyNetworkENAS``), in float64 with the same
weights and the same draws of torch's generator: the controller's samples, log-probabilities,
entropies and REINFORCE gradients, the single-path network's logits and gradients in train and
eval mode, and whole controller epochs and the final pick agree to 1e-10.

The released loop (``exps/NAS-Bench-201-algos/ENAS.py`` of AutoDL-Projects) is not part of the
package; :func:`_released_controller_epoch` and :func:`_released_best_arch` spell out what its
``train_controller`` and ``get_best_arch`` do, on xautodl's controller and network.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from xautodl_ref import cifar_batch, max_diff, pair, weights

from isdarts.config.baselines import EnasSettings
from isdarts.search.methods.enas import Controller, EnasArch, reinforce_loss
from isdarts.spaces.nb201.names import full_mask

pytest.importorskip("xautodl")

TOL = 1e-10
# xautodl's controller parameter -> ours
NAMES = {"input_vars": "start", "w_lstm": "lstm", "w_embd": "embedding", "w_pred": "head"}


def _their_controller() -> nn.Module:
    from xautodl.models.cell_searchs.search_model_enas_utils import Controller as Released

    return Released(6, 5)


def _ours_name(name: str) -> str:
    head, _, rest = name.partition(".")
    return NAMES[head] + (f".{rest}" if rest else "")


def _copy(theirs: nn.Module, ours: nn.Module) -> None:
    """Their controller's parameters into ours, by name, shapes checked."""
    mine = dict(ours.named_parameters())
    assert len(mine) == len(list(theirs.parameters()))
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            q = mine[_ours_name(name)]
            assert q.shape == p.shape, name
            q.copy_(p)


def _controllers(seed: int = 0) -> tuple[Controller, nn.Module]:
    torch.manual_seed(seed)
    theirs = _their_controller().double()
    ours = Controller(6, 5).double()
    _copy(theirs, ours)
    return ours, theirs


def _grads(params) -> list[torch.Tensor]:
    return [torch.zeros_like(p) if p.grad is None else p.grad.detach().clone() for p in params]


def _paired_grads(ours: nn.Module, theirs: nn.Module) -> tuple[list, list]:
    mine = dict(ours.named_parameters())
    names = [n for n, _ in theirs.named_parameters()]
    return _grads(mine[_ours_name(n)] for n in names), _grads(
        p for _, p in theirs.named_parameters()
    )


def test_controller_initialises_like_the_released_one() -> None:
    """The same seed gives the same controller: the same modules, draws and order."""
    torch.manual_seed(3)
    theirs = _their_controller()
    torch.manual_seed(3)
    ours = Controller(6, 5)
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert torch.equal(mine[_ours_name(name)], p), name


def test_samples_log_probabilities_and_entropies_match() -> None:
    ours, theirs = _controllers()
    with torch.no_grad():  # a controller far from uniform, so that the draws differ
        for p in ours.parameters():
            p.mul_(8)
        for p in theirs.parameters():
            p.mul_(8)
    cells = set()
    for seed in range(20):
        torch.manual_seed(seed)
        lp_t, h_t, ops_t = theirs()
        torch.manual_seed(seed)
        ops, lp, h = ours.sample()
        assert ops == ops_t
        assert abs(float((lp - lp_t).detach())) < TOL and abs(float((h - h_t).detach())) < TOL
        cells.add(tuple(ops))
    assert len(cells) > 10


@pytest.mark.parametrize("baseline", [None, 0.3])
def test_reinforce_gradient_matches_the_released_loss(baseline) -> None:
    """The gradient of the loss summed over an aggregate (the released loop's ``-log_prob *
    (reward - baseline) / num_aggregate`` with its undetached reward and its baseline carried
    from the previous epoch), per parameter; and the same baseline at the end."""
    ours, theirs = _controllers(1)
    accs = [0.125, 0.5, 0.1875, 0.9375, 0.25]
    w, decay, n = 1e-4 if baseline is None else 0.05, 0.99, len(accs)
    for seed, acc in enumerate(accs):
        torch.manual_seed(seed)
        lp_t, h_t, _ = theirs()
        top1 = torch.tensor([acc * 100.0], dtype=torch.float64).view(-1) / 100
        reward = top1 + w * h_t
        b_t = top1 if baseline is None else baseline - (1 - decay) * (baseline - reward)
        (-1 * lp_t * (reward - b_t) / n).backward(retain_graph=True)
        torch.manual_seed(seed)
        _, lp, h = ours.sample()
        loss, b = reinforce_loss(lp, h, acc, baseline, w, decay)
        (loss / n).backward()
        assert abs(float(b.detach()) - b_t.item()) < TOL
    g_ours, g_theirs = _paired_grads(ours, theirs)
    assert max_diff(g_ours, g_theirs) < TOL
    assert max(float(g.abs().max()) for g in g_theirs) > 1e-6


def _net_pair():
    ours, theirs = pair("enas", C=4, N=1)
    x, _ = cifar_batch(32, offset=64)
    cell = [3, 2, 1, 4, 3, 2]
    path = EnasArch((6, 5), EnasSettings(), "cpu").path(torch.tensor(cell), full_mask())
    with torch.no_grad():  # move the running statistics that eval mode uses, alike
        path.forward(ours, x)
        theirs.update_arch(cell)
        theirs(x)
    return ours, theirs


def test_single_path_matches_released_network_in_train_and_eval_mode() -> None:
    """One controller sample: the same cell in every searched cell (the controller's edge
    order is the network's), logits and weight gradients in train mode, logits in eval mode
    (running statistics outside the cells)."""
    ours, theirs = _net_pair()
    x, y = cifar_batch(16)
    arch = EnasArch((6, 5), EnasSettings(), "cpu")
    for seed in range(4):
        torch.manual_seed(seed)
        ops = arch.draw()
        theirs.update_arch(ops.tolist())
        mix = arch.path(ops, full_mask())
        for net in (ours, theirs):
            net.train()
            for p in net.parameters():
                p.grad = None
        lo = mix.forward(ours, x)
        F.cross_entropy(lo, y).backward()
        lt = theirs(x)[1]
        F.cross_entropy(lt, y).backward()
        assert max_diff(lo, lt) < TOL
        assert max_diff(_grads(weights(ours)), _grads(weights(theirs))) < TOL
        ours.eval(), theirs.eval()
        with torch.no_grad():
            assert max_diff(mix.forward(ours, x), theirs(x)[1]) < TOL
            assert max_diff(mix.forward(ours, x), lo) > 1e-6  # eval mode differs from train


def _correct_fraction(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """xautodl's top-1 ``correct * (100 / batch)`` in %, over 100, as the released loop reads it."""
    correct = (logits.argmax(1) == y).float().sum(0, keepdim=True)
    return (correct * (100.0 / len(y))).double() / 100


def _released_controller_epoch(net, controller, optimizer, batches, s: EnasSettings, baseline):
    """``train_controller`` of ENAS.py: the network in eval mode, one sample per valid batch, the
    loss divided by num_aggregate and accumulated, clip (5 there) and Adam every num_aggregate
    samples; the baseline of the previous epoch in every sample's; the last sample's out."""
    net.eval()
    controller.train()
    controller.zero_grad()
    b = None
    for step in range(s.controller_steps * s.controller_aggregate):
        x, y = batches[step % len(batches)]
        log_prob, entropy, cell = controller()
        with torch.no_grad():
            net.update_arch(cell)
            top1 = _correct_fraction(net(x)[1], y)
        reward = top1 + s.entropy_weight * entropy
        b = top1 if baseline is None else baseline - (1 - s.baseline_decay) * (baseline - reward)
        loss = -1 * log_prob * (reward - b) / s.controller_aggregate
        loss.backward(retain_graph=True)
        if (step + 1) % s.controller_aggregate == 0:
            nn.utils.clip_grad_norm_(controller.parameters(), s.controller_grad_clip)
            optimizer.step()
            controller.zero_grad()
    net.train()
    return b.item()


def _released_best_arch(net, controller, batches, n: int):
    """``get_best_arch`` of ENAS.py: both in eval mode, a sample per batch, the first best."""
    net.eval()
    controller.eval()
    accs, cells = [], []
    with torch.no_grad():
        for i in range(n):
            x, y = batches[i % len(batches)]
            _, _, cell = controller()
            net.update_arch(cell)
            accs.append(float(_correct_fraction(net(x)[1], y)) * 100)
            cells.append(cell)
    net.train()
    best = max(range(n), key=lambda i: (accs[i], -i))
    return cells[best], accs


@pytest.mark.parametrize("clip", [5.0, 1e-3])
def test_controller_epochs_and_final_pick_match_the_released_loop(clip: float) -> None:
    """Two controller epochs (the first without a baseline), then the final pick, through our
    Arch (end_epoch, finish) and through the released loop's order of operations: the same
    controller weights, Adam state, baseline, candidates' accuracies and chosen cell. With
    ``clip`` 1e-3 the gradient clip scales every step."""
    s = dataclasses.replace(
        EnasSettings(), controller_steps=2, controller_aggregate=3, candidates=6,
        entropy_weight=0.05, controller_grad_clip=clip,
    )  # fmt: skip
    ours, theirs = _net_pair()
    batches = [cifar_batch(16, offset=16 * i) for i in range(4)]
    torch.manual_seed(7)
    arch = EnasArch((6, 5), s, "cpu")
    arch.controller.double()
    controller = _their_controller().double()
    for p, q in zip(controller.parameters(), arch.controller.parameters(), strict=True):
        p.data.copy_(q.data)  # registration orders agree (test above)
    optimizer = torch.optim.Adam(
        controller.parameters(), lr=s.arch_lr, betas=s.arch_betas, eps=s.arch_eps
    )
    start = [p.detach().clone() for p in controller.parameters()]
    baseline = None
    for epoch in range(2):
        torch.manual_seed(100 + epoch)
        baseline = _released_controller_epoch(theirs, controller, optimizer, batches, s, baseline)
        torch.manual_seed(100 + epoch)
        arch.end_epoch(ours, full_mask(), iter(batches * 2))
        assert ours.training and abs(arch.baseline - baseline) < TOL
        assert max_diff(list(arch.controller.parameters()), list(controller.parameters())) < TOL
    assert max_diff(start, list(controller.parameters())) > 1e-5  # the controller moved
    torch.manual_seed(9)
    cell, accs = _released_best_arch(theirs, controller, batches, s.candidates)
    torch.manual_seed(9)
    arch.finish(ours, full_mask(), iter(batches * 2))
    assert [c["valid_acc"] for c in arch.scores] == pytest.approx(accs, abs=TOL)
    assert arch.chosen == cell
    assert arch.cell_logits().argmax(-1).tolist() == cell
