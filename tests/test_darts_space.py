"""DARTS-space ops (every op, stride 1 and 2, search and evaluation batch norm) and the
evaluation network (shapes, reductions, auxiliary head, drop-path, parameter counts)."""

from __future__ import annotations

import pytest
import torch

from isdarts.spaces.darts.eval_net import EvalNetConfig, NetworkCIFAR, count_params, params_m
from isdarts.spaces.darts.names import PARAMETER_FREE, PRIMITIVES, REFERENCE_GENOTYPES
from isdarts.spaces.darts.ops import DARTS_OPS, make_op

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("name", PRIMITIVES)
def test_op_shapes(name: str, stride: int, affine: bool) -> None:
    torch.manual_seed(0)
    op = make_op(name, 6, stride, affine)
    for size in (8, 7):  # odd sizes too (factorized reduce pads)
        x = torch.randn(2, 6, size, size)
        y = op(x)
        out = -(-size // stride)
        assert y.shape == (2, 6, out, out)
        if name == "none":
            assert not y.any()
    if name in PARAMETER_FREE and not (name == "skip_connect" and stride == 2):
        assert sum(p.numel() for p in op.parameters()) == 0
    bns = [m for m in op.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(bn.affine == affine and bn.track_running_stats == affine for bn in bns)


def test_registry_and_unknown_op() -> None:
    assert tuple(DARTS_OPS) == PRIMITIVES and len(PRIMITIVES) == 8
    with pytest.raises(ValueError, match="unknown DARTS-space op 'conv_7x7'"):
        make_op("conv_7x7", 4, 1)


def test_avg_pool_ignores_padding() -> None:
    y = make_op("avg_pool_3x3", 1, 1)(torch.ones(1, 1, 4, 4))
    assert torch.allclose(y, torch.ones_like(y))


def test_skip_is_identity_then_factorized_reduce() -> None:
    x = torch.randn(1, 4, 8, 8)
    assert make_op("skip_connect", 4, 1)(x) is x
    assert make_op("skip_connect", 4, 2)(x).shape == (1, 4, 4, 4)


@pytest.mark.parametrize("name", sorted(REFERENCE_GENOTYPES))
def test_eval_network_forward(name: str) -> None:
    torch.manual_seed(0)
    net = NetworkCIFAR(REFERENCE_GENOTYPES[name], EvalNetConfig(channels=4, layers=5))
    assert net.reductions == (1, 3)
    net.train()
    net.drop_path_prob = 0.2
    logits, aux = net(torch.randn(3, 3, 32, 32))
    assert logits.shape == aux.shape == (3, 10)
    (logits.sum() + aux.sum()).backward()
    net.eval()
    logits, aux = net(torch.randn(3, 3, 32, 32))
    assert logits.shape == (3, 10) and aux is None


def test_parameter_counts_at_paper_scale() -> None:
    # DARTS paper: 3.3 M for its second-order cell (C=36, 20 cells, without auxiliary head).
    assert params_m(REFERENCE_GENOTYPES["darts_v2"]) == pytest.approx(3.349342, abs=1e-6)
    assert params_m(REFERENCE_GENOTYPES["isdarts_published"]) == pytest.approx(4.71619, abs=1e-6)
    net = NetworkCIFAR(REFERENCE_GENOTYPES["darts_v2"], EvalNetConfig())
    assert count_params(net, auxiliary=True) - count_params(net) == 476426


def test_drop_path_only_in_training() -> None:
    torch.manual_seed(0)
    net = NetworkCIFAR(REFERENCE_GENOTYPES["isdarts_published"], EvalNetConfig(4, 3, False))
    net.drop_path_prob = 0.5
    net.eval()
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(net(x)[0], net(x)[0])


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("kernel, padding", [(3, 2), (5, 4)])
def test_polyphase_dilated_conv_matches_dilated_kernel(
    kernel: int, padding: int, stride: int
) -> None:
    from isdarts.spaces.darts.ops import DepthwiseConv

    torch.manual_seed(0)
    conv = DepthwiseConv(5, kernel, stride, padding, 2)
    x = torch.randn(2, 5, 8, 8, requires_grad=True)
    y = conv(x)
    ref = torch.nn.functional.conv2d(
        x, conv.weight, stride=stride, padding=padding, dilation=2, groups=5
    )
    assert torch.allclose(y, ref, atol=1e-5)
    g = torch.randn_like(y)
    gx, gw = torch.autograd.grad(y, (x, conv.weight), g)
    rx, rw = torch.autograd.grad(ref, (x, conv.weight), g)
    assert torch.allclose(gx, rx, atol=1e-5) and torch.allclose(gw, rw, atol=1e-4)
