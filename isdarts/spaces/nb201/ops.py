"""The five candidate operations of the NAS-Bench-201 space and its ResNet reduction block
(the stem and the classifier head are shared with the DARTS space: :mod:`isdarts.spaces.blocks`).

``OPS`` maps an op name to a factory ``(C_in, C_out, stride) -> nn.Module``, registered with
:func:`register_op`. Ops inside searched cells use the cell kind of batch norm (no affine
parameters, batch statistics; :mod:`isdarts.spaces.blocks`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from isdarts.spaces.blocks import ReLUConvBN, Zero

OpFactory = Callable[[int, int, int], nn.Module]
OPS: dict[str, OpFactory] = {}


def register_op(name: str) -> Callable[[OpFactory], OpFactory]:
    """Decorator: register ``factory(C_in, C_out, stride)`` under ``name`` (unique)."""

    def wrap(factory: OpFactory) -> OpFactory:
        if name in OPS:
            raise ValueError(f"op {name!r} registered twice")
        OPS[name] = factory
        return factory

    return wrap


class AvgPool(nn.Module):
    """3x3 average pooling that ignores padding (``count_include_pad=False``)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        if C_in != C_out:
            raise ValueError("avg_pool_3x3 needs C_in == C_out in the NB201 space")
        self.pool = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


@register_op("none")
def _none(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Zero(C_in, C_out, stride)


@register_op("skip_connect")
def _skip(C_in: int, C_out: int, stride: int) -> nn.Module:
    if stride != 1 or C_in != C_out:
        raise ValueError("skip_connect with a stride or a channel change is a DARTS-space op")
    return nn.Identity()


@register_op("nor_conv_1x1")
def _conv1(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ReLUConvBN(C_in, C_out, 1, stride, 0, affine=False)


@register_op("nor_conv_3x3")
def _conv3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ReLUConvBN(C_in, C_out, 3, stride, 1, affine=False)


@register_op("avg_pool_3x3")
def _avg(C_in: int, C_out: int, stride: int) -> nn.Module:
    return AvgPool(C_in, C_out, stride)


class ResNetBasicBlock(nn.Module):
    """NB201 reduction block between stages: two ReLU-Conv-BN 3x3 (first with stride 2)
    plus a shortcut of 2x2 average pooling and a 1x1 convolution."""

    def __init__(self, C_in: int, C_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(C_in, C_out, 3, stride, 1, affine=True)
        self.conv_b = ReLUConvBN(C_out, C_out, 3, 1, 1, affine=True)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(C_in, C_out, 1, 1, 0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))
