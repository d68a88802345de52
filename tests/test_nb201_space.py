"""NB201 ops and supernet: the fast path against the straightforward reference path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from isdarts.data.loader import BatchLoader
from isdarts.spaces.nb201.importance import ImportanceProbe, measure_importance
from isdarts.spaces.nb201.names import OPS as OP_NAMES
from isdarts.spaces.nb201.names import K, full_mask
from isdarts.spaces.nb201.ops import OPS
from isdarts.spaces.nb201.supernet import Supernet, SupernetConfig

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", OP_NAMES)
def test_every_nb201_op_keeps_shape(name):
    op = OPS[name](8, 8, 1)
    x = torch.randn(2, 8, 6, 6)
    y = op(x)
    assert y.shape == x.shape
    if name == "none":
        assert not y.any()
    if name == "skip_connect":
        assert torch.equal(y, x)


def test_cell_batch_norm_uses_batch_statistics_in_eval_mode():
    op = OPS["nor_conv_3x3"](4, 4, 1).eval()
    y = op(torch.randn(8, 4, 5, 5) * 3 + 2)
    assert abs(y.mean().item()) < 1e-5  # normalised by the batch's own statistics
    assert not list(op.buffers())


def test_avg_pool_ignores_padding():
    y = OPS["avg_pool_3x3"](1, 1, 1)(torch.ones(1, 1, 4, 4))
    assert torch.allclose(y, torch.ones_like(y))


@pytest.fixture(scope="module")
def batch(cifar10):
    loader = BatchLoader(
        cifar10.train_images[:16],
        cifar10.train_labels[:16],
        16,
        mean=cifar10.mean,
        std=cifar10.std,
        seed=1,
    )
    return next(loader.batches(0))


def _loss_and_grads(net, x, y, mask, weights, fast):
    net.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x, mask, weights, fast=fast), y)
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}


MASKS = {
    "full": full_mask(),
    "partial": [
        [False, True, True, True, True],
        [False, False, True, True, False],
        [False, True, False, False, True],
        [False, False, False, True, False],
        [False, True, True, False, False],
        [False, False, True, True, True],
    ],
    "single": [[False, False, False, True, False]] * 3 + [[False, True, False, False, False]] * 3,
}


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_fast_path_matches_reference_loss_and_gradients(batch, mask_name, channels_last):
    # float64: the two paths sum in different orders, and float32 rounding grows to ~1e-3
    # through the batch norms by the stem; in float64 any real difference would stand out
    x, y = batch[0].double(), batch[1]
    torch.manual_seed(0)
    net = Supernet(SupernetConfig(4, 2, 10)).double()
    ref_loss, ref_grads = _loss_and_grads(net, x, y, MASKS[mask_name], None, fast=False)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    loss, grads = _loss_and_grads(net, x, y, MASKS[mask_name], None, fast=True)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for name, g in grads.items():
        torch.testing.assert_close(g, ref_grads[name], rtol=1e-9, atol=1e-12, msg=name)
    # removed ops get no gradient on the fast path, and exactly zero on the reference path
    for name, g in ref_grads.items():
        if name not in grads:
            assert not g.any(), name


def test_fast_path_matches_reference_with_darts_weights(batch):
    x, y = batch
    torch.manual_seed(0)
    net = Supernet(SupernetConfig(8, 1, 10))
    alpha = torch.randn(6, K, requires_grad=True)
    out = {}
    for fast in (False, True):
        alpha.grad = None
        loss = F.cross_entropy(net(x, full_mask(), torch.softmax(alpha, -1), fast=fast), y)
        loss.backward()
        out[fast] = (loss.item(), alpha.grad.clone())
    assert out[True][0] == pytest.approx(out[False][0], rel=1e-5)
    torch.testing.assert_close(out[True][1], out[False][1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mask_name", ["full", "partial"])
def test_fast_importance_matches_reference(batch, mask_name):
    torch.manual_seed(0)
    net = Supernet(SupernetConfig(8, 1, 10))
    mask = MASKS[mask_name]
    ref = measure_importance(net, [batch], mask, fast=False)
    fast = measure_importance(net, [batch], mask, fast=True)
    removed = ~np.array(mask)
    assert np.isnan(ref[removed]).all() and np.isnan(fast[removed]).all()
    kept = ~removed
    assert np.isinf(fast[:, 0][kept[:, 0]]).all()  # none: 0/0 counts as +inf
    np.testing.assert_allclose(fast[kept], ref[kept], rtol=1e-4)


def test_importance_formula_on_a_hand_checked_tensor():
    # one sample, C = 2 channels, one pixel: x = (0, 2) -> mu 1, unbiased sigma sqrt(2),
    # F = 3 * 1 / sqrt(2)^6 = 3/8 for both channels -> score 0.375
    x = torch.tensor([0.0, 2.0]).view(1, 2, 1, 1)
    for use_fast in (False, True):
        probe = ImportanceProbe(1, K)
        if use_fast:
            probe.fast(0, [0], 1, x.unsqueeze(1))
            probe.fast(0, [0], 2, torch.zeros(1, 1, 2, 1, 1))
        else:
            probe.reference(0, 0, 1, x)
            probe.reference(0, 0, 2, torch.zeros(1, 2, 1, 1))
        probe.samples = 1
        s = probe.scores()
        assert s[0, 1] == pytest.approx(0.375)
        assert math.isinf(s[0, 2]) and s[0, 2] > 0  # an all-zero output counts as +inf
